// Bad input to the driver, one class per check: each is a clear error and a
// non-zero exit, never a crash or a wrong answer.
// RUN: rm -rf %t && split-file %s %t
//
// A program whose planned peak memory exceeds --device-memory is refused at
// compile time, naming the largest buffers; no executable is written.
// RUN: not switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:2 --layout 'experts:b;batch:b' --device-memory 100KiB -o %t/big.syx 2>&1 | FileCheck %s --check-prefix=MEMORY
// RUN: not test -e %t/big.syx
// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:2 --layout 'experts:b;batch:b' --device-memory 16GiB -o %t/layer.syx
// RUN: not switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --device-memory 12x 2>&1 | FileCheck %s --check-prefix=BYTES
//
// A truncated executable.
// RUN: head -c 200 %t/layer.syx > %t/truncated.syx
// RUN: not switchyard run %t/truncated.syx --random-weights 1 --random-inputs 2 2>&1 | FileCheck %s --check-prefix=TRUNCATED
//
// Token ids outside the table: the input, the id and its position.
// RUN: switchyard compile %t/ids.mlir -o %t/ids.syx
// RUN: switchyard run %t/ids.syx --output %t/ids > /dev/null
// RUN: switchyard compile %t/embed.mlir --mesh b:2 --layout batch:b -o %t/embed.syx
// RUN: not switchyard run %t/embed.syx --random-weights 1 --input ids=%t/ids/ids.npy 2>&1 | FileCheck %s --check-prefix=IDS
//
// Labels feeding a one_hot, split over a mesh: values outside its depth are
// refused like ids outside a table, except the input's mtf.ignored_index,
// which survives partitioning and the executable and gives a zero row.
// RUN: switchyard compile %t/labels.mlir -o %t/labels.syx
// RUN: switchyard run %t/labels.syx --output %t/labels > /dev/null
// RUN: switchyard compile %t/one-hot.mlir --mesh b:2 --layout rows:b -o %t/one-hot.syx
// RUN: switchyard run %t/one-hot.syx --input labels=%t/labels/good.npy --output %t/one-hot.safetensors > /dev/null
// RUN: switchyard compile %t/expected.mlir -o %t/expected.syx
// RUN: switchyard run %t/expected.syx --output %t/expected.safetensors > /dev/null
// RUN: compare-outputs %t/expected.safetensors %t/one-hot.safetensors 0
// RUN: not switchyard run %t/one-hot.syx --input labels=%t/labels/high.npy 2>&1 | FileCheck %s --check-prefix=LABELS-HIGH
// RUN: not switchyard run %t/one-hot.syx --input labels=%t/labels/negative.npy 2>&1 | FileCheck %s --check-prefix=LABELS-NEGATIVE
// RUN: switchyard compile %t/one-hot-strict.mlir -o %t/one-hot-strict.syx
// RUN: not switchyard run %t/one-hot-strict.syx --input labels=%t/labels/good.npy 2>&1 | FileCheck %s --check-prefix=LABELS-STRICT
//
// A checkpoint without the weight, and one whose weight has another shape.
// RUN: switchyard run %t/ids.syx --output %t/ids.safetensors > /dev/null
// RUN: not switchyard run %t/embed.syx --weights %t/ids.safetensors --random-inputs 1 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: switchyard compile %t/shared.mlir -o %t/shared.syx
// RUN: switchyard run %t/shared.syx --output %t/shared.safetensors > /dev/null
// RUN: not switchyard run %t/embed.syx --weights %t/shared.safetensors --random-inputs 1 2>&1 | FileCheck %s --check-prefix=SHAPE
//
// A checkpoint with more stacked entries (experts) than the program has.
// RUN: switchyard compile %t/three-experts.mlir -o %t/three.syx
// RUN: switchyard run %t/three.syx --output %t/three.safetensors > /dev/null
// RUN: switchyard compile %t/two-experts.mlir -o %t/two.syx
// RUN: not switchyard run %t/two.syx --weights %t/three.safetensors 2>&1 | FileCheck %s --check-prefix=EXTRA
//
// A top-k route choosing more experts than there are: the op's location.
// RUN: not switchyard compile %t/top-k.mlir -o %t/top-k.syx 2>&1 | FileCheck %s --check-prefix=TOPK
// RUN: not test -e %t/top-k.syx
//
// bf16 outputs go to .npy widened to f32, with a note.
// RUN: switchyard compile %t/bf16.mlir -o %t/bf16.syx
// RUN: switchyard run %t/bf16.syx --random-inputs 1 --output %t/out 2>&1 | FileCheck %s --check-prefix=BF16
// RUN: test -s %t/out/y.npy

