#!/bin/sh
# experiment.test.sh - `llamaref experiment knowledge` end to end on
# stories260K: a 2 x 2 grid (one grid point skipped for lack of Unknown
# facts), the trained fact learned (reliability 1), every intermediate
# file identical to what the single commands (probe, mixture, train,
# knowledge-report, eval mmlu, eval ppl) produce with the same options,
# the report's structure, and a world directory as --model.
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/experiment_test"
rm -rf "$T"; mkdir -p "$T"
# the value of "key": in a one-line JSON text
val() { printf '%s' "$2" | sed -n "s/.*\"$1\": \([^,}]*\).*/\1/p" | head -n 1; }

S="$LLAMAREF_ASSETS/stories260K"
D="$LLAMAREF_DATA"
if [ ! -f "$S/stories260K.bin" ] || [ ! -f "$D/entityquestions/dev/P176.dev.json" ] ||
   [ ! -f "$D/mmlu/test/anatomy_test.csv" ]; then
    echo "experiment.test.sh: skipped: stories260K, entityquestions or mmlu missing (README.md: Getting the assets)" >&2
    skip=$((skip + 1)); finish experiment.test.sh; exit
fi
if [ -n "${LLAMAREF_EMULATED:-}" ]; then
    echo "experiment.test.sh: skipped: emulated target (runs natively in CI)" >&2
    skip=$((skip + 1)); finish experiment.test.sh; exit
fi
M="--model $S/stories260K.bin --tokenizer $S/tok512.bin"
SHOTS="$D/entityquestions/dev/P176.dev.json"
# the facts of eval_pipeline.test.sh: two MaybeKnown through aliases the
# model produces, two Unknown (with paraphrases)
cat > "$T/facts.jsonl" <<'J'
{"question": "Which country is Pulkal mandal located in?", "answers": ["India", "want"]}
{"question": "Which country is Schott NYC located in?", "answers": ["United States of America", "surprised"]}
{"question": "Who wrote Hamlet?", "answers": ["Shakespeare"], "paraphrases": ["Hamlet was written by whom?"]}
{"question": "What is the capital of France?", "answers": ["Paris"], "paraphrases": ["France's capital is?"]}
J
mkdir -p "$T/bench/dev" "$T/bench/test"
cp "$D/mmlu/dev/anatomy_dev.csv" "$T/bench/dev/"
cp "$D/mmlu/test/anatomy_test.csv" "$T/bench/test/"
printf 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.\n' > "$T/valid.txt"
PROBE="--prompts 4 --max-new-tokens 16"
TRAIN="--epochs 30 --batch 2 --lr 1e-2 --r 4 --alpha 8 --dropout 0 --targets all"
E="$T/out"
out=$($LLAMAREF_BIN experiment knowledge $M --facts "$T/facts.jsonl" --shots "$SHOTS" \
      --benchmark "$T/bench" --bench-shots 2 --bench-limit 4 --valid "$T/valid.txt" \
      $PROBE --unknown 1,3 --extra 0,1 --kind paraphrase --seeds 1 $TRAIN --no-rslora \
      --out "$E" 2>"$T/stderr.txt"); rc=$?
[ "$rc" = 0 ] && ok || bad "experiment exit $rc: $(tail -n 3 "$T/stderr.txt")"
has "stdout" "$out" "experiment: 4 runs (2 skipped)"
err=$(cat "$T/stderr.txt")
has "progress" "$err" "experiment: step 1/5: probing the base model"
has "progress eta" "$err" "ETA"
for f in summary.json report.md reliability.svg negative-shift.svg benchmark.svg \
         refusals.svg runs/base/probe.jsonl runs/n1_k0_paraphrase_s1/train.jsonl \
         runs/n1_k0_paraphrase_s1/probe.jsonl runs/n1_k0_paraphrase_s1/metrics.json \
         runs/n1_k1_paraphrase_s1/adapter/adapter_model.safetensors; do
    exists "$E/$f"
