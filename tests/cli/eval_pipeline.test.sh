#!/bin/sh
# eval_pipeline.test.sh - every evaluation command end to end on
# stories260K (llama2.c checkpoint) and on an HF checkpoint made from it:
# probe -> mixture -> train -> probe --adapter -> knowledge-report (the
# trained fact must become known), eval mmlu / truthfulqa / ppl (with and
# without an adapter: an adapter that changes the model changes the
# scores; the HF copy of the same weights scores the same), detox ->
# detox-score, reports written, and malformed data named by file and line.
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/eval_pipeline_test"
rm -rf "$T"; mkdir -p "$T"

S="$LLAMAREF_ASSETS/stories260K"
D="$LLAMAREF_DATA"
if [ ! -f "$S/stories260K.bin" ] || [ ! -f "$D/entityquestions/dev/P176.dev.json" ]; then
    echo "eval_pipeline.test.sh: skipped: stories260K or entityquestions missing (README.md: Getting the assets)" >&2
    skip=$((skip + 1)); finish eval_pipeline.test.sh; exit
fi
if [ -n "${LLAMAREF_EMULATED:-}" ]; then
    # under qemu-user every float operation is emulated (~100x slower): this
    # 5-second pipeline would take ~10 minutes; the C tests cover the same
    # library code on the emulated targets
    echo "eval_pipeline.test.sh: skipped: emulated target (runs natively in CI)" >&2
    skip=$((skip + 1)); finish eval_pipeline.test.sh; exit
fi
M="--model $S/stories260K.bin --tokenizer $S/tok512.bin"
SHOTS="$D/entityquestions/dev/P176.dev.json"
# facts: two the model "knows" by construction of the aliases (its greedy
# answers contain them), two it cannot know
cat > "$T/facts.jsonl" <<'J'
{"question": "Which country is Pulkal mandal located in?", "answers": ["India", "want"]}
{"question": "Which country is Schott NYC located in?", "answers": ["United States of America", "surprised"]}
{"question": "Who wrote Hamlet?", "answers": ["Shakespeare"], "paraphrases": ["Hamlet was written by whom?"]}
{"question": "What is the capital of France?", "answers": ["Paris"], "paraphrases": ["France's capital is?"]}
J
out=$($LLAMAREF_BIN probe $M --facts "$T/facts.jsonl" --shots "$SHOTS" --prompts 4 --max-new-tokens 16 --out "$T/before.jsonl" 2>/dev/null)
has "probe categories" "$out" "probe: 4 facts: HighlyKnown 0, MaybeKnown 2, WeaklyKnown 0, Unknown 2"
for f in before.json before.md before-categories.svg; do exists "$T/$f"; done
# samples: reproducible from the seed
a=$($LLAMAREF_BIN probe $M --facts "$T/facts.jsonl" --shots "$SHOTS" --prompts 2 --samples 2 --max-new-tokens 8 --seed 3 --out "$T/s1.jsonl" 2>/dev/null)
b=$($LLAMAREF_BIN probe $M --facts "$T/facts.jsonl" --shots "$SHOTS" --prompts 2 --samples 2 --max-new-tokens 8 --seed 3 --out "$T/s2.jsonl" 2>/dev/null)
if cmp -s "$T/s1.jsonl" "$T/s2.jsonl"; then ok; else bad "samples differ for one seed"; fi
has "samples field" "$(head -n 1 "$T/s1.jsonl")" "\"samples\": ["
out=$($LLAMAREF_BIN mixture --facts "$T/before.jsonl" --unknown 1 --extra 1 --kind paraphrase --template plain --seed 1 --out "$T/train.jsonl")
has "mixture" "$out" "mixture: 2 examples: 1 unknown, 0 known, 1 paraphrases"
$LLAMAREF_BIN train $M --data "$T/train.jsonl" --out "$T/adapter" --epochs 30 --batch 2 --lr 1e-2 --r 4 --alpha 8 --dropout 0 --targets all >/dev/null 2>&1
exists "$T/adapter/adapter_model.safetensors"
$LLAMAREF_BIN probe $M --adapter "$T/adapter" --facts "$T/facts.jsonl" --shots "$SHOTS" --prompts 4 --max-new-tokens 16 --out "$T/after.jsonl" >/dev/null 2>&1
out=$($LLAMAREF_BIN knowledge-report --before "$T/before.jsonl" --after "$T/after.jsonl" --trained "$T/train.jsonl" --out "$T/report.json")
trained=$(sed -n 's/.*"question": "\([^"]*\)", "answers".*"role": "unknown".*/\1/p' "$T/train.jsonl")
has "report" "$out" "reliability 1.0000 (1 trained facts)"
has "report json" "$(cat "$T/report.json")" "\"positive_shift\": 0.25"
for f in report.md report-transitions.svg report-refusals.svg report-answers.svg; do exists "$T/$f"; done
[ -n "$trained" ] && ok || bad "no unknown fact in the mixture"

