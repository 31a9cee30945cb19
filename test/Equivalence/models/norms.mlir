// Ops that need a whole dimension (softmax, RMS norm, cumsum), gathers,
// one-hot, iota, constants, casts and reshapes, under any layout.
module {
  func.func @main(%x: !mtf.tensor<[batch:8, length:8, d_model:16], f32> {mtf.name = "x"},
                  %w: !mtf.tensor<[d_model:16], f32> {mtf.param = "norm"},
                  %table: !mtf.tensor<[vocab:32, d_model:16], f32> {mtf.param = "shared"},
                  %ids: !mtf.tensor<[batch:8, length:8], i32> {mtf.name = "ids"})
      -> (!mtf.tensor<[batch:8, length:8, d_model:16], f32> {mtf.name = "n"},
          !mtf.tensor<[batch:8, length:8, d_model:16], f32> {mtf.name = "p"},
          !mtf.tensor<[batch:8, length:8, d_model:16], f32> {mtf.name = "e"},
          !mtf.tensor<[batch:8, length:8], i32> {mtf.name = "c"},
          !mtf.tensor<[batch:8, memory_length:8, d_model:16], bf16> {mtf.name = "r"},
          !mtf.tensor<[batch:8, length:8, vocab:32], f32> {mtf.name = "o"}) {
    %n = mtf.rms_norm %x, %w along d_model : !mtf.tensor<[batch:8, length:8, d_model:16], f32>, !mtf.tensor<[d_model:16], f32>
    %p = mtf.softmax %n along length : !mtf.tensor<[batch:8, length:8, d_model:16], f32>
    %e = mtf.gather %table[%ids] along vocab
        : (!mtf.tensor<[vocab:32, d_model:16], f32>, !mtf.tensor<[batch:8, length:8], i32>)
          -> !mtf.tensor<[batch:8, length:8, d_model:16], f32>
    %pos = mtf.iota along length : !mtf.tensor<[batch:8, length:8], i32>
    %one = mtf.constant dense<1> : tensor<8x8xi32> to !mtf.tensor<[batch:8, length:8], i32>
    %inc = mtf.binary add %pos, %one : (!mtf.tensor<[batch:8, length:8], i32>, !mtf.tensor<[batch:8, length:8], i32>)
                                       -> !mtf.tensor<[batch:8, length:8], i32>
    %c = mtf.cumsum %inc along length exclusive : !mtf.tensor<[batch:8, length:8], i32>
    %k = mtf.reshape %p : !mtf.tensor<[batch:8, length:8, d_model:16], f32> -> !mtf.tensor<[batch:8, memory_length:8, d_model:16], f32>
    %r = mtf.cast %k : !mtf.tensor<[batch:8, memory_length:8, d_model:16], f32> -> !mtf.tensor<[batch:8, memory_length:8, d_model:16], bf16>
    %o = mtf.one_hot %ids : !mtf.tensor<[batch:8, length:8], i32> -> !mtf.tensor<[batch:8, length:8, vocab:32], f32>
    return %n, %p, %e, %c, %r, %o : !mtf.tensor<[batch:8, length:8, d_model:16], f32>, !mtf.tensor<[batch:8, length:8, d_model:16], f32>,
        !mtf.tensor<[batch:8, length:8, d_model:16], f32>, !mtf.tensor<[batch:8, length:8], i32>,
        !mtf.tensor<[batch:8, memory_length:8, d_model:16], bf16>, !mtf.tensor<[batch:8, length:8, vocab:32], f32>
  }
}
