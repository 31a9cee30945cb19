// RUN: switchyard-opt %s -split-input-file -verify-diagnostics

func.func @route_missing_tokens(%l: !mtf.tensor<[batch:2, experts:4], f32>) {
  // expected-error@+1 {{logits has no dimension 'length'}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity(2) : !mtf.tensor<[batch:2, experts:4], f32>
  return
}

// -----

func.func @route_missing_experts(%l: !mtf.tensor<[batch:2, length:8], f32>) {
  // expected-error@+1 {{logits has no dimension 'experts'}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity(2) : !mtf.tensor<[batch:2, length:8], f32>
  return
}

// -----

func.func @route_same_dims(%l: !mtf.tensor<[length:8], f32>) {
  // expected-error@+1 {{token and experts dimensions must differ, both are 'length'}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(length) capacity(2) : !mtf.tensor<[length:8], f32>
  return
}

// -----

func.func @route_no_experts(%l: !mtf.tensor<[length:8, experts:0], f32>) {
  // expected-error@+1 {{needs at least one expert}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity(2) : !mtf.tensor<[length:8, experts:0], f32>
  return
}

// -----

func.func @route_no_capacity(%l: !mtf.tensor<[length:8, experts:4], f32>) {
  // expected-error@+1 {{expects exactly one of 'capacity' and 'capacity_factor'}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) : !mtf.tensor<[length:8, experts:4], f32>
  return
}

// -----

func.func @route_two_capacities(%l: !mtf.tensor<[length:8, experts:4], f32>) {
  // expected-error@+1 {{expects exactly one of 'capacity' and 'capacity_factor'}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity(2) capacity_factor(1.0) : !mtf.tensor<[length:8, experts:4], f32>
  return
}

// -----

func.func @route_negative_capacity(%l: !mtf.tensor<[length:8, experts:4], f32>) {
  // expected-error@+1 {{capacity must be non-negative, got -1}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity(-1) : !mtf.tensor<[length:8, experts:4], f32>
  return
}

// -----

func.func @route_zero_factor(%l: !mtf.tensor<[length:8, experts:4], f32>) {
  // expected-error@+1 {{capacity_factor must be positive, got 0}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity_factor(0.0) : !mtf.tensor<[length:8, experts:4], f32>
  return
}

// -----

func.func @route_int_logits(%l: !mtf.tensor<[length:8, experts:4], i32>) {
  // expected-error@+1 {{operand #0 must be floating-point named-dimension tensor}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity(2) : !mtf.tensor<[length:8, experts:4], i32>
  return
}

// -----

func.func @dispatch_expert_count(%l: !mtf.tensor<[batch:2, length:8, experts:8], f32>,
                                 %x: !mtf.tensor<[batch:2, length:8, d_model:4], f32>) {
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity(2) : !mtf.tensor<[batch:2, length:8, experts:8], f32>
  // expected-error@+1 {{has 4 experts but its 'moe.route' has 8}}
  %b = moe.dispatch %x, %e, %p, %d tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[batch:2, length:8, d_model:4], f32>, !mtf.tensor<[batch:2, length:8], i32>
        -> !mtf.tensor<[batch:2, experts:4, expert_capacity:2, d_model:4], f32>
  return
}

// -----

func.func @dispatch_capacity(%l: !mtf.tensor<[batch:2, length:8, experts:4], f32>,
                             %x: !mtf.tensor<[batch:2, length:8, d_model:4], f32>) {
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity_factor(1.0) : !mtf.tensor<[batch:2, length:8, experts:4], f32>
  // expected-error@+1 {{has expert capacity 3 but its 'moe.route' has 2}}
  %b = moe.dispatch %x, %e, %p, %d tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[batch:2, length:8, d_model:4], f32>, !mtf.tensor<[batch:2, length:8], i32>
        -> !mtf.tensor<[batch:2, experts:4, expert_capacity:3, d_model:4], f32>
  return
}

// -----

func.func @dispatch_token_dim(%l: !mtf.tensor<[batch:2, length:8, experts:4], f32>,
                              %x: !mtf.tensor<[batch:2, length:8, d_model:4], f32>) {
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity(2) : !mtf.tensor<[batch:2, length:8, experts:4], f32>
  // expected-error@+1 {{routes tokens along 'batch' but its 'moe.route' routes along 'length'}}
  %b = moe.dispatch %x, %e, %p, %d tokens(batch) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[batch:2, length:8, d_model:4], f32>, !mtf.tensor<[batch:2, length:8], i32>
        -> !mtf.tensor<[length:8, experts:4, expert_capacity:2, d_model:4], f32>
  return
}

