// One NLLB-MoE sparse MLP (transformers' NllbMoeSparseMLP) with top-2 routing:
// router (no bias) -> top-2 route with capacity 5, gates normalized over the
// kept choices -> dispatch -> per expert fc1 (+bias) -> relu -> fc2 (+bias) ->
// combine (sum of gate * expert output over the kept choices). NLLB routes the
// batch*seq tokens as one group, so the input is [tokens, d_model]. Weights are
// arguments named by the module's state_dict names. Made by
// tools/hf_reference/make_top2_layer.py; no mesh: the test picks one.
module {
  func.func @nllb_moe_sparse_mlp(
      %x: !mtf.tensor<[tokens:16, d_model:16], f32> {mtf.name = "hidden_states"},
      %router: !mtf.tensor<[experts:4, d_model:16], f32> {mtf.param = "router.classifier.weight"},
      %w1: !mtf.tensor<[experts:4, d_ff:32, d_model:16], f32> {mtf.param = "experts.expert_{experts}.fc1.weight"},
      %b1: !mtf.tensor<[experts:4, d_ff:32], f32> {mtf.param = "experts.expert_{experts}.fc1.bias"},
      %w2: !mtf.tensor<[experts:4, d_model:16, d_ff:32], f32> {mtf.param = "experts.expert_{experts}.fc2.weight"},
      %b2: !mtf.tensor<[experts:4, d_model:16], f32> {mtf.param = "experts.expert_{experts}.fc2.bias"})
      -> (!mtf.tensor<[tokens:16, d_model:16], f32> {mtf.name = "hidden_states"},
          !mtf.tensor<[tokens:16, choice:2], i32> {mtf.name = "expert_index"},
          !mtf.tensor<[tokens:16, choice:2], i32> {mtf.name = "position"},
          !mtf.tensor<[tokens:16, choice:2], i1> {mtf.name = "dropped"},
          !mtf.tensor<[tokens:16, choice:2], f32> {mtf.name = "gate"}) {
    %logits = mtf.einsum %x, %router
        : (!mtf.tensor<[tokens:16, d_model:16], f32>, !mtf.tensor<[experts:4, d_model:16], f32>)
          -> !mtf.tensor<[tokens:16, experts:4], f32>
    %expert, %gate, %position, %dropped = moe.route %logits
        tokens(tokens) experts(experts) top_k(2) choices(choice) capacity(5) normalize(after_drops)
        : !mtf.tensor<[tokens:16, experts:4], f32>
    %buffers = moe.dispatch %x, %expert, %position, %dropped
        tokens(tokens) experts(experts) capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[tokens:16, d_model:16], f32>, !mtf.tensor<[tokens:16, choice:2], i32>
          -> !mtf.tensor<[experts:4, expert_capacity:5, d_model:16], f32>
    %fc1 = mtf.einsum %buffers, %w1
        : (!mtf.tensor<[experts:4, expert_capacity:5, d_model:16], f32>,
           !mtf.tensor<[experts:4, d_ff:32, d_model:16], f32>)
          -> !mtf.tensor<[experts:4, expert_capacity:5, d_ff:32], f32>
    %fc1b = mtf.binary add %fc1, %b1
        : (!mtf.tensor<[experts:4, expert_capacity:5, d_ff:32], f32>, !mtf.tensor<[experts:4, d_ff:32], f32>)
          -> !mtf.tensor<[experts:4, expert_capacity:5, d_ff:32], f32>
    %act = mtf.unary relu %fc1b : !mtf.tensor<[experts:4, expert_capacity:5, d_ff:32], f32>
    %fc2 = mtf.einsum %act, %w2
        : (!mtf.tensor<[experts:4, expert_capacity:5, d_ff:32], f32>,
           !mtf.tensor<[experts:4, d_model:16, d_ff:32], f32>)
          -> !mtf.tensor<[experts:4, expert_capacity:5, d_model:16], f32>
    %fc2b = mtf.binary add %fc2, %b2
        : (!mtf.tensor<[experts:4, expert_capacity:5, d_model:16], f32>, !mtf.tensor<[experts:4, d_model:16], f32>)
          -> !mtf.tensor<[experts:4, expert_capacity:5, d_model:16], f32>
    %y = moe.combine %fc2b, %expert, %position, %dropped, %gate
        tokens(tokens) experts(experts) capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[experts:4, expert_capacity:5, d_model:16], f32>,
          !mtf.tensor<[tokens:16, choice:2], i32>, !mtf.tensor<[tokens:16, choice:2], f32>
          -> !mtf.tensor<[tokens:16, d_model:16], f32>
    return %y, %expert, %position, %dropped, %gate
        : !mtf.tensor<[tokens:16, d_model:16], f32>, !mtf.tensor<[tokens:16, choice:2], i32>,
          !mtf.tensor<[tokens:16, choice:2], i32>, !mtf.tensor<[tokens:16, choice:2], i1>,
          !mtf.tensor<[tokens:16, choice:2], f32>
  }
}
