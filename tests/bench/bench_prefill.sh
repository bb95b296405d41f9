#!/bin/sh
# bench_prefill.sh - `make bench-prefill`: prefill of the random 100.1M Llama
# (tests/bench/make_llama2c_random.py, exported by `llamaref export-gguf` to
# an F32 GGUF with the Llama 2 tokenizer) by llamaref (`llamaref generate
# --prompt-ids ... -n 1`: its "prompt N tokens: X tok/s" line, the prompt
# fed through the KV-cache decoder) and by llama.cpp (node-llama-cpp@3.22.1,
# its prebuilt CPU binary: vectors/gen/bench_llamacpp_speed.mjs, the prompt
# in one batch up to the first greedy token, F32 K and V cache like
# llamaref's, flash attention off), the same file and the same 128 token
# ids, at 1 and 2 threads (issue 16's prefill goal: >= 1.5x llama.cpp F32).
# The two run alternately, ROUNDS times (default 8, as bench_decode.sh:
# the two-thread figures of the 2-vCPU VM come in two states); the figures
# are each one's best and their ratio, plus the median of the per-round
# ratios.
# Each run is a fresh process timing its first prompt (both keep the
# weights in memory before the clock starts: llamaref reads them at load,
# llama.cpp maps them with MAP_POPULATE; a second prompt in the same
# llama.cpp process runs no faster).
# node-llama-cpp is installed into WORKDIR/nlc on first use (npm, no
# download of llama.cpp itself); it is never part of llamaref.
# A benchmark, not a test; figures in docs/performance.md.
#
# usage: bench_prefill.sh LLAMAREF WORKDIR [ROUNDS [ASSETS]]
# (WORKDIR/m100.bin is the model bench_decode.sh writes to its WORKDIR;
# `make` gives both the same folder, so the model is written once)
# $PREFILL_TOKENS (default 128) sets the prompt length.
set -u
BIN=$1; W=$2; ROUNDS=${3:-8}; ASSETS=${4:-../shared/assets}
[ -n "$ROUNDS" ] || ROUNDS=8
PY=${PYTHON:-python3}
N=${PREFILL_TOKENS:-128}
case $ROUNDS in *[!0-9]*|0) echo "bench_prefill.sh: ROUNDS must be a count >= 1, not '$ROUNDS'" >&2; exit 2 ;; esac
case $N in ''|*[!0-9]*|0) echo "bench_prefill.sh: PREFILL_TOKENS must be a count >= 1, not '$N'" >&2; exit 2 ;; esac
TOK=$ASSETS/llama2/tokenizer.bin
[ -f "$TOK" ] || { echo "bench_prefill.sh: $TOK missing (set LLAMAREF_ASSETS)" >&2; exit 1; }
command -v node > /dev/null && command -v npm > /dev/null ||
    { echo "bench_prefill.sh: needs node and npm (node-llama-cpp)" >&2; exit 1; }
mkdir -p "$W"
[ -f "$W/m100.bin" ] || $PY tests/bench/make_llama2c_random.py "$W/m100.bin" || exit 1
G=$W/m100.f32.gguf
[ -f "$G" ] || $BIN export-gguf --model "$W/m100.bin" --tokenizer "$TOK" --out "$G" > /dev/null || exit 1
NLC=$W/nlc
if [ ! -d "$NLC/node_modules/node-llama-cpp" ]; then
    mkdir -p "$NLC" && echo '{"type":"module"}' > "$NLC/package.json" &&
    (cd "$NLC" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --ignore-scripts --omit=optional \
        --no-audit --no-fund --silent node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1) ||
        { echo "bench_prefill.sh: npm install of node-llama-cpp@3.22.1 failed" >&2; exit 1; }
fi
cp vectors/gen/bench_llamacpp_speed.mjs "$NLC/" || exit 1
# N fixed ids in [3, 32000): Park and Miller's generator (s 16807 mod
# 2^31 - 1; every product below 2^53, so awk's doubles hold it exactly),
# the same every run
IDS=$(awk -v n="$N" 'BEGIN { s = 12345; for (i = 0; i < n; i++) { s = (s * 16807) % 2147483647; printf "%d ", 3 + s % 31997 } }')
GA=$(cd "$(dirname "$G")" && pwd)/$(basename "$G")
echo "bench-prefill: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $N tokens, load $(cut -d' ' -f1-3 /proc/loadavg)"
log="$W/prefill.log"
: > "$log"
r=1
while [ "$r" -le "$ROUNDS" ]; do
    for th in 1 2; do
        out=$($BIN generate --model "$G" --prompt-ids "$IDS" -n 1 --temp 0 --ids --threads $th 2>&1 > /dev/null)
        case $out in *"without OpenMP"*) [ "$r" = 1 ] && echo "(2 threads: llamaref built without OpenMP; build with OMP=1)"; continue ;; esac
        ours=$(echo "$out" | sed -n "s/^prompt $N tokens: \([0-9.]*\) tok\/s.*/\1/p")
        [ -n "$ours" ] || { echo "$out" >&2; exit 1; }
        theirs=$(cd "$NLC" && node bench_llamacpp_speed.mjs "$GA" "$IDS" 1 $th f32 2>&1)
        t=$(echo "$theirs" | sed -n "s/^llama.cpp: prompt $N tokens: \([0-9.]*\) tok\/s.*/\1/p")
        [ -n "$t" ] || { echo "$theirs" >&2; exit 1; }
        echo "$r $th $ours $t" >> "$log"
        awk -v r="$r" -v t="$th" -v a="$ours" -v b="$t" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
            printf "round %d, %d thread(s): llamaref %.1f tok/s, llama.cpp %.1f tok/s, ratio %.2f (load %s)\n",
                r, t, a, b, a / b, l }'
    done
    r=$((r + 1))
done
for th in 1 2; do
    awk -v t="$th" -v n="$N" '$2 == t {
        k++; if ($3 > a) a = $3; if ($4 > b) b = $4; q[k] = $3 / $4
    }
    END {
        if (!k) exit
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (q[j] < q[i]) { x = q[i]; q[i] = q[j]; q[j] = x }
        med = (k % 2 ? q[(k + 1) / 2] : (q[k / 2] + q[k / 2 + 1]) / 2)
        printf "prefill %d tokens, random 100M F32 GGUF, %d thread(s), best of %d rounds: llamaref %.1f tok/s, llama.cpp %.1f tok/s; ratio %.2f, median of per-round ratios %.2f (goal >= 1.5)\n",
            n, t, k, a, b, a / b, med
    }' "$log"
done
