#!/bin/sh
# train.test.sh - `llamaref train`, `merge` and `dump --labels --adapter`
# end to end on the tiny model of vectors/lora/all7_gqa: a run writes a
# PEFT adapter, optimizer state and one metrics line per step; stopping and
# resuming gives bit-identical files; per-layer recompute gives the same
# bits; bad data fails naming the line.  $LLAMAREF_BIN is used unquoted.
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/train_test"
rm -rf "$T"; mkdir -p "$T"
M=vectors/lora/all7_gqa

cat > "$T/data.jsonl" <<'J'
{"input_ids": [1, 35, 57, 40, 9, 40, 18, 4, 5]}
{"input_ids": [1, 12, 13, 14], "labels": [1, -100, 13, 14]}

{"input_ids": [1, 2, 3, 4, 5, 6]}
{"input_ids": [1, 7, 7, 7, 7, 7, 7, 60]}
{"input_ids": [1, 30, 31]}
J
ARGS="--model $M --data $T/data.jsonl --targets all --r 2 --alpha 4 --dropout 0.1 --lr 1e-2 --epochs 2 --batch 2 --grad-accum 2 --warmup 1 --seed 3"

# 1. a full run: 2 epochs x ceil(3 micro-batches / 2) = 4 steps
$LLAMAREF_BIN train $ARGS --out "$T/full" 2>"$T/full.err" || bad "train failed: $(cat $T/full.err)"
n=$(wc -l < "$T/full/metrics.jsonl" | tr -d ' ')
if [ "$n" = 4 ]; then ok; else bad "metrics lines: $n, want 4"; fi
has "metrics fields" "$(head -n 1 $T/full/metrics.jsonl)" '"grad_norm"'
for f in adapter_config.json adapter_model.safetensors optimizer.safetensors; do
    if [ -s "$T/full/$f" ]; then ok; else bad "missing $f"; fi
done
has "PEFT config" "$(cat $T/full/adapter_config.json)" '"peft_type": "LORA"'
has "PEFT key" "$(head -c 4000 $T/full/adapter_model.safetensors)" 'base_model.model.model.layers.1.mlp.down_proj.lora_B.weight'
has "progress" "$(cat $T/full.err)" "step 4/4"

# 2. stop after 1 step (checkpoint), resume: identical to the full run
# (a stale staging directory of an interrupted save is replaced; the
# checkpoint is written as a unit: no .partial / .old directory remains)
mkdir -p "$T/part/checkpoint-1.partial"; echo junk > "$T/part/checkpoint-1.partial/x"
$LLAMAREF_BIN train $ARGS --out "$T/part" --max-steps 1 --save-every 1 2>/dev/null || bad "partial run failed"
for d in checkpoint-1.partial checkpoint-1.old; do
    [ ! -e "$T/part/$d" ] && ok || bad "$d left behind"
done
[ ! -e "$T/part/checkpoint-1/x" ] && ok || bad "stale file in checkpoint-1"
cp "$T/part/checkpoint-1/optimizer.safetensors" "$T/opt1.safetensors"
# a rerun into the same DIR replaces checkpoint-1 with the same bits
$LLAMAREF_BIN train $ARGS --out "$T/part" --max-steps 1 --save-every 1 2>/dev/null || bad "rerun failed"
same "rerun checkpoint" "$T/opt1.safetensors" "$T/part/checkpoint-1/optimizer.safetensors"
[ ! -e "$T/part/checkpoint-1.old" ] && ok || bad "checkpoint-1.old left behind"
$LLAMAREF_BIN train $ARGS --out "$T/resumed" --resume "$T/part/checkpoint-1" 2>"$T/res.err" || bad "resume failed: $(cat $T/res.err)"
same "resume adapter" "$T/full/adapter_model.safetensors" "$T/resumed/adapter_model.safetensors"
same "resume optimizer" "$T/full/optimizer.safetensors" "$T/resumed/optimizer.safetensors"

# 3. per-layer recomputation: the same bits
$LLAMAREF_BIN train $ARGS --out "$T/recomp" --recompute 2>/dev/null || bad "recompute run failed"
same "recompute" "$T/full/adapter_model.safetensors" "$T/recomp/adapter_model.safetensors"

