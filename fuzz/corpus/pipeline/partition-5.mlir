// The router counts capacity along whole token sequences, and softmax and
// RMS norm reduce along whole dimensions: a split there is gathered first.
module attributes {mtf.mesh = #mtf.mesh<"l:4">} {
  func.func @needs_whole_dims(%logits: !mtf.tensor<[batch:2, length:8{l}, experts:4], f32>,
                              %x: !mtf.tensor<[t:2, d:4{l}], f32>) -> !mtf.tensor<[t:2, d:4{l}], f32> {
    %expert, %gate, %position, %dropped = moe.route %logits tokens(length) experts(experts) capacity(2)
        : !mtf.tensor<[batch:2, length:8{l}, experts:4], f32>
    %s = mtf.softmax %x along d : !mtf.tensor<[t:2, d:4{l}], f32>
    return %s : !mtf.tensor<[t:2, d:4{l}], f32>
  }
}
