// Adding or removing a dimension of size 1 (as generation's per-position
// routing does) keeps the other dimensions' blocks in place.
module attributes {mtf.mesh = #mtf.mesh<"b:4">} {
  func.func @unit_dimension_reshape(%x: !mtf.tensor<[batch:8{b}, length:8, d:4], f32>)
      -> !mtf.tensor<[batch:8{b}, length:8, one:1, d:4], f32> {
    %0 = mtf.reshape %x : !mtf.tensor<[batch:8{b}, length:8, d:4], f32> -> !mtf.tensor<[batch:8{b}, length:8, one:1, d:4], f32>
    return %0 : !mtf.tensor<[batch:8{b}, length:8, one:1, d:4], f32>
  }
}
