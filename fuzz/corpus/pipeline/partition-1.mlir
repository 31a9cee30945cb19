// Contracting a split dimension gives partial sums: an all_reduce when the
// result is replicated, a reduce_scatter when the result is split on that
// axis.
module attributes {mtf.mesh = #mtf.mesh<"x:2,y:4">} {
  func.func @contract_split_dim(%a: !mtf.tensor<[b:8, d:8{y}], f32>, %w: !mtf.tensor<[d:8{y}, f:16], f32>)
      -> (!mtf.tensor<[b:8, f:16], f32>, !mtf.tensor<[b:8, f:16{y}], f32>) {
    %0 = mtf.einsum %a, %w : (!mtf.tensor<[b:8, d:8{y}], f32>, !mtf.tensor<[d:8{y}, f:16], f32>) -> !mtf.tensor<[b:8, f:16], f32>
    %1 = mtf.einsum %a, %w : (!mtf.tensor<[b:8, d:8{y}], f32>, !mtf.tensor<[d:8{y}, f:16], f32>) -> !mtf.tensor<[b:8, f:16{y}], f32>
    return %0, %1 : !mtf.tensor<[b:8, f:16], f32>, !mtf.tensor<[b:8, f:16{y}], f32>
  }
}
