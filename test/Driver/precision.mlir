// --precision bf16 halves what the experts' all-to-alls send; the router's
// weight stays float32 (its all-gather is unchanged), and the outputs keep
// their types.
// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:4 -o %t.f32.syx --stats | FileCheck %s --check-prefix=F32
// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:4 --precision bf16 -o %t.bf16.syx --stats --print-ir %t.ir | FileCheck %s --check-prefix=BF16
// RUN: FileCheck %s --check-prefix=IR < %t.ir
// RUN: switchyard run %t.bf16.syx --random-weights 1 --random-inputs 2 | FileCheck %s --check-prefix=RAN
// RUN: not switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --precision fp8 -o %t.bad.syx 2>&1 | FileCheck %s --check-prefix=BAD

// F32: all_gather     1 x, 768 B sent
// F32: all_to_all     2 x, 9.0 KiB sent

// BF16: all_gather     1 x, 768 B sent
// BF16: all_to_all     2 x, 4.5 KiB sent

// IR-LABEL: func.func @switch_ff_layer
// IR-SAME: %arg0: !mtf.tensor<[batch:2, length:16, d_model:32], f32>
// IR-SAME: %arg2: !mtf.tensor<[experts:2, d_model:32], f32> {mtf.global = !mtf.tensor<[experts:8{b}, d_model:32], f32>
// IR-SAME: %arg3: !mtf.tensor<[experts:2, d_ff:64, d_model:32], bf16> {mtf.global = !mtf.tensor<[experts:8{b}, d_ff:64, d_model:32], bf16>
// IR: moe.route {{.*}} : !mtf.tensor<[batch:2, length:16, experts:8], f32>
// IR: shard.all_to_all {{.*}} : tensor<8x2x3x32xbf16> -> tensor<2x8x3x32xbf16>

// RAN: ran on 4 CPU devices
// RAN: hidden_states [8, 16, 32] f32
// RAN: z_loss [] f32
// RAN: aux_loss [] f32

// BAD: error: unknown precision 'fp8'; expected bf16, f16 or f32
