// Rules from the module attributes; every value and signature is laid out.
module attributes {mtf.mesh = #mtf.mesh<"b:2,m:4">, mtf.layout = #mtf.layout<"batch:b;d_ff:m">} {
  func.func @from_module_attributes(%x: !mtf.tensor<[batch:8, d_model:4], f32>,
                                    %w: !mtf.tensor<[d_model:4, d_ff:8], f32>)
      -> !mtf.tensor<[batch:8, d_ff:8], f32> {
    %y = mtf.einsum %x, %w : (!mtf.tensor<[batch:8, d_model:4], f32>, !mtf.tensor<[d_model:4, d_ff:8], f32>)
                             -> !mtf.tensor<[batch:8, d_ff:8], f32>
    return %y : !mtf.tensor<[batch:8, d_ff:8], f32>
  }
}
