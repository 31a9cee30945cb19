// RUN: switchyard-opt %s -split-input-file -sy-partition | FileCheck %s

// Weights split by their layouts become local slices; arguments and results
// record their global laid-out type. Ops on unsplit or consistently split
// dimensions need no collective.
// CHECK-LABEL: shard.grid @mesh(shape = 4)
// CHECK-LABEL: func.func @local_slices
// CHECK-SAME: %{{.*}}: !mtf.tensor<[experts:1, d_model:8], f32> {mtf.global = !mtf.tensor<[experts:4{e}, d_model:8], f32>, mtf.param = "router.weight"}
// CHECK-SAME: -> (!mtf.tensor<[tokens:4, experts:1], f32> {mtf.global = !mtf.tensor<[tokens:4, experts:4{e}], f32>})
// CHECK-NEXT: mtf.einsum %{{.*}}, %{{.*}} : (!mtf.tensor<[tokens:4, d_model:8], f32>, !mtf.tensor<[experts:1, d_model:8], f32>) -> !mtf.tensor<[tokens:4, experts:1], f32>
// CHECK-NOT: shard.
// CHECK: return
module attributes {mtf.mesh = #mtf.mesh<"e:4">} {
  func.func @local_slices(%x: !mtf.tensor<[tokens:4, d_model:8], f32>,
                          %w: !mtf.tensor<[experts:4{e}, d_model:8], f32> {mtf.param = "router.weight"})
      -> !mtf.tensor<[tokens:4, experts:4{e}], f32> {
    %y = mtf.einsum %x, %w : (!mtf.tensor<[tokens:4, d_model:8], f32>, !mtf.tensor<[experts:4{e}, d_model:8], f32>)
                             -> !mtf.tensor<[tokens:4, experts:4{e}], f32>
    return %y : !mtf.tensor<[tokens:4, experts:4{e}], f32>
  }
}

// -----

// Contracting a split dimension gives partial sums: an all_reduce when the
// result is replicated, a reduce_scatter when the result is split on that
// axis.
// CHECK-LABEL: func.func @contract_split_dim
// CHECK: %[[P0:.*]] = mtf.einsum {{.*}} -> !mtf.tensor<[b:8, f:16], f32>
// CHECK: %[[P1:.*]] = mtf.einsum {{.*}} -> !mtf.tensor<[b:8, f:16], f32>
// CHECK: %[[T0:.*]] = mtf.as_tensor %[[P0]]
// CHECK: shard.all_reduce %[[T0]] on @mesh grid_axes = [1] : tensor<8x16xf32> -> tensor<8x16xf32>
// CHECK: %[[T1:.*]] = mtf.as_tensor %[[P1]]
// CHECK: shard.reduce_scatter %[[T1]] on @mesh grid_axes = [1] scatter_axis = 1 : tensor<8x16xf32> -> tensor<8x4xf32>
module attributes {mtf.mesh = #mtf.mesh<"x:2,y:4">} {
  func.func @contract_split_dim(%a: !mtf.tensor<[b:8, d:8{y}], f32>, %w: !mtf.tensor<[d:8{y}, f:16], f32>)
      -> (!mtf.tensor<[b:8, f:16], f32>, !mtf.tensor<[b:8, f:16{y}], f32>) {
    %0 = mtf.einsum %a, %w : (!mtf.tensor<[b:8, d:8{y}], f32>, !mtf.tensor<[d:8{y}, f:16], f32>) -> !mtf.tensor<[b:8, f:16], f32>
    %1 = mtf.einsum %a, %w : (!mtf.tensor<[b:8, d:8{y}], f32>, !mtf.tensor<[d:8{y}, f:16], f32>) -> !mtf.tensor<[b:8, f:16{y}], f32>
    return %0, %1 : !mtf.tensor<[b:8, f:16], f32>, !mtf.tensor<[b:8, f:16{y}], f32>
  }
}

// -----

