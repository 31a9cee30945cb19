// RUN: switchyard-opt %s -split-input-file | FileCheck %s
// RUN: switchyard-opt %s -split-input-file | switchyard-opt -split-input-file | FileCheck %s
// RUN: switchyard-opt %s -split-input-file -mlir-print-op-generic | switchyard-opt -split-input-file | FileCheck %s

// A whole Switch MoE layer: route, dispatch, experts, combine, losses.
// CHECK-LABEL: func.func @switch_layer
func.func @switch_layer(%x: !mtf.tensor<[batch:2, length:8, d_model:16], f32>,
                        %router: !mtf.tensor<[d_model:16, experts:4], f32>,
                        %wi: !mtf.tensor<[experts:4, d_model:16, d_ff:32], f32>,
                        %wo: !mtf.tensor<[experts:4, d_ff:32, d_model:16], f32>)
    -> (!mtf.tensor<[batch:2, length:8, d_model:16], f32>, !mtf.tensor<[], f32>, !mtf.tensor<[], f32>) {
  %logits = mtf.einsum %x, %router : (!mtf.tensor<[batch:2, length:8, d_model:16], f32>,
                                      !mtf.tensor<[d_model:16, experts:4], f32>)
                                     -> !mtf.tensor<[batch:2, length:8, experts:4], f32>
  // CHECK: %[[EXPERT:.*]], %[[GATE:.*]], %[[POS:.*]], %[[DROP:.*]] = moe.route %{{.*}} tokens(length) experts(experts) capacity(4) : !mtf.tensor<[batch:2, length:8, experts:4], f32>
  %expert, %gate, %position, %dropped = moe.route %logits tokens(length) experts(experts) capacity(4)
      : !mtf.tensor<[batch:2, length:8, experts:4], f32>
  // CHECK: moe.dispatch %{{.*}}, %[[EXPERT]], %[[POS]], %[[DROP]] tokens(length) experts(experts) capacity_dim(expert_capacity) : !mtf.tensor<[batch:2, length:8, d_model:16], f32>, !mtf.tensor<[batch:2, length:8], i32> -> !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>
  %buffers = moe.dispatch %x, %expert, %position, %dropped
      tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[batch:2, length:8, d_model:16], f32>, !mtf.tensor<[batch:2, length:8], i32>
        -> !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>
  %h = mtf.einsum %buffers, %wi : (!mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>,
                                   !mtf.tensor<[experts:4, d_model:16, d_ff:32], f32>)
                                  -> !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_ff:32], f32>
  %a = mtf.unary relu %h : !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_ff:32], f32>
  %out = mtf.einsum %a, %wo : (!mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_ff:32], f32>,
                               !mtf.tensor<[experts:4, d_ff:32, d_model:16], f32>)
                              -> !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>
  // CHECK: moe.combine %{{.*}}, %[[EXPERT]], %[[POS]], %[[DROP]], %[[GATE]] tokens(length) experts(experts) capacity_dim(expert_capacity) : !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>, !mtf.tensor<[batch:2, length:8], i32>, !mtf.tensor<[batch:2, length:8], f32> -> !mtf.tensor<[batch:2, length:8, d_model:16], f32>
  %y = moe.combine %out, %expert, %position, %dropped, %gate
      tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>,
        !mtf.tensor<[batch:2, length:8], i32>, !mtf.tensor<[batch:2, length:8], f32>
        -> !mtf.tensor<[batch:2, length:8, d_model:16], f32>
  // CHECK: moe.z_loss %{{.*}} experts(experts) : !mtf.tensor<[batch:2, length:8, experts:4], f32>
  %z = moe.z_loss %logits experts(experts) : !mtf.tensor<[batch:2, length:8, experts:4], f32>
  // CHECK: moe.load_balancing_loss %{{.*}} tokens(length) experts(experts) : !mtf.tensor<[batch:2, length:8, experts:4], f32>
  %aux = moe.load_balancing_loss %logits tokens(length) experts(experts)
      : !mtf.tensor<[batch:2, length:8, experts:4], f32>
  return %y, %z, %aux : !mtf.tensor<[batch:2, length:8, d_model:16], f32>, !mtf.tensor<[], f32>, !mtf.tensor<[], f32>
}

