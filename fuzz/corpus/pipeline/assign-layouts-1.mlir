// A dimension may be split over several axes; an explicit layout is kept.
module attributes {mtf.mesh = #mtf.mesh<"b:2,m:2">, mtf.layout = #mtf.layout<"batch:b,m">} {
  func.func @multi_axis_and_explicit(%x: !mtf.tensor<[batch:8], f32>,
                                     %y: !mtf.tensor<[batch:8{m}, d:2], f32>) {
    return
  }
}
