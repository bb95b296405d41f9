#!/bin/sh
# train_full.test.sh - `llamaref train --full` end to end on the tiny model
# of vectors/full/untied_pad_llama3: a run writes a HF checkpoint
# (config.json + model.safetensors), optimizer state and one metrics line
# per step, and lowers the loss; stopping and resuming gives bit-identical
# files; per-layer recompute gives the same bits; the trained checkpoint
# loads; LoRA and full checkpoints do not resume each other; pretraining
# from random weights (--init) on text documents.  (Gradients
# and the AdamW trajectory are checked against torch in test_full.c.)
# $LLAMAREF_BIN is used unquoted.
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/train_full_test"
rm -rf "$T"; mkdir -p "$T"
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
# a checkpoint whose model is from another step than its optimizer state
# (what an interrupted save into DIR could leave) is refused, naming both
mkdir -p "$T/torn"
cp "$T/part/checkpoint-3/config.json" "$T/part/checkpoint-3/optimizer.safetensors" "$T/torn/"
cp "$T/run/model.safetensors" "$T/torn/"
err=$($LLAMAREF_BIN train $ARGS --out "$T/torn_out" --resume "$T/torn" 2>&1); rc=$?
[ "$rc" != 0 ] && ok || bad "a torn checkpoint resumed"
has "torn checkpoint" "$err" "torn/optimizer.safetensors: the model weights in $T/torn are not the ones"
[ ! -e "$T/torn_out/model.safetensors" ] && ok || bad "a torn checkpoint wrote a model"

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

# 6. pretraining from scratch: --init CONFIG (HF-style random weights from
# --seed) with a bpe-train tokenizer on {"text": ...} documents, which
# train exactly like the same documents pre-tokenized with <bos> ... <eos>
printf 'the cat sat on the mat.\nthe dog sat on the log.\n"quoted" text, a cat and a dog.\n' > "$T/corpus.txt"
$LLAMAREF_BIN bpe-train --corpus "$T/corpus.txt" --vocab-size 300 --out "$T/tok.model" --quiet 2>/dev/null || bad "bpe-train failed"
cat > "$T/tiny.json" <<'J'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 16,
 "intermediate_size": 24, "num_hidden_layers": 2, "num_attention_heads": 4,
 "num_key_value_heads": 2, "head_dim": 4, "vocab_size": 556, "rms_norm_eps": 1e-5,
 "rope_theta": 500000.0, "max_position_embeddings": 256,
 "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
   "high_freq_factor": 4.0, "original_max_position_embeddings": 32},
 "tie_word_embeddings": true}
J
cat > "$T/text.jsonl" <<'J'
{"text": "the cat sat on the mat."}
{"text": "the dog sat on the log.\n\"quoted\" text"}
{"text": "a cat and a dog."}
J
$LLAMAREF_BIN tokenize --tokenizer "$T/tok.model" --jsonl --bos --eos < "$T/text.jsonl" | sed 's/^/{"input_ids": /; s/$/}/' > "$T/ids.jsonl"
PRE="--full --init $T/tiny.json --tokenizer $T/tok.model --lr 1e-2 --epochs 3 --batch 2 --seed 5"
$LLAMAREF_BIN train $PRE --data "$T/text.jsonl" --out "$T/pre_text" 2>"$T/pre.err" || bad "pretraining failed: $(cat $T/pre.err)"
$LLAMAREF_BIN train $PRE --data "$T/ids.jsonl" --out "$T/pre_ids" 2>/dev/null || bad "pretraining (ids) failed"
same "text == <bos> ids <eos>" "$T/pre_text/model.safetensors" "$T/pre_ids/model.safetensors"
$LLAMAREF_BIN train $PRE --data "$T/text.jsonl" --out "$T/pre_again" 2>/dev/null || bad "pretraining rerun failed"
same "pretraining deterministic" "$T/pre_text/model.safetensors" "$T/pre_again/model.safetensors"
$LLAMAREF_BIN train $PRE --seed 6 --data "$T/text.jsonl" --out "$T/pre_seed6" 2>/dev/null || bad "seed 6 run failed"
if cmp -s "$T/pre_text/model.safetensors" "$T/pre_seed6/model.safetensors"; then bad "--seed does not change the init"; else ok; fi
first=$(head -n 1 "$T/pre_text/metrics.jsonl" | sed 's/.*"loss": \([^,]*\),.*/\1/')
if awk "BEGIN { exit !($first > 6.2 && $first < 6.45) }"; then ok; else bad "initial loss $first is not about ln(556) = 6.32"; fi
err=$($LLAMAREF_BIN train --init "$T/tiny.json" --tokenizer "$T/tok.model" --data "$T/text.jsonl" --out "$T/x" 2>&1)
has "--init needs --full" "$err" "--init needs --full"

finish train_full.test.sh
