// On one GPU: a job of one process (`--launch 1`) goes through NCCL (its
// communicator, the error flags' reduction, the outputs' all-gather) and
// returns exactly the in-process run's outputs; a job of two processes
// finds no second GPU for rank 1, which fails, and the launcher ends rank 0.
// REQUIRES: single-gpu, nccl
// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:1 --layout 'batch:b;experts:b' -o %t.syx
// RUN: switchyard run %t.syx --backend cuda --random-weights 1 --random-inputs 2 --output %t.in.safetensors
// RUN: switchyard run %t.syx --backend cuda --launch 1 --random-weights 1 --random-inputs 2 --output %t.nccl.safetensors | FileCheck %s --check-prefix=ONE
// RUN: compare-outputs %t.in.safetensors %t.nccl.safetensors 0
// ONE: ran on 1 CUDA device in 1 process

// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:2 --layout 'batch:b;experts:b' -o %t.2.syx
// RUN: not switchyard run %t.2.syx --backend cuda --launch 2 --random-weights 1 --random-inputs 2 2>&1 | FileCheck %s --check-prefix=TWO
// TWO-DAG: switchyard run: rank 1: FAILED_PRECONDITION: --backend cuda: this process takes GPU 1 (one process per GPU, as NCCL requires) but this machine has 1
// TWO-DAG: switchyard run: --launch: rank 1 exited with code 1; ending the other processes
