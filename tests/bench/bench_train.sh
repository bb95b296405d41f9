#!/bin/sh
# bench_train.sh - `make bench-train`: llamaref's training step and the same
# step in PyTorch, side by side in one run, on stories260K and on a random
# ~100M-parameter Llama, at each thread count asked for.  A benchmark, not a
# test; figures and the command in docs/performance.md ("Issue 16").
#
# usage: bench_train.sh LLAMAREF MAKE_RANDOM_MODEL WORKDIR [ASSETS [OMP]]
# (OMP=1: llamaref was built with OpenMP; it is run with OMP_NUM_THREADS
# set to each count of $BENCH_THREADS, default "1 2"; without OpenMP only
# 1 thread is measured).  $BENCH_MODELS (default "stories260K random100M")
# and $BENCH_FULL (default 1: also full-parameter training) narrow the run;
# $BENCH_ROUNDS (default 1) repeats each model and thread count's lines,
# the implementations alternating, then prints the ratios of each one's
# best tokens/s ("best of N").
#
# Per model and thread count, one line each:
#   llamaref train (LoRA)             the step measured
#   torch (hand-written step)         vectors/gen/bench_lora_torch.py
#   HF+PEFT, torch                    transformers LlamaForCausalLM (eager
#                                     attention) + PEFT LoRA: issue 16's
#                                     yardstick, when the python has them
# then the same for full-parameter training (llamaref train --full against
# the same models without adapters).  Each torch line is followed by the
# ratio llamaref tokens/s / torch tokens/s of the same run.
# Both sides: float32, LoRA r 8 alpha 16 dropout 0.1 on all seven
# projections, batch 8 x 128 tokens (random ids, no padding), AdamW (weight
# decay 0), clipping 1.0, linear schedule; tokens/s counted from the first
# step (as llamaref's progress line does); peak RSS of the whole process
# from /usr/bin/time -v; torch.set_num_threads = llamaref's thread count.
set -u
BIN=$1; MKRAND=$2; W=$3; ASSETS=${4:-../shared/assets}; OMP=${5:-0}
# the PyTorch yardstick: $ORACLE_ENV/bin/python when ORACLE_ENV is set (the
# oracle venv: torch 2.13 CPU), else Debian's /usr/bin/python3
PY=/usr/bin/python3
[ -n "${ORACLE_ENV:-}" ] && PY=$ORACLE_ENV/bin/python
TORCH=vectors/gen/bench_lora_torch.py
NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
ARGS="--batch 8 --r 8 --alpha 16 --dropout 0.1 --targets all --epochs 1"
THREADS=1
[ "$OMP" = 1 ] && THREADS=${BENCH_THREADS:-1 2}
MODELS=${BENCH_MODELS:-stories260K random100M}
FULL=${BENCH_FULL:-1}
ROUNDS=${BENCH_ROUNDS:-1}
case $ROUNDS in ''|*[!0-9]*|0) echo "bench_train.sh: BENCH_ROUNDS must be a count >= 1, not '$ROUNDS'" >&2; exit 2 ;; esac
mkdir -p "$W"
[ -x /usr/bin/time ] || { echo "bench_train.sh: needs /usr/bin/time (GNU time)" >&2; exit 1; }
$PY -c "import torch" 2>/dev/null || { echo "bench_train.sh: needs $PY with torch" >&2; exit 1; }

rss_mb() { sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\).*/\1/p' "$1" | awk '{printf "%.0f", $1 / 1024}'; }

row() { # model impl threads tok/s ms/step rss
    printf '%-12s %-28s %7s %9s %9s %8s MB\n' "$1" "$2" "$3" "$4" "$5" "$6"
}

llamaref_run() { # label model data threads [--full]
    o="$W/out_$1_$4${5:-}"
    rm -rf "$o"
    OMP_NUM_THREADS=$4 /usr/bin/time -v $BIN train --model "$2" --data "$3" --out "$o" $ARGS ${5:-} \
        > /dev/null 2> "$o.log" || { cat "$o.log" >&2; exit 1; }
    tps=$(tr '\r' '\n' < "$o.log" | sed -n 's/^step \([0-9]*\)\/.* \([0-9.]*\) tok\/s.*/\2/p' | tail -n 1)
    steps=$(wc -l < "$o/metrics.jsonl" | tr -d ' ')
    tok=$(sed -n 's/.*"tokens": \([0-9]*\).*/\1/p' "$o/metrics.jsonl" | head -n 1)
    ms=$(awk -v t="$tps" -v k="$tok" 'BEGIN { printf "%.0f", 1000 * k / t }')
    what="llamaref train"
    [ -n "${5:-}" ] && what="llamaref train --full"
    row "$1" "$what ($steps steps)" "$4" "$tps" "$ms" "$(rss_mb "$o.log")"
    ours=$tps
}

