#!/usr/bin/env bash
# Runs MODEL compiled for MESH under mpirun with NP processes and compares
# its outputs with the same program compiled for one device (routing equal,
# floats within 1e-5).
#   mpi-equivalence.sh MPIEXEC SWITCHYARD COMPARE MODEL MESH LAYOUT NP WORKDIR
# MODEL may be a Hugging Face model directory: SWITCHYARD_COMPILE_ARGS then
# gives its shapes and SWITCHYARD_RUN_ARGS its weights and inputs (default:
# random weights and inputs).
set -euo pipefail
mpiexec=$1 switchyard=$2 compare=$3 model=$4 mesh=$5 layout=$6 np=$7 dir=$8
rm -rf "$dir" && mkdir -p "$dir"
read -r -a compile_args <<<"${SWITCHYARD_COMPILE_ARGS:-}"
read -r -a run_args <<<"${SWITCHYARD_RUN_ARGS:---random-weights 1 --random-inputs 2}"
"$switchyard" compile "$model" "${compile_args[@]}" --mesh "$mesh" \
  --layout "$layout" -o "$dir/mesh.syx"
"$switchyard" compile "$model" "${compile_args[@]}" \
  --mesh "$(sed 's/:[0-9]*/:1/g' <<<"$mesh")" --layout "$layout" -o "$dir/one.syx"
args=("${run_args[@]}" --collective-timeout 20)
"$switchyard" run "$dir/one.syx" "${args[@]}" --output "$dir/one.safetensors" >/dev/null
"$mpiexec" --oversubscribe -np "$np" "$switchyard" run "$dir/mesh.syx" \
  "${args[@]}" --output "$dir/mesh.safetensors"
"$compare" "$dir/one.safetensors" "$dir/mesh.safetensors" 1e-5