// -----

func.func @dispatch_same_buffer_dims(%x: !mtf.tensor<[length:8, d_model:4], f32>, %e: !mtf.tensor<[length:8], i32>,
                                     %p: !mtf.tensor<[length:8], i32>, %d: !mtf.tensor<[length:8], i1>) {
  // expected-error@+1 {{experts and capacity dimensions must differ, both are 'experts'}}
  %b = moe.dispatch %x, %e, %p, %d tokens(length) experts(experts) capacity_dim(experts)
      : !mtf.tensor<[length:8, d_model:4], f32>, !mtf.tensor<[length:8], i32>
        -> !mtf.tensor<[experts:4, d_model:4], f32>
  return
}

// -----

func.func @dispatch_missing_experts(%x: !mtf.tensor<[length:8, d_model:4], f32>, %e: !mtf.tensor<[length:8], i32>,
                                    %p: !mtf.tensor<[length:8], i32>, %d: !mtf.tensor<[length:8], i1>) {
  // expected-error@+1 {{result has no dimension 'experts'}}
  %b = moe.dispatch %x, %e, %p, %d tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[length:8, d_model:4], f32>, !mtf.tensor<[length:8], i32>
        -> !mtf.tensor<[expert_capacity:2, d_model:4], f32>
  return
}

// -----

func.func @dispatch_routing_not_in_input(%x: !mtf.tensor<[length:8, d_model:4], f32>, %e: !mtf.tensor<[batch:2, length:8], i32>,
                                         %p: !mtf.tensor<[batch:2, length:8], i32>, %d: !mtf.tensor<[batch:2, length:8], i1>) {
  // expected-error@+1 {{input has no dimension 'batch'}}
  %b = moe.dispatch %x, %e, %p, %d tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[length:8, d_model:4], f32>, !mtf.tensor<[batch:2, length:8], i32>
        -> !mtf.tensor<[experts:4, expert_capacity:2, d_model:4], f32>
  return
}

// -----

func.func @dispatch_no_token_dim(%x: !mtf.tensor<[length:8, d_model:4], f32>, %e: !mtf.tensor<[length:8], i32>,
                                 %p: !mtf.tensor<[length:8], i32>, %d: !mtf.tensor<[length:8], i1>) {
  // expected-error@+1 {{routing decision has no dimension 'tokens'}}
  %b = moe.dispatch %x, %e, %p, %d tokens(tokens) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[length:8, d_model:4], f32>, !mtf.tensor<[length:8], i32>
        -> !mtf.tensor<[experts:4, expert_capacity:2, d_model:4], f32>
  return
}

// -----

func.func @dispatch_input_has_experts(%x: !mtf.tensor<[length:8, experts:4], f32>, %e: !mtf.tensor<[length:8], i32>,
                                      %p: !mtf.tensor<[length:8], i32>, %d: !mtf.tensor<[length:8], i1>) {
  // expected-error@+1 {{input already has a dimension 'experts'}}
  %b = moe.dispatch %x, %e, %p, %d tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[length:8, experts:4], f32>, !mtf.tensor<[length:8], i32>
        -> !mtf.tensor<[experts:4, expert_capacity:2], f32>
  return
}

// -----

func.func @dispatch_result_dims(%x: !mtf.tensor<[length:8, d_model:4], f32>, %e: !mtf.tensor<[length:8], i32>,
                                %p: !mtf.tensor<[length:8], i32>, %d: !mtf.tensor<[length:8], i1>) {
  // expected-error@+1 {{result must have the dimensions (d_model, experts, expert_capacity), got '!mtf.tensor<[experts:4, expert_capacity:2, d_model:4, extra:2], f32>'}}
  %b = moe.dispatch %x, %e, %p, %d tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[length:8, d_model:4], f32>, !mtf.tensor<[length:8], i32>
        -> !mtf.tensor<[experts:4, expert_capacity:2, d_model:4, extra:2], f32>
  return
}

// -----

