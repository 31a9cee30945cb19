// `switchyard run --backend cuda --launch N`: N processes, one GPU each,
// which meet at the launcher's rendezvous and exchange data over NCCL.
// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:2,e:2 --layout 'batch:b;experts:e' -o %t.syx

// The launcher refuses a process count other than the mesh size before
// starting any process.
// RUN: not switchyard run %t.syx --backend cuda --launch 2 --random-weights 1 --random-inputs 2 2>&1 | FileCheck %s --check-prefix=COUNT
// COUNT: switchyard run: INVALID_ARGUMENT: --launch 2 --backend cuda runs one mesh device per process (one GPU each), but the executable's mesh has 4 devices

// The processes' environment must be whole, and only the cuda backend runs
// in such a job.
// RUN: not env SWITCHYARD_RANK=1 SWITCHYARD_WORLD_SIZE=4 switchyard run %t.syx --backend cuda --random-weights 1 --random-inputs 2 2>&1 | FileCheck %s --check-prefix=ENV
// ENV: switchyard run: INVALID_ARGUMENT: SWITCHYARD_RANK is set but SWITCHYARD_RENDEZVOUS is not
// RUN: not env SWITCHYARD_RANK=1 SWITCHYARD_WORLD_SIZE=4 SWITCHYARD_RENDEZVOUS=127.0.0.1:1 switchyard run %t.syx --random-weights 1 --random-inputs 2 2>&1 | FileCheck %s --check-prefix=CPU
// CPU: switchyard run: rank 1: FAILED_PRECONDITION: SWITCHYARD_RANK is set, as by --launch --backend cuda, but --backend is cpu; cpu processes run under MPI
