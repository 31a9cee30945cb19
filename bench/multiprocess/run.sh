#!/usr/bin/env bash
# The Switch MoE layer (bench/common/SwitchLayerIR.h: d_model 768, d_ff 3072,
# 8 experts, capacity factor 1.25) compiled for mesh b:8, layout
# experts:b;batch:b, run by `mpirun switchyard run` as 1x8, 8x1 and 2x4
# (processes x virtual devices). Prints each configuration's median time per
# forward relative to 1x8, and the all-to-all's achieved bytes/s per device
# against a memcpy of the same bytes, timed in the same run. See README.md.
#
#   bench/multiprocess/run.sh [BUILD_DIR] [--length L] [--sequences S] [--repeat K]
set -euo pipefail
build=/work/build length=512 sequences=8 repeat=5
if [[ $# -gt 0 && $1 != --* ]]; then build=$1; shift; fi
while [[ $# -gt 0 ]]; do
  case $1 in
    --length) length=$2; shift 2 ;;
    --sequences) sequences=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
switchyard=$build/bin/switchyard
helper=$build/bench/multiprocess/multiprocess_helper
mpirun=$(command -v mpirun || command -v mpiexec)
# OpenMPI as root, and traffic on shared memory / loopback only.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
  OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo \
  OMPI_MCA_btl_tcp_if_include=lo

dir=$(mktemp -d /tmp/multiprocess-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$helper" ir "$length" "$sequences" >"$dir/layer.mlir"
"$switchyard" compile "$dir/layer.mlir" --mesh b:8 --layout 'experts:b;batch:b' \
  -o "$dir/layer.syx"

experts=8 dmodel=768
capacity=$(( (125 * length + 100 * experts - 1) / (100 * experts) ))
# Dispatch's buffers [experts, batch, capacity, d_model] f32 are split 8
# ways; each all-to-all sends 7/8 of a device's block to other devices.
block=$(( experts * sequences * capacity * dmodel * 4 / 8 ))
sent=$(( block * 7 / 8 ))

echo "Switch MoE layer: $sequences x $length tokens, d_model 768, d_ff 3072," \
  "8 experts, capacity $capacity; mesh b:8, layout experts:b;batch:b"
echo "machine: $(nproc) hardware threads; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "each configuration: 1 warm-up + $repeat timed forwards (median)"
echo "all-to-all: $sent B sent by each device per all-to-all"
echo

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
declare -A ms a2a
for config in 1x8 8x1 2x4; do
  np=${config%x*}
  "$mpirun" --oversubscribe -np "$np" "$switchyard" run "$dir/layer.syx" \
    --random-weights 1 --random-inputs 2 --timing --repeat $((repeat + 1)) \
    --collective-timeout 300 >"$dir/$config.log"
  ms[$config]=$(grep '^run ' "$dir/$config.log" | tail -n +2 |
    awk '{print $3}' | median)
  # The all_to_all time is summed over the 8 devices of all processes.
  a2a[$config]=$(awk '$1 == "all_to_all" && $3 == "x," {print $4 / 8}' \
    "$dir/$config.log")
done

memcpy=$("$helper" memcpy "$sent" 50)
memcpy_ms=${memcpy%% ms*}
memcpy_bps=$(awk '{print $3}' <<<"$memcpy")
printf '%-6s %12s %10s %14s %14s %10s\n' config "ms/forward" "vs 1x8" \
  "a2a ms/device" "a2a GB/s/dev" "vs memcpy"
for config in 1x8 8x1 2x4; do
  # Two all-to-alls per forward (dispatch, combine), `sent` bytes each.
  awk -v c="$config" -v t="${ms[$config]}" -v base="${ms[1x8]}" \
    -v a="${a2a[$config]}" -v s="$sent" -v m="$memcpy_bps" 'BEGIN {
      bps = 2 * s / (a / 1000)
      printf "%-6s %12.1f %9.2fx %14.3f %14.3f %9.3fx\n", c, t, t / base, a,
        bps / 1e9, bps / m }'
done
printf 'memcpy of %d B: %s ms, %.3f GB/s\n' "$sent" "$memcpy_ms" \
  "$(awk -v m="$memcpy_bps" 'BEGIN {print m / 1e9}')"
echo
echo "collectives of all 8 devices in the last forward of each configuration:"
for config in 1x8 8x1 2x4; do
  echo "  $config: $(grep -E '^  all_(to_all|gather) .*op\(s\)' "$dir/$config.log" |
    sed 's/^ *//' | paste -sd ';' -)"
done
