// Layout changes of every kind on mesh x:2,y:4 (and its 1-device twin
// x:1,y:1): gather, slice, all-to-all, a two-axis swap, a split over two
// axes, and a minor axis moving to another dimension.
module attributes {mtf.mesh = #mtf.mesh<"x:2,y:4">} {
  func.func @main(%a: !mtf.tensor<[batch:8{x}, experts:8{y}, d:4], f32> {mtf.name = "a"},
                  %b: !mtf.tensor<[batch:8, d:8], f32> {mtf.name = "b"})
      -> (!mtf.tensor<[batch:8{y}, experts:8{x}, d:4], f32> {mtf.name = "swap"},
          !mtf.tensor<[batch:8, experts:8, d:4{y}], f32> {mtf.name = "moved"},
          !mtf.tensor<[batch:8{x, y}, d:8], f32> {mtf.name = "split"},
          !mtf.tensor<[batch:8{x}, d:8{y}], f32> {mtf.name = "minor"}) {
    %0 = mtf.relayout %a : !mtf.tensor<[batch:8{x}, experts:8{y}, d:4], f32> -> !mtf.tensor<[batch:8{y}, experts:8{x}, d:4], f32>
    %1 = mtf.relayout %a : !mtf.tensor<[batch:8{x}, experts:8{y}, d:4], f32> -> !mtf.tensor<[batch:8, experts:8, d:4{y}], f32>
    %2 = mtf.relayout %b : !mtf.tensor<[batch:8, d:8], f32> -> !mtf.tensor<[batch:8{x, y}, d:8], f32>
    %3 = mtf.relayout %2 : !mtf.tensor<[batch:8{x, y}, d:8], f32> -> !mtf.tensor<[batch:8{x}, d:8{y}], f32>
    return %0, %1, %2, %3 : !mtf.tensor<[batch:8{y}, experts:8{x}, d:4], f32>, !mtf.tensor<[batch:8, experts:8, d:4{y}], f32>,
        !mtf.tensor<[batch:8{x, y}, d:8], f32>, !mtf.tensor<[batch:8{x}, d:8{y}], f32>
  }
}
