// RUN: switchyard-opt %s -split-input-file | FileCheck %s
// Round trip: printing then parsing again gives the same IR.
// RUN: switchyard-opt %s -split-input-file | switchyard-opt -split-input-file | FileCheck %s
// RUN: switchyard-opt %s -split-input-file -mlir-print-op-generic | switchyard-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @tensor_types
// CHECK-SAME: !mtf.tensor<[], f32>
// CHECK-SAME: !mtf.tensor<[batch:8, length:4, d_model:16], bf16>
// CHECK-SAME: !mtf.tensor<[tokens:8], f16>
// CHECK-SAME: !mtf.tensor<[tokens:8], i32>
// CHECK-SAME: !mtf.tensor<[tokens:8], i1>
// CHECK-SAME: !mtf.tensor<[expert_capacity:0, d_model:16], f32>
func.func @tensor_types(%a: !mtf.tensor<[], f32>,
                        %b: !mtf.tensor<[batch:8, length:4, d_model:16], bf16>,
                        %c: !mtf.tensor<[tokens:8], f16>,
                        %d: !mtf.tensor<[tokens:8], i32>,
                        %e: !mtf.tensor<[tokens:8], i1>,
                        %f: !mtf.tensor<[expert_capacity:0, d_model:16], f32>) {
  return
}

// -----

// A mesh, layout rules and laid-out types; `d_ff` is split over two axes.
// CHECK: module attributes {mtf.layout = #mtf.layout<"batch:b;experts:e;d_ff:e,m">, mtf.mesh = #mtf.mesh<"b:4,e:2,m:2">}
// CHECK-LABEL: func.func @laid_out
// CHECK-SAME: !mtf.tensor<[batch:8{b}, d_ff:12{e, m}], f32>
// CHECK-SAME: !mtf.tensor<[experts:2{e}, d_model:4], f32>
module attributes {mtf.mesh = #mtf.mesh<"b:4; e:2; m:2">,
                   mtf.layout = #mtf.layout<"batch:b;experts:e;d_ff:e,m">} {
  func.func @laid_out(%x: !mtf.tensor<[batch:8{b}, d_ff:12{e,m}], f32>,
                      %w: !mtf.tensor<[experts:2{e}, d_model:4], f32>) {
    return
  }
}

// -----

// CHECK-LABEL: func.func @parameters
// CHECK-SAME: {mtf.param = "shared.weight"}
// CHECK-SAME: {mtf.name = "input_ids"}
// CHECK-SAME: -> (!mtf.tensor<[batch:2], i32> {mtf.name = "ids"})
func.func @parameters(%w: !mtf.tensor<[vocab:32, d_model:16], f32> {mtf.param = "shared.weight"},
                      %ids: !mtf.tensor<[batch:2], i32> {mtf.name = "input_ids"})
    -> (!mtf.tensor<[batch:2], i32> {mtf.name = "ids"}) {
  return %ids : !mtf.tensor<[batch:2], i32>
}

// -----

// CHECK-LABEL: func.func @einsum
func.func @einsum(%x: !mtf.tensor<[batch:8, d_model:16], f32>,
                  %w: !mtf.tensor<[d_model:16, d_ff:64], f32>,
                  %s: !mtf.tensor<[d_ff:64], f32>)
    -> (!mtf.tensor<[batch:8, d_ff:64], f32>, !mtf.tensor<[], f32>) {
  // CHECK: mtf.einsum %{{.*}}, %{{.*}} : (!mtf.tensor<[batch:8, d_model:16], f32>, !mtf.tensor<[d_model:16, d_ff:64], f32>) -> !mtf.tensor<[batch:8, d_ff:64], f32>
  %y = mtf.einsum %x, %w : (!mtf.tensor<[batch:8, d_model:16], f32>,
                            !mtf.tensor<[d_model:16, d_ff:64], f32>)
                           -> !mtf.tensor<[batch:8, d_ff:64], f32>
  // Three operands, everything contracted.
  // CHECK: mtf.einsum %{{.*}}, %{{.*}}, %{{.*}} : {{.*}} -> !mtf.tensor<[], f32>
  %t = mtf.einsum %x, %w, %s : (!mtf.tensor<[batch:8, d_model:16], f32>,
                                !mtf.tensor<[d_model:16, d_ff:64], f32>,
                                !mtf.tensor<[d_ff:64], f32>) -> !mtf.tensor<[], f32>
  // An activation applied to the sums.
  // CHECK: mtf.einsum %{{.*}}, %{{.*}} epilogue gelu_tanh : {{.*}} -> !mtf.tensor<[batch:8, d_ff:64], f32>
  %g = mtf.einsum %x, %w epilogue gelu_tanh : (!mtf.tensor<[batch:8, d_model:16], f32>,
                                               !mtf.tensor<[d_model:16, d_ff:64], f32>)
                                              -> !mtf.tensor<[batch:8, d_ff:64], f32>
  return %y, %t : !mtf.tensor<[batch:8, d_ff:64], f32>, !mtf.tensor<[], f32>
}

