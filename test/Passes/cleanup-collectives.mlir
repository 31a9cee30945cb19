// RUN: switchyard-opt %s -split-input-file -sy-cleanup-collectives | FileCheck %s

// A collective over an axis of size 1 moves nothing.
// CHECK-LABEL: func.func @unit_axes
// CHECK-NEXT: %[[G:.*]] = shard.all_gather %{{.*}} on @mesh grid_axes = [0] gather_axis = 0 : tensor<2x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT: return %[[G]], %{{.*}}
module {
  shard.grid @mesh(shape = 2x1)
  func.func @unit_axes(%x: tensor<2x4xf32>, %y: tensor<4xf32>) -> (tensor<4x4xf32>, tensor<4xf32>) {
    %0 = shard.all_gather %x on @mesh grid_axes = [0, 1] gather_axis = 0 : tensor<2x4xf32> -> tensor<4x4xf32>
    %1 = shard.all_reduce %y on @mesh grid_axes = [1] : tensor<4xf32> -> tensor<4xf32>
    return %0, %1 : tensor<4x4xf32>, tensor<4xf32>
  }
}

// -----

// Two collectives of one kind in a row on one dimension merge; a later
// gather is over the more major axis, a later slice over the more minor.
// CHECK-LABEL: func.func @merge
// CHECK-NEXT: shard.all_gather %{{.*}} on @mesh grid_axes = [1, 0] gather_axis = 0 : tensor<1x4xf32> -> tensor<8x4xf32>
// CHECK-NEXT: shard.all_slice %{{.*}} on @mesh grid_axes = [0, 1] slice_axis = 1 : tensor<2x8xf32> -> tensor<2x1xf32>
// CHECK-NEXT: shard.all_reduce %{{.*}} on @mesh grid_axes = [0, 1] : tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT: return
module {
  shard.grid @mesh(shape = 2x4)
  func.func @merge(%x: tensor<1x4xf32>, %y: tensor<2x8xf32>, %z: tensor<4xf32>)
      -> (tensor<8x4xf32>, tensor<2x1xf32>, tensor<4xf32>) {
    %0 = shard.all_gather %x on @mesh grid_axes = [0] gather_axis = 0 : tensor<1x4xf32> -> tensor<2x4xf32>
    %1 = shard.all_gather %0 on @mesh grid_axes = [1] gather_axis = 0 : tensor<2x4xf32> -> tensor<8x4xf32>
    %2 = shard.all_slice %y on @mesh grid_axes = [0] slice_axis = 1 : tensor<2x8xf32> -> tensor<2x4xf32>
    %3 = shard.all_slice %2 on @mesh grid_axes = [1] slice_axis = 1 : tensor<2x4xf32> -> tensor<2x1xf32>
    %4 = shard.all_reduce %z on @mesh grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
    %5 = shard.all_reduce %4 on @mesh grid_axes = [1] : tensor<4xf32> -> tensor<4xf32>
    return %1, %3, %5 : tensor<8x4xf32>, tensor<2x1xf32>, tensor<4xf32>
  }
}

// -----

// An all_reduce then a slice over the same axes is a reduce_scatter; a
// gather undone by a slice is nothing; reductions of different kinds stay.
// CHECK-LABEL: func.func @fuse_and_cancel
// CHECK-NEXT: %[[RS:.*]] = shard.reduce_scatter %{{.*}} on @mesh grid_axes = [0] scatter_axis = 1 : tensor<4x8xf32> -> tensor<4x4xf32>
// CHECK-NEXT: %[[MAX:.*]] = shard.all_reduce %{{.*}} on @mesh grid_axes = [0] reduction = max
// CHECK-NEXT: %[[SUM:.*]] = shard.all_reduce %[[MAX]] on @mesh grid_axes = [0] :
// CHECK-NEXT: return %[[RS]], %{{.*}}, %[[SUM]]
module {
  shard.grid @mesh(shape = 2)
  func.func @fuse_and_cancel(%x: tensor<4x8xf32>, %y: tensor<2x4xf32>, %z: tensor<4xf32>)
      -> (tensor<4x4xf32>, tensor<2x4xf32>, tensor<4xf32>) {
    %0 = shard.all_reduce %x on @mesh grid_axes = [0] : tensor<4x8xf32> -> tensor<4x8xf32>
    %1 = shard.all_slice %0 on @mesh grid_axes = [0] slice_axis = 1 : tensor<4x8xf32> -> tensor<4x4xf32>
    %2 = shard.all_gather %y on @mesh grid_axes = [0] gather_axis = 0 : tensor<2x4xf32> -> tensor<4x4xf32>
    %3 = shard.all_slice %2 on @mesh grid_axes = [0] slice_axis = 0 : tensor<4x4xf32> -> tensor<2x4xf32>
    %4 = shard.all_reduce %z on @mesh grid_axes = [0] reduction = max : tensor<4xf32> -> tensor<4xf32>
    %5 = shard.all_reduce %4 on @mesh grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
    return %1, %3, %5 : tensor<4x4xf32>, tensor<2x4xf32>, tensor<4xf32>
  }
}