func.func @dispatch_feature_size(%x: !mtf.tensor<[length:8, d_model:4], f32>, %e: !mtf.tensor<[length:8], i32>,
                                 %p: !mtf.tensor<[length:8], i32>, %d: !mtf.tensor<[length:8], i1>) {
  // expected-error@+1 {{dimension 'd_model' has size 4 in one tensor and 8 in another}}
  %b = moe.dispatch %x, %e, %p, %d tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[length:8, d_model:4], f32>, !mtf.tensor<[length:8], i32>
        -> !mtf.tensor<[experts:4, expert_capacity:2, d_model:8], f32>
  return
}

// -----

func.func @dispatch_element_type(%x: !mtf.tensor<[length:8, d_model:4], f32>, %e: !mtf.tensor<[length:8], i32>,
                                 %p: !mtf.tensor<[length:8], i32>, %d: !mtf.tensor<[length:8], i1>) {
  // expected-error@+1 {{result element type 'bf16' differs from the input's 'f32'}}
  %b = moe.dispatch %x, %e, %p, %d tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[length:8, d_model:4], f32>, !mtf.tensor<[length:8], i32>
        -> !mtf.tensor<[experts:4, expert_capacity:2, d_model:4], bf16>
  return
}

// -----

func.func @combine_gate(%y: !mtf.tensor<[experts:4, expert_capacity:2, d_model:4], f32>, %e: !mtf.tensor<[length:8], i32>,
                        %p: !mtf.tensor<[length:8], i32>, %d: !mtf.tensor<[length:8], i1>, %g: !mtf.tensor<[tokens:8], f32>) {
  // expected-error@+1 {{gate must have the dimensions of the routing decision}}
  %r = moe.combine %y, %e, %p, %d, %g tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[experts:4, expert_capacity:2, d_model:4], f32>, !mtf.tensor<[length:8], i32>, !mtf.tensor<[tokens:8], f32>
        -> !mtf.tensor<[length:8, d_model:4], f32>
  return
}

// -----

func.func @combine_expert_count(%l: !mtf.tensor<[length:8, experts:8], f32>,
                                %y: !mtf.tensor<[experts:4, expert_capacity:2, d_model:4], f32>) {
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity(2) : !mtf.tensor<[length:8, experts:8], f32>
  // expected-error@+1 {{has 4 experts but its 'moe.route' has 8}}
  %r = moe.combine %y, %e, %p, %d, %g tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[experts:4, expert_capacity:2, d_model:4], f32>, !mtf.tensor<[length:8], i32>, !mtf.tensor<[length:8], f32>
        -> !mtf.tensor<[length:8, d_model:4], f32>
  return
}

// -----

func.func @combine_input_has_tokens(%y: !mtf.tensor<[experts:4, expert_capacity:2, length:8], f32>, %e: !mtf.tensor<[length:8], i32>,
                                    %p: !mtf.tensor<[length:8], i32>, %d: !mtf.tensor<[length:8], i1>, %g: !mtf.tensor<[length:8], f32>) {
  // expected-error@+1 {{input already has a dimension 'length'}}
  %r = moe.combine %y, %e, %p, %d, %g tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[experts:4, expert_capacity:2, length:8], f32>, !mtf.tensor<[length:8], i32>, !mtf.tensor<[length:8], f32>
        -> !mtf.tensor<[length:8], f32>
  return
}

// -----

func.func @combine_result_dims(%y: !mtf.tensor<[experts:4, expert_capacity:2, d_model:4], f32>, %e: !mtf.tensor<[length:8], i32>,
                               %p: !mtf.tensor<[length:8], i32>, %d: !mtf.tensor<[length:8], i1>, %g: !mtf.tensor<[length:8], f32>) {
  // expected-error@+1 {{result must have the dimensions (d_model, length), got '!mtf.tensor<[length:8], f32>'}}
  %r = moe.combine %y, %e, %p, %d, %g tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[experts:4, expert_capacity:2, d_model:4], f32>, !mtf.tensor<[length:8], i32>, !mtf.tensor<[length:8], f32>
        -> !mtf.tensor<[length:8], f32>
  return
}

// -----

func.func @combine_element_type(%y: !mtf.tensor<[experts:4, expert_capacity:2, d_model:4], f32>, %e: !mtf.tensor<[length:8], i32>,
                                %p: !mtf.tensor<[length:8], i32>, %d: !mtf.tensor<[length:8], i1>, %g: !mtf.tensor<[length:8], f32>) {
  // expected-error@+1 {{result element type 'f16' differs from the input's 'f32'}}
  %r = moe.combine %y, %e, %p, %d, %g tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[experts:4, expert_capacity:2, d_model:4], f32>, !mtf.tensor<[length:8], i32>, !mtf.tensor<[length:8], f32>
        -> !mtf.tensor<[length:8, d_model:4], f16>
  return
}

