// Reductions over a split dimension resolve with the matching reduction;
// losses average the per-device losses over the axes that split them.
module attributes {mtf.mesh = #mtf.mesh<"b:4">} {
  func.func @reductions_and_losses(%x: !mtf.tensor<[b:8{b}, d:4], f32>, %l: !mtf.tensor<[batch:8{b}, length:4, experts:2], f32>)
      -> (!mtf.tensor<[d:4], f32>, !mtf.tensor<[d:4], f32>, !mtf.tensor<[], f32>, !mtf.tensor<[], f32>) {
    %m = mtf.reduce mean %x : !mtf.tensor<[b:8{b}, d:4], f32> -> !mtf.tensor<[d:4], f32>
    %n = mtf.reduce max %x : !mtf.tensor<[b:8{b}, d:4], f32> -> !mtf.tensor<[d:4], f32>
    %z = moe.z_loss %l experts(experts) : !mtf.tensor<[batch:8{b}, length:4, experts:2], f32>
    %aux = moe.load_balancing_loss %l tokens(length) experts(experts) : !mtf.tensor<[batch:8{b}, length:4, experts:2], f32>
    return %m, %n, %z, %aux : !mtf.tensor<[d:4], f32>, !mtf.tensor<[d:4], f32>, !mtf.tensor<[], f32>, !mtf.tensor<[], f32>
  }
}
