// Views between two reshards cancel, so their collectives meet and merge.
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
