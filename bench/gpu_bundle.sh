#!/usr/bin/env bash
# Packs the GPU tests and the GPU benchmark of a build into one archive that
# bench/gpu_check.sh --bundle runs on a GPU machine that cannot build
# Switchyard itself (no MLIR or Abseil there): the binaries, and the shared
# libraries they load that the GPU machine lacks. The tests read their data
# from this repository, so it must sit at the same path there.
#
#   bench/gpu_bundle.sh [BUILD_DIR] [ARCHIVE]
#
# BUILD_DIR defaults to build next to the repository (configured with the
# cuda backend), ARCHIVE to build-gpu/bundle.tar.xz in the repository
# (ignored by git). Libraries whose file names match SYSTEM_LIBS (an extended regular
# expression) are left out: the GPU machine must have them. The default is
# glibc, the CUDA libraries and the driver; name more for a machine that
# has them, e.g. SYSTEM_LIBS='^lib(c|m|stdc\+\+|openblas)\.so'.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/../build}"
archive="${2:-$repo/build-gpu/bundle.tar.xz}"
glibc='^(libc|libm|libdl|libpthread|librt|ld-linux-x86-64)\.so'
cuda='^lib(cuda|cudart|cublas|cublasLt|nccl|nvidia-[a-z-]+)\.so'
system="${SYSTEM_LIBS:-}"

die() {
  echo "gpu_bundle: $*" >&2
  exit 1
}

# The GPU test binaries, the benchmark, and the driver with the tool that
# compares its runs' outputs, relative to the build.
binaries=(
  test/Runtime/RuntimeCudaTest
  test/Equivalence/EquivalenceTest
  test/Equivalence/PropertyTest
  test/HF/HFParityTest
  test/HF/Top2LayerParityTest
  bench/gpu_moe_layer/gpu_moe_layer_bench
  bin/switchyard
  test/Support/compare-outputs
)
for binary in "${binaries[@]}"; do
  [ -x "$build/$binary" ] ||
    die "$build/$binary is missing: build with -DSWITCHYARD_ENABLE_CUDA=ON"
done

bundle="$(mktemp -d)"
trap 'rm -rf "$bundle"' EXIT
mkdir -p "$bundle/bin" "$bundle/lib"
for binary in "${binaries[@]}"; do
  strip --strip-unneeded -o "$bundle/bin/$(basename "$binary")" "$build/$binary"
done

# Every library the binaries load, by the path this machine resolves.
ldd "${binaries[@]/#/$build/}" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' |
  sort -u | while read -r library; do
  name="$(basename "$library")"
  if [[ "$name" =~ $glibc || "$name" =~ $cuda ]]; then
    continue
  fi
  if [ -n "$system" ] && [[ "$name" =~ $system ]]; then
    continue
  fi
  cp -L "$library" "$bundle/lib/$name"
done

git -C "$repo" log -1 --format='%h %s' >"$bundle/COMMIT"
echo "$repo" >"$bundle/SOURCE_DIR"
mkdir -p "$(dirname "$archive")"
tar -C "$bundle" -cf - . | xz -9 -T0 --block-size=32MiB >"$archive"
echo "bundle: $archive ($(du -h "$archive" | cut -f1)); libraries:" \
  "$(ls "$bundle/lib" | tr '\n' ' ')"
