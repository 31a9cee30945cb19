// RUN: switchyard-opt %s -split-input-file -sy-selective-precision | FileCheck %s
// RUN: switchyard-opt %s -split-input-file -sy-selective-precision=precision=f16 | FileCheck %s --check-prefix=F16
// RUN: switchyard-opt %s -split-input-file -sy-selective-precision=precision=f32 | FileCheck %s --check-prefix=F32

// A Switch feed-forward layer: the router (its weight, projection, routing
// and losses) stays float32; norm, experts, combine and the residual run in
// bf16. The weights change type, the input and the results keep theirs.
// CHECK-LABEL: func.func @switch_layer
// CHECK-SAME: %[[X:[^:]*]]: !mtf.tensor<[batch:2, length:8, d_model:4], f32> {mtf.name = "x"}
// CHECK-SAME: %[[NORM:[^:]*]]: !mtf.tensor<[d_model:4], bf16> {mtf.param = "norm"}
// CHECK-SAME: %[[ROUTER:[^:]*]]: !mtf.tensor<[experts:2, d_model:4], f32> {mtf.param = "router"}
// CHECK-SAME: %[[WI:[^:]*]]: !mtf.tensor<[experts:2, d_ff:8, d_model:4], bf16> {mtf.param = "wi"}
// CHECK-SAME: -> (!mtf.tensor<[batch:2, length:8, d_model:4], f32> {mtf.name = "y"}, !mtf.tensor<[batch:2, length:8, experts:2], f32> {mtf.name = "router_logits"}, !mtf.tensor<[], f32> {mtf.name = "z_loss"})
// CHECK-NEXT: %[[X16:.*]] = mtf.cast %[[X]] : {{.*}}f32> -> {{.*}}bf16>
// CHECK-NEXT: %[[H:.*]] = mtf.rms_norm %[[X16]], %[[NORM]] {{.*}}bf16>, !mtf.tensor<[d_model:4], bf16>
// The router's input leaves the bf16 part once, cast up.
// CHECK-NEXT: %[[H32:.*]] = mtf.cast %[[H]] : {{.*}}bf16> -> {{.*}}f32>
// CHECK-NEXT: %[[LOGITS:.*]] = mtf.einsum %[[H32]], %[[ROUTER]] : ({{.*}}f32>, {{.*}}f32>) -> !mtf.tensor<[batch:2, length:8, experts:2], f32>
// CHECK-NEXT: %[[E:.*]], %[[GATE:.*]], %[[P:.*]], %[[D:.*]] = moe.route %[[LOGITS]] {{.*}} : !mtf.tensor<[batch:2, length:8, experts:2], f32>
// The gate comes back down for combine.
// CHECK-NEXT: %[[GATE16:.*]] = mtf.cast %[[GATE]] : {{.*}}f32> -> {{.*}}bf16>
// CHECK-NEXT: %[[BUF:.*]] = moe.dispatch %[[H]], {{.*}} -> !mtf.tensor<[experts:2, batch:2, expert_capacity:4, d_model:4], bf16>
// CHECK-NEXT: %[[IN:.*]] = mtf.einsum %[[BUF]], %[[WI]] {{.*}} -> !mtf.tensor<[experts:2, batch:2, expert_capacity:4, d_ff:8], bf16>
// The constant is rounded to bf16.
// CHECK-NEXT: %[[HALF:.*]] = mtf.constant dense<5.000000e-01> : tensor<bf16> to !mtf.tensor<[], bf16>
// CHECK-NEXT: %[[SCALED:.*]] = mtf.binary mul %[[IN]], %[[HALF]] {{.*}}bf16>
// CHECK-NEXT: %[[OUT:.*]] = mtf.einsum %[[SCALED]], %[[WI]] {{.*}} -> !mtf.tensor<[experts:2, batch:2, expert_capacity:4, d_model:4], bf16>
// CHECK-NEXT: %[[MOE:.*]] = moe.combine %[[OUT]], %[[E]], %[[P]], %[[D]], %[[GATE16]] {{.*}} -> !mtf.tensor<[batch:2, length:8, d_model:4], bf16>
// CHECK-NEXT: %[[Y:.*]] = mtf.binary add %[[X16]], %[[MOE]] {{.*}}bf16>
// CHECK-NEXT: %[[Y32:.*]] = mtf.cast %[[Y]] : {{.*}}bf16> -> {{.*}}f32>
// CHECK-NEXT: %[[Z:.*]] = moe.z_loss %[[LOGITS]]
// CHECK-NEXT: return %[[Y32]], %[[LOGITS]], %[[Z]]

