#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: lit (compiler) and
# the runtime's unit tests, all through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
