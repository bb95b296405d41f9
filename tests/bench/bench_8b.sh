#!/bin/sh
# bench_8b.sh - `make bench-8b BIG=DIR`: the 8B memory claim measured.
# Writes a random checkpoint with Llama-3.1-8B's shapes in BF16 to DIR
# (make_random_model --shape llama3.1-8b --dtype bf16 --shard-mb 2000: nine
# HF shards + index, 16.06 GB; skipped when DIR already holds one), then
# runs one LoRA step on it (r 16, alpha 32, the seven projections, batch 1
# x 256 tokens, the BF16 base kept as BF16: `train`'s default for LoRA)
# under /usr/bin/time -v, and prints the peak RSS, the load time and the
# step time, with the process's VmRSS / RssAnon / RssFile sampled every
# second.  A benchmark, not a test: too big for `make test` or CI; figures
# and the command in docs/performance.md ("The 8B memory claim").
#
# usage: bench_8b.sh LLAMAREF MAKE_RANDOM_MODEL DIR [TRAIN_ARGS...]
# Needs about 17 GB of free disk for DIR and ~21 GB of available memory;
# it stops before loading when MemAvailable is below MIN_AVAIL_GB
# (default 21).  Extra arguments go to `llamaref train` (e.g. --recompute).
set -u
[ $# -ge 3 ] || { echo "usage: bench_8b.sh LLAMAREF MAKE_RANDOM_MODEL DIR [TRAIN_ARGS...]" >&2; exit 2; }
BIN=$1; MKRAND=$2; DIR=$3; shift 3
MIN_AVAIL_GB=${MIN_AVAIL_GB:-21}
[ -x /usr/bin/time ] || { echo "bench_8b.sh: needs /usr/bin/time (GNU time)" >&2; exit 1; }
[ -n "$DIR" ] || { echo "bench_8b.sh: BIG=DIR is required" >&2; exit 2; }
W=$DIR.run
mkdir -p "$DIR" "$W" || exit 1

if [ ! -f "$DIR/model.safetensors.index.json" ]; then
    echo "bench-8b: writing the random Llama-3.1-8B-shaped checkpoint to $DIR"
    /usr/bin/time -v -o "$W/generate.time" "$MKRAND" --shape llama3.1-8b --dtype bf16 \
        --shard-mb 2000 "$DIR" || exit 1
    sed -n 's/^\t\(Elapsed.*\|Maximum resident.*\)/  generate: \1/p' "$W/generate.time"
fi

# 4 examples of 256 token ids (MINSTD, seed 1; below the vocabulary), one
# step of batch 1: the step sees one 256-token sequence
V=$(sed -n 's/.*"vocab_size": *\([0-9]*\).*/\1/p' "$DIR/config.json")
[ -n "$V" ] || { echo "bench_8b.sh: $DIR/config.json: no vocab_size" >&2; exit 1; }
awk -v V="$V" 'BEGIN { x = 1; for (e = 0; e < 4; e++) { s = "{\"input_ids\": [";
    for (i = 0; i < 256; i++) { x = (x * 48271) % 2147483647;
        s = s (i ? ", " : "") (x % V) } print s "]}" } }' > "$W/data.jsonl"

avail=$(awk '/^MemAvailable:/ { printf "%d", $2 / 1048576 }' /proc/meminfo)
if [ "$avail" -lt "$MIN_AVAIL_GB" ]; then
    echo "bench_8b.sh: only $avail GB of memory available (MemAvailable), $MIN_AVAIL_GB GB needed; try later" >&2
    exit 1
fi
echo "bench-8b: $(uname -m), $(getconf _NPROCESSORS_ONLN) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), MemAvailable $avail GB, load $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }
rm -rf "$W/out"
T0=$(now)
# stderr lines time-stamped as they arrive: "train: ..." is printed after
# loading and allocating, "step 1/..." after the step
( /usr/bin/time -v -o "$W/train.time" "$BIN" train --model "$DIR" --data "$W/data.jsonl" \
      --out "$W/out" --r 16 --alpha 32 --targets all --batch 1 --max-len 256 \
      --epochs 1 --max-steps 1 "$@" 2>&1 >/dev/null &
  echo $! > "$W/time.pid"; wait $!; echo "exit $?" ) |
    while IFS= read -r line; do
        printf '%s %s\n' "$(awk -v a="$(now)" -v b="$T0" 'BEGIN { printf "%.2f", a - b }')" "$line"
    done > "$W/train.log" &
