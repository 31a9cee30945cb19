#!/usr/bin/env bash
# Runs `switchyard run ARGS...` as NP MPI processes.
#   mpi-run.sh LAUNCHER NP SWITCHYARD ARGS...
# LAUNCHER is mpiexec's path, or --launch to have switchyard start the job
# itself (`switchyard run --launch NP`). The launcher replaces this shell, so
# that signals reach it.
launcher=$1 np=$2 switchyard=$3
shift 3
if [[ $launcher == --launch ]]; then
  exec "$switchyard" run --launch "$np" "$@"
fi
exec "$launcher" --oversubscribe -np "$np" "$switchyard" run "$@"
