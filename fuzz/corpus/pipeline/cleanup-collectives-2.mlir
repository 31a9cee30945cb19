// An all_reduce then a slice over the same axes is a reduce_scatter; a
// gather undone by a slice is nothing; reductions of different kinds stay.
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
