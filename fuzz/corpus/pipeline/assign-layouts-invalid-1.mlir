module attributes {mtf.mesh = #mtf.mesh<"b:4">, mtf.layout = #mtf.layout<"batch:b">} {
  // expected-error@+1 {{layout rule 'batch:b' splits dimension 'batch' of size 6 into 4 parts, which does not divide it}}
  func.func private @not_divisible(!mtf.tensor<[batch:6], f32>)
}
