#!/bin/sh
# bench_decode.sh - `make bench-decode`: greedy decoding of the random 100.1M
# Llama (llama2.c format, tests/bench/make_llama2c_random.py) by llamaref
# (`llamaref bench --stories`, KV-cache decoder) and by llama2.c's run.c
# built with its own Makefile's `runomp` flags (-Ofast -march=native
# -fopenmp), at 1 and 2 threads, in one run, with the ratio.  llama2.c is
# never part of llamaref: build it yourself from its public source
#   (cd DIR && make runomp) and pass DIR (its tokenizer.bin is used).
# A benchmark, not a test; figures in docs/performance.md.
#
# usage: bench_decode.sh LLAMAREF WORKDIR LLAMA2C_DIR
set -u
BIN=$1; W=$2; L2C=$3
PY=${PYTHON:-python3}
mkdir -p "$W"
[ -x "$L2C/run" ] && [ -f "$L2C/tokenizer.bin" ] ||
    { echo "bench_decode.sh: $L2C/run and $L2C/tokenizer.bin needed (cd $L2C && make runomp)" >&2; exit 1; }
[ -f "$W/m100.bin" ] || $PY tests/bench/make_llama2c_random.py "$W/m100.bin" || exit 1
echo "bench-decode: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
out=$($BIN bench --quick --stories "$W/m100.bin" 2>&1)
for th in 1 2; do
    ours=$(echo "$out" | sed -n "s/.*threads $th  prefill.*decode *[0-9]* tok: *\([0-9.]*\) tok\/s.*/\1/p" | head -n 1)
    [ -n "$ours" ] || { echo "decode, $th thread(s): no llamaref figure (build with OMP=1 for 2 threads)"; continue; }
    theirs=$(OMP_NUM_THREADS=$th "$L2C/run" "$W/m100.bin" -z "$L2C/tokenizer.bin" -n 256 -t 0 -i "Once upon a time" 2>&1 |
        sed -n 's/.*achieved tok\/s: \([0-9.]*\).*/\1/p')
    awk -v t="$th" -v a="$ours" -v b="$theirs" 'BEGIN {
        printf "decode 100M F32, %d thread(s): llamaref %.1f tok/s, llama2.c %.1f tok/s, ratio %.2f\n",
            t, a, b, (b > 0 ? a / b : 0) }'
done
