// RUN: switchyard-opt %s -split-input-file -sy-fuse-epilogues | FileCheck %s

// An activation of an einsum's sums, used nowhere else, becomes the
// einsum's epilogue; every activation kind fuses.
// CHECK-LABEL: func.func @ffn
// CHECK: %[[H:.*]] = mtf.einsum %arg0, %arg1 epilogue relu : {{.*}} -> !mtf.tensor<[b:8, f:64], f32>
// CHECK-NOT: mtf.unary
// CHECK: %[[G:.*]] = mtf.einsum %[[H]], %arg2 epilogue gelu_tanh : {{.*}} -> !mtf.tensor<[b:8, d:16], f32>
// CHECK: mtf.einsum %[[G]], %arg1 epilogue silu
// CHECK: mtf.einsum %[[G]], %arg1 epilogue gelu :
// CHECK: return
func.func @ffn(%x: !mtf.tensor<[b:8, d:16], f32>, %wi: !mtf.tensor<[d:16, f:64], f32>,
               %wo: !mtf.tensor<[f:64, d:16], f32>)
    -> (!mtf.tensor<[b:8, f:64], f32>, !mtf.tensor<[b:8, f:64], f32>) {
  %h = mtf.einsum %x, %wi : (!mtf.tensor<[b:8, d:16], f32>, !mtf.tensor<[d:16, f:64], f32>) -> !mtf.tensor<[b:8, f:64], f32>
  %a = mtf.unary relu %h : !mtf.tensor<[b:8, f:64], f32>
  %o = mtf.einsum %a, %wo : (!mtf.tensor<[b:8, f:64], f32>, !mtf.tensor<[f:64, d:16], f32>) -> !mtf.tensor<[b:8, d:16], f32>
  %g = mtf.unary gelu_tanh %o : !mtf.tensor<[b:8, d:16], f32>
  %s = mtf.einsum %g, %wi : (!mtf.tensor<[b:8, d:16], f32>, !mtf.tensor<[d:16, f:64], f32>) -> !mtf.tensor<[b:8, f:64], f32>
  %t = mtf.unary silu %s : !mtf.tensor<[b:8, f:64], f32>
  %u = mtf.einsum %g, %wi : (!mtf.tensor<[b:8, d:16], f32>, !mtf.tensor<[d:16, f:64], f32>) -> !mtf.tensor<[b:8, f:64], f32>
  %v = mtf.unary gelu %u : !mtf.tensor<[b:8, f:64], f32>
  return %t, %v : !mtf.tensor<[b:8, f:64], f32>, !mtf.tensor<[b:8, f:64], f32>
}

// -----

// Left alone: sums used by something else too, a function that is not an
// activation, an activation of sums that already have an epilogue, and an
// activation of something that is not an einsum.
// CHECK-LABEL: func.func @unfused
// CHECK: %[[H:.*]] = mtf.einsum %arg0, %arg1 : {{.*}} -> !mtf.tensor<[b:8, f:64], f32>
// CHECK: mtf.unary relu %[[H]]
// CHECK: %[[E:.*]] = mtf.einsum %arg0, %arg1 : {{.*}} -> !mtf.tensor<[b:8, f:64], f32>
// CHECK: mtf.unary exp %[[E]]
// CHECK: %[[F:.*]] = mtf.einsum %arg0, %arg1 epilogue relu
// CHECK: mtf.unary gelu %[[F]]
// CHECK: mtf.unary relu %arg2
func.func @unfused(%x: !mtf.tensor<[b:8, d:16], f32>, %wi: !mtf.tensor<[d:16, f:64], f32>,
                   %y: !mtf.tensor<[b:8, f:64], f32>)
    -> (!mtf.tensor<[b:8, f:64], f32>, !mtf.tensor<[b:8, f:64], f32>, !mtf.tensor<[b:8, f:64], f32>,
        !mtf.tensor<[b:8, f:64], f32>, !mtf.tensor<[b:8, f:64], f32>) {
  %h = mtf.einsum %x, %wi : (!mtf.tensor<[b:8, d:16], f32>, !mtf.tensor<[d:16, f:64], f32>) -> !mtf.tensor<[b:8, f:64], f32>
  %a = mtf.unary relu %h : !mtf.tensor<[b:8, f:64], f32>
  %e = mtf.einsum %x, %wi : (!mtf.tensor<[b:8, d:16], f32>, !mtf.tensor<[d:16, f:64], f32>) -> !mtf.tensor<[b:8, f:64], f32>
  %b = mtf.unary exp %e : !mtf.tensor<[b:8, f:64], f32>
  %f = mtf.einsum %x, %wi epilogue relu : (!mtf.tensor<[b:8, d:16], f32>, !mtf.tensor<[d:16, f:64], f32>) -> !mtf.tensor<[b:8, f:64], f32>
  %c = mtf.unary gelu %f : !mtf.tensor<[b:8, f:64], f32>
  %d = mtf.unary relu %y : !mtf.tensor<[b:8, f:64], f32>
  return %h, %a, %b, %c, %d : !mtf.tensor<[b:8, f:64], f32>, !mtf.tensor<[b:8, f:64], f32>, !mtf.tensor<[b:8, f:64], f32>,
      !mtf.tensor<[b:8, f:64], f32>, !mtf.tensor<[b:8, f:64], f32>
}

// -----