// Each single-step reshard kind.
// CHECK-LABEL: func.func @gather
// CHECK: shard.all_gather %{{.*}} on @mesh grid_axes = [0] gather_axis = 0 : tensor<2x4xf32> -> tensor<8x4xf32>
// CHECK-LABEL: func.func @slice
// CHECK: shard.all_slice %{{.*}} on @mesh grid_axes = [1] slice_axis = 1 : tensor<8x4xf32> -> tensor<8x2xf32>
// CHECK-LABEL: func.func @move_axis
// CHECK: shard.all_to_all %{{.*}} on @mesh grid_axes = [0] split_axis = 1 concat_axis = 0 : tensor<2x4xf32> -> tensor<8x1xf32>
module attributes {mtf.mesh = #mtf.mesh<"x:4,y:2">} {
  func.func @gather(%a: !mtf.tensor<[b:8{x}, d:4], f32>) -> !mtf.tensor<[b:8, d:4], f32> {
    %0 = mtf.relayout %a : !mtf.tensor<[b:8{x}, d:4], f32> -> !mtf.tensor<[b:8, d:4], f32>
    return %0 : !mtf.tensor<[b:8, d:4], f32>
  }
  func.func @slice(%a: !mtf.tensor<[b:8, d:4], f32>) -> !mtf.tensor<[b:8, d:4{y}], f32> {
    %0 = mtf.relayout %a : !mtf.tensor<[b:8, d:4], f32> -> !mtf.tensor<[b:8, d:4{y}], f32>
    return %0 : !mtf.tensor<[b:8, d:4{y}], f32>
  }
  func.func @move_axis(%a: !mtf.tensor<[b:8{x}, d:4], f32>) -> !mtf.tensor<[b:8, d:4{x}], f32> {
    %0 = mtf.relayout %a : !mtf.tensor<[b:8{x}, d:4], f32> -> !mtf.tensor<[b:8, d:4{x}], f32>
    return %0 : !mtf.tensor<[b:8, d:4{x}], f32>
  }
}

// -----

// Several axes move at once: batch->x, experts->y becomes experts->x,
// batch->y. The moves form a cycle, so one axis is gathered, the other
// moves by all-to-all, and the first is sliced back in place.
// CHECK-LABEL: func.func @swap_two_axes
// CHECK-SAME: (%{{.*}}: !mtf.tensor<[batch:4, experts:2, d:4], f32>
// CHECK: %[[G:.*]] = shard.all_gather %{{.*}} on @mesh grid_axes = [0] gather_axis = 0 : tensor<4x2x4xf32> -> tensor<8x2x4xf32>
// CHECK: %[[A:.*]] = shard.all_to_all %[[G]] on @mesh grid_axes = [1] split_axis = 0 concat_axis = 1 : tensor<8x2x4xf32> -> tensor<2x8x4xf32>
// CHECK: shard.all_slice %[[A]] on @mesh grid_axes = [0] slice_axis = 1 : tensor<2x8x4xf32> -> tensor<2x4x4xf32>
// Splitting one dimension over two axes slices major axis first.
// CHECK-LABEL: func.func @split_over_two_axes
// CHECK: %[[S:.*]] = shard.all_slice %{{.*}} on @mesh grid_axes = [0] slice_axis = 0 : tensor<8x8xf32> -> tensor<4x8xf32>
// CHECK: shard.all_slice %[[S]] on @mesh grid_axes = [1] slice_axis = 0 : tensor<4x8xf32> -> tensor<1x8xf32>
// Moving the minor of two axes to another dimension is one all-to-all.
// CHECK-LABEL: func.func @move_minor_axis
// CHECK: shard.all_to_all %{{.*}} on @mesh grid_axes = [1] split_axis = 1 concat_axis = 0 : tensor<1x8xf32> -> tensor<4x2xf32>
// CHECK-NOT: shard.
// CHECK: return
module attributes {mtf.mesh = #mtf.mesh<"x:2,y:4">} {
  func.func @swap_two_axes(%a: !mtf.tensor<[batch:8{x}, experts:8{y}, d:4], f32>)
      -> !mtf.tensor<[batch:8{y}, experts:8{x}, d:4], f32> {
    %0 = mtf.relayout %a : !mtf.tensor<[batch:8{x}, experts:8{y}, d:4], f32> -> !mtf.tensor<[batch:8{y}, experts:8{x}, d:4], f32>
    return %0 : !mtf.tensor<[batch:8{y}, experts:8{x}, d:4], f32>
  }
  func.func @split_over_two_axes(%a: !mtf.tensor<[batch:8, d:8], f32>) -> !mtf.tensor<[batch:8{x, y}, d:8], f32> {
    %0 = mtf.relayout %a : !mtf.tensor<[batch:8, d:8], f32> -> !mtf.tensor<[batch:8{x, y}, d:8], f32>
    return %0 : !mtf.tensor<[batch:8{x, y}, d:8], f32>
  }
  func.func @move_minor_axis(%a: !mtf.tensor<[batch:8{x, y}, d:8], f32>) -> !mtf.tensor<[batch:8{x}, d:8{y}], f32> {
    %0 = mtf.relayout %a : !mtf.tensor<[batch:8{x, y}, d:8], f32> -> !mtf.tensor<[batch:8{x}, d:8{y}], f32>
    return %0 : !mtf.tensor<[batch:8{x}, d:8{y}], f32>
  }
}

