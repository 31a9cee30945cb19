// A contraction over a dimension split by the layout rules ('k') whose
// result is split over the same axes along another dimension ('batch', which
// the input leaves whole since its 'k' takes the axes): the partial sums are
// reduce-scattered, not all-reduced.
module {
  func.func @main(%x: !mtf.tensor<[batch:8, k:16], f32> {mtf.name = "x"},
                  %w: !mtf.tensor<[k:16, n:8], f32> {mtf.param = "w"})
      -> (!mtf.tensor<[batch:8, n:8], f32> {mtf.name = "y"}) {
    %y = mtf.einsum %x, %w : (!mtf.tensor<[batch:8, k:16], f32>, !mtf.tensor<[k:16, n:8], f32>)
                             -> !mtf.tensor<[batch:8, n:8], f32>
    return %y : !mtf.tensor<[batch:8, n:8], f32>
  }
}
