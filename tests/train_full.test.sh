#!/bin/sh
# train_full.test.sh - `llamaref train --full` end to end on the tiny model
# of vectors/full/untied_pad_llama3: a run writes a HF checkpoint
# (config.json + model.safetensors), optimizer state and one metrics line
# per step, and lowers the loss; stopping and resuming gives bit-identical
# files; per-layer recompute gives the same bits; the trained checkpoint
# loads; LoRA and full checkpoints do not resume each other.  (Gradients
# and the AdamW trajectory are checked against torch in test_full.c.)
# $LLAMAREF_BIN is used unquoted.
set -u
: "${LLAMAREF_BIN:=./llamaref}"
: "${LLAMAREF_TMP:=build/tmp}"
T="$LLAMAREF_TMP/train_full_test"
rm -rf "$T"; mkdir -p "$T"
pass=0; fail=0; skip=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }
has() { case "$2" in *"$3"*) ok ;; *) bad "$1: '$3' not in: $2" ;; esac; }
same() { if cmp -s "$2" "$3"; then ok; else bad "$1: $2 and $3 differ"; fi; }
M=vectors/full/untied_pad_llama3

cat > "$T/data.jsonl" <<'J'
{"input_ids": [1, 35, 17, 30, 9, 30, 18, 4, 5]}
{"input_ids": [1, 12, 13, 14], "labels": [1, -100, 13, 14]}
{"input_ids": [1, 2, 3, 4, 5, 6]}
{"input_ids": [1, 7, 7, 7, 7, 7, 7, 39]}
{"input_ids": [1, 30, 31]}
J
ARGS="--full --model $M --data $T/data.jsonl --lr 1e-2 --epochs 4 --batch 2 --grad-accum 2 --warmup 1 --schedule cosine --weight-decay 0.1 --seed 3"

# 1. 4 epochs x ceil(3 micro-batches / 2) = 8 steps
$LLAMAREF_BIN train $ARGS --out "$T/run" 2>"$T/run.err" || bad "train --full failed: $(cat $T/run.err)"
n=$(wc -l < "$T/run/metrics.jsonl" | tr -d ' ')
if [ "$n" = 8 ]; then ok; else bad "metrics lines: $n, want 8"; fi
has "metrics fields" "$(head -n 1 $T/run/metrics.jsonl)" '"grad_norm"'
for f in config.json model.safetensors optimizer.safetensors; do
    if [ -s "$T/run/$f" ]; then ok; else bad "missing $f"; fi
done
if [ -e "$T/run/adapter_config.json" ]; then bad "adapter written by --full"; else ok; fi
has "progress" "$(cat $T/run.err)" "step 8/8"
has "parameter count" "$(cat $T/run.err)" "parameters (full)"
has "HF names" "$(head -c 4000 $T/run/model.safetensors)" 'lm_head.weight'
first=$(head -n 1 "$T/run/metrics.jsonl" | sed 's/.*"loss": \([^,]*\),.*/\1/')
last=$(tail -n 1 "$T/run/metrics.jsonl" | sed 's/.*"loss": \([^,]*\),.*/\1/')
if awk "BEGIN { exit !($last < $first * 0.9) }"; then ok; else bad "loss did not fall: $first -> $last"; fi

# 2. stop after 3 steps (checkpoint), resume: identical to the whole run
$LLAMAREF_BIN train $ARGS --out "$T/part" --max-steps 3 --save-every 3 2>/dev/null || bad "partial run failed"
for f in config.json model.safetensors optimizer.safetensors; do
    if [ -s "$T/part/checkpoint-3/$f" ]; then ok; else bad "checkpoint-3 lacks $f"; fi
done
$LLAMAREF_BIN train $ARGS --out "$T/resumed" --resume "$T/part/checkpoint-3" 2>"$T/res.err" || bad "resume failed: $(cat $T/res.err)"
same "resume model" "$T/run/model.safetensors" "$T/resumed/model.safetensors"
same "resume optimizer" "$T/run/optimizer.safetensors" "$T/resumed/optimizer.safetensors"
same "resume config" "$T/run/config.json" "$T/resumed/config.json"

# 3. per-layer recomputation: the same bits
$LLAMAREF_BIN train $ARGS --out "$T/recomp" --recompute 2>/dev/null || bad "recompute run failed"
same "recompute" "$T/run/model.safetensors" "$T/recomp/model.safetensors"

# 4. the trained checkpoint loads and scores; its weights moved
$LLAMAREF_BIN dump --model "$T/run" --ids "1 12 13 14" --labels "1 -100 13 14" --out "$T/d.safetensors" 2>"$T/d.err" || bad "trained model does not load: $(cat $T/d.err)"
if cmp -s "$M/model.safetensors" "$T/run/model.safetensors"; then bad "weights unchanged"; else ok; fi

# 5. a LoRA checkpoint cannot resume full training, nor the reverse
$LLAMAREF_BIN train --model $M --data "$T/data.jsonl" --epochs 1 --batch 4 --out "$T/lora" 2>/dev/null || bad "LoRA run failed"
err=$($LLAMAREF_BIN train $ARGS --out "$T/x" --resume "$T/lora" 2>&1)
has "LoRA ckpt, full resume" "$err" "cannot resume full-parameter training"
err=$($LLAMAREF_BIN train --model $M --data "$T/data.jsonl" --out "$T/y" --resume "$T/part/checkpoint-3" 2>&1)
has "full ckpt, LoRA resume" "$err" "cannot resume LoRA training"

echo "train_full.test.sh: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