// MEMORY: switch_moe_layer.mlir:{{[0-9]+}}:{{[0-9]+}}: error: the program needs 111.4 KiB per device (the buffer plan's peak; weights and inputs 72.6 KiB), more than --device-memory 100.0 KiB
// MEMORY: note: large buffer: 32.0 KiB  weight 'encoder.block.1.layer.1.mlp.experts.expert_{experts}.wi.weight' [experts:4, d_ff:64, d_model:32] f32
// MEMORY: note: large buffer: 24.0 KiB  mtf.einsum at switch_moe_layer.mlir:31:14 [experts:4, batch:8, expert_capacity:3, d_ff:64] f32
// TOPK: top-k.mlir:4:22: error: 'moe.route' op top_k must be between 1 and the 4 experts, got 5
// BYTES: switchyard compile: --device-memory '12x' is not a positive byte count such as 16GiB, 512MB or 1048576
// TRUNCATED: switchyard run: INVALID_ARGUMENT: invalid executable '{{.*}}truncated.syx': the FlatBuffers verifier rejects the file (truncated or corrupt)
// IDS: switchyard run: INVALID_ARGUMENT: input 'ids' holds 7 at [1], outside [0, 4): it indexes dimension 'vocab' of size 4
// LABELS-HIGH: switchyard run: INVALID_ARGUMENT: input 'labels' holds 8 at [2], outside [0, 8): it indexes dimension 'classes' of size 8, or is the ignored index -100
// LABELS-NEGATIVE: switchyard run: INVALID_ARGUMENT: input 'labels' holds -5 at [1], outside [0, 8): it indexes dimension 'classes' of size 8, or is the ignored index -100
// LABELS-STRICT: switchyard run: INVALID_ARGUMENT: input 'labels' holds -100 at [1], outside [0, 8): it indexes dimension 'classes' of size 8{{$}}
// MISSING: switchyard run: NOT_FOUND: device 0: the checkpoint has no tensor 'shared'
// SHAPE: switchyard run: INVALID_ARGUMENT: device 0: weight 'shared' (for input 'arg0') has shape [3, 2], the executable expects [4, 2]
// EXTRA: switchyard run: INVALID_ARGUMENT: device 0: the checkpoint has 'w_2' but the program stacks 2 of 'w_{experts}' along 'experts': the checkpoint was made for another model
// BF16: switchyard run: note: output 'y' is bf16, which .npy lacks: {{.*}}y.npy holds it widened to f32 (the same values); a .safetensors output keeps bf16

//--- ids.mlir
module {
  func.func @main() -> (!mtf.tensor<[batch:2], i32> {mtf.name = "ids"}) {
    %c = mtf.constant dense<[1, 7]> : tensor<2xi32> to !mtf.tensor<[batch:2], i32>
    return %c : !mtf.tensor<[batch:2], i32>
  }
}

//--- labels.mlir
module {
  func.func @main() -> (!mtf.tensor<[rows:4], i32> {mtf.name = "good"},
                        !mtf.tensor<[rows:4], i32> {mtf.name = "high"},
                        !mtf.tensor<[rows:4], i32> {mtf.name = "negative"}) {
    %g = mtf.constant dense<[3, -100, 0, 7]> : tensor<4xi32> to !mtf.tensor<[rows:4], i32>
    %h = mtf.constant dense<[3, -100, 8, 7]> : tensor<4xi32> to !mtf.tensor<[rows:4], i32>
    %n = mtf.constant dense<[3, -5, 0, -100]> : tensor<4xi32> to !mtf.tensor<[rows:4], i32>
    return %g, %h, %n : !mtf.tensor<[rows:4], i32>, !mtf.tensor<[rows:4], i32>, !mtf.tensor<[rows:4], i32>
  }
}