// -----

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: !mtf.tensor<[batch:8, d_model:16], f32>,
                       %s: !mtf.tensor<[d_model:16], f32>,
                       %i: !mtf.tensor<[batch:8], i32>) {
  // CHECK: mtf.unary relu %{{.*}} : !mtf.tensor<[batch:8, d_model:16], f32>
  %0 = mtf.unary relu %x : !mtf.tensor<[batch:8, d_model:16], f32>
  // CHECK: mtf.unary gelu_tanh
  %1 = mtf.unary gelu_tanh %x : !mtf.tensor<[batch:8, d_model:16], f32>
  // CHECK: mtf.unary gelu
  %2 = mtf.unary gelu %x : !mtf.tensor<[batch:8, d_model:16], f32>
  // CHECK: mtf.unary rsqrt
  %3 = mtf.unary rsqrt %x : !mtf.tensor<[batch:8, d_model:16], f32>
  // CHECK: mtf.unary neg %{{.*}} : !mtf.tensor<[batch:8], i32>
  %4 = mtf.unary neg %i : !mtf.tensor<[batch:8], i32>
  // CHECK: mtf.binary mul %{{.*}}, %{{.*}} : (!mtf.tensor<[batch:8, d_model:16], f32>, !mtf.tensor<[d_model:16], f32>) -> !mtf.tensor<[batch:8, d_model:16], f32>
  %5 = mtf.binary mul %x, %s : (!mtf.tensor<[batch:8, d_model:16], f32>,
                                !mtf.tensor<[d_model:16], f32>)
                               -> !mtf.tensor<[batch:8, d_model:16], f32>
  // The result may order the union of dimensions freely.
  // CHECK: mtf.binary add {{.*}} -> !mtf.tensor<[d_model:16, batch:8], f32>
  %6 = mtf.binary add %s, %x : (!mtf.tensor<[d_model:16], f32>,
                                !mtf.tensor<[batch:8, d_model:16], f32>)
                               -> !mtf.tensor<[d_model:16, batch:8], f32>
  // CHECK: mtf.binary sub
  %7 = mtf.binary sub %i, %i : (!mtf.tensor<[batch:8], i32>, !mtf.tensor<[batch:8], i32>)
                               -> !mtf.tensor<[batch:8], i32>
  return
}

// -----

