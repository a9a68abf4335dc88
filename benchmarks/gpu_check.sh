#!/bin/sh
# The GPU numbers of docs/benchmarks.md, in one go (its steps are limited to 12 minutes in all).
#
#   OUT=/some/folder sh benchmarks/gpu_check.sh
#
# Needs torch with CUDA and the project's dependencies importable (pip install -e .,
# or PYTHONPATH=. with them installed). Writes one file per measurement to $OUT
# and keeps going when one fails, so a single failure costs no other number.
set -u
OUT=${OUT:-gpu-results}
mkdir -p "$OUT"
PYTHON=${PYTHON:-python3}

step() {  # step NAME SECONDS COMMAND...: run with a time limit, output to $OUT/NAME.txt
    name=$1 limit=$2
    shift 2
    echo "== $name"
    timeout "$limit" "$@" >"$OUT/$name.txt" 2>&1
    echo "exit $?" >>"$OUT/$name.txt"
    tail -n 15 "$OUT/$name.txt"
}

step environment 60 "$PYTHON" -c 'import torch, transformers; print(torch.__version__, transformers.__version__, torch.cuda.get_device_name(0), torch.cuda.is_bf16_supported())'
step bench-opus 150 "$PYTHON" -m summarizer bench --device cuda --format markdown
step bench-bart 150 "$PYTHON" -m summarizer bench --device cuda --random-like bart-base --format markdown
step oom 120 "$PYTHON" benchmarks/gpu_oom.py
step night 240 "$PYTHON" benchmarks/night.py --device cuda --articles 96 --rows naive,default --format markdown
