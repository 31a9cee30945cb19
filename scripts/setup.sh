#!/usr/bin/env bash
# Installs every Debian package that building and testing Switchyard needs.
# Safe to run again; skips apt when everything is already installed.
set -euo pipefail

packages=(
  cmake ninja-build g++ git python3 pkg-config
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libabsl-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  libflatbuffers-dev flatbuffers-compiler
  libopenblas-dev
  libopenmpi-dev openmpi-bin
  # The sanitizer and fuzzer build (scripts/test-sanitized.sh): clang with
  # its ASan, UBSan and libFuzzer runtimes.
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
