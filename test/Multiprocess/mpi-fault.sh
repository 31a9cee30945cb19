#!/usr/bin/env bash
# Makes rank 2 of an NP-process run fail at its first collective
# (SWITCHYARD_MPI_FAULT=2:MODE, MODE exit or stall) and checks that the job
# ends non-zero within 30 s with a message naming rank 2.
#   mpi-fault.sh MPIEXEC SWITCHYARD MODEL MESH LAYOUT NP MODE WORKDIR
set -uo pipefail
mpiexec=$1 switchyard=$2 model=$3 mesh=$4 layout=$5 np=$6 mode=$7 dir=$8
rm -rf "$dir" && mkdir -p "$dir"
"$switchyard" compile "$model" --mesh "$mesh" --layout "$layout" -o "$dir/mesh.syx" || exit 1
start=$SECONDS
SWITCHYARD_MPI_FAULT=2:$mode timeout 30 "$mpiexec" --oversubscribe -np "$np" \
  "$switchyard" run "$dir/mesh.syx" --random-weights 1 --random-inputs 2 \
  --collective-timeout 5 >"$dir/log" 2>&1
status=$?
cat "$dir/log"
echo "exit status $status after $((SECONDS - start)) s"
if ((status == 0 || status == 124)); then
  echo "FAIL: expected a non-zero exit within 30 s"
  exit 1
fi
case $mode in
  # mpirun names the process that died: [[job,1],2].
  exit) pattern='Process name: \[\[[0-9]+,1\],2\]' ;;
  # The ranks waiting for it time out and name it.
  stall) pattern='waiting for devices \[[0-9, ]+\] \(MPI rank 2\)' ;;
esac
grep -Eq "$pattern" "$dir/log" || { echo "FAIL: no message naming rank 2"; exit 1; }
