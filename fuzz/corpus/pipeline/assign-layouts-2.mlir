// Two rules on one axis: in each tensor the dimension whose rule comes
// first keeps the axis (experts in the expert buffers, batch elsewhere).
module attributes {mtf.mesh = #mtf.mesh<"b:4">, mtf.layout = #mtf.layout<"experts:b;batch:b">} {
  func.func @conflicts_resolve_in_rule_order(%x: !mtf.tensor<[batch:8, length:4], f32>,
                                             %buffers: !mtf.tensor<[experts:4, batch:8, expert_capacity:2], f32>) {
    return
  }
}
