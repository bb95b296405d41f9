#!/bin/sh
# bench_train.sh - `make bench-train`: one LoRA training run of llamaref and
# the same step in PyTorch (vectors/gen/bench_lora_torch.py, Debian
# python3-torch on the CPU), side by side, on stories260K and on a random
# ~100M-parameter Llama.  A benchmark, not a test; figures and the command
# in docs/performance.md ("Training").
#
# usage: bench_train.sh LLAMAREF MAKE_RANDOM_MODEL WORKDIR [ASSETS [OMP]]
# (OMP=1: llamaref was built with OpenMP and uses $OMP_NUM_THREADS or
# every core)
# Both sides: float32, LoRA r 8 alpha 16 dropout 0.1 on all seven
# projections, batch 8 x 128 tokens (random ids, no padding), AdamW,
# clipping 1.0, linear schedule; tokens/s counted from the first step (as
# llamaref's progress line does); peak RSS of the whole process from
# /usr/bin/time -v.  llamaref runs on the threads its build has (1 without
# OMP=1, else OMP_NUM_THREADS or every core) and torch on as many; the
# ratio of the two tokens/s is printed per model.
set -u
BIN=$1; MKRAND=$2; W=$3; ASSETS=${4:-../shared/assets}; OMP=${5:-0}
# the PyTorch yardstick: $ORACLE_ENV/bin/python when ORACLE_ENV is set (the
# oracle venv: torch 2.13 CPU), else Debian's /usr/bin/python3
PY=/usr/bin/python3
[ -n "${ORACLE_ENV:-}" ] && PY=$ORACLE_ENV/bin/python
TORCH=vectors/gen/bench_lora_torch.py
NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
ARGS="--batch 8 --r 8 --alpha 16 --dropout 0.1 --targets all --epochs 1"
mkdir -p "$W"
[ -x /usr/bin/time ] || { echo "bench_train.sh: needs /usr/bin/time (GNU time)" >&2; exit 1; }
$PY -c "import torch" 2>/dev/null || { echo "bench_train.sh: needs $PY with torch" >&2; exit 1; }

rss_mb() { sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' "$1" | awk '{printf "%.0f", $1 / 1024}'; }

row() { # model impl threads tok/s ms/step rss
    printf '%-12s %-28s %7s %9s %9s %8s MB\n' "$1" "$2" "$3" "$4" "$5" "$6"
}

llamaref_run() { # label model data
    /usr/bin/time -v $BIN train --model "$2" --data "$3" --out "$W/out_$1" $ARGS \
        > /dev/null 2> "$W/llamaref_$1.log" || { cat "$W/llamaref_$1.log" >&2; exit 1; }
    tps=$(tr '\r' '\n' < "$W/llamaref_$1.log" | sed -n 's/^step \([0-9]*\)\/.* \([0-9]*\) tok\/s.*/\2/p' | tail -n 1)
    steps=$(wc -l < "$W/out_$1/metrics.jsonl" | tr -d ' ')
    tok=$(sed -n 's/.*"tokens": \([0-9]*\).*/\1/p' "$W/out_$1/metrics.jsonl" | head -n 1)
    ms=$(awk -v t="$tps" -v k="$tok" 'BEGIN { printf "%.0f", 1000 * k / t }')
    thr=1
    [ "$OMP" = 1 ] && thr=${OMP_NUM_THREADS:-$NCPU}
    row "$1" "llamaref train ($steps steps)" "$thr" "$tps" "$ms" "$(rss_mb "$W/llamaref_$1.log")"
    ours=$tps
}

ratio() { # label threads: llamaref's tokens/s over the last torch run's
    awk -v l="$1" -v t="$2" -v a="$ours" -v b="$tps" -v w="$what" 'BEGIN {
        printf "%-12s ratio llamaref / %s at %s thread(s): %.2f\n", l, w, t, (b > 0 ? a / b : 0) }'
}

torch_run() { # label config data threads [--hf]
    /usr/bin/time -v $PY $TORCH --config "$2" --data "$3" $ARGS --threads "$4" --label "$1" ${5:-} \
        > "$W/torch_$1_$4.out" 2> "$W/torch_$1_$4.log" || { cat "$W/torch_$1_$4.log" >&2; exit 1; }
    line=$(cat "$W/torch_$1_$4.out")
    tps=$(echo "$line" | sed -n 's/.*threads [0-9]*: \([0-9]*\) tok\/s.*/\1/p')
    ms=$(echo "$line" | sed -n 's/.* \([0-9]*\) ms\/step.*/\1/p')
    steps=$(echo "$line" | sed -n 's/^torch [^:]*: \([0-9]*\) steps.*/\1/p')
    what="torch"
    [ -n "${5:-}" ] && what="HF+PEFT, torch"
    row "$1" "$what $($PY -c 'import torch; print(torch.__version__)') ($steps steps)" "$4" "$tps" "$ms" "$(rss_mb "$W/torch_$1_$4.log")"
}

$PY $TORCH --write-data "$W/stories.jsonl" --vocab 512 --n 128 --len 128 --seed 1
$PY $TORCH --write-data "$W/m100.jsonl" --vocab 32000 --n 24 --len 128 --seed 2
[ -f "$W/random100M/model.safetensors" ] || { mkdir -p "$W/random100M" && $MKRAND "$W/random100M"; } || exit 1

echo "bench-train: $(uname -m), $NCPU CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), llamaref OMP=$OMP, load $(cut -d' ' -f1-3 /proc/loadavg)"
row model implementation threads "tok/s" "ms/step" "peak RSS"
THR=1
[ "$OMP" = 1 ] && THR=${OMP_NUM_THREADS:-$NCPU}
llamaref_run stories260K "$ASSETS/stories260K/stories260K.bin" "$W/stories.jsonl"
# the issue-16 yardstick (transformers + PEFT) when the python has them
HF=0
$PY -c "import transformers, peft" 2>/dev/null && HF=1
torch_run stories260K stories260K "$W/stories.jsonl" "$THR"
ratio stories260K "$THR"
[ $HF = 1 ] && { torch_run stories260K stories260K "$W/stories.jsonl" "$THR" --hf; ratio stories260K "$THR"; }
llamaref_run random100M "$W/random100M" "$W/m100.jsonl"
torch_run random100M "$W/random100M/config.json" "$W/m100.jsonl" "$THR"
ratio random100M "$THR"
[ $HF = 1 ] && { torch_run random100M "$W/random100M/config.json" "$W/m100.jsonl" "$THR" --hf; ratio random100M "$THR"; }
exit 0