// CHECK-LABEL: func.func @reductions_and_norms
func.func @reductions_and_norms(%x: !mtf.tensor<[batch:8, d_model:16], f32>,
                                %w: !mtf.tensor<[d_model:16], f32>) {
  // CHECK: mtf.reduce sum %{{.*}} : !mtf.tensor<[batch:8, d_model:16], f32> -> !mtf.tensor<[batch:8], f32>
  %0 = mtf.reduce sum %x : !mtf.tensor<[batch:8, d_model:16], f32> -> !mtf.tensor<[batch:8], f32>
  // CHECK: mtf.reduce max %{{.*}} -> !mtf.tensor<[], f32>
  %1 = mtf.reduce max %x : !mtf.tensor<[batch:8, d_model:16], f32> -> !mtf.tensor<[], f32>
  // CHECK: mtf.reduce mean
  %2 = mtf.reduce mean %x : !mtf.tensor<[batch:8, d_model:16], f32> -> !mtf.tensor<[d_model:16], f32>
  // CHECK: mtf.softmax %{{.*}} along d_model : !mtf.tensor<[batch:8, d_model:16], f32>
  %3 = mtf.softmax %x along d_model : !mtf.tensor<[batch:8, d_model:16], f32>
  // CHECK: mtf.rms_norm %{{.*}}, %{{.*}} along d_model : !mtf.tensor<[batch:8, d_model:16], f32>, !mtf.tensor<[d_model:16], f32>
  %4 = mtf.rms_norm %x, %w along d_model : !mtf.tensor<[batch:8, d_model:16], f32>, !mtf.tensor<[d_model:16], f32>
  // CHECK: mtf.rms_norm %{{.*}}, %{{.*}} along d_model {epsilon = 1.000000e-05 : f64}
  %5 = mtf.rms_norm %x, %w along d_model {epsilon = 1.0e-5 : f64} : !mtf.tensor<[batch:8, d_model:16], f32>, !mtf.tensor<[d_model:16], f32>
  return
}

// -----

// CHECK-LABEL: func.func @data_movement
func.func @data_movement(%x: !mtf.tensor<[batch:2, length:8], f32>,
                         %table: !mtf.tensor<[vocab:32, d_model:16], f32>,
                         %ids: !mtf.tensor<[batch:2, length:8], i32>) {
  // CHECK: mtf.cast %{{.*}} : !mtf.tensor<[batch:2, length:8], f32> -> !mtf.tensor<[batch:2, length:8], bf16>
  %0 = mtf.cast %x : !mtf.tensor<[batch:2, length:8], f32> -> !mtf.tensor<[batch:2, length:8], bf16>
  // CHECK: mtf.reshape %{{.*}} : !mtf.tensor<[batch:2, length:8], f32> -> !mtf.tensor<[batch:2, memory_length:8], f32>
  %1 = mtf.reshape %x : !mtf.tensor<[batch:2, length:8], f32> -> !mtf.tensor<[batch:2, memory_length:8], f32>
  // CHECK: mtf.reshape %{{.*}} -> !mtf.tensor<[tokens:16], f32>
  %2 = mtf.reshape %x : !mtf.tensor<[batch:2, length:8], f32> -> !mtf.tensor<[tokens:16], f32>
  // CHECK: mtf.gather %{{.*}}[%{{.*}}] along vocab : (!mtf.tensor<[vocab:32, d_model:16], f32>, !mtf.tensor<[batch:2, length:8], i32>) -> !mtf.tensor<[batch:2, length:8, d_model:16], f32>
  %3 = mtf.gather %table[%ids] along vocab
         : (!mtf.tensor<[vocab:32, d_model:16], f32>, !mtf.tensor<[batch:2, length:8], i32>)
           -> !mtf.tensor<[batch:2, length:8, d_model:16], f32>
  // CHECK: mtf.one_hot %{{.*}} : !mtf.tensor<[batch:2, length:8], i32> -> !mtf.tensor<[batch:2, length:8, experts:4], f32>
  %4 = mtf.one_hot %ids : !mtf.tensor<[batch:2, length:8], i32> -> !mtf.tensor<[batch:2, length:8, experts:4], f32>
  // CHECK: mtf.cumsum %{{.*}} along length : !mtf.tensor<[batch:2, length:8], i32>
  %5 = mtf.cumsum %ids along length : !mtf.tensor<[batch:2, length:8], i32>
  // CHECK: mtf.cumsum %{{.*}} along length exclusive : !mtf.tensor<[batch:2, length:8], f32>
  %6 = mtf.cumsum %x along length exclusive : !mtf.tensor<[batch:2, length:8], f32>
  return
}

// -----

