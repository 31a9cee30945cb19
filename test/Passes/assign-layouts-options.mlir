// Options override the module's mesh and rules and are recorded on it.
// RUN: switchyard-opt %s -sy-assign-layouts="mesh=x:2,y:2 layout=batch:x;d_ff:y" | FileCheck %s
// RUN: switchyard-opt %s -sy-assign-layouts="mesh=b:4 layout=batch:b;d_ff:b explain=true" -verify-diagnostics -o /dev/null
// Bad options are clear errors at the module.
// RUN: not switchyard-opt %s -sy-assign-layouts="mesh=b4" 2>&1 | FileCheck %s --check-prefix=MESH
// RUN: not switchyard-opt %s -sy-assign-layouts="mesh=b:4 layout=batch:b;batch:b" 2>&1 | FileCheck %s --check-prefix=RULES
// RUN: not switchyard-opt %s -sy-assign-layouts="mesh=b:4 layout=batch:e" 2>&1 | FileCheck %s --check-prefix=AXIS

// CHECK: module attributes {mtf.layout = #mtf.layout<"batch:x;d_ff:y">, mtf.mesh = #mtf.mesh<"x:2,y:2">}
// CHECK-LABEL: func.func private @f(!mtf.tensor<[batch:8{x}, d_ff:8{y}], f32>)
// MESH: error: mesh axis 'b4' must be written 'name:size' (as in "b:4,e:2")
// RULES: error: layout has two rules for dimension 'batch'
// AXIS: error: layout rule for 'batch' names mesh axis 'e', which mesh "b:4" does not have
module attributes {mtf.mesh = #mtf.mesh<"b:2">, mtf.layout = #mtf.layout<"batch:b">} {
  // expected-remark@+1 {{dimension 'd_ff' stays whole in '!mtf.tensor<[batch:8, d_ff:8], f32>': mesh axis 'b' already splits 'batch'}}
  func.func private @f(!mtf.tensor<[batch:8, d_ff:8], f32>)
}
