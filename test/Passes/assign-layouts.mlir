// RUN: switchyard-opt %s -split-input-file -sy-assign-layouts | FileCheck %s

// Rules from the module attributes; every value and signature is laid out.
// CHECK-LABEL: func.func @from_module_attributes
// CHECK-SAME: (%{{.*}}: !mtf.tensor<[batch:8{b}, d_model:4], f32>, %{{.*}}: !mtf.tensor<[d_model:4, d_ff:8{m}], f32>)
// CHECK-SAME: -> !mtf.tensor<[batch:8{b}, d_ff:8{m}], f32>
// CHECK: mtf.einsum {{.*}} -> !mtf.tensor<[batch:8{b}, d_ff:8{m}], f32>
module attributes {mtf.mesh = #mtf.mesh<"b:2,m:4">, mtf.layout = #mtf.layout<"batch:b;d_ff:m">} {
  func.func @from_module_attributes(%x: !mtf.tensor<[batch:8, d_model:4], f32>,
                                    %w: !mtf.tensor<[d_model:4, d_ff:8], f32>)
      -> !mtf.tensor<[batch:8, d_ff:8], f32> {
    %y = mtf.einsum %x, %w : (!mtf.tensor<[batch:8, d_model:4], f32>, !mtf.tensor<[d_model:4, d_ff:8], f32>)
                             -> !mtf.tensor<[batch:8, d_ff:8], f32>
    return %y : !mtf.tensor<[batch:8, d_ff:8], f32>
  }
}

// -----

// A dimension may be split over several axes; an explicit layout is kept.
// CHECK-LABEL: func.func @multi_axis_and_explicit
// CHECK-SAME: !mtf.tensor<[batch:8{b, m}], f32>
// CHECK-SAME: !mtf.tensor<[batch:8{m}, d:2], f32>
module attributes {mtf.mesh = #mtf.mesh<"b:2,m:2">, mtf.layout = #mtf.layout<"batch:b,m">} {
  func.func @multi_axis_and_explicit(%x: !mtf.tensor<[batch:8], f32>,
                                     %y: !mtf.tensor<[batch:8{m}, d:2], f32>) {
    return
  }
}

// -----

// Two rules on one axis: in each tensor the dimension whose rule comes
// first keeps the axis (experts in the expert buffers, batch elsewhere).
// CHECK-LABEL: func.func @conflicts_resolve_in_rule_order
// CHECK-SAME: !mtf.tensor<[batch:8{b}, length:4], f32>
// CHECK-SAME: !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2], f32>
module attributes {mtf.mesh = #mtf.mesh<"b:4">, mtf.layout = #mtf.layout<"experts:b;batch:b">} {
  func.func @conflicts_resolve_in_rule_order(%x: !mtf.tensor<[batch:8, length:4], f32>,
                                             %buffers: !mtf.tensor<[experts:4, batch:8, expert_capacity:2], f32>) {
    return
  }
}

// -----

// Block arguments, op results and declarations are all laid out.
// CHECK-LABEL: func.func private @declaration(!mtf.tensor<[batch:4{b}], f32>)
// CHECK-LABEL: func.func @results
// CHECK: mtf.iota along batch : !mtf.tensor<[batch:4{b}], i32>
module attributes {mtf.mesh = #mtf.mesh<"b:2">, mtf.layout = #mtf.layout<"batch:b">} {
  func.func private @declaration(!mtf.tensor<[batch:4], f32>)
  func.func @results() {
    %0 = mtf.iota along batch : !mtf.tensor<[batch:4], i32>
    return
  }
}
