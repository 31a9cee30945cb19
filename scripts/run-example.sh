#!/usr/bin/env bash
# The main job: installs what is missing, builds, and partitions the example
# Switch MoE layer for a 4-device mesh, printing the per-device program with
# its collectives (the all-to-alls of expert dispatch among them).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
"${BUILD_DIR:-build}"/bin/switchyard-opt examples/switch_moe_layer.mlir --switchyard-partition
