// RUN: switchyard-opt %s -split-input-file -sy-partition -verify-diagnostics

// expected-error@+1 {{partitioning needs the module's 'mtf.mesh'; run -sy-assign-layouts first}}
module {
  func.func @f() {
    return
  }
}

// -----

module attributes {mtf.mesh = #mtf.mesh<"b:2">} {
  func.func private @g(!mtf.tensor<[batch:4{b}], f32>) -> !mtf.tensor<[batch:4{b}], f32>
  func.func @calls(%x: !mtf.tensor<[batch:4{b}], f32>) -> !mtf.tensor<[batch:4{b}], f32> {
    // expected-error@+1 {{'func.call' op cannot be partitioned}}
    %0 = func.call @g(%x) : (!mtf.tensor<[batch:4{b}], f32>) -> !mtf.tensor<[batch:4{b}], f32>
    return %0 : !mtf.tensor<[batch:4{b}], f32>
  }
}

// -----

module attributes {mtf.mesh = #mtf.mesh<"b:2">} {
  func.func @twice(%x: !mtf.tensor<[batch:2], f32>) -> tensor<2xf32> {
    // expected-error@+1 {{'mtf.as_tensor' op belongs to an already partitioned program}}
    %0 = mtf.as_tensor %x : !mtf.tensor<[batch:2], f32> -> tensor<2xf32>
    return %0 : tensor<2xf32>
  }
}

// -----

// expected-error@+1 {{module already has a symbol 'mesh'; is it partitioned already?}}
module attributes {mtf.mesh = #mtf.mesh<"b:2">} {
  shard.grid @mesh(shape = 2)
}

