#!/usr/bin/env bash
# Runs MODEL compiled for MESH as NP MPI processes and compares its outputs
# with the same program compiled for one device (routing equal, floats
# within 1e-5 of each tensor's scale), and its collective statistics, which
# rank 0 prints summed over the ranks, with those of the same executable run
# in one process.
#   mpi-equivalence.sh LAUNCHER SWITCHYARD COMPARE MODEL MESH LAYOUT NP WORKDIR
# LAUNCHER is mpiexec's path, or --launch for `switchyard run --launch NP`.
# MODEL may be a Hugging Face model directory: SWITCHYARD_COMPILE_ARGS then
# gives its shapes and SWITCHYARD_RUN_ARGS its weights and inputs (default:
# random weights and inputs).
set -euo pipefail
launcher=$1 switchyard=$2 compare=$3 model=$4 mesh=$5 layout=$6 np=$7 dir=$8
rm -rf "$dir" && mkdir -p "$dir"
read -r -a compile_args <<<"${SWITCHYARD_COMPILE_ARGS:-}"
read -r -a run_args <<<"${SWITCHYARD_RUN_ARGS:---random-weights 1 --random-inputs 2}"
"$switchyard" compile "$model" "${compile_args[@]}" --mesh "$mesh" \
  --layout "$layout" -o "$dir/mesh.syx"
"$switchyard" compile "$model" "${compile_args[@]}" \
  --mesh "$(sed 's/:[0-9]*/:1/g' <<<"$mesh")" --layout "$layout" -o "$dir/one.syx"
args=("${run_args[@]}" --collective-timeout 20)
"$switchyard" run "$dir/one.syx" "${args[@]}" --output "$dir/one.safetensors" >/dev/null
"$switchyard" run "$dir/mesh.syx" "${args[@]}" >"$dir/in-process.log"
"$(dirname "$0")/mpi-run.sh" "$launcher" "$np" "$switchyard" "$dir/mesh.syx" \
  "${args[@]}" --output "$dir/mesh.safetensors" | tee "$dir/mpi.log"
"$compare" "$dir/one.safetensors" "$dir/mesh.safetensors" 1e-5
# The lines under "collectives (bytes moved, ...):".
collectives() { sed -n '/^collectives (/,/^[^ ]/{/^  /p}' "$1"; }
grep -q "^collectives (bytes moved, all devices in $np MPI processes):" \
  "$dir/mpi.log" || { echo "FAIL: no statistics summed over $np processes"; exit 1; }
diff <(collectives "$dir/in-process.log") <(collectives "$dir/mpi.log") ||
  { echo "FAIL: collective statistics differ from the one-process run's"; exit 1; }
