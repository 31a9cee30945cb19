// Two collectives of one kind in a row on one dimension merge; a later
// gather is over the more major axis, a later slice over the more minor.
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
