#!/bin/sh
# bench_decode.sh - `make bench-decode`: greedy decoding of the random 100.1M
# Llama (llama2.c format, tests/bench/make_llama2c_random.py) by llamaref
# (`llamaref bench --decode-only --threads N`, KV-cache decoder: 1 prompt
# token, then 255 greedy tokens one at a time) and by llama2.c's run.c
# built with its own Makefile's `runomp` flags (-Ofast -march=native
# -fopenmp; `-n 256`: 256 one-token forwards, timed from the second), so
# both time one-token forwards at positions 1..255, at 1 and 2 threads.  The two programs run alternately, ROUNDS times (default
# 8), so a loaded machine slows both alike; the figures are the best of the
# rounds and their ratio, plus the median of the per-round ratios.  Eight,
# not three: on the 2-vCPU Zen 4 VM the two-thread read stream is bimodal
# (35-40 or 51-66 GB/s, minutes apart), and with three rounds one decoder
# may never run in the fast state (docs/performance.md, ninth round).  Beside
# them, the memory read bandwidth (lr_bench_read: the sum of a 256 MiB
# array, read only) measured by llamaref right before each of its runs, and
# the weight bytes per second each decoder reaches (400.5 MB per token).
# llama2.c is never part of llamaref: build it yourself from its public
# source (cd DIR && make runomp) and pass DIR (its tokenizer.bin is used).
# A benchmark, not a test; figures in docs/performance.md.
#
# usage: bench_decode.sh LLAMAREF WORKDIR LLAMA2C_DIR [ROUNDS]
set -u
BIN=$1; W=$2; L2C=$3; ROUNDS=${4:-8}
PY=${PYTHON:-python3}
mkdir -p "$W"
[ -x "$L2C/run" ] && [ -f "$L2C/tokenizer.bin" ] ||
    { echo "bench_decode.sh: $L2C/run and $L2C/tokenizer.bin needed (cd $L2C && make runomp)" >&2; exit 1; }
[ -f "$W/m100.bin" ] || $PY tests/bench/make_llama2c_random.py "$W/m100.bin" || exit 1
echo "bench-decode: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
log="$W/decode.log"
: > "$log"
r=1
while [ "$r" -le "$ROUNDS" ]; do
    for th in 1 2; do
        out=$($BIN bench --decode-only --threads $th --stories "$W/m100.bin" 2>&1)
        ours=$(echo "$out" | sed -n "s/.*threads $th  prefill.*decode *[0-9]* tok: *\([0-9.]*\) tok\/s.*/\1/p" | head -n 1)
        gbs=$(echo "$out" | sed -n "s/.*decode.*weights \([0-9.]*\) GB\/s.*/\1/p" | head -n 1)
        rd=$(echo "$out" | sed -n "s/^memory read bandwidth threads $th.*: \([0-9.]*\) GB\/s.*/\1/p" | head -n 1)
        [ -n "$ours" ] || { [ "$th" = 1 ] && echo "$out" >&2; continue; }
        theirs=$(OMP_NUM_THREADS=$th "$L2C/run" "$W/m100.bin" -z "$L2C/tokenizer.bin" -n 256 -t 0 -i "Once upon a time" 2>&1 |
            sed -n 's/.*achieved tok\/s: \([0-9.]*\).*/\1/p')
        echo "$r $th $ours ${theirs:-0} ${gbs:-0} ${rd:-0}" >> "$log"
        awk -v r="$r" -v t="$th" -v a="$ours" -v b="${theirs:-0}" -v rd="${rd:-0}" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
            printf "round %d, %d thread(s): llamaref %.1f tok/s, llama2.c %.1f tok/s, ratio %.2f (read stream %.1f GB/s, load %s)\n",
                r, t, a, b, (b > 0 ? a / b : 0), rd, l }'
    done
    r=$((r + 1))
done
for th in 1 2; do
    awk -v t="$th" '$2 == t {
        n++; if ($3 > a) a = $3; if ($4 > b) b = $4; if ($6 > rd) rd = $6
        if ($3 > 0) per = $5 / $3
        q[n] = ($4 > 0 ? $3 / $4 : 0)
    }
    END {
        if (!n) { printf "decode 100M F32, %d thread(s): no llamaref figure (build with OMP=1 for 2 threads)\n", t; exit }
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (q[j] < q[i]) { x = q[i]; q[i] = q[j]; q[j] = x }
        med = (n % 2 ? q[(n + 1) / 2] : (q[n / 2] + q[n / 2 + 1]) / 2)
        printf "decode 100M F32, %d thread(s), best of %d rounds: llamaref %.1f tok/s (%.1f GB/s of weights), llama2.c %.1f tok/s (%.1f GB/s), read stream %.1f GB/s; ratio %.2f, median of per-round ratios %.2f; llamaref at %.0f%% and llama2.c at %.0f%% of the read stream\n",
            t, n, a, a * per, b, b * per, rd, (b > 0 ? a / b : 0), med,
            (rd > 0 ? 100 * a * per / rd : 0), (rd > 0 ? 100 * b * per / rd : 0)
    }' "$log"
done