# 4. dump with the trained adapter writes logits, loss and every gradient
$LLAMAREF_BIN dump --model $M --adapter "$T/full" --ids "1 5 9 13" --labels "1 -100 9 13" --out "$T/d.safetensors" 2>"$T/d.err" || bad "dump failed: $(cat $T/d.err)"
h=$(head -c 20000 "$T/d.safetensors")
has "dump loss" "$h" '"loss"'
has "dump grad" "$h" 'grad.base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'
err=$($LLAMAREF_BIN dump --model $M --adapter "$T/full" --ids "1 5 9" --labels "1 -100 -100" --out "$T/e.safetensors" 2>&1)
has "dump all ignored" "$err" "every label is -100"

# 5. merge writes a loadable checkpoint
$LLAMAREF_BIN merge --model $M --adapter "$T/full" --out "$T/merged" 2>"$T/m.err" || bad "merge failed: $(cat $T/m.err)"
$LLAMAREF_BIN dump --model "$T/merged" --ids "1 5 9 13" --out "$T/m.safetensors" 2>/dev/null || bad "merged model does not load"

# 6. bad data
printf '{"input_ids": [1, 2]}\n{"input_ids": [1, 2\n' > "$T/bad1.jsonl"
err=$($LLAMAREF_BIN train --model $M --data "$T/bad1.jsonl" --out "$T/x" 2>&1)
has "malformed line" "$err" "bad1.jsonl:2"
printf '{"input_ids": [1, 2]}\n{"txt": "x"}\n' > "$T/bad2.jsonl"
err=$($LLAMAREF_BIN train --model $M --data "$T/bad2.jsonl" --out "$T/x" 2>&1)
has "missing fields" "$err" "bad2.jsonl:2: expected"
printf '\n\n' > "$T/empty.jsonl"
err=$($LLAMAREF_BIN train --model $M --data "$T/empty.jsonl" --out "$T/x" 2>&1)
has "empty" "$err" "empty"
printf '{"input_ids": [1, 2, 3], "labels": [1, -100, -100]}\n' > "$T/ign.jsonl"
err=$($LLAMAREF_BIN train --model $M --data "$T/ign.jsonl" --out "$T/x" 2>&1)
has "all ignored" "$err" "ign.jsonl:1: no token is trained on"
err=$($LLAMAREF_BIN train --model $M --data "$T/data.jsonl" --max-len 5 --out "$T/x" 2>&1)
has "too long" "$err" "data.jsonl:1: 9 tokens exceed the limit of 5"
$LLAMAREF_BIN train --model $M --data "$T/data.jsonl" --max-len 5 --truncate --epochs 1 --out "$T/trunc" 2>/dev/null && ok || bad "--truncate run failed"
printf '{"input_ids": [1, 64]}\n' > "$T/oov.jsonl"
err=$($LLAMAREF_BIN train --model $M --data "$T/oov.jsonl" --out "$T/x" 2>&1)
has "id out of range" "$err" "oov.jsonl:1"

# 7. end to end against HF's step sequence through the real libraries
# (vectors/gen/hf_trainer.py: the PEFT model with llamaref's init, data order
# and dropout masks; torch AdamW, transformers' get_scheduler, clip_grad_norm_):
# the loss, lr and grad norm of every step.  Double build: 1e-7 relative
# (metrics are printed with 9 digits), float build 1e-5 (measured 2e-7).
tol=1e-5
case "$($LLAMAREF_BIN --help)" in *"compute type: double"*) tol=1e-7 ;; esac
E=vectors/lora/e2e
$LLAMAREF_BIN train --model $M --data $E/data.jsonl --targets all --r 2 --alpha 4 --dropout 0.1 --lr 1e-2 --epochs 3 --batch 2 --grad-accum 2 --warmup 1 --seed 3 --out "$T/e2e" 2>/dev/null || bad "e2e run failed"
sed 's/[{}",:]/ /g' "$T/e2e/metrics.jsonl" | awk '{print $6, $8, $10}' > "$T/e2e/ours.txt"
grep -v '^#' $E/torch_losses.txt > "$T/e2e/torch.txt"
res=$(paste "$T/e2e/ours.txt" "$T/e2e/torch.txt" | awk -v tol=$tol '
    function rel(a, b) { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; return d / (m > 1e-12 ? m : 1) }
    { n++; if (rel($1, $4) > tol || rel($2, $5) > tol || rel($3, $6) > tol) { print "step " n ": " $0; bad = 1 } }
    END { if (n != 6) print "steps: " n; else if (!bad) print "ok" }')
if [ "$res" = ok ]; then ok; else bad "e2e vs torch: $res"; fi

finish train.test.sh
