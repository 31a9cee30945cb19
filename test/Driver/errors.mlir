// Bad input to the driver is a clear error and a non-zero exit.
// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:8 -o %t.syx
// RUN: not switchyard run %t.syx --devices 4 --random-weights 1 2>&1 | FileCheck %s --check-prefix=DEVICES
// RUN: not switchyard run %t.syx 2>&1 | FileCheck %s --check-prefix=WEIGHTS
// RUN: not switchyard run %t.syx --random-weights 1 2>&1 | FileCheck %s --check-prefix=INPUTS
// RUN: not switchyard run %t.syx --random-weights 1 --input hidden_states 2>&1 | FileCheck %s --check-prefix=SPEC
// RUN: not switchyard run %s --random-weights 1 2>&1 | FileCheck %s --check-prefix=NOTEXE
// RUN: not switchyard compile %s --mesh b:3 --layout batch:b -o %t.bad.syx 2>&1 | FileCheck %s --check-prefix=DIVIDE
// RUN: not switchyard compile %t.missing.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not switchyard 2>&1 | FileCheck %s --check-prefix=NOSUB

// DEVICES: switchyard run: INVALID_ARGUMENT: the executable's mesh has 8 devices but --devices 4 were asked for
// WEIGHTS: switchyard run:{{.*}}weights
// INPUTS: switchyard run:{{.*}}hidden_states
// SPEC: switchyard run: INVALID_ARGUMENT: --input 'hidden_states' must be NAME=FILE.npy or FILE.safetensors
// NOTEXE: switchyard run:
// DIVIDE: error: layout rule 'batch:b' splits dimension 'batch' of size 2 into 3 parts, which does not divide it
// MISSING: switchyard compile: {{.*}}missing.mlir
// NOSUB: give a subcommand (compile, run, generate, explore)

module {
  func.func @f(%x: !mtf.tensor<[batch:2], f32>) -> !mtf.tensor<[batch:2], f32> {
    return %x : !mtf.tensor<[batch:2], f32>
  }
}
