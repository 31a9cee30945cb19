// Each single-step reshard kind.
module attributes {mtf.mesh = #mtf.mesh<"x:4,y:2">} {
  func.func @gather(%a: !mtf.tensor<[b:8{x}, d:4], f32>) -> !mtf.tensor<[b:8, d:4], f32> {
    %0 = mtf.relayout %a : !mtf.tensor<[b:8{x}, d:4], f32> -> !mtf.tensor<[b:8, d:4], f32>
    return %0 : !mtf.tensor<[b:8, d:4], f32>
  }
  func.func @slice(%a: !mtf.tensor<[b:8, d:4], f32>) -> !mtf.tensor<[b:8, d:4{y}], f32> {
    %0 = mtf.relayout %a : !mtf.tensor<[b:8, d:4], f32> -> !mtf.tensor<[b:8, d:4{y}], f32>
    return %0 : !mtf.tensor<[b:8, d:4{y}], f32>
  }
  func.func @move_axis(%a: !mtf.tensor<[b:8{x}, d:4], f32>) -> !mtf.tensor<[b:8, d:4{x}], f32> {
    %0 = mtf.relayout %a : !mtf.tensor<[b:8{x}, d:4], f32> -> !mtf.tensor<[b:8, d:4{x}], f32>
    return %0 : !mtf.tensor<[b:8, d:4{x}], f32>
  }
}
