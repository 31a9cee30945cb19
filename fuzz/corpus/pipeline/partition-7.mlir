// No collective runs over a mesh axis of size 1; a rename keeps the blocks
// where they are.
module attributes {mtf.mesh = #mtf.mesh<"b:2,u:1">} {
  func.func @unit_axis_and_rename(%x: !mtf.tensor<[batch:8{b}, length:8{u}], f32>)
      -> (!mtf.tensor<[batch:8{b}, length:8], f32>, !mtf.tensor<[batch:8{b}, memory_length:8{u}], f32>) {
    %0 = mtf.relayout %x : !mtf.tensor<[batch:8{b}, length:8{u}], f32> -> !mtf.tensor<[batch:8{b}, length:8], f32>
    %1 = mtf.reshape %x : !mtf.tensor<[batch:8{b}, length:8{u}], f32> -> !mtf.tensor<[batch:8{b}, memory_length:8{u}], f32>
    return %0, %1 : !mtf.tensor<[batch:8{b}, length:8], f32>, !mtf.tensor<[batch:8{b}, memory_length:8{u}], f32>
  }
}
