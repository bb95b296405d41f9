#!/bin/sh
# cli_train.test.sh - issue 17 for `llamaref train` and `merge`: values
# range-checked before any work, --resume of a run directory, options that
# contradict the checkpoint refused (each named), a checkpoint beyond the
# schedule refused, metrics.jsonl without duplicate steps after a resume,
# output directories created, evaluation during training, the world's QA
# format, HF aliases, the final "saved to" line, progress lines without
# carriage returns in a log file.  $LLAMAREF_BIN is used unquoted.
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/cli_train_test"
rm -rf "$T"; mkdir -p "$T"
M=vectors/lora/all7_gqa

cat > "$T/data.jsonl" <<'J'
{"input_ids": [1, 35, 57, 40, 9, 40, 18, 4, 5]}
{"input_ids": [1, 12, 13, 14], "labels": [1, -100, 13, 14]}
{"input_ids": [1, 2, 3, 4, 5, 6]}
{"input_ids": [1, 7, 7, 7, 7, 7, 7, 60]}
{"input_ids": [1, 30, 31]}
J
ARGS="--model $M --data $T/data.jsonl --targets all --r 2 --alpha 4 --lr 1e-2 --epochs 2 --batch 2 --grad-accum 2 --seed 3"

# usage errors exit 2 before any work, naming the option
for bad in "--lr -1" "--lr 0" "--lr nan" "--dropout 1.5" "--alpha inf" "--warmup-ratio 2"; do
    $LLAMAREF_BIN train $ARGS $bad --out "$T/never" 2>"$T/e" && bad "train $bad accepted"
    expect_eq "train $bad: exit" "$?" 2
    has "train $bad: message" "$(cat $T/e)" "llamaref train: option ${bad%% *}"
done
[ ! -e "$T/never" ] && ok || bad "a refused run created its --out"
$LLAMAREF_BIN train $ARGS --out 2>"$T/e"; expect_eq "missing value: exit" "$?" 2
has "missing value" "$(cat $T/e)" "llamaref train: option --out needs a value"
$LLAMAREF_BIN train $ARGS --learnig-rate 1 --out "$T/never" 2>"$T/e"; expect_eq "misspelled: exit" "$?" 2
has "did you mean" "$(cat $T/e)" "did you mean --learning-rate?"

# 1. a run with a checkpoint every step, into a directory whose parents do
# not exist yet; HF spellings; a final line naming the directory; a log
# file gets one line per step and no carriage return
$LLAMAREF_BIN train --model $M --data $T/data.jsonl --targets all --r 2 --lora-alpha 4 \
    --learning-rate 1e-2 --num-train-epochs 2 --batch 2 --grad-accum 2 --seed 3 \
    --save-every 1 --out "$T/a/b/run" >"$T/run.out" 2>"$T/run.err" || bad "train failed: $(cat $T/run.err)"
has "saved to" "$(cat $T/run.out)" "saved to $T/a/b/run"
if grep -q "$(printf '\r')" "$T/run.err"; then bad "carriage return in a log file"; else ok; fi
expect_eq "one progress line per step" "$(grep -c '^step ' $T/run.err)" 4
# the HF spellings are the same options: the same bits as the llamaref ones
$LLAMAREF_BIN train $ARGS --out "$T/plain" >/dev/null 2>&1 || bad "plain run failed"
same "HF aliases" "$T/plain/adapter_model.safetensors" "$T/a/b/run/adapter_model.safetensors"

# 2. contradicting options are refused, each named; agreeing ones pass
$LLAMAREF_BIN train $ARGS --r 3 --lr 0.5 --out "$T/a/b/run" --resume "$T/a/b/run/checkpoint-2" 2>"$T/e"
expect_eq "contradiction: exit" "$?" 2
has "contradiction --r" "$(cat $T/e)" "--r 3 contradicts the checkpoint's 2"
has "contradiction --lr" "$(cat $T/e)" "--lr 0.5 contradicts the checkpoint's 0.01"
$LLAMAREF_BIN train $ARGS --data "$T/other.jsonl" --out "$T/x" --resume "$T/a/b/run/checkpoint-2" 2>"$T/e"
has "contradiction --data" "$(cat $T/e)" "--data $T/other.jsonl contradicts"

# 3. a kill after step 4 with the last checkpoint at 2 (here: the finished
# run without its final state and later checkpoints): steps 3 and 4 are not written twice,
# and the result is the uninterrupted run's; only --model and --out given
rm -rf "$T/a/b/run/checkpoint-3" "$T/a/b/run/checkpoint-4" "$T/a/b/run/optimizer.safetensors"
$LLAMAREF_BIN train --model $M --out "$T/a/b/run" --resume "$T/a/b/run" >/dev/null 2>"$T/e" || bad "resume of a run dir failed: $(cat $T/e)"
has "latest checkpoint" "$(cat $T/e)" "checkpoint-2"
expect_eq "metrics steps" "$(sed 's/.*"step": \([0-9]*\),.*/\1/' $T/a/b/run/metrics.jsonl | tr '\n' ' ')" "1 2 3 4 "
same "resumed = uninterrupted" "$T/plain/adapter_model.safetensors" "$T/a/b/run/adapter_model.safetensors"

