#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: runs every GPU test (the cuda runtime's
# unit tests, the equivalence and property suites and the Hugging Face
# parity suites, Switch models and NLLB-MoE's top-2 layer, on the cuda
# backend, jobs of one process per GPU over NCCL, and greedy generation
# against the cpu backend) and the GPU MoE-layer benchmark, and writes
# everything to one report file.
#
#   bench/gpu_check.sh [BUILD_DIR] [REPORT]
#       builds Switchyard with the cuda backend in BUILD_DIR (default:
#       build-gpu next to the repository) first; REPORT defaults to
#       BUILD_DIR/gpu_report.txt.
#   bench/gpu_check.sh --bundle ARCHIVE [REPORT]
#       runs the binaries of an archive made by bench/gpu_bundle.sh, on a
#       machine that cannot build Switchyard; REPORT defaults to
#       gpu_report.txt in the current directory.
#
# Exits non-zero if there is no GPU, the build fails, a test fails or skips,
# or the benchmark fails (the report says which).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${JOBS:-$(nproc)}"

die() {
  echo "gpu_check: $*" >&2
  exit 1
}

archive=""
if [ "${1:-}" = "--bundle" ]; then
  [ $# -ge 2 ] || die "--bundle needs the archive bench/gpu_bundle.sh made"
  archive="$(realpath "$2")"
  report="$(realpath -m "${3:-gpu_report.txt}")"
else
  build="$(realpath -m "${1:-$repo/../build-gpu}")"
  report="$(realpath -m "${2:-$build/gpu_report.txt}")"
fi

command -v nvidia-smi >/dev/null || die "nvidia-smi not found: no NVIDIA driver"
nvidia-smi -L >/dev/null 2>&1 || die "nvidia-smi finds no GPU"

mkdir -p "$(dirname "$report")"
: >"$report"
trap 'echo "gpu_check: FAILED at line $LINENO; report: $report" | tee -a "$report" >&2' ERR
section() { printf '\n===== %s =====\n' "$*" | tee -a "$report"; }

section "machine"
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  if command -v nvcc >/dev/null; then nvcc --version | tail -1; fi
} 2>&1 | tee -a "$report"

if [ -n "$archive" ]; then
  section "bundle"
  bin="$(mktemp -d)"
  trap 'rm -rf "'"$bin"'"' EXIT
  tar -C "$bin" -xJf "$archive"
  built_in="$(cat "$bin/SOURCE_DIR")"
  [ "$built_in" = "$repo" ] ||
    die "the bundle's tests read their data from $built_in; run this from a" \
      "checkout at that path"
  echo "built from: $(cat "$bin/COMMIT")" | tee -a "$report"
  export LD_LIBRARY_PATH="$bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  bin="$bin/bin"
  runtime_test="$bin/RuntimeCudaTest"
  equivalence_test="$bin/EquivalenceTest"
  property_test="$bin/PropertyTest"
  parity_test="$bin/HFParityTest"
  top2_parity_test="$bin/Top2LayerParityTest"
  bench="$bin/gpu_moe_layer_bench"
  switchyard="$bin/switchyard"
  compare="$bin/compare-outputs"
else
  command -v nvcc >/dev/null || die "nvcc not found: put the CUDA toolkit on PATH"
  section "configure and build"
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSWITCHYARD_ENABLE_CUDA=ON 2>&1 | tail -3 | tee -a "$report"
  cmake --build "$build" -j "$jobs" 2>&1 | tail -20 | tee -a "$report"
  echo "built from: $(git -C "$repo" log -1 --format='%h %s')" | tee -a "$report"
  runtime_test="$build/test/Runtime/RuntimeCudaTest"
  equivalence_test="$build/test/Equivalence/EquivalenceTest"
  property_test="$build/test/Equivalence/PropertyTest"
  parity_test="$build/test/HF/HFParityTest"
  top2_parity_test="$build/test/HF/Top2LayerParityTest"
  bench="$build/bench/gpu_moe_layer/gpu_moe_layer_bench"
  switchyard="$build/bin/switchyard"
  compare="$build/test/Support/compare-outputs"
fi