// A residual add of a combine, used nowhere else, becomes the combine's
// residual, with the residual on either side of the add; the combine moves
// to the add, after the residual is defined.
// CHECK-LABEL: func.func @residual
// CHECK-NOT: mtf.binary
// CHECK: %[[X:.*]] = mtf.unary neg %arg5
// CHECK: %[[Y:.*]] = moe.combine %arg0, %arg1, %arg2, %arg3, %arg4 residual(%[[X]]) tokens(t) experts(e) capacity_dim(c)
// CHECK: %[[Z:.*]] = moe.combine %arg0, %arg1, %arg2, %arg3, %arg4 residual(%[[Y]]) tokens(t) experts(e) capacity_dim(c)
// CHECK: return %[[Z]]
func.func @residual(%out: !mtf.tensor<[e:2, c:4, d:4], f32>, %expert: !mtf.tensor<[t:8], i32>,
                    %position: !mtf.tensor<[t:8], i32>, %dropped: !mtf.tensor<[t:8], i1>,
                    %gate: !mtf.tensor<[t:8], f32>, %x: !mtf.tensor<[t:8, d:4], f32>) -> !mtf.tensor<[t:8, d:4], f32> {
  %m = moe.combine %out, %expert, %position, %dropped, %gate tokens(t) experts(e) capacity_dim(c)
      : !mtf.tensor<[e:2, c:4, d:4], f32>, !mtf.tensor<[t:8], i32>, !mtf.tensor<[t:8], f32> -> !mtf.tensor<[t:8, d:4], f32>
  %n = moe.combine %out, %expert, %position, %dropped, %gate tokens(t) experts(e) capacity_dim(c)
      : !mtf.tensor<[e:2, c:4, d:4], f32>, !mtf.tensor<[t:8], i32>, !mtf.tensor<[t:8], f32> -> !mtf.tensor<[t:8, d:4], f32>
  %r = mtf.unary neg %x : !mtf.tensor<[t:8, d:4], f32>
  %y = mtf.binary add %r, %m : (!mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>) -> !mtf.tensor<[t:8, d:4], f32>
  %z = mtf.binary add %n, %y : (!mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>) -> !mtf.tensor<[t:8, d:4], f32>
  return %z : !mtf.tensor<[t:8, d:4], f32>
}

// -----

// Left alone: a combine used by something else too, an add that broadcasts
// the residual, a subtraction, a combine that has its residual already, and
// a combine added to itself.
// CHECK-LABEL: func.func @residual_unfused
// CHECK-COUNT-4: mtf.binary
// CHECK: mtf.binary add %[[W:.*]], %[[W]]
func.func @residual_unfused(%out: !mtf.tensor<[e:2, c:4, d:4], f32>, %expert: !mtf.tensor<[t:8], i32>,
                            %position: !mtf.tensor<[t:8], i32>, %dropped: !mtf.tensor<[t:8], i1>,
                            %gate: !mtf.tensor<[t:8], f32>, %x: !mtf.tensor<[t:8, d:4], f32>, %b: !mtf.tensor<[d:4], f32>)
    -> (!mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>,
        !mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>) {
  %m = moe.combine %out, %expert, %position, %dropped, %gate tokens(t) experts(e) capacity_dim(c)
      : !mtf.tensor<[e:2, c:4, d:4], f32>, !mtf.tensor<[t:8], i32>, !mtf.tensor<[t:8], f32> -> !mtf.tensor<[t:8, d:4], f32>
  %y = mtf.binary add %x, %m : (!mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>) -> !mtf.tensor<[t:8, d:4], f32>
  %n = moe.combine %out, %expert, %position, %dropped, %gate tokens(t) experts(e) capacity_dim(c)
      : !mtf.tensor<[e:2, c:4, d:4], f32>, !mtf.tensor<[t:8], i32>, !mtf.tensor<[t:8], f32> -> !mtf.tensor<[t:8, d:4], f32>
  %v = mtf.binary add %b, %n : (!mtf.tensor<[d:4], f32>, !mtf.tensor<[t:8, d:4], f32>) -> !mtf.tensor<[t:8, d:4], f32>
  %k = moe.combine %out, %expert, %position, %dropped, %gate tokens(t) experts(e) capacity_dim(c)
      : !mtf.tensor<[e:2, c:4, d:4], f32>, !mtf.tensor<[t:8], i32>, !mtf.tensor<[t:8], f32> -> !mtf.tensor<[t:8, d:4], f32>
  %s = mtf.binary sub %x, %k : (!mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>) -> !mtf.tensor<[t:8, d:4], f32>
  %j = moe.combine %out, %expert, %position, %dropped, %gate residual(%x) tokens(t) experts(e) capacity_dim(c)
      : !mtf.tensor<[e:2, c:4, d:4], f32>, !mtf.tensor<[t:8], i32>, !mtf.tensor<[t:8], f32> -> !mtf.tensor<[t:8, d:4], f32>
  %u = mtf.binary add %x, %j : (!mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>) -> !mtf.tensor<[t:8, d:4], f32>
  %w = moe.combine %out, %expert, %position, %dropped, %gate tokens(t) experts(e) capacity_dim(c)
      : !mtf.tensor<[e:2, c:4, d:4], f32>, !mtf.tensor<[t:8], i32>, !mtf.tensor<[t:8], f32> -> !mtf.tensor<[t:8, d:4], f32>
  %q = mtf.binary add %w, %w : (!mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>) -> !mtf.tensor<[t:8, d:4], f32>
  return %m, %y, %v, %s, %u, %q : !mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>,
      !mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>, !mtf.tensor<[t:8, d:4], f32>
}
