// The whole pipeline on the example Switch layer, for three meshes.
// RUN: switchyard-opt %switchyard_src_root/examples/switch_moe_layer.mlir --switchyard-partition | FileCheck %s --check-prefix=EP
// RUN: switchyard-opt %switchyard_src_root/examples/switch_moe_layer.mlir --switchyard-partition="mesh=b:2,e:2 layout=batch:b;experts:e" | FileCheck %s --check-prefix=BE
// RUN: switchyard-opt %switchyard_src_root/examples/switch_moe_layer.mlir --switchyard-partition="mesh=b:2,m:2 layout=batch:b;d_ff:m" | FileCheck %s --check-prefix=BM

// Expert parallelism on b:4 with experts:b;batch:b: the router weight (tiny)
// is gathered, routing is local, one all-to-all each way around the
// experts, and the losses average over b. The experts' relu is the first
// expert einsum's epilogue.
// EP: shard.grid @mesh(shape = 4)
// EP: shard.all_gather %{{.*}} on @mesh grid_axes = [0] gather_axis = 0 : tensor<2x32xf32> -> tensor<8x32xf32>
// EP: moe.route
// EP: moe.dispatch {{.*}} -> !mtf.tensor<[experts:8, batch:2, expert_capacity:3, d_model:32], f32>
// EP: shard.all_to_all %{{.*}} on @mesh grid_axes = [0] split_axis = 0 concat_axis = 1 : tensor<8x2x3x32xf32> -> tensor<2x8x3x32xf32>
// EP: mtf.einsum {{.*}} epilogue relu : {{.*}} -> !mtf.tensor<[experts:2, batch:8, expert_capacity:3, d_ff:64], f32>
// EP: shard.all_to_all %{{.*}} on @mesh grid_axes = [0] split_axis = 1 concat_axis = 0 : tensor<2x8x3x32xf32> -> tensor<8x2x3x32xf32>
// EP: moe.combine
// EP: shard.all_reduce %{{.*}} on @mesh grid_axes = [0] reduction = {{ *}}average : tensor<f32> -> tensor<f32>
// EP: shard.all_reduce %{{.*}} on @mesh grid_axes = [0] reduction = {{ *}}average : tensor<f32> -> tensor<f32>
// EP-NOT: shard.all

// Data parallel over b and expert parallel over e: tokens are replicated
// across e, so each device takes its experts' buffers by a local slice and
// the expert outputs are gathered back over e.
// BE: shard.grid @mesh(shape = 2x2)
// BE: shard.all_slice %{{.*}} on @mesh grid_axes = [1] slice_axis = 0 : tensor<8x4x3x32xf32> -> tensor<4x4x3x32xf32>
// BE: shard.all_gather %{{.*}} on @mesh grid_axes = [1] gather_axis = 0 : tensor<4x4x3x32xf32> -> tensor<8x4x3x32xf32>
// BE: moe.combine

// Model parallel d_ff over m: the second expert matmul contracts the split
// d_ff, so its partial sums are all-reduced over m; the first one's sums
// are whole, so the relu is its epilogue.
// BM: shard.grid @mesh(shape = 2x2)
// BM: mtf.einsum {{.*}} epilogue relu : {{.*}} -> !mtf.tensor<[experts:8, batch:4, expert_capacity:3, d_ff:32], f32>
// BM: shard.all_reduce %{{.*}} on @mesh grid_axes = [1] : tensor<8x4x3x32xf32> -> tensor<8x4x3x32xf32>
// BM: moe.combine