// -----

// Expert parallelism: dispatch runs where the tokens are (batch on b) and
// one all-to-all moves b to the experts dimension; the inverse all-to-all
// brings expert outputs back before combine. Routing stays local.
// CHECK-LABEL: func.func @expert_parallel
// CHECK: moe.route %{{.*}} : !mtf.tensor<[batch:2, length:8, experts:4], f32>
// CHECK: %[[D:.*]] = moe.dispatch {{.*}} -> !mtf.tensor<[experts:4, batch:2, expert_capacity:2, d_model:8], f32>
// CHECK: %[[DT:.*]] = mtf.as_tensor %[[D]]
// CHECK: shard.all_to_all %[[DT]] on @mesh grid_axes = [0] split_axis = 0 concat_axis = 1 : tensor<4x2x2x8xf32> -> tensor<1x8x2x8xf32>
// CHECK: mtf.einsum {{.*}} -> !mtf.tensor<[experts:1, batch:8, expert_capacity:2, d_out:8], f32>
// CHECK: shard.all_to_all %{{.*}} on @mesh grid_axes = [0] split_axis = 1 concat_axis = 0 : tensor<1x8x2x8xf32> -> tensor<4x2x2x8xf32>
// CHECK: moe.combine {{.*}} -> !mtf.tensor<[batch:2, length:8, d_model:8], f32>
// CHECK-NOT: shard.
// CHECK: return
module attributes {mtf.mesh = #mtf.mesh<"b:4">} {
  func.func @expert_parallel(%x: !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>,
                             %logits: !mtf.tensor<[batch:8{b}, length:8, experts:4], f32>,
                             %w: !mtf.tensor<[experts:4{b}, d_model:8, d_out:8], f32>)
      -> !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32> {
    %expert, %gate, %position, %dropped = moe.route %logits tokens(length) experts(experts) capacity(2)
        : !mtf.tensor<[batch:8{b}, length:8, experts:4], f32>
    %buffers = moe.dispatch %x, %expert, %position, %dropped tokens(length) experts(experts) capacity_dim(expert_capacity)
        : !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>, !mtf.tensor<[batch:8{b}, length:8], i32>
          -> !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2, d_model:8], f32>
    %out = mtf.einsum %buffers, %w
        : (!mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2, d_model:8], f32>, !mtf.tensor<[experts:4{b}, d_model:8, d_out:8], f32>)
          -> !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2, d_out:8], f32>
    %back = mtf.reshape %out : !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2, d_out:8], f32>
                               -> !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2, d_model:8], f32>
    %y = moe.combine %back, %expert, %position, %dropped, %gate tokens(length) experts(experts) capacity_dim(expert_capacity)
        : !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:2, d_model:8], f32>,
          !mtf.tensor<[batch:8{b}, length:8], i32>, !mtf.tensor<[batch:8{b}, length:8], f32>
          -> !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>
    return %y : !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>
  }
}

// -----