// -----

func.func @combine_residual_type(%y: !mtf.tensor<[experts:4, expert_capacity:2, d_model:4], f32>, %e: !mtf.tensor<[length:8], i32>,
                                 %p: !mtf.tensor<[length:8], i32>, %d: !mtf.tensor<[length:8], i1>, %g: !mtf.tensor<[length:8], f32>,
                                 %x: !mtf.tensor<[d_model:4, length:8], f32>) {
  // expected-error@+1 {{failed to verify that residual has the type of the result}}
  %r = "moe.combine"(%y, %e, %p, %d, %g, %x) <{tokens_dim = "length", experts_dim = "experts", capacity_dim = "expert_capacity"}>
      : (!mtf.tensor<[experts:4, expert_capacity:2, d_model:4], f32>, !mtf.tensor<[length:8], i32>, !mtf.tensor<[length:8], i32>,
         !mtf.tensor<[length:8], i1>, !mtf.tensor<[length:8], f32>, !mtf.tensor<[d_model:4, length:8], f32>)
        -> !mtf.tensor<[length:8, d_model:4], f32>
  return
}

// -----

func.func @z_loss_no_logits() {
  // expected-error@+1 {{expects the logits of at least one layer}}
  %z = "moe.z_loss"() <{experts_dim = "experts"}> : () -> !mtf.tensor<[], f32>
  return
}

// -----

func.func @z_loss_missing_experts(%l: !mtf.tensor<[length:8], f32>) {
  // expected-error@+1 {{logits has no dimension 'experts'}}
  %z = moe.z_loss %l experts(experts) : !mtf.tensor<[length:8], f32>
  return
}

// -----

func.func @z_loss_expert_counts(%a: !mtf.tensor<[length:8, experts:4], f32>, %b: !mtf.tensor<[length:8, experts:8], f32>) {
  // expected-error@+1 {{logits disagree on the number of experts: 4 and 8}}
  %z = moe.z_loss %a, %b experts(experts) : !mtf.tensor<[length:8, experts:4], f32>, !mtf.tensor<[length:8, experts:8], f32>
  return
}

// -----

func.func @aux_same_dims(%a: !mtf.tensor<[length:8, experts:4], f32>) {
  // expected-error@+1 {{token and experts dimensions must differ}}
  %z = moe.load_balancing_loss %a tokens(experts) experts(experts) : !mtf.tensor<[length:8, experts:4], f32>
  return
}

// -----

func.func @aux_missing_tokens(%a: !mtf.tensor<[length:8, experts:4], f32>) {
  // expected-error@+1 {{logits has no dimension 'tokens'}}
  %z = moe.load_balancing_loss %a tokens(tokens) experts(experts) : !mtf.tensor<[length:8, experts:4], f32>
  return
}

// -----

func.func @aux_groups(%a: !mtf.tensor<[batch:2, length:8, experts:4], f32>, %b: !mtf.tensor<[batch:4, length:8, experts:4], f32>) {
  // expected-error@+1 {{logits of every layer must have the same group dimensions}}
  %z = moe.load_balancing_loss %a, %b tokens(length) experts(experts)
      : !mtf.tensor<[batch:2, length:8, experts:4], f32>, !mtf.tensor<[batch:4, length:8, experts:4], f32>
  return
}

// -----

func.func @route_top_k_without_choices(%l: !mtf.tensor<[length:8, experts:4], f32>) {
  // expected-error@+1 {{expects 'top_k' and 'choices' together}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) top_k(2) capacity(2) : !mtf.tensor<[length:8, experts:4], f32>
  return
}

// -----

func.func @route_choices_without_top_k(%l: !mtf.tensor<[length:8, experts:4], f32>) {
  // expected-error@+1 {{expects 'top_k' and 'choices' together}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) choices(k) capacity(2) : !mtf.tensor<[length:8, experts:4], f32>
  return
}

// -----

func.func @route_top_k_zero(%l: !mtf.tensor<[length:8, experts:4], f32>) {
  // expected-error@+1 {{top_k must be between 1 and the 4 experts, got 0}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) top_k(0) choices(k) capacity(2) : !mtf.tensor<[length:8, experts:4], f32>
  return
}

// -----