// F16-LABEL: func.func @switch_layer
// F16: mtf.rms_norm {{.*}}f16>, !mtf.tensor<[d_model:4], f16>
// F16: moe.route {{.*}} : !mtf.tensor<[batch:2, length:8, experts:2], f32>

// F32-LABEL: func.func @switch_layer
// F32-NOT: mtf.cast
// F32-NOT: bf16
// F32-LABEL: func.func @constants_and_casts
module {
  func.func @switch_layer(
      %x: !mtf.tensor<[batch:2, length:8, d_model:4], f32> {mtf.name = "x"},
      %norm: !mtf.tensor<[d_model:4], f32> {mtf.param = "norm"},
      %router: !mtf.tensor<[experts:2, d_model:4], f32> {mtf.param = "router"},
      %wi: !mtf.tensor<[experts:2, d_ff:8, d_model:4], f32> {mtf.param = "wi"})
      -> (!mtf.tensor<[batch:2, length:8, d_model:4], f32> {mtf.name = "y"},
          !mtf.tensor<[batch:2, length:8, experts:2], f32> {mtf.name = "router_logits"},
          !mtf.tensor<[], f32> {mtf.name = "z_loss"}) {
    %h = mtf.rms_norm %x, %norm along d_model
        : !mtf.tensor<[batch:2, length:8, d_model:4], f32>, !mtf.tensor<[d_model:4], f32>
    %logits = mtf.einsum %h, %router
        : (!mtf.tensor<[batch:2, length:8, d_model:4], f32>, !mtf.tensor<[experts:2, d_model:4], f32>)
          -> !mtf.tensor<[batch:2, length:8, experts:2], f32>
    %expert, %gate, %position, %dropped = moe.route %logits
        tokens(length) experts(experts) capacity(4)
        : !mtf.tensor<[batch:2, length:8, experts:2], f32>
    %buffers = moe.dispatch %h, %expert, %position, %dropped
        tokens(length) experts(experts) capacity_dim(expert_capacity)
        : !mtf.tensor<[batch:2, length:8, d_model:4], f32>, !mtf.tensor<[batch:2, length:8], i32>
          -> !mtf.tensor<[experts:2, batch:2, expert_capacity:4, d_model:4], f32>
    %inner = mtf.einsum %buffers, %wi
        : (!mtf.tensor<[experts:2, batch:2, expert_capacity:4, d_model:4], f32>,
           !mtf.tensor<[experts:2, d_ff:8, d_model:4], f32>)
          -> !mtf.tensor<[experts:2, batch:2, expert_capacity:4, d_ff:8], f32>
    %half = mtf.constant dense<0.5> : tensor<f32> to !mtf.tensor<[], f32>
    %scaled = mtf.binary mul %inner, %half
        : (!mtf.tensor<[experts:2, batch:2, expert_capacity:4, d_ff:8], f32>, !mtf.tensor<[], f32>)
          -> !mtf.tensor<[experts:2, batch:2, expert_capacity:4, d_ff:8], f32>
    %out = mtf.einsum %scaled, %wi
        : (!mtf.tensor<[experts:2, batch:2, expert_capacity:4, d_ff:8], f32>,
           !mtf.tensor<[experts:2, d_ff:8, d_model:4], f32>)
          -> !mtf.tensor<[experts:2, batch:2, expert_capacity:4, d_model:4], f32>
    %moe = moe.combine %out, %expert, %position, %dropped, %gate
        tokens(length) experts(experts) capacity_dim(expert_capacity)
        : !mtf.tensor<[experts:2, batch:2, expert_capacity:4, d_model:4], f32>,
          !mtf.tensor<[batch:2, length:8], i32>, !mtf.tensor<[batch:2, length:8], f32>
          -> !mtf.tensor<[batch:2, length:8, d_model:4], f32>
    %y = mtf.binary add %x, %moe
        : (!mtf.tensor<[batch:2, length:8, d_model:4], f32>, !mtf.tensor<[batch:2, length:8, d_model:4], f32>)
          -> !mtf.tensor<[batch:2, length:8, d_model:4], f32>
    %z = moe.z_loss %logits experts(experts) : !mtf.tensor<[batch:2, length:8, experts:2], f32>
    return %y, %logits, %z
        : !mtf.tensor<[batch:2, length:8, d_model:4], f32>,
          !mtf.tensor<[batch:2, length:8, experts:2], f32>, !mtf.tensor<[], f32>
  }
}

