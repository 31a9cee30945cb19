#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: builds Switchyard with the cuda backend,
# runs every GPU test (ctest -R Cuda) and the GPU MoE-layer benchmark, and
# writes everything to one report file.
#
#   bench/gpu_check.sh [BUILD_DIR] [REPORT]
#
# BUILD_DIR defaults to build-gpu next to the repository, REPORT to
# BUILD_DIR/gpu_report.txt. Exits non-zero if there is no GPU, the build
# fails or a test fails (the report says which).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/../build-gpu}"
report="${2:-$build/gpu_report.txt}"
jobs="${JOBS:-$(nproc)}"

die() {
  echo "gpu_check: $*" >&2
  exit 1
}

command -v nvidia-smi >/dev/null || die "nvidia-smi not found: no NVIDIA driver"
nvidia-smi -L >/dev/null 2>&1 || die "nvidia-smi finds no GPU"
command -v nvcc >/dev/null || die "nvcc not found: put the CUDA toolkit on PATH"

mkdir -p "$build"
mkdir -p "$(dirname "$report")"
: >"$report"
trap 'echo "gpu_check: FAILED at line $LINENO; report: $report" | tee -a "$report" >&2' ERR
section() { printf '\n===== %s =====\n' "$*" | tee -a "$report"; }

section "machine"
{
  date -u
  git -C "$repo" log -1 --oneline
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  nvcc --version | tail -1
} 2>&1 | tee -a "$report"

section "configure and build"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSWITCHYARD_ENABLE_CUDA=ON 2>&1 | tail -3 | tee -a "$report"
cmake --build "$build" -j "$jobs" 2>&1 | tail -20 | tee -a "$report"

section "GPU tests (ctest -R Cuda)"
status=0
ctest --test-dir "$build" -R Cuda --output-on-failure 2>&1 | tee -a "$report" ||
  status=1
# A test that skipped here means the tests did not see the GPU.
if grep -q 'Skipped' "$report"; then
  echo "gpu_check: GPU tests skipped although nvidia-smi sees a GPU" |
    tee -a "$report"
  status=1
fi

section "GPU MoE layer benchmark"
"$build/bench/gpu_moe_layer/gpu_moe_layer_bench" 2>&1 | tee -a "$report" ||
  status=1

section "result"
if [ "$status" -eq 0 ]; then
  echo "gpu_check: all GPU tests passed; benchmark above" | tee -a "$report"
else
  echo "gpu_check: FAILED (see above)" | tee -a "$report"
fi
echo "report: $report"
exit "$status"
