// Einsums over split and unsplit dimensions: partial sums resolved by
// all_reduce (contraction.mlir has them reduce-scattered), a three-operand
// contraction, a reduction over a split dimension, and an elementwise tail.
module {
  func.func @main(%x: !mtf.tensor<[batch:8, d_model:16], f32> {mtf.name = "x"},
                  %wi: !mtf.tensor<[d_model:16, d_ff:32], f32> {mtf.param = "wi"},
                  %wo: !mtf.tensor<[d_ff:32, d_model:16], f32> {mtf.param = "wo"},
                  %s: !mtf.tensor<[d_ff:32], f32> {mtf.param = "s"})
      -> (!mtf.tensor<[batch:8, d_model:16], f32> {mtf.name = "y"},
          !mtf.tensor<[batch:8, d_ff:32], f32> {mtf.name = "h"},
          !mtf.tensor<[batch:8], f32> {mtf.name = "t"},
          !mtf.tensor<[d_model:16], f32> {mtf.name = "m"}) {
    %h = mtf.einsum %x, %wi : (!mtf.tensor<[batch:8, d_model:16], f32>, !mtf.tensor<[d_model:16, d_ff:32], f32>)
                              -> !mtf.tensor<[batch:8, d_ff:32], f32>
    %a = mtf.unary gelu_tanh %h : !mtf.tensor<[batch:8, d_ff:32], f32>
    %y = mtf.einsum %a, %wo : (!mtf.tensor<[batch:8, d_ff:32], f32>, !mtf.tensor<[d_ff:32, d_model:16], f32>)
                              -> !mtf.tensor<[batch:8, d_model:16], f32>
    %t = mtf.einsum %a, %s, %h : (!mtf.tensor<[batch:8, d_ff:32], f32>, !mtf.tensor<[d_ff:32], f32>,
                                  !mtf.tensor<[batch:8, d_ff:32], f32>) -> !mtf.tensor<[batch:8], f32>
    %m = mtf.reduce mean %y : !mtf.tensor<[batch:8, d_model:16], f32> -> !mtf.tensor<[d_model:16], f32>
    %r = mtf.binary add %x, %y : (!mtf.tensor<[batch:8, d_model:16], f32>, !mtf.tensor<[batch:8, d_model:16], f32>)
                                 -> !mtf.tensor<[batch:8, d_model:16], f32>
    return %r, %h, %t, %m : !mtf.tensor<[batch:8, d_model:16], f32>, !mtf.tensor<[batch:8, d_ff:32], f32>,
                            !mtf.tensor<[batch:8], f32>, !mtf.tensor<[d_model:16], f32>
  }
}
