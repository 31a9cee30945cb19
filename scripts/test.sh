#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: lit (compiler) and
# the runtime's unit tests, all through ctest; then the same tests under
# ASan + UBSan and ~60 s of every fuzz target (scripts/test-sanitized.sh,
# docs/hardening.md). SANITIZE=0 skips that second part.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
if [[ ${SANITIZE:-1} != 0 ]]; then
  scripts/test-sanitized.sh
fi