best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b + 0 > a + 0 ? b : a) }'; }

ratio() { # label threads: llamaref's tokens/s over the last torch run's
    awk -v l="$1" -v t="$2" -v a="$ours" -v b="$tps" -v w="$what" 'BEGIN {
        printf "%-12s ratio llamaref / %s at %s thread(s): %.2f\n", l, w, t, (b > 0 ? a / b : 0) }'
}

torch_run() { # label config data threads [--hf] [--full]
    o="$W/torch_$1_$4${5:-}${6:-}"
    /usr/bin/time -v $PY $TORCH --config "$2" --data "$3" $ARGS --threads "$4" --label "$1" ${5:-} ${6:-} \
        > "$o.out" 2> "$o.log" || { cat "$o.log" >&2; exit 1; }
    line=$(cat "$o.out")
    tps=$(echo "$line" | sed -n 's/.*threads [0-9]*: \([0-9]*\) tok\/s.*/\1/p')
    ms=$(echo "$line" | sed -n 's/.* \([0-9]*\) ms\/step.*/\1/p')
    steps=$(echo "$line" | sed -n 's/^torch [^:]*: \([0-9]*\) steps.*/\1/p')
    what="torch"
    [ "${5:-}" = --hf ] && what="HF+PEFT, torch"
    [ "${5:-}" = --hf ] && [ -n "${6:-}" ] && what="HF (full), torch"
    [ "${5:-}" = --full ] && what="torch (full)"
    row "$1" "$what $TV ($steps steps)" "$4" "$tps" "$ms" "$(rss_mb "$o.log")"
}

TV=$($PY -c 'import torch; print(torch.__version__)')
$PY $TORCH --write-data "$W/stories.jsonl" --vocab 512 --n 128 --len 128 --seed 1
$PY $TORCH --write-data "$W/m100.jsonl" --vocab 32000 --n 24 --len 128 --seed 2
case " $MODELS " in *" random100M "*)
    [ -f "$W/random100M/model.safetensors" ] || { mkdir -p "$W/random100M" && $MKRAND "$W/random100M"; } || exit 1 ;;
esac
# the issue-16 yardstick (transformers + PEFT) when the python has them
HF=0
$PY -c "import transformers, peft" 2>/dev/null && HF=1

echo "bench-train: $(uname -m), $NCPU CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), llamaref OMP=$OMP, threads: $THREADS, torch $TV, transformers+peft: $HF, load $(cut -d' ' -f1-3 /proc/loadavg)"
[ $HF = 1 ] || echo "bench-train: no transformers/peft in $PY: only the hand-written torch step (set ORACLE_ENV for issue 16's yardstick)"
row model implementation threads "tok/s" "ms/step" "peak RSS"
for m in $MODELS; do
    case $m in
    stories260K) model=$ASSETS/stories260K/stories260K.bin; cfg=stories260K; data=$W/stories.jsonl ;;
    random100M) model=$W/random100M; cfg=$W/random100M/config.json; data=$W/m100.jsonl ;;
    *) echo "bench_train.sh: unknown model $m (stories260K, random100M)" >&2; exit 2 ;;
    esac
    for t in $THREADS; do
        # $ROUNDS rounds, the implementations alternating within each; with
        # more than one, each implementation's best tokens/s and the ratios
        # of the bests follow (a neighbour's load slows whichever runs then)
        k=0; bl=0; bt=0; bh=0; blf=0; bhf=0; fw=""
        while [ $k -lt "$ROUNDS" ]; do
            k=$((k + 1))
            llamaref_run $m "$model" "$data" $t; bl=$(best $bl $ours)
            torch_run $m "$cfg" "$data" $t; ratio $m $t; bt=$(best $bt $tps)
            [ $HF = 1 ] && { torch_run $m "$cfg" "$data" $t --hf; ratio $m $t; bh=$(best $bh $tps); }
            [ "$FULL" = 1 ] || continue
            llamaref_run $m "$model" "$data" $t --full; blf=$(best $blf $ours)
            if [ $HF = 1 ]; then torch_run $m "$cfg" "$data" $t --hf --full
            else torch_run $m "$cfg" "$data" $t --full; fi
            ratio $m $t; bhf=$(best $bhf $tps); fw="$what"
        done
        [ "$ROUNDS" -gt 1 ] || continue
        ours=$bl; tps=$bt; what="torch, best of $ROUNDS ($bl / $bt tok/s)"; ratio $m $t
        [ $HF = 1 ] && { tps=$bh; what="HF+PEFT, torch, best of $ROUNDS ($bl / $bh tok/s)"; ratio $m $t; }
        [ "$FULL" = 1 ] && { ours=$blf; tps=$bhf; what="$fw, best of $ROUNDS ($blf / $bhf tok/s)"; ratio $m $t; }
    done
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit 0