// CHECK-LABEL: func.func @constants
func.func @constants() {
  // CHECK: mtf.constant dense<5.000000e-01> : tensor<f32> to !mtf.tensor<[], f32>
  %0 = mtf.constant dense<0.5> : tensor<f32> to !mtf.tensor<[], f32>
  // CHECK: mtf.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32> to !mtf.tensor<[heads:2], f32>
  %1 = mtf.constant dense<[1.0, 2.0]> : tensor<2xf32> to !mtf.tensor<[heads:2], f32>
  // CHECK: mtf.constant dense<0> : tensor<2x3xi32> to !mtf.tensor<[a:2, b:3], i32>
  %2 = mtf.constant dense<0> : tensor<2x3xi32> to !mtf.tensor<[a:2, b:3], i32>
  // CHECK: mtf.iota along memory_length : !mtf.tensor<[length:8, memory_length:8], i32>
  %3 = mtf.iota along memory_length : !mtf.tensor<[length:8, memory_length:8], i32>
  return
}

// -----

// A `{dim}` placeholder stacks per-expert checkpoint tensors along `experts`.
// CHECK-LABEL: func.func @stacked_parameter
// CHECK-SAME: {mtf.param = "mlp.experts.expert_{experts}.wi.weight"}
func.func @stacked_parameter(%w: !mtf.tensor<[experts:4, d_ff:8, d_model:4], f32> {mtf.param = "mlp.experts.expert_{experts}.wi.weight"}) {
  return
}

// -----

// A run-time i32 input with the one value exempt from the index check.
// CHECK-LABEL: func.func @ignored_index
// CHECK-SAME: {mtf.ignored_index = -100 : i32, mtf.name = "labels"}
func.func @ignored_index(%labels: !mtf.tensor<[rows:4], i32> {mtf.name = "labels", mtf.ignored_index = -100 : i32})
    -> !mtf.tensor<[rows:4, classes:8], f32> {
  %h = mtf.one_hot %labels : !mtf.tensor<[rows:4], i32> -> !mtf.tensor<[rows:4, classes:8], f32>
  return %h : !mtf.tensor<[rows:4, classes:8], f32>
}

// -----

// Layout changes and the SPMD boundary of partitioned programs.
// CHECK-LABEL: func.func @relayout_and_views
// CHECK-SAME: {mtf.global = !mtf.tensor<[batch:8{b}, d:4], f32>}
// CHECK-SAME: -> (!mtf.tensor<[batch:2, d:4], f32> {mtf.global = !mtf.tensor<[batch:8{b}, d:4], f32>})
module attributes {mtf.mesh = #mtf.mesh<"b:4">} {
  func.func @relayout_and_views(%x: !mtf.tensor<[batch:2, d:4], f32> {mtf.global = !mtf.tensor<[batch:8{b}, d:4], f32>},
                                %g: !mtf.tensor<[batch:8{b}, d:4], f32>)
      -> (!mtf.tensor<[batch:2, d:4], f32> {mtf.global = !mtf.tensor<[batch:8{b}, d:4], f32>}) {
    // CHECK: mtf.relayout %{{.*}} : !mtf.tensor<[batch:8{b}, d:4], f32> -> !mtf.tensor<[batch:8, d:4{b}], f32>
    %r = mtf.relayout %g : !mtf.tensor<[batch:8{b}, d:4], f32> -> !mtf.tensor<[batch:8, d:4{b}], f32>
    // CHECK: mtf.as_tensor %{{.*}} : !mtf.tensor<[batch:2, d:4], f32> -> tensor<2x4xf32>
    %t = mtf.as_tensor %x : !mtf.tensor<[batch:2, d:4], f32> -> tensor<2x4xf32>
    // CHECK: mtf.as_named %{{.*}} : tensor<2x4xf32> -> !mtf.tensor<[batch:2, d:4], f32>
    %n = mtf.as_named %t : tensor<2x4xf32> -> !mtf.tensor<[batch:2, d:4], f32>
    return %n : !mtf.tensor<[batch:2, d:4], f32>
  }
}