// Top-2 expert parallelism: the same one all-to-all each way (the buffers
// hold both choices' slots); every choice of a token is routed, dispatched
// and combined on the device that holds the token.
// CHECK-LABEL: func.func @top2_expert_parallel
// CHECK: moe.route %{{.*}} top_k(2) choices(choice) capacity(4) normalize(after_drops) : !mtf.tensor<[batch:2, length:8, experts:4], f32>
// CHECK: moe.dispatch {{.*}} choices(choice) : !mtf.tensor<[batch:2, length:8, d_model:8], f32>, !mtf.tensor<[batch:2, length:8, choice:2], i32> -> !mtf.tensor<[experts:4, batch:2, expert_capacity:4, d_model:8], f32>
// CHECK: shard.all_to_all %{{.*}} on @mesh grid_axes = [0] split_axis = 0 concat_axis = 1 : tensor<4x2x4x8xf32> -> tensor<1x8x4x8xf32>
// CHECK: shard.all_to_all %{{.*}} on @mesh grid_axes = [0] split_axis = 1 concat_axis = 0 : tensor<1x8x4x8xf32> -> tensor<4x2x4x8xf32>
// CHECK: moe.combine {{.*}} choices(choice) : !mtf.tensor<[experts:4, batch:2, expert_capacity:4, d_model:8], f32>, !mtf.tensor<[batch:2, length:8, choice:2], i32>, !mtf.tensor<[batch:2, length:8, choice:2], f32> -> !mtf.tensor<[batch:2, length:8, d_model:8], f32>
// CHECK-NOT: shard.
// CHECK: return
module attributes {mtf.mesh = #mtf.mesh<"b:4">} {
  func.func @top2_expert_parallel(%x: !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>,
                                  %logits: !mtf.tensor<[batch:8{b}, length:8, experts:4], f32>,
                                  %w: !mtf.tensor<[experts:4{b}, d_model:8, d_out:8], f32>)
      -> !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32> {
    %expert, %gate, %position, %dropped = moe.route %logits tokens(length) experts(experts)
        top_k(2) choices(choice) capacity(4) normalize(after_drops)
        : !mtf.tensor<[batch:8{b}, length:8, experts:4], f32>
    %buffers = moe.dispatch %x, %expert, %position, %dropped tokens(length) experts(experts)
        capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>, !mtf.tensor<[batch:8{b}, length:8, choice:2], i32>
          -> !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:4, d_model:8], f32>
    %out = mtf.einsum %buffers, %w
        : (!mtf.tensor<[experts:4{b}, batch:8, expert_capacity:4, d_model:8], f32>, !mtf.tensor<[experts:4{b}, d_model:8, d_out:8], f32>)
          -> !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:4, d_out:8], f32>
    %back = mtf.reshape %out : !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:4, d_out:8], f32>
                               -> !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:4, d_model:8], f32>
    %y = moe.combine %back, %expert, %position, %dropped, %gate tokens(length) experts(experts)
        capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[experts:4{b}, batch:8, expert_capacity:4, d_model:8], f32>,
          !mtf.tensor<[batch:8{b}, length:8, choice:2], i32>, !mtf.tensor<[batch:8{b}, length:8, choice:2], f32>
          -> !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>
    return %y : !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>
  }
}

// -----

// Routing results whose type splits the choices dimension: route computes
// every choice of a token, then slices; dispatch gathers them again.
// CHECK-LABEL: func.func @top2_split_choices
// CHECK: moe.route %{{.*}} top_k(2) choices(choice) capacity(4) : !mtf.tensor<[length:8, experts:4], f32>
// CHECK: shard.all_slice %{{.*}} on @mesh grid_axes = [0] slice_axis = 1 : tensor<8x2xi32> -> tensor<8x1xi32>
// CHECK: shard.all_gather %{{.*}} on @mesh grid_axes = [0] gather_axis = 1 : tensor<8x1xi32> -> tensor<8x2xi32>
// CHECK: moe.dispatch {{.*}} choices(choice) : !mtf.tensor<[length:8, d_model:8], f32>, !mtf.tensor<[length:8, choice:2], i32> -> !mtf.tensor<[experts:4, expert_capacity:4, d_model:8], f32>
module attributes {mtf.mesh = #mtf.mesh<"c:2">} {
  func.func @top2_split_choices(%x: !mtf.tensor<[length:8, d_model:8], f32>,
                                %logits: !mtf.tensor<[length:8, experts:4], f32>)
      -> !mtf.tensor<[experts:4, expert_capacity:4, d_model:8], f32> {
    %expert, %gate, %position, %dropped = moe.route %logits tokens(length) experts(experts)
        top_k(2) choices(choice) capacity(4)
        : !mtf.tensor<[length:8, experts:4], f32>
    %e = mtf.relayout %expert : !mtf.tensor<[length:8, choice:2], i32> -> !mtf.tensor<[length:8, choice:2{c}], i32>
    %p = mtf.relayout %position : !mtf.tensor<[length:8, choice:2], i32> -> !mtf.tensor<[length:8, choice:2{c}], i32>
    %d = mtf.relayout %dropped : !mtf.tensor<[length:8, choice:2], i1> -> !mtf.tensor<[length:8, choice:2{c}], i1>
    %buffers = moe.dispatch %x, %e, %p, %d tokens(length) experts(experts)
        capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[length:8, d_model:8], f32>, !mtf.tensor<[length:8, choice:2{c}], i32>
          -> !mtf.tensor<[experts:4, expert_capacity:4, d_model:8], f32>
    return %buffers : !mtf.tensor<[experts:4, expert_capacity:4, d_model:8], f32>
  }
}