status=0
# Runs the tests of one gtest binary that `filter` selects. None selected,
# or one skipped (the tests did not see the GPU), is a failure.
run_tests() {
  local binary="$1" filter="$2" log
  section "$(basename "$binary") --gtest_filter=$filter"
  log="$(mktemp)"
  "$binary" --gtest_filter="$filter" --gtest_brief=1 2>&1 | tee "$log" |
    tee -a "$report" || status=1
  if grep -q '^\[==========\] 0 tests' "$log"; then
    echo "gpu_check: no test matched" | tee -a "$report"
    status=1
  fi
  if grep -q '^\[  SKIPPED \]' "$log"; then
    echo "gpu_check: tests skipped although nvidia-smi sees a GPU" |
      tee -a "$report"
    status=1
  fi
  rm -f "$log"
}

run_tests "$runtime_test" '*'
run_tests "$equivalence_test" '*cuda*'
run_tests "$property_test" '*cuda*'
run_tests "$parity_test" '*cuda*'
run_tests "$top2_parity_test" '*cuda*'

# The example MoE layer as a job of NP processes, one GPU each, over NCCL
# (`switchyard run --backend cuda --launch NP`), against its one-device cpu
# run: routing equal, floats within 1e-5.
nccl_job() {
  local np="$1" work ok=1
  work="$(mktemp -d)"
  section "NCCL: switchyard run --backend cuda --launch $np"
  # Not in a pipeline, so that `status` stays this shell's.
  "$switchyard" compile "$repo/examples/switch_moe_layer.mlir" \
    --mesh "b:$np" --layout 'batch:b;experts:b' -o "$work/mesh.syx" \
    >>"$work/log" 2>&1 &&
    "$switchyard" compile "$repo/examples/switch_moe_layer.mlir" \
      --mesh b:1 --layout 'batch:b;experts:b' -o "$work/one.syx" \
      >>"$work/log" 2>&1 &&
    "$switchyard" run "$work/one.syx" --random-weights 1 --random-inputs 2 \
      --output "$work/one.safetensors" >/dev/null 2>>"$work/log" &&
    "$switchyard" run "$work/mesh.syx" --backend cuda --launch "$np" \
      --random-weights 1 --random-inputs 2 --timing \
      --output "$work/nccl.safetensors" >>"$work/log" 2>&1 &&
    "$compare" "$work/one.safetensors" "$work/nccl.safetensors" 1e-5 \
      >>"$work/log" 2>&1 || ok=0
  if [ "$ok" -eq 1 ]; then
    echo "gpu_check: $np process(es) match the one-device run" >>"$work/log"
  else
    echo "gpu_check: the NCCL job of $np process(es) FAILED" >>"$work/log"
    status=1
  fi
  tee -a "$report" <"$work/log"
  rm -rf "$work"
}
gpus="$(nvidia-smi -L | grep -c '^GPU ')"
nccl_job 1
if [ "$gpus" -ge 2 ]; then
  nccl_job "$(( gpus >= 8 ? 8 : gpus >= 4 ? 4 : 2 ))"
else
  echo "gpu_check: one GPU, so no job of several processes (NCCL takes" \
    "one process per GPU)" | tee -a "$report"
fi

section "switchyard generate --backend cuda against --backend cpu"
hf="$repo/test/HF/data/switch-e8-nodrop-step2-gelu"
generate=("$switchyard" generate "$hf" --input "$hf/inputs.safetensors"
  --max-new-tokens 6 --mesh b:2,e:2 --layout 'batch:b;experts:e')
if cpu_ids="$("${generate[@]}" --backend cpu 2>&1)" &&
  gpu_ids="$("${generate[@]}" --backend cuda 2>&1)" &&
  [ "$cpu_ids" = "$gpu_ids" ]; then
  printf '%s\ngpu_check: the same greedy ids\n' "$gpu_ids" | tee -a "$report"
else
  printf 'cpu:\n%s\ncuda:\n%s\ngpu_check: generate FAILED or differs\n' \
    "${cpu_ids:-}" "${gpu_ids:-}" | tee -a "$report"
  status=1
fi

section "GPU MoE layer benchmark"
"$bench" 2>&1 | tee -a "$report" || status=1

section "result"
if [ "$status" -eq 0 ]; then
  echo "gpu_check: all GPU tests passed; benchmark above" | tee -a "$report"
else
  echo "gpu_check: FAILED (see above)" | tee -a "$report"
fi
echo "report: $report"
exit "$status"