# the sampler: the trainer's VmRSS, RssAnon, RssFile, VmHWM (kB) and CPU
# seconds (user + system) every second
HZ=$(getconf CLK_TCK)
PID=""
for i in 1 2 3 4 5 6 7 8 9 10; do
    sleep 0.5
    TPID=$(cat "$W/time.pid" 2>/dev/null)
    [ -n "$TPID" ] && PID=$(awk '{ print $1 }' /proc/$TPID/task/$TPID/children 2>/dev/null)
    [ -n "$PID" ] && break
done
: > "$W/rss.log"
while [ -n "$PID" ] && [ -r /proc/$PID/status ]; do
    cpu=$(awk -v hz="$HZ" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' /proc/$PID/stat 2>/dev/null)
    awk -v t="$(now)" -v t0="$T0" -v cpu="$cpu" '
        /^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 } /^VmHWM:/ { h = $2 }
        END { if (r != "") printf "%.1f %d %d %d %d %s\n", t - t0, r, a, f, h, cpu }' /proc/$PID/status >> "$W/rss.log" 2>/dev/null
    sleep 1
done
wait
cat "$W/train.log"
grep -q '^[0-9.]* exit 0$' "$W/train.log" || { echo "bench_8b.sh: train failed" >&2; exit 1; }

t_start=$(awk '$2 == "train:" { print $1; exit }' "$W/train.log")
t_step=$(awk '$2 == "step" { print $1; exit }' "$W/train.log")
t_exit=$(awk '$2 == "exit" { print $1 }' "$W/train.log")
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
gb() { awk -v k="$1" 'BEGIN { printf "%.2f GB", k * 1024 / 1e9 }'; }
maxcol() { # column from to: the largest sample of rss.log in [from, to)
    awk -v c="$1" -v a="$2" -v b="$3" '$1 >= a && $1 < b && $c > m { m = $c } END { print m + 0 }' "$W/rss.log"; }
peak=$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' "$W/train.time")
echo "bench-8b: peak RSS $(gb "$peak") (/usr/bin/time: Maximum resident set size $peak kB)"
echo "bench-8b: load (start to 'train:' line) $t_start s; step 1 (forward + backward + AdamW) $(sub "$t_step" "$t_start") s; saving + exit $(sub "$t_exit" "$t_step") s"
echo "bench-8b: sampled RSS (anon / file), largest sample per phase:"
echo "  loading:  $(gb "$(maxcol 2 0 "$t_start")") ($(gb "$(maxcol 3 0 "$t_start")") / $(gb "$(maxcol 4 0 "$t_start")"))"
echo "  step:     $(gb "$(maxcol 2 "$t_start" "$t_step")") ($(gb "$(maxcol 3 "$t_start" "$t_step")") / $(gb "$(maxcol 4 "$t_start" "$t_step")"))"
echo "  after:    $(gb "$(maxcol 2 "$t_step" 1e9)")"
cpu_at() { awk -v a="$1" '$1 < a { c = $6 } END { print c + 0 }' "$W/rss.log"; }
echo "bench-8b: CPU seconds (user + system, sampled): loading $(cpu_at "$t_start"), step 1 $(sub "$(cpu_at "$t_step")" "$(cpu_at "$t_start")")"
echo "  VmHWM at the end of loading: $(gb "$(awk -v a="$t_start" '$1 < a { h = $5 } END { print h + 0 }' "$W/rss.log")")"
sed -n 's/^\t\(User time.*\|System time.*\|Elapsed.*\)/  train: \1/p' "$W/train.time"
exit 0
