// A collective over an axis of size 1 moves nothing.
module {
  shard.grid @mesh(shape = 2x1)
  func.func @unit_axes(%x: tensor<2x4xf32>, %y: tensor<4xf32>) -> (tensor<4x4xf32>, tensor<4xf32>) {
    %0 = shard.all_gather %x on @mesh grid_axes = [0, 1] gather_axis = 0 : tensor<2x4xf32> -> tensor<4x4xf32>
    %1 = shard.all_reduce %y on @mesh grid_axes = [1] : tensor<4xf32> -> tensor<4xf32>
    return %0, %1 : tensor<4x4xf32>, tensor<4xf32>
  }
}
