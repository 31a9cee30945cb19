module attributes {mtf.mesh = #mtf.mesh<"b:2">} {
  func.func @twice(%x: !mtf.tensor<[batch:2], f32>) -> tensor<2xf32> {
    // expected-error@+1 {{'mtf.as_tensor' op belongs to an already partitioned program}}
    %0 = mtf.as_tensor %x : !mtf.tensor<[batch:2], f32> -> tensor<2xf32>
    return %0 : tensor<2xf32>
  }
}