// -----

// A float32 mask constant beyond bf16's range saturates to its largest
// finite value instead of becoming -inf; a model's own cast to bf16 (a
// router_dtype of bfloat16) becomes an identity and goes.
// CHECK-LABEL: func.func @constants_and_casts
// CHECK-NEXT: %[[X:.*]] = mtf.cast %arg0 : {{.*}}f32> -> {{.*}}bf16>
// CHECK-NEXT: mtf.constant dense<-3.389530e+38> : tensor<bf16>
// CHECK-NEXT: %[[M:.*]] = mtf.binary add %[[X]]
// CHECK-NEXT: %[[R:.*]] = mtf.unary relu %[[M]] : !mtf.tensor<[d:4], bf16>
// CHECK-NEXT: %[[O:.*]] = mtf.cast %[[R]] : {{.*}}bf16> -> {{.*}}f32>
// CHECK-NEXT: return %[[O]]
module {
  func.func @constants_and_casts(%x: !mtf.tensor<[d:4], f32>) -> !mtf.tensor<[d:4], f32> {
    %min = mtf.constant dense<-3.40282347e+38> : tensor<f32> to !mtf.tensor<[], f32>
    %masked = mtf.binary add %x, %min
        : (!mtf.tensor<[d:4], f32>, !mtf.tensor<[], f32>) -> !mtf.tensor<[d:4], f32>
    %h = mtf.cast %masked : !mtf.tensor<[d:4], f32> -> !mtf.tensor<[d:4], bf16>
    %r = mtf.unary relu %h : !mtf.tensor<[d:4], bf16>
    %o = mtf.cast %r : !mtf.tensor<[d:4], bf16> -> !mtf.tensor<[d:4], f32>
    return %o : !mtf.tensor<[d:4], f32>
  }
}

// -----

// Top-2 routing stays float32 as top-1 does (its gates normalized there);
// the per-choice gates come down to bf16 for combine.
// CHECK-LABEL: func.func @top2_layer
// CHECK: moe.route %{{.*}} top_k(2) choices(choice) capacity(8) normalize(after_drops) : !mtf.tensor<[length:8, experts:4], f32>
// CHECK-NEXT: %[[GATE16:.*]] = mtf.cast %{{.*}} : !mtf.tensor<[length:8, choice:2], f32> -> !mtf.tensor<[length:8, choice:2], bf16>
// CHECK: moe.combine {{.*}}, %[[GATE16]] {{.*}} choices(choice) : !mtf.tensor<[experts:4, expert_capacity:8, d_model:4], bf16>, !mtf.tensor<[length:8, choice:2], i32>, !mtf.tensor<[length:8, choice:2], bf16> -> !mtf.tensor<[length:8, d_model:4], bf16>
module {
  func.func @top2_layer(%x: !mtf.tensor<[length:8, d_model:4], f32> {mtf.name = "x"},
                        %router: !mtf.tensor<[experts:4, d_model:4], f32> {mtf.param = "router"})
      -> (!mtf.tensor<[length:8, d_model:4], f32> {mtf.name = "y"}) {
    %logits = mtf.einsum %x, %router
        : (!mtf.tensor<[length:8, d_model:4], f32>, !mtf.tensor<[experts:4, d_model:4], f32>)
          -> !mtf.tensor<[length:8, experts:4], f32>
    %expert, %gate, %position, %dropped = moe.route %logits tokens(length) experts(experts)
        top_k(2) choices(choice) capacity(8) normalize(after_drops)
        : !mtf.tensor<[length:8, experts:4], f32>
    %buffers = moe.dispatch %x, %expert, %position, %dropped tokens(length) experts(experts)
        capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[length:8, d_model:4], f32>, !mtf.tensor<[length:8, choice:2], i32>
          -> !mtf.tensor<[experts:4, expert_capacity:8, d_model:4], f32>
    %y = moe.combine %buffers, %expert, %position, %dropped, %gate tokens(length) experts(experts)
        capacity_dim(expert_capacity) choices(choice)
        : !mtf.tensor<[experts:4, expert_capacity:8, d_model:4], f32>,
          !mtf.tensor<[length:8, choice:2], i32>, !mtf.tensor<[length:8, choice:2], f32>
          -> !mtf.tensor<[length:8, d_model:4], f32>
    return %y : !mtf.tensor<[length:8, d_model:4], f32>
  }
}
