// Options override the module's mesh and rules and are recorded on it.
// Bad options are clear errors at the module.

// MESH: error: mesh axis 'b4' must be written 'name:size' (as in "b:4,e:2")
// RULES: error: layout has two rules for dimension 'batch'
// AXIS: error: layout rule for 'batch' names mesh axis 'e', which mesh "b:4" does not have
module attributes {mtf.mesh = #mtf.mesh<"b:2">, mtf.layout = #mtf.layout<"batch:b">} {
  // expected-remark@+1 {{dimension 'd_ff' stays whole in '!mtf.tensor<[batch:8, d_ff:8], f32>': mesh axis 'b' already splits 'batch'}}
  func.func private @f(!mtf.tensor<[batch:8, d_ff:8], f32>)
}