// -----

// The router counts capacity along whole token sequences, and softmax and
// RMS norm reduce along whole dimensions: a split there is gathered first.
// CHECK-LABEL: func.func @needs_whole_dims
// CHECK: shard.all_gather %{{.*}} on @mesh grid_axes = [0] gather_axis = 1 : tensor<2x2x4xf32> -> tensor<2x8x4xf32>
// CHECK: moe.route %{{.*}} : !mtf.tensor<[batch:2, length:8, experts:4], f32>
// CHECK: shard.all_gather %{{.*}} on @mesh grid_axes = [0] gather_axis = 1 : tensor<2x1xf32> -> tensor<2x4xf32>
// CHECK: mtf.softmax %{{.*}} along d : !mtf.tensor<[t:2, d:4], f32>
// CHECK: shard.all_slice %{{.*}} on @mesh grid_axes = [0] slice_axis = 1 : tensor<2x4xf32> -> tensor<2x1xf32>
module attributes {mtf.mesh = #mtf.mesh<"l:4">} {
  func.func @needs_whole_dims(%logits: !mtf.tensor<[batch:2, length:8{l}, experts:4], f32>,
                              %x: !mtf.tensor<[t:2, d:4{l}], f32>) -> !mtf.tensor<[t:2, d:4{l}], f32> {
    %expert, %gate, %position, %dropped = moe.route %logits tokens(length) experts(experts) capacity(2)
        : !mtf.tensor<[batch:2, length:8{l}, experts:4], f32>
    %s = mtf.softmax %x along d : !mtf.tensor<[t:2, d:4{l}], f32>
    return %s : !mtf.tensor<[t:2, d:4{l}], f32>
  }
}

// -----

// Reductions over a split dimension resolve with the matching reduction;
// losses average the per-device losses over the axes that split them.
// CHECK-LABEL: func.func @reductions_and_losses
// CHECK: mtf.reduce mean %{{.*}} : !mtf.tensor<[b:2, d:4], f32> -> !mtf.tensor<[d:4], f32>
// CHECK: mtf.reduce max
// CHECK: moe.z_loss %{{.*}} experts(experts) : !mtf.tensor<[batch:2, length:4, experts:2], f32>
// CHECK: moe.load_balancing_loss
// CHECK: shard.all_reduce %{{.*}} on @mesh grid_axes = [0] reduction = average : tensor<4xf32> -> tensor<4xf32>
// CHECK: shard.all_reduce %{{.*}} on @mesh grid_axes = [0] reduction = max
// CHECK: shard.all_reduce %{{.*}} on @mesh grid_axes = [0] reduction = average : tensor<f32> -> tensor<f32>
// CHECK: shard.all_reduce %{{.*}} on @mesh grid_axes = [0] reduction = average : tensor<f32> -> tensor<f32>
module attributes {mtf.mesh = #mtf.mesh<"b:4">} {
  func.func @reductions_and_losses(%x: !mtf.tensor<[b:8{b}, d:4], f32>, %l: !mtf.tensor<[batch:8{b}, length:4, experts:2], f32>)
      -> (!mtf.tensor<[d:4], f32>, !mtf.tensor<[d:4], f32>, !mtf.tensor<[], f32>, !mtf.tensor<[], f32>) {
    %m = mtf.reduce mean %x : !mtf.tensor<[b:8{b}, d:4], f32> -> !mtf.tensor<[d:4], f32>
    %n = mtf.reduce max %x : !mtf.tensor<[b:8{b}, d:4], f32> -> !mtf.tensor<[d:4], f32>
    %z = moe.z_loss %l experts(experts) : !mtf.tensor<[batch:8{b}, length:4, experts:2], f32>
    %aux = moe.load_balancing_loss %l tokens(length) experts(experts) : !mtf.tensor<[batch:8{b}, length:4, experts:2], f32>
    return %m, %n, %z, %aux : !mtf.tensor<[d:4], f32>, !mtf.tensor<[d:4], f32>, !mtf.tensor<[], f32>, !mtf.tensor<[], f32>
  }
}

