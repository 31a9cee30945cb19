// The feed-forward sub-layer of switch_moe_layer.mlir with top-2 routing, as
// GShard and NLLB-MoE route: each token goes to its two most probable
// experts, every first choice takes its slot before any second choice, and
// the two gates are normalized over the choices that kept their slot. The
// capacity factor counts both choices: ceil(1.25 * 2 * 16 / 8) = 5 slots per
// sequence and expert. Weights keep the Switch checkpoint names, so a
// SwitchTransformers checkpoint can be run with top-2 routing.
//
// The mesh has 4 devices (the driver takes others, e.g. --mesh b:8); batch and experts share axis b (Mesh TF's default
// expert-parallel set-up: dispatch's all-to-all moves b from batch to experts).
module attributes {mtf.mesh = #mtf.mesh<"b:4">,
                   mtf.layout = #mtf.layout<"experts:b;batch:b">} {
  func.func @top2_ff_layer(
      %x: !mtf.tensor<[batch:8, length:16, d_model:32], f32> {mtf.name = "hidden_states"},
      %norm: !mtf.tensor<[d_model:32], f32> {mtf.param = "encoder.block.1.layer.1.layer_norm.weight"},
      %router: !mtf.tensor<[experts:8, d_model:32], f32> {mtf.param = "encoder.block.1.layer.1.mlp.router.classifier.weight"},
      %wi: !mtf.tensor<[experts:8, d_ff:64, d_model:32], f32> {mtf.param = "encoder.block.1.layer.1.mlp.experts.expert_{experts}.wi.weight"},
      %wo: !mtf.tensor<[experts:8, d_model:32, d_ff:64], f32> {mtf.param = "encoder.block.1.layer.1.mlp.experts.expert_{experts}.wo.weight"})
      -> (!mtf.tensor<[batch:8, length:16, d_model:32], f32> {mtf.name = "hidden_states"},
          !mtf.tensor<[], f32> {mtf.name = "z_loss"}, !mtf.tensor<[], f32> {mtf.name = "aux_loss"}) {
    %h = mtf.rms_norm %x, %norm along d_model {epsilon = 1.0e-6 : f64}
        : !mtf.tensor<[batch:8, length:16, d_model:32], f32>, !mtf.tensor<[d_model:32], f32>
    %logits = mtf.einsum %h, %router
        : (!mtf.tensor<[batch:8, length:16, d_model:32], f32>, !mtf.tensor<[experts:8, d_model:32], f32>)
          -> !mtf.tensor<[batch:8, length:16, experts:8], f32>
    %expert, %gate, %position, %dropped = moe.route %logits
        tokens(length) experts(experts) top_k(2) choices(choice)
        capacity_factor(1.25) normalize(after_drops)
        : !mtf.tensor<[batch:8, length:16, experts:8], f32>
    %buffers = moe.dispatch %h, %expert, %position, %dropped
        tokens(length) experts(experts) capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[batch:8, length:16, d_model:32], f32>, !mtf.tensor<[batch:8, length:16, choice:2], i32>
          -> !mtf.tensor<[experts:8, batch:8, expert_capacity:5, d_model:32], f32>
    %inner = mtf.einsum %buffers, %wi
        : (!mtf.tensor<[experts:8, batch:8, expert_capacity:5, d_model:32], f32>,
           !mtf.tensor<[experts:8, d_ff:64, d_model:32], f32>)
          -> !mtf.tensor<[experts:8, batch:8, expert_capacity:5, d_ff:64], f32>
    %act = mtf.unary relu %inner : !mtf.tensor<[experts:8, batch:8, expert_capacity:5, d_ff:64], f32>
    %out = mtf.einsum %act, %wo
        : (!mtf.tensor<[experts:8, batch:8, expert_capacity:5, d_ff:64], f32>,
           !mtf.tensor<[experts:8, d_model:32, d_ff:64], f32>)
          -> !mtf.tensor<[experts:8, batch:8, expert_capacity:5, d_model:32], f32>
    %moe = moe.combine %out, %expert, %position, %dropped, %gate
        tokens(length) experts(experts) capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[experts:8, batch:8, expert_capacity:5, d_model:32], f32>,
          !mtf.tensor<[batch:8, length:16, choice:2], i32>, !mtf.tensor<[batch:8, length:16, choice:2], f32>
          -> !mtf.tensor<[batch:8, length:16, d_model:32], f32>
    %y = mtf.binary add %x, %moe
        : (!mtf.tensor<[batch:8, length:16, d_model:32], f32>, !mtf.tensor<[batch:8, length:16, d_model:32], f32>)
          -> !mtf.tensor<[batch:8, length:16, d_model:32], f32>
    %z = moe.z_loss %logits experts(experts) : !mtf.tensor<[batch:8, length:16, experts:8], f32>
    %aux = moe.load_balancing_loss %logits tokens(length) experts(experts)
        : !mtf.tensor<[batch:8, length:16, experts:8], f32>
    return %y, %z, %aux : !mtf.tensor<[batch:8, length:16, d_model:32], f32>, !mtf.tensor<[], f32>, !mtf.tensor<[], f32>
  }
}
