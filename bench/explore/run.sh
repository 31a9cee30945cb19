#!/bin/sh
# The explorer's benchmark: the full search for Switch-Base-8 (12+12 blocks)
# on 8 and on 64 devices (docs/explore.md, section 6). Prints each search's
# summary line, with its candidates per second, and the best candidate.
#   bench/explore/run.sh [path/to/switchyard]
set -e
here=$(dirname "$0")
switchyard=${1:-$here/../../build/bin/switchyard}
config=$here/switch-base-8.json

echo "== 8 devices, 32768 tokens, all six dimensions"
"$switchyard" explore "$config" --devices 8 --hardware h100x8-nvlink \
  --length 512 --target-length 128 --tokens 32768 --top 1

echo "== 64 devices, 131072 tokens, experts,batch,heads,d_ff,d_model"
"$switchyard" explore "$config" --devices 64 --hardware h100x8-nvlink \
  --length 512 --target-length 128 --tokens 131072 \
  --dims experts,batch,heads,d_ff,d_model --top 1
