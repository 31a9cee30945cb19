// Several axes move at once: batch->x, experts->y becomes experts->x,
// batch->y. The moves form a cycle, so one axis is gathered, the other
// moves by all-to-all, and the first is sliced back in place.
// Splitting one dimension over two axes slices major axis first.
// Moving the minor of two axes to another dimension is one all-to-all.
module attributes {mtf.mesh = #mtf.mesh<"x:2,y:4">} {
  func.func @swap_two_axes(%a: !mtf.tensor<[batch:8{x}, experts:8{y}, d:4], f32>)
      -> !mtf.tensor<[batch:8{y}, experts:8{x}, d:4], f32> {
    %0 = mtf.relayout %a : !mtf.tensor<[batch:8{x}, experts:8{y}, d:4], f32> -> !mtf.tensor<[batch:8{y}, experts:8{x}, d:4], f32>
    return %0 : !mtf.tensor<[batch:8{y}, experts:8{x}, d:4], f32>
  }
  func.func @split_over_two_axes(%a: !mtf.tensor<[batch:8, d:8], f32>) -> !mtf.tensor<[batch:8{x, y}, d:8], f32> {
    %0 = mtf.relayout %a : !mtf.tensor<[batch:8, d:8], f32> -> !mtf.tensor<[batch:8{x, y}, d:8], f32>
    return %0 : !mtf.tensor<[batch:8{x, y}, d:8], f32>
  }
  func.func @move_minor_axis(%a: !mtf.tensor<[batch:8{x, y}, d:8], f32>) -> !mtf.tensor<[batch:8{x}, d:8{y}], f32> {
    %0 = mtf.relayout %a : !mtf.tensor<[batch:8{x, y}, d:8], f32> -> !mtf.tensor<[batch:8{x}, d:8{y}], f32>
    return %0 : !mtf.tensor<[batch:8{x}, d:8{y}], f32>
  }
}