// -----

// No collective runs over a mesh axis of size 1; a rename keeps the blocks
// where they are.
// CHECK-LABEL: func.func @unit_axis_and_rename
// CHECK-NOT: shard.all
// CHECK: mtf.reshape %{{.*}} : !mtf.tensor<[batch:4, length:8], f32> -> !mtf.tensor<[batch:4, memory_length:8], f32>
// CHECK-NOT: shard.all
// CHECK: return
module attributes {mtf.mesh = #mtf.mesh<"b:2,u:1">} {
  func.func @unit_axis_and_rename(%x: !mtf.tensor<[batch:8{b}, length:8{u}], f32>)
      -> (!mtf.tensor<[batch:8{b}, length:8], f32>, !mtf.tensor<[batch:8{b}, memory_length:8{u}], f32>) {
    %0 = mtf.relayout %x : !mtf.tensor<[batch:8{b}, length:8{u}], f32> -> !mtf.tensor<[batch:8{b}, length:8], f32>
    %1 = mtf.reshape %x : !mtf.tensor<[batch:8{b}, length:8{u}], f32> -> !mtf.tensor<[batch:8{b}, memory_length:8{u}], f32>
    return %0, %1 : !mtf.tensor<[batch:8{b}, length:8], f32>, !mtf.tensor<[batch:8{b}, memory_length:8{u}], f32>
  }
}

// -----

// Adding or removing a dimension of size 1 (as generation's per-position
// routing does) keeps the other dimensions' blocks in place.
// CHECK-LABEL: func.func @unit_dimension_reshape
// CHECK-NOT: shard.all
// CHECK: mtf.reshape %{{.*}} : !mtf.tensor<[batch:2, length:8, d:4], f32> -> !mtf.tensor<[batch:2, length:8, one:1, d:4], f32>
// CHECK-NOT: shard.all
// CHECK: return
module attributes {mtf.mesh = #mtf.mesh<"b:4">} {
  func.func @unit_dimension_reshape(%x: !mtf.tensor<[batch:8{b}, length:8, d:4], f32>)
      -> !mtf.tensor<[batch:8{b}, length:8, one:1, d:4], f32> {
    %0 = mtf.reshape %x : !mtf.tensor<[batch:8{b}, length:8, d:4], f32> -> !mtf.tensor<[batch:8{b}, length:8, one:1, d:4], f32>
    return %0 : !mtf.tensor<[batch:8{b}, length:8, one:1, d:4], f32>
  }
}

// -----

// A combine's residual has the result's layout and becomes its local slice.
// CHECK-LABEL: func.func @combine_residual
// CHECK: moe.combine %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} residual(%arg1) {{.*}} -> !mtf.tensor<[batch:2, length:8, d_model:8], f32>
// CHECK-NOT: shard.
// CHECK: return
module attributes {mtf.mesh = #mtf.mesh<"b:4">} {
  func.func @combine_residual(%x: !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>,
                              %r: !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>,
                              %logits: !mtf.tensor<[batch:8{b}, length:8, experts:4], f32>)
      -> !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32> {
    %expert, %gate, %position, %dropped = moe.route %logits tokens(length) experts(experts) capacity(2)
        : !mtf.tensor<[batch:8{b}, length:8, experts:4], f32>
    %buffers = moe.dispatch %x, %expert, %position, %dropped tokens(length) experts(experts) capacity_dim(expert_capacity)
        : !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>, !mtf.tensor<[batch:8{b}, length:8], i32>
          -> !mtf.tensor<[experts:4, batch:8{b}, expert_capacity:2, d_model:8], f32>
    %y = moe.combine %buffers, %expert, %position, %dropped, %gate residual(%r)
        tokens(length) experts(experts) capacity_dim(expert_capacity)
        : !mtf.tensor<[experts:4, batch:8{b}, expert_capacity:2, d_model:8], f32>, !mtf.tensor<[batch:8{b}, length:8], i32>,
          !mtf.tensor<[batch:8{b}, length:8], f32> -> !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>
    return %y : !mtf.tensor<[batch:8{b}, length:8, d_model:8], f32>
  }
}
