// Block arguments, op results and declarations are all laid out.
module attributes {mtf.mesh = #mtf.mesh<"b:2">, mtf.layout = #mtf.layout<"batch:b">} {
  func.func private @declaration(!mtf.tensor<[batch:4], f32>)
  func.func @results() {
    %0 = mtf.iota along batch : !mtf.tensor<[batch:4], i32>
    return
  }
}
