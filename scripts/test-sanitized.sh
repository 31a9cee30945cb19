#!/usr/bin/env bash
# The hardening half of CI (docs/hardening.md): builds Switchyard with
# AddressSanitizer + UBSan and the libFuzzer targets (clang) into build-asan
# (or $ASAN_BUILD_DIR), runs every test (ctest: lit + unit tests) under the
# sanitizers, then each fuzz target for $FUZZ_SECONDS (default 60; 0 skips
# them) seconds from its seed corpus in fuzz/corpus/<target>. Any sanitizer report, fuzzer
# crash, leak or timeout fails the script; a fuzzer's failing input is
# written to $build_dir/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${ASAN_BUILD_DIR:-build-asan}
fuzz_seconds=${FUZZ_SECONDS:-60}

# CUDA is off: nvcc code is not instrumented, the CUDA driver needs special
# ASan settings, and the GPU tests need a GPU. Benchmarks are not tests.
CC=clang CXX=clang++ cmake -G Ninja -S . -B "$build_dir" \
  -DMLIR_DIR="$(llvm-config-22 --prefix)/lib/cmake/mlir" \
  -DSWITCHYARD_SANITIZE=ON -DSWITCHYARD_FUZZ=ON \
  -DSWITCHYARD_ENABLE_CUDA=OFF -DSWITCHYARD_BUILD_BENCH=OFF
ninja -C "$build_dir"

# allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons its slabs when
# compiled with ASan, and its inline code is instantiated both in our
# instrumented objects and in Debian's uninstrumented MLIR libraries; the
# linker keeps one copy of each, so slabs get poisoned by one copy and
# handed out by the other (false use-after-poison reports). UBSan findings
# are fatal (the build passes -fno-sanitize-recover=undefined) and print a
# stack.
export ASAN_OPTIONS=allow_user_poisoning=0:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" -E '^mpi\.'
# OpenMPI's plugins allocate without freeing and are unloaded before exit,
# so LeakSanitizer can neither attribute nor suppress those reports: the
# MPI tests run with every check but the leak check.
ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 \
  ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" -R '^mpi\.'

((fuzz_seconds > 0)) || exit 0
artifacts=$build_dir/fuzz/artifacts
mkdir -p "$artifacts"
for target in npy safetensors executable hf_config pipeline; do
  # New inputs go to a scratch corpus; the committed seeds stay as they are.
  scratch=$(mktemp -d)
  echo "fuzz: ${target}_fuzzer for ${fuzz_seconds} s"
  if ! "$build_dir/fuzz/${target}_fuzzer" "$scratch" "fuzz/corpus/$target" \
      -max_total_time="$fuzz_seconds" -timeout=20 -print_final_stats=1 \
      -artifact_prefix="$artifacts/${target}-" >"$scratch.log" 2>&1; then
    tail -n 100 "$scratch.log"
    echo "fuzz: ${target}_fuzzer failed; its input is in $artifacts" >&2
    exit 1
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$scratch.log"
  rm -rf "$scratch" "$scratch.log"
done