done
sum=$(tr -d '\n' < "$E/summary.json")
has "summary categories" "$sum" '"categories": {"HighlyKnown": 0, "MaybeKnown": 2, "WeaklyKnown": 0, "Unknown": 2}'
has "summary skipped" "$sum" '"n_unknown": 3, "extra": 0, "kind": "paraphrase", "seed": 1, "dir": "runs/n3_k0_paraphrase_s1", "status": "skipped", "reason": "'
has "summary ok" "$sum" '"n_unknown": 1, "extra": 1, "kind": "paraphrase", "seed": 1, "dir": "runs/n1_k1_paraphrase_s1", "status": "ok"'
m=$(tr -d '\n' < "$E/runs/n1_k0_paraphrase_s1/metrics.json")
# 30 epochs at lr 1e-2 teach the one Unknown fact (as in eval_pipeline.test.sh)
expect_rel=$(val reliability "$m")
[ "$expect_rel" = 1 ] && ok || bad "reliability of n1_k0 is '$expect_rel', expected 1"
has "positive shift" "$m" '"positive_shift": 0.25'

# every step equals the single command with the same options
$LLAMAREF_BIN probe $M --facts "$T/facts.jsonl" --shots "$SHOTS" $PROBE --out "$T/before.jsonl" >/dev/null 2>&1
same "base probe" "$T/before.jsonl" "$E/runs/base/probe.jsonl"
R="$E/runs/n1_k1_paraphrase_s1"
$LLAMAREF_BIN mixture --facts "$T/before.jsonl" --unknown 1 --extra 1 --kind paraphrase --template plain --seed 1 --out "$T/train.jsonl" >/dev/null
same "mixture" "$T/train.jsonl" "$R/train.jsonl"
$LLAMAREF_BIN train $M --data "$T/train.jsonl" --out "$T/adapter" --seed 1 $TRAIN >/dev/null 2>&1
same "adapter" "$T/adapter/adapter_model.safetensors" "$R/adapter/adapter_model.safetensors"
$LLAMAREF_BIN probe $M --adapter "$T/adapter" --facts "$T/facts.jsonl" --shots "$SHOTS" $PROBE --out "$T/after.jsonl" >/dev/null 2>&1
same "probe after" "$T/after.jsonl" "$R/probe.jsonl"
$LLAMAREF_BIN knowledge-report --before "$T/before.jsonl" --after "$T/after.jsonl" --trained "$T/train.jsonl" --out "$T/report.json" >/dev/null
rep=$(tr -d '\n' < "$T/report.json")
m=$(tr -d '\n' < "$R/metrics.json")
for k in reliability highly_known_after reliability_all positive_shift negative_shift; do
    a=$(val "$k" "$rep"); b=$(val "$k" "$m")
    [ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "$k: knowledge-report '$a', experiment '$b'"
done
tc=$(printf '%s' "$rep" | sed -n 's/.*\("transition_counts": \[[]0-9, []*\]\).*/\1/p')
case "$tc" in *"]]") has "transitions" "$m" "$tc" ;; *) bad "no transition_counts in $T/report.json" ;; esac
$LLAMAREF_BIN eval mmlu $M --adapter "$T/adapter" --data "$T/bench" --num-shots 2 --limit 4 --out "$T/mmlu.json" >/dev/null 2>&1
a=$(val acc "$(tr -d '\n' < "$T/mmlu.json")"); b=$(val benchmark_acc "$m")
[ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "benchmark: eval mmlu '$a', experiment '$b'"
$LLAMAREF_BIN eval ppl $M --adapter "$T/adapter" --text "$T/valid.txt" --out "$T/ppl.json" >/dev/null 2>&1
a=$(val ppl "$(tr -d '\n' < "$T/ppl.json")"); b=$(val ppl "$m")
[ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "ppl: eval ppl '$a', experiment '$b'"

# --kind known: a fifth fact whose alias "e" every answer contains is
# HighlyKnown and becomes the extra example of both Unknown facts (reused)
cp "$T/facts.jsonl" "$T/facts5.jsonl"
echo '{"question": "Who is the hero of the story?", "answers": ["e"]}' >> "$T/facts5.jsonl"
$LLAMAREF_BIN experiment knowledge $M --facts "$T/facts5.jsonl" --shots "$SHOTS" $PROBE \
    --unknown 2 --extra 1 --seeds 1 $TRAIN --no-rslora --out "$T/known" >/dev/null 2>&1
K="$T/known/runs/n2_k1_known_s1"
has "known categories" "$(tr -d '\n' < "$T/known/summary.json")" '"HighlyKnown": 1, "MaybeKnown": 2'
$LLAMAREF_BIN mixture --facts "$T/known/runs/base/probe.jsonl" --unknown 2 --extra 1 --kind known --template plain --seed 1 --out "$T/train5.jsonl" >/dev/null
same "known mixture" "$T/train5.jsonl" "$K/train.jsonl"
$LLAMAREF_BIN knowledge-report --before "$T/known/runs/base/probe.jsonl" --after "$K/probe.jsonl" --trained "$K/train.jsonl" --out "$T/report5.json" >/dev/null
rep=$(tr -d '\n' < "$T/report5.json")
m=$(tr -d '\n' < "$K/metrics.json")
has "known reused" "$m" '"known_extras_reused": 1'
for k in reliability reliability_all negative_shift; do
    a=$(val "$k" "$rep"); b=$(val "$k" "$m")
    [ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "known $k: knowledge-report '$a', experiment '$b'"
done

# the report: the paper's tables, grid rows, charts that are SVG
md=$(cat "$E/report.md")
for h in "## Reliability (cf. paper Table 2)" "## Knowledge shifts (cf. paper Table 3)" \
         "## Benchmark and held-out perplexity (cf. paper Table 4)" "## Refusals" \
         "## Answer diversity (cf. paper Table 7)" "| unknown facts | no extra | +1 paraphrases |" \
         "| 1 | 1.000 |" "| 3 | – | – |" "![reliability](reliability.svg)" \
         "## How this run differs from the paper" "- 1 seed (paper: 3)."; do
    has "report.md" "$md" "$h"
done
has "svg" "$(head -c 200 "$E/reliability.svg")" "<svg"
# issue 17: the paper named; a logarithmic axis says so; counts as
# integers; a log file without carriage returns
has "report names the paper" "$md" '"How Much Knowledge Can You Pack into a LoRA Adapter without Harming LLM?" (Pletenev et al., Findings of NAACL 2025)'
has "log axis labelled" "$(cat "$E/reliability.svg")" "(n, log scale)"
# every line of a chart has its legend entry (a swatch and its name), the
# reference lines included (the base model, the known-before bound), and
# the y axes start at 0
for f in reliability negative-shift benchmark refusals; do
    p=$(grep -c '<path ' "$E/$f.svg"); l=$(grep -c 'width="14" height="4"' "$E/$f.svg")
    [ "$p" -gt 0 ] && expect_eq "$f.svg: legend entries = lines" "$l" "$p" || bad "$f.svg: no line"
    has "$f.svg: y axis from 0" "$(grep -o '>0</text>' "$E/$f.svg" | head -n 1)" ">0</text>"
done
has "benchmark.svg: the reference line named" "$(cat "$E/benchmark.svg")" ">base model</text>"
has "negative-shift.svg: the bound named" "$(cat "$E/negative-shift.svg")" ">known before (max)</text>"
has "refusals.svg: the reference line named" "$(cat "$E/refusals.svg")" ">base model (before)</text>"
case "$md" in *"| 1 | 16.0 |"*|*"| 1 | 8.0 |"*) bad "a count printed as a decimal" ;; *) ok ;; esac
if grep -q "$(printf '\r')" "$T/stderr.txt"; then bad "carriage return in the experiment's log"; else ok; fi

# errors: malformed facts name file and line; bad lists are usage errors
printf '{"question": "a?", "answers": ["x"]}\n{"question": "b?"}\n' > "$T/bad.jsonl"
msg=$($LLAMAREF_BIN experiment knowledge $M --facts "$T/bad.jsonl" --shots "$SHOTS" --out "$T/bad" 2>&1)
has "bad facts" "$msg" "bad.jsonl:2"
mkdir -p "$T/badbench/test"
printf 'question,choice0,choice1,choice2,choice3,answer\nq,a,b,c,d,0\nq2,a,b,c,d,7\n' > "$T/badbench/test/x_test.csv"
msg=$($LLAMAREF_BIN experiment knowledge $M --facts "$T/facts.jsonl" --shots "$SHOTS" --benchmark "$T/badbench" --out "$T/bad2" 2>&1)
has "bad benchmark" "$msg" "x_test.csv:3"
[ ! -e "$T/bad2" ] && ok || bad "a malformed benchmark is only found after probing"
$LLAMAREF_BIN experiment knowledge $M --facts "$T/facts.jsonl" --shots "$SHOTS" --unknown 1,x --out "$T/bad" >/dev/null 2>&1
[ "$?" = 2 ] && ok || bad "--unknown 1,x is not a usage error"
$LLAMAREF_BIN experiment other >/dev/null 2>&1
[ "$?" = 2 ] && ok || bad "unknown experiment is not a usage error"

# a world directory as --model (docs/world.md) with stories260K inside
W="$T/world"
$LLAMAREF_BIN world --seed 7 --people 60 --max-mentions 40 --zipf-offset 10 --num-shots 8 \
    --bench-dev 2 --bench-test 6 --out "$W" >/dev/null 2>&1
cp "$S/stories260K.bin" "$W/model.bin"
cp "$S/tok512.bin" "$W/tokenizer.bin"
# the world's training defaults: a bad file is refused before any work
printf '{"lr": 0.005, "epochs": 3, "rank": 2}\n' > "$W/experiment.json"
msg=$($LLAMAREF_BIN experiment knowledge --model "$W" --quick --out "$T/wbad" 2>&1); rc=$?
[ "$rc" = 1 ] && ok || bad "bad experiment.json: exit $rc"
has "bad experiment.json message" "$msg" "$W/experiment.json:1: unknown key \"rank\""
[ ! -e "$T/wbad" ] && ok || bad "a bad experiment.json is only found after work"
printf '{"epochs": 2.5}' > "$W/experiment.json"
msg=$($LLAMAREF_BIN experiment knowledge --model "$W" --quick --out "$T/wbad" 2>&1)
has "fractional epochs" "$msg" '"epochs" must be a positive integer'
printf '{"dropout": 1}' > "$W/experiment.json"
msg=$($LLAMAREF_BIN experiment knowledge --model "$W" --quick --out "$T/wbad" 2>&1)
has "dropout 1" "$msg" '"dropout" must be a number in [0, 1)'
printf '{"bench_format": "letters"}' > "$W/experiment.json"
msg=$($LLAMAREF_BIN experiment knowledge --model "$W" --quick --out "$T/wbad" 2>&1)
has "bench_format letters" "$msg" '"bench_format" must be "letter" or "continuation"'
msg=$($LLAMAREF_BIN experiment knowledge --model "$W" --quick --bench-format text --out "$T/wbad" 2>&1)
has "--bench-format text" "$msg" "--bench-format must be letter or continuation"
printf '{"lr": 0.005, "epochs": 3, "dropout": 0, "bench_format": "continuation"}\n' > "$W/experiment.json"
out=$($LLAMAREF_BIN experiment knowledge --model "$W" --quick --limit 20 --unknown 1 \
      --extra 1 --kind paraphrase --epochs 1 --out "$T/wout" 2>"$T/wstderr.txt"); rc=$?
[ "$rc" = 0 ] && ok || bad "world experiment exit $rc: $(tail -n 3 "$T/wstderr.txt")"
has "world stdout" "$out" "experiment: 1 runs (0 skipped)"
sum=$(tr -d '\n' < "$T/wout/summary.json")
has "world facts" "$sum" "\"facts\": \"$W/qa.jsonl\""
has "world facts probed" "$sum" '"n_facts": 20'
has "world benchmark" "$sum" '"benchmark_questions": 6'
has "world train defaults" "$sum" "\"train_defaults\": \"$W/experiment.json\""
has "world lr from experiment.json" "$sum" '"lr": 0.005'
has "world dropout 0 from experiment.json" "$sum" '"dropout": 0,'
has "world --epochs wins" "$sum" '"epochs": 1,'
# (the world has 2 dev questions: the 5 shots asked for become 2, and the
# summary says so)
has "world bench_format from experiment.json" "$sum" '"benchmark": {"format": "continuation", "shots": 2, "shots_requested": 5}'
has "world report: 2-shot" "$(cat "$T/wout/report.md")" "MMLU layout, 2-shot"
has "world: fewer shots said" "$(cat "$T/wstderr.txt")" "benchmark 2-shot: a dev file of $W/benchmark has fewer than the 5 shots asked for"
has "world report: continuation scoring" "$(cat "$T/wout/report.md")" "mmlu_continuation"
has "world report names the defaults" "$(cat "$T/wout/report.md")" "$W/experiment.json"
p=$(val ppl "$sum")
case "$p" in ''|null) bad "world: no perplexity of valid.txt" ;; *) ok ;; esac
# eval mmlu reads a world's benchmark (subject "world", not one of MMLU's)
# and agrees with the experiment's base-model accuracy (2 dev questions:
# the experiment's 5 shots become 2)
$LLAMAREF_BIN eval mmlu --model "$W/model.bin" --tokenizer "$W/tokenizer.bin" \
    --data "$W/benchmark" --num-shots 2 --format continuation --out "$T/wmmlu.json" \
    > "$T/wmmlu.txt" 2>&1
