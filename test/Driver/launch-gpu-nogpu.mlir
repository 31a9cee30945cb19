// Without a GPU, `switchyard run --backend cuda --launch 4` still starts the
// four processes and they meet (rank 0 makes the NCCL id, the rendezvous
// gives it to all); each then finds no GPU, and the launcher ends the job
// with the first failure's exit code.
// REQUIRES: nccl
// UNSUPPORTED: cuda
// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:2,e:2 --layout 'batch:b;experts:e' -o %t.syx
// RUN: not switchyard run %t.syx --backend cuda --launch 4 --random-weights 1 --random-inputs 2 > %t.log 2>&1
// RUN: FileCheck %s < %t.log
// CHECK-DAG: switchyard run: rank {{[0-3]}}: FAILED_PRECONDITION: --backend cuda: no CUDA device
// CHECK-DAG: switchyard run: --launch: rank {{[0-3]}} exited with code 1; ending the other processes