func.func @route_top_k_above_experts(%l: !mtf.tensor<[length:8, experts:4], f32>) {
  // expected-error@+1 {{top_k must be between 1 and the 4 experts, got 5}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) top_k(5) choices(k) capacity(2) : !mtf.tensor<[length:8, experts:4], f32>
  return
}

// -----

func.func @route_choices_is_logits_dim(%l: !mtf.tensor<[batch:2, length:8, experts:4], f32>) {
  // expected-error@+1 {{choices dimension 'batch' is already a logits dimension}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) top_k(2) choices(batch) capacity(2) : !mtf.tensor<[batch:2, length:8, experts:4], f32>
  return
}

// -----

func.func @route_normalize_top1(%l: !mtf.tensor<[length:8, experts:4], f32>) {
  // expected-error@+1 {{normalizes gates only with 'top_k'}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity(2) normalize(after_drops) : !mtf.tensor<[length:8, experts:4], f32>
  return
}

// -----

func.func @route_normalize_unknown(%l: !mtf.tensor<[length:8, experts:4], f32>) {
  // expected-error@+1 {{expected string or keyword containing one of the following enum values for attribute 'normalize' [before_drops, after_drops]}}
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) top_k(2) choices(k) capacity(2) normalize(always) : !mtf.tensor<[length:8, experts:4], f32>
  return
}

// -----

func.func @dispatch_without_choices(%l: !mtf.tensor<[length:8, experts:4], f32>,
                                    %x: !mtf.tensor<[length:8, d_model:4], f32>) {
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) top_k(2) choices(k) capacity(4) : !mtf.tensor<[length:8, experts:4], f32>
  // expected-error@+1 {{input has no dimension 'k'}}
  %b = moe.dispatch %x, %e, %p, %d tokens(length) experts(experts) capacity_dim(expert_capacity)
      : !mtf.tensor<[length:8, d_model:4], f32>, !mtf.tensor<[length:8, k:2], i32>
        -> !mtf.tensor<[experts:4, expert_capacity:4, d_model:4], f32>
  return
}

// -----

func.func @dispatch_choices_of_top1(%l: !mtf.tensor<[length:8, experts:4], f32>,
                                    %x: !mtf.tensor<[length:8, d_model:4], f32>) {
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) capacity(4) : !mtf.tensor<[length:8, experts:4], f32>
  // expected-error@+1 {{routing decision has no dimension 'k'}}
  %b = moe.dispatch %x, %e, %p, %d tokens(length) experts(experts) capacity_dim(expert_capacity) choices(k)
      : !mtf.tensor<[length:8, d_model:4], f32>, !mtf.tensor<[length:8], i32>
        -> !mtf.tensor<[experts:4, expert_capacity:4, d_model:4], f32>
  return
}

// -----

func.func @dispatch_input_has_choices(%e: !mtf.tensor<[length:8, k:2], i32>, %d: !mtf.tensor<[length:8, k:2], i1>,
                                      %x: !mtf.tensor<[length:8, k:2, d_model:4], f32>) {
  // expected-error@+1 {{input must not have the choices dimension 'k'}}
  %b = moe.dispatch %x, %e, %e, %d tokens(length) experts(experts) capacity_dim(expert_capacity) choices(k)
      : !mtf.tensor<[length:8, k:2, d_model:4], f32>, !mtf.tensor<[length:8, k:2], i32>
        -> !mtf.tensor<[experts:4, expert_capacity:4, k:2, d_model:4], f32>
  return
}

// -----

func.func @combine_choices_name(%l: !mtf.tensor<[length:8, experts:4], f32>,
                                %y: !mtf.tensor<[experts:4, expert_capacity:4, d_model:4], f32>) {
  %e, %g, %p, %d = moe.route %l tokens(length) experts(experts) top_k(2) choices(k) capacity(4) : !mtf.tensor<[length:8, experts:4], f32>
  // expected-error@+1 {{takes the choices dimension 'j' but its 'moe.route' makes 'k'}}
  %c = moe.combine %y, %e, %p, %d, %g tokens(length) experts(experts) capacity_dim(expert_capacity) choices(j)
      : !mtf.tensor<[experts:4, expert_capacity:4, d_model:4], f32>, !mtf.tensor<[length:8, k:2], i32>, !mtf.tensor<[length:8, k:2], f32>
        -> !mtf.tensor<[length:8, d_model:4], f32>
  return
}
