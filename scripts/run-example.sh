#!/usr/bin/env bash
# The main job: installs what is missing, builds, and compiles the example
# Switch MoE layer, printing the verified IR.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
"${BUILD_DIR:-build}"/bin/switchyard-opt examples/switch_moe_layer.mlir