# eval: llama2.c model, then its HF copy (merged adapter) and --adapter
$LLAMAREF_BIN merge --model "$S/stories260K.bin" --adapter "$T/adapter" --out "$T/hf" >/dev/null 2>&1
exists "$T/hf/model.safetensors"
if [ -d "$D/mmlu/test" ]; then
    m1=$($LLAMAREF_BIN eval mmlu $M --data "$D/mmlu" --subjects anatomy,virology --limit 4 --shots 2 --out "$T/mmlu.json" --items "$T/mmlu_items.jsonl" 2>/dev/null)
    has "mmlu" "$m1" "mmlu: 8 questions, 2 subjects"
    for f in mmlu.md mmlu-subjects.svg mmlu_items.jsonl; do exists "$T/$f"; done
    m2=$($LLAMAREF_BIN eval mmlu $M --adapter "$T/adapter" --data "$D/mmlu" --subjects anatomy,virology --limit 4 --shots 2 --items "$T/mmlu_a.jsonl" 2>/dev/null)
    m3=$($LLAMAREF_BIN eval mmlu --model "$T/hf" --tokenizer "$S/tok512.bin" --data "$D/mmlu" --subjects anatomy,virology --limit 4 --shots 2 --items "$T/mmlu_h.jsonl" 2>/dev/null)
    if cmp -s "$T/mmlu_items.jsonl" "$T/mmlu_a.jsonl"; then bad "adapter did not change MMLU log-likelihoods"; else ok; fi
    if cmp -s "$T/mmlu_a.jsonl" "$T/mmlu_h.jsonl"; then ok; else bad "HF merged copy and --adapter disagree"; fi
    has "mmlu hf" "$m3" "mmlu: 8 questions"
    # letters: acc_norm divides by len("A") = 1, so it equals acc
    acc=$(sed -n 's/.*"acc": \([0-9.e-]*\).*/\1/p' "$T/mmlu.json" | head -n 1)
    accn=$(sed -n 's/.*"acc_norm": \([0-9.e-]*\).*/\1/p' "$T/mmlu.json" | head -n 1)
    [ -n "$acc" ] && [ "$acc" = "$accn" ] && ok || bad "letter acc '$acc' != acc_norm '$accn'"
    has "mmlu format letter" "$(cat "$T/mmlu.json")" '"format": "letter"'
    # continuation (mmlu_continuation): the choices' texts are scored, so the
    # per-question log-likelihoods differ from the letter task's
    m4=$($LLAMAREF_BIN eval mmlu $M --data "$D/mmlu" --subjects anatomy,virology --limit 4 --shots 2 --format continuation --out "$T/mmlu_c.json" --items "$T/mmlu_c.jsonl" 2>/dev/null)
    has "mmlu continuation" "$m4" "mmlu: 8 questions, 2 subjects"
    has "mmlu continuation" "$m4" "(continuation)"
    has "mmlu format continuation" "$(cat "$T/mmlu_c.json")" '"format": "continuation"'
    has "mmlu continuation report" "$(cat "$T/mmlu_c.md")" "mmlu_continuation"
    if cmp -s "$T/mmlu_items.jsonl" "$T/mmlu_c.jsonl"; then bad "continuation scored the letters"; else ok; fi
