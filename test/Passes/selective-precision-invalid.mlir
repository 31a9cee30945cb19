// RUN: not switchyard-opt %s -split-input-file -sy-selective-precision=precision=fp8 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: switchyard-opt %s -split-input-file -sy-selective-precision -verify-diagnostics -allow-unregistered-dialect

// UNKNOWN: error: unknown precision 'fp8'; expected bf16, f16 or f32

// expected-error@+1 {{selective precision applies to a global program; this module is already partitioned}}
module attributes {mtf.mesh = #mtf.mesh<"b:2">} {
  shard.grid @mesh(shape = 2)
  func.func @f(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}

// -----

// expected-error@+1 {{selective precision expects a function of one block}}
func.func @branches(%x: !mtf.tensor<[d:4], f32>) -> !mtf.tensor<[d:4], f32> {
  "test.br"()[^next] : () -> ()
^next:
  return %x : !mtf.tensor<[d:4], f32>
}
