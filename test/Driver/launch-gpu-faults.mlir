// A process of `switchyard run --backend cuda --launch 4` that fails before
// the others meet it: the launcher ends the rest, whether they wait at the
// rendezvous or have given up on it, and exits with the first failure's code
// (SWITCHYARD_RENDEZVOUS_FAULT, Rendezvous.h). This happens before any GPU
// is needed.
// REQUIRES: nccl
// RUN: switchyard compile %switchyard_src_root/examples/switch_moe_layer.mlir --mesh b:2,e:2 --layout 'batch:b;experts:e' -o %t.syx

// Rank 2 exits (code 70) while the others wait for it at the rendezvous.
// RUN: env SWITCHYARD_RENDEZVOUS_FAULT=2:exit sh -c 'switchyard run %t.syx --backend cuda --launch 4 --random-weights 1 --random-inputs 2; echo "exit status $?"' > %t.exit.log 2>&1
// RUN: FileCheck %s --check-prefix=EXIT < %t.exit.log
// EXIT: switchyard run: --launch: rank 2 exited with code 70; ending the other processes
// EXIT: exit status 70

// Rank 1 stalls: after --collective-timeout the others learn from the
// rendezvous that it did not arrive and fail, and the launcher ends rank 1.
// RUN: env SWITCHYARD_RENDEZVOUS_FAULT=1:stall sh -c 'switchyard run %t.syx --backend cuda --launch 4 --random-weights 1 --random-inputs 2 --collective-timeout 2; echo "exit status $?"' > %t.stall.log 2>&1
// RUN: FileCheck %s --check-prefix=STALL < %t.stall.log
// STALL: switchyard run: rank {{[023]}}: FAILED_PRECONDITION: rendezvous of rank {{[023]}} at 127.0.0.1:{{[0-9]+}}: rank(s) 1 of 4 did not arrive at the rendezvous within 2s
// STALL: switchyard run: --launch: rank {{[023]}} exited with code 1; ending the other processes
// STALL: exit status 1

// A malformed hook is an error of the processes that read it.
// RUN: not env SWITCHYARD_RENDEZVOUS_FAULT=oops switchyard run %t.syx --backend cuda --launch 4 --random-weights 1 --random-inputs 2 2>&1 | FileCheck %s --check-prefix=HOOK
// HOOK: INVALID_ARGUMENT: SWITCHYARD_RENDEZVOUS_FAULT='oops' must be RANK:MODE, MODE exit or stall
