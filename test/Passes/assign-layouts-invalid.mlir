// RUN: switchyard-opt %s -split-input-file -sy-assign-layouts -verify-diagnostics

// expected-error@+1 {{no mesh: pass the 'mesh' option (e.g. mesh="b:4,e:2") or give the module an 'mtf.mesh' attribute}}
module {
}

// -----

module attributes {mtf.mesh = #mtf.mesh<"b:4">, mtf.layout = #mtf.layout<"batch:b">} {
  // expected-error@+1 {{layout rule 'batch:b' splits dimension 'batch' of size 6 into 4 parts, which does not divide it}}
  func.func private @not_divisible(!mtf.tensor<[batch:6], f32>)
}

// -----

module attributes {mtf.mesh = #mtf.mesh<"b:2,m:2">, mtf.layout = #mtf.layout<"d_ff:b,m">} {
  func.func @not_divisible_by_two_axes() {
    // expected-error@+1 {{layout rule 'd_ff:b,m' splits dimension 'd_ff' of size 6 into 4 parts, which does not divide it}}
    %0 = mtf.iota along d_ff : !mtf.tensor<[d_ff:6], i32>
    return
  }
}

// -----

// expected-error@+1 {{the module is already partitioned (it has a 'shard.grid'); layouts apply to global programs}}
module attributes {mtf.mesh = #mtf.mesh<"b:2">} {
  shard.grid @mesh(shape = 2)
}