// -----

// Capacity from a capacity factor: ceil(1.25 * 8 / 4) = 3 slots.
// CHECK-LABEL: func.func @capacity_factor
func.func @capacity_factor(%logits: !mtf.tensor<[batch:2, length:8, experts:4], f32>,
                           %x: !mtf.tensor<[batch:2, length:8, d_model:16], f32>) {
  // CHECK: moe.route %{{.*}} tokens(length) experts(experts) capacity_factor(1.250000e+00)
  %expert, %gate, %position, %dropped = moe.route %logits tokens(length) experts(experts) capacity_factor(1.25)
      : !mtf.tensor<[batch:2, length:8, experts:4], f32>
  // CHECK: -> !mtf.tensor<[experts:4, batch:2, expert_capacity:3, d_model:16], f32>
  %buffers = moe.dispatch %x, %expert, %position, %dropped
      tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[batch:2, length:8, d_model:16], f32>, !mtf.tensor<[batch:2, length:8], i32>
        -> !mtf.tensor<[experts:4, batch:2, expert_capacity:3, d_model:16], f32>
  return
}

// -----

// Losses pool the logits of several sparse layers; bf16 routers are allowed.
// CHECK-LABEL: func.func @pooled_losses
func.func @pooled_losses(%l0: !mtf.tensor<[batch:2, length:8, experts:4], f32>,
                         %l1: !mtf.tensor<[batch:2, length:8, experts:4], f32>,
                         %b: !mtf.tensor<[batch:2, length:8, experts:4], bf16>) {
  // CHECK: moe.z_loss %{{.*}}, %{{.*}} experts(experts)
  %z = moe.z_loss %l0, %l1 experts(experts)
      : !mtf.tensor<[batch:2, length:8, experts:4], f32>, !mtf.tensor<[batch:2, length:8, experts:4], f32>
  // CHECK: moe.load_balancing_loss %{{.*}}, %{{.*}} tokens(length) experts(experts)
  %aux = moe.load_balancing_loss %l0, %l1 tokens(length) experts(experts)
      : !mtf.tensor<[batch:2, length:8, experts:4], f32>, !mtf.tensor<[batch:2, length:8, experts:4], f32>
  // CHECK: moe.route %{{.*}} capacity(0) : !mtf.tensor<[batch:2, length:8, experts:4], bf16>
  %e, %g, %p, %d = moe.route %b tokens(length) experts(experts) capacity(0)
      : !mtf.tensor<[batch:2, length:8, experts:4], bf16>
  return
}

// -----

// A combine that adds the block's residual.
// CHECK-LABEL: func.func @combine_residual
func.func @combine_residual(%out: !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>,
                            %expert: !mtf.tensor<[batch:2, length:8], i32>, %position: !mtf.tensor<[batch:2, length:8], i32>,
                            %dropped: !mtf.tensor<[batch:2, length:8], i1>, %gate: !mtf.tensor<[batch:2, length:8], f32>,
                            %x: !mtf.tensor<[batch:2, length:8, d_model:16], f32>) -> !mtf.tensor<[batch:2, length:8, d_model:16], f32> {
  // CHECK: moe.combine %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} residual(%{{.*}}) tokens(length) experts(experts) capacity_dim(expert_capacity) : {{.*}} -> !mtf.tensor<[batch:2, length:8, d_model:16], f32>
  %y = moe.combine %out, %expert, %position, %dropped, %gate residual(%x)
      tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>,
        !mtf.tensor<[batch:2, length:8], i32>, !mtf.tensor<[batch:2, length:8], f32>
        -> !mtf.tensor<[batch:2, length:8, d_model:16], f32>
  return %y : !mtf.tensor<[batch:2, length:8, d_model:16], f32>
}

