// On a machine with four GPUs, `switchyard run --backend cuda --launch 4`
// runs four processes, one GPU each, exchanging data over NCCL, and returns
// the outputs of the one-device run (routing equal, floats within 1e-5):
// the MoE layer with its experts' all_to_all (the experts on the batch axis,
// so the blocks are strided and packed around the NCCL calls), a d_ff split
// whose partial sums are all-reduced, a contraction whose partial sums are
// reduce-scattered, and layout changes over groups of one and of two mesh
// axes (all_gather, all_to_all).
// REQUIRES: multi-gpu
// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:4 --layout 'batch:b;experts:b' -o %t.moe.syx
// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:1 --layout 'batch:b;experts:b' -o %t.moe1.syx
// RUN: switchyard run %t.moe1.syx --random-weights 1 --random-inputs 2 --output %t.moe1.safetensors
// RUN: switchyard run %t.moe.syx --backend cuda --launch 4 --random-weights 1 --random-inputs 2 --output %t.moe.safetensors | FileCheck %s --check-prefix=MOE
// RUN: compare-outputs %t.moe1.safetensors %t.moe.safetensors 1e-5
// MOE: ran on 4 CUDA devices in 4 processes
// MOE: collectives (bytes moved, rank 0's device):
// MOE: all_to_all

// RUN: switchyard compile %switchyard_src_root/test/Equivalence/models/einsum.mlir --mesh b:2,e:2 --layout 'batch:b;d_ff:e' -o %t.ff.syx
// RUN: switchyard compile %switchyard_src_root/test/Equivalence/models/einsum.mlir --mesh b:1,e:1 --layout 'batch:b;d_ff:e' -o %t.ff1.syx
// RUN: switchyard run %t.ff1.syx --random-weights 1 --random-inputs 2 --output %t.ff1.safetensors
// RUN: switchyard run %t.ff.syx --backend cuda --launch 4 --random-weights 1 --random-inputs 2 --output %t.ff.safetensors | FileCheck %s --check-prefix=FF
// RUN: compare-outputs %t.ff1.safetensors %t.ff.safetensors 1e-5
// FF: all_reduce

// RUN: switchyard compile %switchyard_src_root/test/Equivalence/models/contraction.mlir --mesh x:2,y:2 --layout 'k:x,y;batch:x,y' -o %t.rs.syx
// RUN: switchyard compile %switchyard_src_root/test/Equivalence/models/contraction.mlir --mesh x:1,y:1 --layout 'k:x,y;batch:x,y' -o %t.rs1.syx
// RUN: switchyard run %t.rs1.syx --random-weights 1 --random-inputs 2 --output %t.rs1.safetensors
// RUN: switchyard run %t.rs.syx --backend cuda --launch 4 --random-weights 1 --random-inputs 2 --output %t.rs.safetensors | FileCheck %s --check-prefix=RS
// RUN: compare-outputs %t.rs1.safetensors %t.rs.safetensors 1e-5
// RS: reduce_scatter

// RUN: switchyard compile %switchyard_src_root/test/Equivalence/models/reshard.mlir --mesh x:2,y:2 -o %t.re.syx
// RUN: switchyard compile %switchyard_src_root/test/Equivalence/models/reshard.mlir --mesh x:1,y:1 -o %t.re1.syx
// RUN: switchyard run %t.re1.syx --random-weights 1 --random-inputs 2 --output %t.re1.safetensors
// RUN: switchyard run %t.re.syx --backend cuda --launch 4 --random-weights 1 --random-inputs 2 --output %t.re.safetensors | FileCheck %s --check-prefix=RE
// RUN: compare-outputs %t.re1.safetensors %t.re.safetensors 1e-5
// RE: all_gather
// RE: all_to_all
