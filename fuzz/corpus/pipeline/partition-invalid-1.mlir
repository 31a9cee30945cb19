module attributes {mtf.mesh = #mtf.mesh<"b:2">} {
  func.func private @g(!mtf.tensor<[batch:4{b}], f32>) -> !mtf.tensor<[batch:4{b}], f32>
  func.func @calls(%x: !mtf.tensor<[batch:4{b}], f32>) -> !mtf.tensor<[batch:4{b}], f32> {
    // expected-error@+1 {{'func.call' op cannot be partitioned}}
    %0 = func.call @g(%x) : (!mtf.tensor<[batch:4{b}], f32>) -> !mtf.tensor<[batch:4{b}], f32>
    return %0 : !mtf.tensor<[batch:4{b}], f32>
  }
}
