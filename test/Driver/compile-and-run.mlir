// The driver compiles the example layer for an 8-device mesh and runs it on
// 8 CPU devices with random weights and inputs.
// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:8 --layout 'experts:b;batch:b' -o %t.syx --stats | FileCheck %s --check-prefix=STATS
// RUN: switchyard run %t.syx --random-weights 1 --random-inputs 2 --output %t.out | FileCheck %s --check-prefix=RAN
// RUN: ls %t.out | FileCheck %s --check-prefix=FILES
// Repeated runs write into the first run's outputs, and return the same.
// RUN: switchyard run %t.syx --random-weights 1 --random-inputs 2 --output %t.once.safetensors
// RUN: switchyard run %t.syx --random-weights 1 --random-inputs 2 --repeat 3 --timing --output %t.thrice.safetensors | FileCheck %s --check-prefix=REPEAT
// RUN: compare-outputs %t.once.safetensors %t.thrice.safetensors 0
// On a one-device mesh the same program moves no data.
// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:1 --layout 'experts:b;batch:b' -o %t.1.syx
// RUN: switchyard run %t.1.syx --random-weights 1 --random-inputs 2 | FileCheck %s --check-prefix=ONE
// The top-2 example: its all-to-alls carry both choices' slots (5 per
// sequence and expert instead of 3), and 4 devices compute what 1 does.
// RUN: switchyard compile %switchyard_src_root/examples/top2_moe_layer.mlir --mesh b:4 --layout 'experts:b;batch:b' -o %t.top2.syx --stats | FileCheck %s --check-prefix=TOP2
// RUN: switchyard compile %switchyard_src_root/examples/top2_moe_layer.mlir --mesh b:1 -o %t.top2.1.syx
// RUN: switchyard run %t.top2.syx --random-weights 1 --random-inputs 2 --output %t.top2.safetensors
// RUN: switchyard run %t.top2.1.syx --random-weights 1 --random-inputs 2 --output %t.top2.1.safetensors
// RUN: compare-outputs %t.top2.1.safetensors %t.top2.safetensors 1e-5

// STATS: executable: {{.*}}.syx
// STATS: peak memory per device:
// STATS: collectives per device:
// STATS: all_to_all     2 x

// RAN: ran on 8 CPU devices
// RAN: hidden_states [8, 16, 32] f32 
// RAN: z_loss [] f32 
// RAN: collectives (bytes moved, all devices):
// RAN: all_to_all     2 op(s)

// REPEAT: run 1:
// REPEAT: run 2:
// REPEAT: run 3:

// FILES: aux_loss.npy
// FILES: hidden_states.npy
// FILES: z_loss.npy

// TOP2: shard.all_to_all at top2_moe_layer.mlir:{{.*}} [experts:2, batch:8, expert_capacity:5, d_model:32] f32
// TOP2: all_to_all     2 x, 15.0 KiB sent

// ONE: ran on 1 CPU device
// ONE: collectives (bytes moved, all devices):
// ONE-NEXT: none
