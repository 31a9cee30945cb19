#!/usr/bin/env bash
# The main job: installs what is missing, builds, compiles the example Switch
# MoE layer for an 8-device expert-parallel mesh and runs it on the CPU mesh
# (random weights and inputs), printing its outputs and the bytes each
# collective moved.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
bin="${BUILD_DIR:-build}/bin"
"$bin"/switchyard compile examples/switch_moe_layer.mlir \
  --mesh b:8 --layout 'experts:b;batch:b' -o "${BUILD_DIR:-build}"/switch_moe_layer.syx --stats
"$bin"/switchyard run "${BUILD_DIR:-build}"/switch_moe_layer.syx \
  --random-weights 1 --random-inputs 2 --timing