// -----

// Two reduce_scatters of one reduction in a row on one dimension merge, the
// later one's axis the more minor; over different dimensions or of different
// reductions they stay.
// CHECK-LABEL: func.func @merge_reduce_scatters
// CHECK-NEXT: %[[RS:.*]] = shard.reduce_scatter %{{.*}} on @mesh grid_axes = [0, 1] scatter_axis = 0 : tensor<8x8xf32> -> tensor<1x8xf32>
// CHECK-NEXT: %[[A:.*]] = shard.reduce_scatter %{{.*}} on @mesh grid_axes = [0] scatter_axis = 0 : tensor<8x8xf32> -> tensor<4x8xf32>
// CHECK-NEXT: shard.reduce_scatter %[[A]] on @mesh grid_axes = [1] scatter_axis = 1 : tensor<4x8xf32> -> tensor<4x2xf32>
// CHECK-NEXT: %[[M:.*]] = shard.reduce_scatter %{{.*}} on @mesh grid_axes = [0] reduction = max scatter_axis = 0
// CHECK-NEXT: shard.reduce_scatter %[[M]] on @mesh grid_axes = [1] scatter_axis = 0
// CHECK-NEXT: return
module {
  shard.grid @mesh(shape = 2x4)
  func.func @merge_reduce_scatters(%x: tensor<8x8xf32>, %y: tensor<8x8xf32>, %z: tensor<8x8xf32>)
      -> (tensor<1x8xf32>, tensor<4x2xf32>, tensor<1x8xf32>) {
    %0 = shard.reduce_scatter %x on @mesh grid_axes = [0] scatter_axis = 0 : tensor<8x8xf32> -> tensor<4x8xf32>
    %1 = shard.reduce_scatter %0 on @mesh grid_axes = [1] scatter_axis = 0 : tensor<4x8xf32> -> tensor<1x8xf32>
    %2 = shard.reduce_scatter %y on @mesh grid_axes = [0] scatter_axis = 0 : tensor<8x8xf32> -> tensor<4x8xf32>
    %3 = shard.reduce_scatter %2 on @mesh grid_axes = [1] scatter_axis = 1 : tensor<4x8xf32> -> tensor<4x2xf32>
    %4 = shard.reduce_scatter %z on @mesh grid_axes = [0] reduction = max scatter_axis = 0 : tensor<8x8xf32> -> tensor<4x8xf32>
    %5 = shard.reduce_scatter %4 on @mesh grid_axes = [1] scatter_axis = 0 : tensor<4x8xf32> -> tensor<1x8xf32>
    return %1, %3, %5 : tensor<1x8xf32>, tensor<4x2xf32>, tensor<1x8xf32>
  }
}

// -----

// Views between two reshards cancel, so their collectives meet and merge.
// CHECK-LABEL: func.func @views_cancel
// CHECK-NEXT: %[[T:.*]] = mtf.as_tensor
// CHECK-NEXT: %[[G:.*]] = shard.all_gather %[[T]] on @mesh grid_axes = [1, 0] gather_axis = 0 : tensor<1x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT: %[[N:.*]] = mtf.as_named %[[G]]
// CHECK-NEXT: return %[[N]]
module {
  shard.grid @mesh(shape = 2x2)
  func.func @views_cancel(%x: !mtf.tensor<[b:1, d:4], f32>) -> !mtf.tensor<[b:4, d:4], f32> {
    %0 = mtf.as_tensor %x : !mtf.tensor<[b:1, d:4], f32> -> tensor<1x4xf32>
    %1 = shard.all_gather %0 on @mesh grid_axes = [0] gather_axis = 0 : tensor<1x4xf32> -> tensor<2x4xf32>
    %2 = mtf.as_named %1 : tensor<2x4xf32> -> !mtf.tensor<[b:2, d:4], f32>
    %3 = mtf.as_tensor %2 : !mtf.tensor<[b:2, d:4], f32> -> tensor<2x4xf32>
    %4 = shard.all_gather %3 on @mesh grid_axes = [1] gather_axis = 0 : tensor<2x4xf32> -> tensor<4x4xf32>
    %5 = mtf.as_named %4 : tensor<4x4xf32> -> !mtf.tensor<[b:4, d:4], f32>
    return %5 : !mtf.tensor<[b:4, d:4], f32>
  }
}
