module attributes {mtf.mesh = #mtf.mesh<"b:2,m:2">, mtf.layout = #mtf.layout<"d_ff:b,m">} {
  func.func @not_divisible_by_two_axes() {
    // expected-error@+1 {{layout rule 'd_ff:b,m' splits dimension 'd_ff' of size 6 into 4 parts, which does not divide it}}
    %0 = mtf.iota along d_ff : !mtf.tensor<[d_ff:6], i32>
    return
  }
}