// -----

// Top-2 routing: the routing values carry the choices dimension in place of
// experts; dispatch and combine name it.
// CHECK-LABEL: func.func @top2_layer
func.func @top2_layer(%x: !mtf.tensor<[batch:2, length:8, d_model:16], f32>,
                      %logits: !mtf.tensor<[batch:2, length:8, experts:4], f32>)
    -> !mtf.tensor<[batch:2, length:8, d_model:16], f32> {
  // CHECK: %[[EXPERT:.*]], %[[GATE:.*]], %[[POS:.*]], %[[DROP:.*]] = moe.route %{{.*}} tokens(length) experts(experts) top_k(2) choices(choice) capacity_factor(1.000000e+00) normalize(after_drops) : !mtf.tensor<[batch:2, length:8, experts:4], f32>
  %expert, %gate, %position, %dropped = moe.route %logits tokens(length) experts(experts)
      top_k(2) choices(choice) capacity_factor(1.0) normalize(after_drops)
      : !mtf.tensor<[batch:2, length:8, experts:4], f32>
  // Capacity counts both choices: ceil(1.0 * 2 * 8 / 4) = 4.
  // CHECK: moe.dispatch %{{.*}}, %[[EXPERT]], %[[POS]], %[[DROP]] tokens(length) experts(experts) capacity_dim(expert_capacity) choices(choice) : !mtf.tensor<[batch:2, length:8, d_model:16], f32>, !mtf.tensor<[batch:2, length:8, choice:2], i32> -> !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>
  %buffers = moe.dispatch %x, %expert, %position, %dropped
      tokens(length) experts(experts) capacity_dim(expert_capacity) choices(choice)
      : !mtf.tensor<[batch:2, length:8, d_model:16], f32>, !mtf.tensor<[batch:2, length:8, choice:2], i32>
        -> !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>
  // CHECK: moe.combine %{{.*}}, %[[EXPERT]], %[[POS]], %[[DROP]], %[[GATE]] residual(%{{.*}}) tokens(length) experts(experts) capacity_dim(expert_capacity) choices(choice) : !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>, !mtf.tensor<[batch:2, length:8, choice:2], i32>, !mtf.tensor<[batch:2, length:8, choice:2], f32> -> !mtf.tensor<[batch:2, length:8, d_model:16], f32>
  %y = moe.combine %buffers, %expert, %position, %dropped, %gate residual(%x)
      tokens(length) experts(experts) capacity_dim(expert_capacity) choices(choice)
      : !mtf.tensor<[batch:2, experts:4, expert_capacity:4, d_model:16], f32>,
        !mtf.tensor<[batch:2, length:8, choice:2], i32>, !mtf.tensor<[batch:2, length:8, choice:2], f32>
        -> !mtf.tensor<[batch:2, length:8, d_model:16], f32>
  return %y : !mtf.tensor<[batch:2, length:8, d_model:16], f32>
}

// -----

// The choices dimension takes the experts dimension's place; normalization
// before drops; top_k may equal the number of experts.
// CHECK-LABEL: func.func @top_k_results
func.func @top_k_results(%logits: !mtf.tensor<[experts:3, batch:2, length:8], bf16>)
    -> (!mtf.tensor<[k:3, batch:2, length:8], i32>, !mtf.tensor<[k:3, batch:2, length:8], bf16>) {
  // CHECK: moe.route %{{.*}} tokens(length) experts(experts) top_k(3) choices(k) capacity(8) normalize(before_drops) : !mtf.tensor<[experts:3, batch:2, length:8], bf16>
  %expert, %gate, %position, %dropped = moe.route %logits tokens(length) experts(experts)
      top_k(3) choices(k) capacity(8) normalize(before_drops)
      : !mtf.tensor<[experts:3, batch:2, length:8], bf16>
  return %expert, %gate : !mtf.tensor<[k:3, batch:2, length:8], i32>, !mtf.tensor<[k:3, batch:2, length:8], bf16>
}
