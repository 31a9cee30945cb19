#!/usr/bin/env bash
# `switchyard run --launch N` refuses, with a clear message and a non-zero
# exit and before starting any process, an N below 1, an N that does not
# divide the mesh size, and a process that an MPI launcher already started
# (with either backend).
#   launch-errors.sh MPIEXEC SWITCHYARD MODEL WORKDIR
set -uo pipefail
mpiexec=$1 switchyard=$2 model=$3 dir=$4
rm -rf "$dir" && mkdir -p "$dir"
"$switchyard" compile "$model" --mesh b:2,e:2 --layout 'batch:b;experts:e' \
  -o "$dir/mesh.syx" || exit 1
failures=0
# expect PATTERN COMMAND...: COMMAND exits non-zero and prints PATTERN.
expect() {
  local pattern=$1
  shift
  if "$@" >"$dir/log" 2>&1; then
    echo "FAIL: '$*' succeeded"
    ((++failures))
  elif ! grep -Eq "$pattern" "$dir/log"; then
    echo "FAIL: '$*' did not print '$pattern':"
    cat "$dir/log"
    ((++failures))
  fi
}
run=("$switchyard" run "$dir/mesh.syx" --random-weights 1 --random-inputs 2)
expect '^switchyard run: INVALID_ARGUMENT: --launch needs at least 1 process, got 0$' \
  "${run[@]}" --launch 0
expect 'has 4 devices, which do not split evenly over 3 MPI processes' \
  "${run[@]}" --launch=3
expect '^switchyard run: FAILED_PRECONDITION: --launch: this process was already started by an MPI launcher' \
  "$mpiexec" --oversubscribe -np 1 "${run[@]}" --launch 2
expect '^switchyard run: FAILED_PRECONDITION: --launch: this process was already started by an MPI launcher' \
  "$mpiexec" --oversubscribe -np 1 "${run[@]}" --launch 4 --backend cuda
exit $((failures > 0))