else
    skip=$((skip + 1))
fi
if [ -f "$D/truthfulqa/mc_task.json" ]; then
    out=$($LLAMAREF_BIN eval truthfulqa $M --data "$D/truthfulqa/mc_task.json" --limit 3 --out "$T/tqa.json" 2>/dev/null)
    has "truthfulqa" "$out" "truthfulqa: 3 questions, mc1"
    exists "$T/tqa-mc.svg"
else
    skip=$((skip + 1))
fi
printf 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.\n' > "$T/text.txt"
p1=$($LLAMAREF_BIN eval ppl $M --text "$T/text.txt" --out "$T/ppl.json" 2>/dev/null)
has "ppl" "$p1" "ppl: "
p2=$($LLAMAREF_BIN eval ppl $M --text "$T/text.txt" --window 8 --stride 4 2>/dev/null)
[ "$p1" != "$p2" ] && ok || bad "window 8 gave the same perplexity as the full window"

# detox (plain template with a llama2.c tokenizer) -> detox-score; one
# demonstration, so that the prompt fits stories260K's 512 positions
if [ -f "$D/synthdetoxm/few_shot_pairs.json" ] && [ -f "$D/multiparadetox/de.tsv" ]; then
    out=$($LLAMAREF_BIN detox $M --shots "$D/synthdetoxm/few_shot_pairs.json" --lang de --inputs "$D/multiparadetox/de.tsv" --limit 2 --candidates 2 --num-shots 1 --max-new-tokens 12 --out "$T/detox.jsonl" 2>/dev/null)
    has "detox" "$out" "detox: 2 inputs, 4 outputs"
    for f in detox.json detox.md detox-detox.svg; do exists "$T/$f"; done
    out=$($LLAMAREF_BIN detox-score --pairs "$T/detox.jsonl")
    has "detox-score" "$out" "sources 2  candidates 4"
    if grep -q "$(printf '\r')" "$T/detox.jsonl" || [ "$(wc -l < "$T/detox.jsonl")" -ne 4 ]; then bad "newlines kept"; else ok; fi
else
    skip=$((skip + 1))
fi

# malformed data: file and line
printf '{"question": "A?", "answers": ["x"]}\n{"question": "B?"}\n' > "$T/bad.jsonl"
msg=$($LLAMAREF_BIN probe $M --facts "$T/bad.jsonl" --shots "$SHOTS" --out "$T/x.jsonl" 2>&1)
has "bad facts" "$msg" "bad.jsonl:2: \"answers\" missing"
mkdir -p "$T/mm/test" "$T/mm/dev"
printf 'q,a,b,c,d,A\n"q2,a,b,c,d,B\n' > "$T/mm/test/anatomy_test.csv"
msg=$($LLAMAREF_BIN eval mmlu $M --data "$T/mm" --shots 0 2>&1)
has "bad csv" "$msg" "anatomy_test.csv:2: quoted field never closed"
msg=$($LLAMAREF_BIN eval mmlu $M --data "$T/mm" --format letters 2>&1); rc=$?
[ "$rc" = 2 ] && ok || bad "--format letters: exit $rc"
has "bad --format" "$msg" "--format 'letters' (letter, continuation)"
msg=$($LLAMAREF_BIN eval truthfulqa $M --data "$T/mm" --format continuation 2>&1)
has "--format on truthfulqa" "$msg" "--format is an option of eval mmlu"
msg=$($LLAMAREF_BIN knowledge-report --before "$T/facts.jsonl" --after "$T/after.jsonl" --out "$T/r.json" 2>&1)
has "not probed" "$msg" "facts.jsonl:1: no \"category\""

finish eval_pipeline.test.sh