has "eval mmlu on a world" "$(cat "$T/wmmlu.txt")" "mmlu: 6 questions, 1 subjects"
has "eval mmlu continuation" "$(cat "$T/wmmlu.txt")" "(continuation)"
a=$(val acc "$(tr -d '\n' < "$T/wmmlu.json")"); b=$(val benchmark_acc "$sum")
[ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "world benchmark: eval mmlu '$a', experiment '$b'"
# categories by popularity bucket: the probe's category of each fact joined
# (by line) with the bucket of the same line of qa.jsonl
sed 's/.*"category": "\([A-Za-z]*\)".*/\1/' "$T/wout/runs/base/probe.jsonl" > "$T/wcats.txt"
exp=$(head -n 20 "$W/qa.jsonl" | sed 's/.*"bucket": "\([a-z]*\)".*/\1/' | paste -d' ' - "$T/wcats.txt" |
      awk '{ n[$1 " " $2]++ } END {
             split("head torso tail", B, " "); split("HighlyKnown MaybeKnown WeaklyKnown Unknown", C, " ");
             s = "\"categories_by_bucket\": {";
             for (i = 1; i <= 3; i++) { s = s (i > 1 ? ", " : "") "\"" B[i] "\": {";
               for (j = 1; j <= 4; j++) s = s (j > 1 ? ", " : "") "\"" C[j] "\": " (n[B[i] " " C[j]] + 0);
               s = s "}" }
             print s "}" }')
has "world categories by bucket" "$sum" "$exp"
has "world report bucket table" "$(cat "$T/wout/report.md")" "| head | "

finish experiment.test.sh
