// Weights split by their layouts become local slices; arguments and results
// record their global laid-out type. Ops on unsplit or consistently split
// dimensions need no collective.
module attributes {mtf.mesh = #mtf.mesh<"e:4">} {
  func.func @local_slices(%x: !mtf.tensor<[tokens:4, d_model:8], f32>,
                          %w: !mtf.tensor<[experts:4{e}, d_model:8], f32> {mtf.param = "router.weight"})
      -> !mtf.tensor<[tokens:4, experts:4{e}], f32> {
    %y = mtf.einsum %x, %w : (!mtf.tensor<[tokens:4, d_model:8], f32>, !mtf.tensor<[experts:4{e}, d_model:8], f32>)
                             -> !mtf.tensor<[tokens:4, experts:4{e}], f32>
    return %y : !mtf.tensor<[tokens:4, experts:4{e}], f32>
  }
}