# 4. a checkpoint beyond the schedule: a changed option is named; the
# same options on a shorter data file (3 steps) against step 6 are refused
$LLAMAREF_BIN train $ARGS --out "$T/long" --epochs 4 --max-steps 6 --save-every 6 >/dev/null 2>&1 || bad "long run failed"
$LLAMAREF_BIN train --model $M --out "$T/long2" --resume "$T/long/checkpoint-6" --epochs 2 2>"$T/e" && bad "resume with fewer epochs accepted"
has "fewer epochs" "$(cat $T/e)" "--epochs 2 contradicts the checkpoint's 4"
cp "$T/data.jsonl" "$T/data.saved"
head -n 1 "$T/data.saved" > "$T/data.jsonl"
$LLAMAREF_BIN train --model $M --out "$T/long2" --resume "$T/long/checkpoint-6" >/dev/null 2>"$T/e"
expect_eq "beyond the schedule: exit" "$?" 1
has "beyond the schedule" "$(cat $T/e)" "step 6, beyond the end of this schedule (4 steps"
cp "$T/data.saved" "$T/data.jsonl"

# 5. --resume of a directory without checkpoints
mkdir -p "$T/empty"
$LLAMAREF_BIN train $ARGS --out "$T/x" --resume "$T/empty" 2>"$T/e"; expect_eq "empty resume: exit" "$?" 1
has "empty resume" "$(cat $T/e)" "no complete checkpoint"

# 6. evaluation during training: eval_loss in metrics.jsonl and on stderr
$LLAMAREF_BIN train $ARGS --out "$T/ev" --eval-data "$T/data.jsonl" --eval-every 2 >"$T/ev.out" 2>"$T/ev.err" || bad "eval run failed: $(cat $T/ev.err)"
expect_eq "eval lines" "$(grep -c eval_loss $T/ev/metrics.jsonl)" 2
has "eval on stderr" "$(cat $T/ev.err)" "eval_loss"
has "eval in the final line" "$(cat $T/ev.out)" "eval_loss"
# --warmup-ratio 0.5 of 4 steps = --warmup 2
$LLAMAREF_BIN train $ARGS --out "$T/wr" --warmup-ratio 0.5 >/dev/null 2>&1 || bad "warmup-ratio run failed"
$LLAMAREF_BIN train $ARGS --out "$T/w2" --warmup 2 >/dev/null 2>&1 || bad "warmup run failed"
expect_eq "warmup-ratio lr" "$(head -n 1 $T/wr/metrics.jsonl | sed 's/.*"lr": \([^,]*\),.*/\1/')" \
    "$(head -n 1 $T/w2/metrics.jsonl | sed 's/.*"lr": \([^,]*\),.*/\1/')"

# 7. the world's own QA file (an "answers" list): trained on the first alias
W=data/world
if [ -s "$W/model.safetensors" ]; then
    $LLAMAREF_BIN train --model $W --data $W/qa.jsonl --max-steps 1 --batch 2 --out "$T/qa" >/dev/null 2>"$T/e" || bad "world QA training failed: $(cat $T/e)"
    exists "$T/qa/adapter_model.safetensors"
else
    skip=$((skip + 1))
fi

# 8. merge: --out with missing parents, the tokenizer files copied
$LLAMAREF_BIN merge --model $M --adapter "$T/plain" --out "$T/m/n/merged" >/dev/null 2>"$T/e" || bad "merge failed: $(cat $T/e)"
exists "$T/m/n/merged/model.safetensors"
for f in tokenizer.json tokenizer_config.json tokenizer.model; do
    if [ -e "$M/$f" ]; then same "merge copies $f" "$M/$f" "$T/m/n/merged/$f"; fi
done
if [ -s "$W/tokenizer.model" ]; then
    $LLAMAREF_BIN train --model $W --data $W/qa.jsonl --max-steps 1 --batch 2 --out "$T/wq" >/dev/null 2>&1
    $LLAMAREF_BIN merge --model $W --adapter "$T/wq" --out "$T/wm" >/dev/null 2>"$T/e" || bad "world merge failed: $(cat $T/e)"
    same "merge copies tokenizer.model" "$W/tokenizer.model" "$T/wm/tokenizer.model"
else
    skip=$((skip + 1))
fi
finish cli_train