//--- one-hot.mlir
module {
  func.func @main(%labels: !mtf.tensor<[rows:4], i32> {mtf.name = "labels", mtf.ignored_index = -100 : i32})
      -> (!mtf.tensor<[rows:4, classes:8], f32> {mtf.name = "h"}) {
    %h = mtf.one_hot %labels : !mtf.tensor<[rows:4], i32> -> !mtf.tensor<[rows:4, classes:8], f32>
    return %h : !mtf.tensor<[rows:4, classes:8], f32>
  }
}

//--- one-hot-strict.mlir
module {
  func.func @main(%labels: !mtf.tensor<[rows:4], i32> {mtf.name = "labels"})
      -> (!mtf.tensor<[rows:4, classes:8], f32> {mtf.name = "h"}) {
    %h = mtf.one_hot %labels : !mtf.tensor<[rows:4], i32> -> !mtf.tensor<[rows:4, classes:8], f32>
    return %h : !mtf.tensor<[rows:4, classes:8], f32>
  }
}

//--- expected.mlir
module {
  func.func @main() -> (!mtf.tensor<[rows:4, classes:8], f32> {mtf.name = "h"}) {
    %h = mtf.constant dense<[[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]> : tensor<4x8xf32> to !mtf.tensor<[rows:4, classes:8], f32>
    return %h : !mtf.tensor<[rows:4, classes:8], f32>
  }
}

//--- shared.mlir
module {
  func.func @main() -> (!mtf.tensor<[vocab:3, d_model:2], f32> {mtf.name = "shared"}) {
    %c = mtf.constant dense<1.0> : tensor<3x2xf32> to !mtf.tensor<[vocab:3, d_model:2], f32>
    return %c : !mtf.tensor<[vocab:3, d_model:2], f32>
  }
}

//--- embed.mlir
module {
  func.func @main(%table: !mtf.tensor<[vocab:4, d_model:2], f32> {mtf.param = "shared"},
                  %ids: !mtf.tensor<[batch:2], i32> {mtf.name = "ids"})
      -> (!mtf.tensor<[batch:2, d_model:2], f32> {mtf.name = "x"}) {
    %x = mtf.gather %table[%ids] along vocab
        : (!mtf.tensor<[vocab:4, d_model:2], f32>, !mtf.tensor<[batch:2], i32>) -> !mtf.tensor<[batch:2, d_model:2], f32>
    return %x : !mtf.tensor<[batch:2, d_model:2], f32>
  }
}

//--- bf16.mlir
module {
  func.func @main(%x: !mtf.tensor<[batch:2], f32> {mtf.name = "x"})
      -> (!mtf.tensor<[batch:2], bf16> {mtf.name = "y"}) {
    %y = mtf.cast %x : !mtf.tensor<[batch:2], f32> -> !mtf.tensor<[batch:2], bf16>
    return %y : !mtf.tensor<[batch:2], bf16>
  }
}

//--- three-experts.mlir
module {
  func.func @main() -> (!mtf.tensor<[d:2], f32> {mtf.name = "w_0"},
                        !mtf.tensor<[d:2], f32> {mtf.name = "w_1"},
                        !mtf.tensor<[d:2], f32> {mtf.name = "w_2"}) {
    %c = mtf.constant dense<1.0> : tensor<2xf32> to !mtf.tensor<[d:2], f32>
    return %c, %c, %c : !mtf.tensor<[d:2], f32>, !mtf.tensor<[d:2], f32>, !mtf.tensor<[d:2], f32>
  }
}

//--- two-experts.mlir
module {
  func.func @main(%w: !mtf.tensor<[experts:2, d:2], f32> {mtf.param = "w_{experts}"})
      -> (!mtf.tensor<[d:2], f32> {mtf.name = "sum"}) {
    %s = mtf.reduce sum %w : !mtf.tensor<[experts:2, d:2], f32> -> !mtf.tensor<[d:2], f32>
    return %s : !mtf.tensor<[d:2], f32>
  }
}

//--- top-k.mlir
module {
  func.func @main(%logits: !mtf.tensor<[tokens:8, experts:4], f32> {mtf.name = "logits"})
      -> (!mtf.tensor<[tokens:8, choice:5], f32> {mtf.name = "gate"}) {
    %e, %g, %p, %d = moe.route %logits tokens(tokens) experts(experts) top_k(5) choices(choice) capacity(8)
        : !mtf.tensor<[tokens:8, experts:4], f32>
    return %g : !mtf.tensor<[tokens:8, choice:5], f32>
  }
}
