#!/usr/bin/env bash
# Makes rank 2 of an NP-process run fail and checks that the job ends
# non-zero within 30 s with a message naming rank 2.
#   mpi-fault.sh LAUNCHER SWITCHYARD MODEL MESH LAYOUT NP MODE WORKDIR
# LAUNCHER is mpiexec's path, or --launch for `switchyard run --launch NP`.
# MODE exit, stall, throw or kill: SWITCHYARD_MPI_FAULT=2:MODE
# (MpiCollective.h). MODE bad-input: rank 2 alone is given a corrupt input
# file (an MPMD command line, so LAUNCHER must be mpiexec).
set -uo pipefail
launcher=$1 switchyard=$2 model=$3 mesh=$4 layout=$5 np=$6 mode=$7 dir=$8
rm -rf "$dir" && mkdir -p "$dir"
"$switchyard" compile "$model" --mesh "$mesh" --layout "$layout" -o "$dir/mesh.syx" || exit 1
args=("$dir/mesh.syx" --random-weights 1 --random-inputs 2 --collective-timeout 5)
start=$SECONDS
if [[ $mode == bad-input ]]; then
  # A truncated .npy: the magic string and nothing else.
  printf '\x93NUMPY' >"$dir/x.npy"
  timeout 30 "$launcher" --oversubscribe -np 2 "$switchyard" run "${args[@]}" \
    : -np 1 "$switchyard" run "${args[@]}" --input "x=$dir/x.npy" \
    : -np $((np - 3)) "$switchyard" run "${args[@]}" >"$dir/log" 2>&1
else
  SWITCHYARD_MPI_FAULT=2:$mode timeout 30 "$(dirname "$0")/mpi-run.sh" \
    "$launcher" "$np" "$switchyard" "${args[@]}" >"$dir/log" 2>&1
fi
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
  # The rank's terminate handler names it and the exception, then ends
  # the job.
  throw) pattern="switchyard: rank 2: uncaught exception: SWITCHYARD_MPI_FAULT: rank 2 throws" ;;
  # mpirun names the process that SIGKILL ended.
  kill) pattern='process rank 2 .* exited on signal 9' ;;
  # The rank that read it says so, then ends the job.
  bad-input) pattern="switchyard run: rank 2: .*x\.npy" ;;
esac
grep -Eq "$pattern" "$dir/log" || { echo "FAIL: no message naming rank 2"; exit 1; }
