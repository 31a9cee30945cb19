// Expert parallelism: dispatch runs where the tokens are (batch on b) and
// one all-to-all moves b to the experts dimension; the inverse all-to-all
// brings expert outputs back before combine. Routing stays local.
module attributes {mtf.mesh = #mtf.mesh<"b:4">} {
  func.func @expert_parallel(%x: !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>,
                             %logits: !mtf.tensor<[batch:8{b}, length:8, experts:4], f32>,
                             %w: !mtf.tensor<[experts:4{b}, d_model:8, d_out:8], f32>)
      -> !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32> {
    %expert, %gate, %position, %dropped = moe.route %logits tokens(length) experts(experts) capacity(2)
        : !mtf.tensor<[batch:8{b}, length:8, experts:4], f32>
    %buffers = moe.dispatch %x, %expert, %position, %dropped tokens(length) experts(experts) capacity_dim(expert_capacity)
        : !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>, !mtf.tensor<[batch:8{b}, length:8], i32>
          -> !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2, d_model:8], f32>
    %out = mtf.einsum %buffers, %w
        : (!mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2, d_model:8], f32>, !mtf.tensor<[experts:4{b}, d_model:8, d_out:8], f32>)
          -> !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2, d_out:8], f32>
    %back = mtf.reshape %out : !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2, d_out:8], f32>
                               -> !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2, d_model:8], f32>
    %y = moe.combine %back, %expert, %position, %dropped, %gate tokens(length) experts(experts) capacity_dim(expert_capacity)
        : !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2, d_model:8], f32>,
          !mtf.tensor<[batch:8{b}, length:8], i32>, !mtf.tensor<[batch:8{b}, length:8], f32>
          -> !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>
    return %y : !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>
  }
}
