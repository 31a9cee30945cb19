#!/usr/bin/env bash
# Configures and builds Switchyard with Ninja into ./build (or $BUILD_DIR).
# Extra arguments go to CMake, e.g. -DCMAKE_BUILD_TYPE=Debug.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -G Ninja -S . -B "$build_dir" \
  -DMLIR_DIR="$(llvm-config-22 --prefix)/lib/cmake/mlir" \
  -DSWITCHYARD_WERROR=ON "$@"
ninja -C "$build_dir"
