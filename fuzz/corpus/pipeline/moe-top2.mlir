// The MoE feed-forward sub-layer of moe.mlir with top-2 routing (gates
// normalized over the kept choices), returning its routing decisions, for
// equivalence across meshes and layouts. Capacity factor 0.75 (3 slots for
// the 32 choices of a group's 16 tokens over 8 experts) drops choices.
module {
  func.func @main(
      %x: !mtf.tensor<[batch:8, length:16, d_model:32], f32> {mtf.name = "x"},
      %norm: !mtf.tensor<[d_model:32], f32> {mtf.param = "layer_norm.weight"},
      %router: !mtf.tensor<[experts:8, d_model:32], f32> {mtf.param = "router.classifier.weight"},
      %wi: !mtf.tensor<[experts:8, d_ff:64, d_model:32], f32> {mtf.param = "experts.expert_{experts}.wi.weight"},
      %wo: !mtf.tensor<[experts:8, d_model:32, d_ff:64], f32> {mtf.param = "experts.expert_{experts}.wo.weight"})
      -> (!mtf.tensor<[batch:8, length:16, d_model:32], f32> {mtf.name = "y"},
          !mtf.tensor<[batch:8, length:16, choice:2], i32> {mtf.name = "expert"},
          !mtf.tensor<[batch:8, length:16, choice:2], i1> {mtf.name = "dropped"},
          !mtf.tensor<[batch:8, length:16, choice:2], f32> {mtf.name = "gate"},
          !mtf.tensor<[], f32> {mtf.name = "z_loss"},
          !mtf.tensor<[], f32> {mtf.name = "aux_loss"}) {
    %h = mtf.rms_norm %x, %norm along d_model {epsilon = 1.0e-6 : f64}
        : !mtf.tensor<[batch:8, length:16, d_model:32], f32>, !mtf.tensor<[d_model:32], f32>
    %logits = mtf.einsum %h, %router
        : (!mtf.tensor<[batch:8, length:16, d_model:32], f32>, !mtf.tensor<[experts:8, d_model:32], f32>)
          -> !mtf.tensor<[batch:8, length:16, experts:8], f32>
    %expert, %gate, %position, %dropped = moe.route %logits
        tokens(length) experts(experts) top_k(2) choices(choice)
        capacity_factor(0.75) normalize(after_drops)
        : !mtf.tensor<[batch:8, length:16, experts:8], f32>
    %buffers = moe.dispatch %h, %expert, %position, %dropped
        tokens(length) experts(experts) capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[batch:8, length:16, d_model:32], f32>, !mtf.tensor<[batch:8, length:16, choice:2], i32>
          -> !mtf.tensor<[experts:8, batch:8, expert_capacity:3, d_model:32], f32>
    %inner = mtf.einsum %buffers, %wi
        : (!mtf.tensor<[experts:8, batch:8, expert_capacity:3, d_model:32], f32>,
           !mtf.tensor<[experts:8, d_ff:64, d_model:32], f32>)
          -> !mtf.tensor<[experts:8, batch:8, expert_capacity:3, d_ff:64], f32>
    %act = mtf.unary relu %inner : !mtf.tensor<[experts:8, batch:8, expert_capacity:3, d_ff:64], f32>
    %out = mtf.einsum %act, %wo
        : (!mtf.tensor<[experts:8, batch:8, expert_capacity:3, d_ff:64], f32>,
           !mtf.tensor<[experts:8, d_model:32, d_ff:64], f32>)
          -> !mtf.tensor<[experts:8, batch:8, expert_capacity:3, d_model:32], f32>
    %moe = moe.combine %out, %expert, %position, %dropped, %gate
        tokens(length) experts(experts) capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[experts:8, batch:8, expert_capacity:3, d_model:32], f32>,
          !mtf.tensor<[batch:8, length:16, choice:2], i32>, !mtf.tensor<[batch:8, length:16, choice:2], f32>
          -> !mtf.tensor<[batch:8, length:16, d_model:32], f32>
    %y = mtf.binary add %x, %moe
        : (!mtf.tensor<[batch:8, length:16, d_model:32], f32>, !mtf.tensor<[batch:8, length:16, d_model:32], f32>)
          -> !mtf.tensor<[batch:8, length:16, d_model:32], f32>
    %z = moe.z_loss %logits experts(experts) : !mtf.tensor<[batch:8, length:16, experts:8], f32>
    %aux = moe.load_balancing_loss %logits tokens(length) experts(experts)
        : !mtf.tensor<[batch:8, length:16, experts:8], f32>
    return %y, %expert, %dropped, %gate, %z, %aux
        : !mtf.tensor<[batch:8, length:16, d_model:32], f32>, !mtf.tensor<[batch:8, length:16, choice:2], i32>,
          !mtf.tensor<[batch:8, length:16, choice:2], i1>, !mtf.tensor<[batch:8, length:16, choice:2], f32>,
          !mtf.tensor<[], f32>, !mtf.tensor<[], f32>
  }
}
