#!/bin/sh
# cli.test.sh - issue 17: a command line that can't be misused, on the
# committed world model (data/world; no external asset).  Usage errors
# exit 2 with "llamaref CMD:" and name the option (a missing value as
# such, a misspelling with "did you mean"); sampler values range-checked;
# the prompt plus new tokens checked against max_position_embeddings; NaN
# weights, a tokenizer that does not belong to the model and an EOS id
# outside the vocabulary refused; probe picks the plain template for a
# world model and says so, mixture follows the probe; outputs prepared
# before any work; --seed -1; knowledge-report's n/a; tokenize --text.
# $LLAMAREF_BIN is used unquoted.
set -u
. "$(dirname "$0")/lib.sh"
if [ -n "${LLAMAREF_EMULATED:-}" ]; then
    # under qemu-user every float operation is emulated (~100x slower): the
    # evaluation, probe and training runs on data/world here take over ten
    # minutes; option handling is the same code on every target, and the C
    # tests cover the library there
    echo "cli.test.sh: skipped: emulated target (runs natively in CI)" >&2
    skip=$((skip + 1)); finish cli.test.sh; exit
fi
T="$LLAMAREF_TMP/cli_test"
rm -rf "$T"; mkdir -p "$T"
W=data/world
if [ ! -s "$W/model.safetensors" ]; then
    echo "cli.test.sh: skipped: $W/model.safetensors missing (committed in the repository)" >&2
    skip=$((skip + 1)); # 13. the shared options have the same --help text in every command
for o in "-m, --model PATH" "--tokenizer PATH" "--temp, --temperature T" "--top-p P" \
         "-s, --seed S" "-n, --max-new-tokens N" "--no-check-weights"; do
    lines=$(for c in generate probe detox "eval mmlu" train info merge; do
        $LLAMAREF_BIN $c --help | grep -e "^  $o " ; done | sort -u)
    n=$(printf '%s\n' "$lines" | grep -c .)
    expect_eq "help line '$o' identical ($lines)" "$n" 1
done

# 12. eval: lm-evaluation-harness 0.4's standard errors (the sample
# standard error of the mean; MMLU's group pooled by subject size), checked
# against the formulas recomputed here from the accuracies; perplexity as
# llama.cpp prints it
B="$T/bench"; mkdir -p "$B/test" "$B/dev"
cp $W/benchmark/test/world_test.csv "$B/test/"; cp $W/benchmark/dev/world_dev.csv "$B/dev/"
head -n 13 $W/benchmark/test/world_test.csv > "$B/test/small_test.csv"
cp $W/benchmark/dev/world_dev.csv "$B/dev/small_dev.csv"
$LLAMAREF_BIN eval mmlu -m $W --data "$B" --format letter --num-shots 2 --out "$T/mmlu.json" >/dev/null 2>&1 || bad "eval mmlu failed"
j=$(cat "$T/mmlu.json")
sub() { sed -n "s/.*\"$1\": {\"questions\": \([0-9]*\), \"acc\": \([0-9.e-]*\),.*\"acc_stderr,none\": \([0-9.e-]*\),.*/\1 \2 \3/p" "$T/mmlu.json"; }
set -- $(sub small) $(sub world)
tot=$(sed -n 's/.*"acc_stderr,none": \([0-9.e-]*\),$/\1/p' "$T/mmlu.json" | head -n 1)
set -- "${1:-0}" "${2:-0}" "${3:-}" "${4:-0}" "${5:-0}" "${6:-}"
want=$(awk -v n1="$1" -v p1="$2" -v n2="$4" -v p2="$5" 'BEGIN {
    s1 = sqrt(p1 * (1 - p1) / (n1 - 1)); s2 = sqrt(p2 * (1 - p2) / (n2 - 1));
    pooled = sqrt(((n1 - 1) * s1 * s1 * n1 + (n2 - 1) * s2 * s2 * n2) / (n1 + n2 - 2) / (n1 + n2));
    printf "%.12f %.12f %.12f", s1, s2, pooled }')
got=$(awk -v a="$3" -v b="$6" -v c="$tot" 'BEGIN { printf "%.12f %.12f %.12f", a, b, c }')
[ -n "$3" ] || got="no acc_stderr in $T/mmlu.json"
expect_eq "acc_stderr (small, world, pooled)" "$got" "$want"
case "$2" in 0|1) bad "degenerate accuracy $2: the check needs 0 < acc < 1" ;; *) ok ;; esac
has "acc,none" "$j" '"acc,none": '
out=$($LLAMAREF_BIN eval ppl -m $W --data $W/valid.txt --window 128 --verbose 2>"$T/e")
ppl=$(echo "$out" | sed -n 's/.*perplexity \([0-9.]*\).*/\1/p')
has "PPL = X +/- Y" "$out" "PPL = $ppl +/- 0."
last=$(grep '^\[' "$T/e" | tail -n 1 | sed 's/^\[[0-9]*\]//')
expect_eq "--verbose: the last window's running value" "$last" "$ppl"
# the +/- recomputed from the token NLLs: with --window 2 --stride 1 each
# window scores one new token, so the running values give every token's NLL
head -c 300 $W/valid.txt > "$T/short.txt"
y=$($LLAMAREF_BIN eval ppl -m $W --data "$T/short.txt" --window 2 --stride 1 --verbose 2>"$T/e" | sed -n 's/^PPL = [0-9.]* +\/- \([0-9.]*\)$/\1/p')
want=$(grep '^\[' "$T/e" | sed 's/^\[\([0-9]*\)\]/\1 /' | awk '{ L = $1 * log($2); x = L - prev; prev = L;
    s += x; s2 += x * x; n++ } END { m = s / n; printf "%.6f", exp(m) * sqrt((s2 / n - m * m) / (n - 1)) }')
awk -v a="${y:-0}" -v b="${want:-1}" 'BEGIN { exit !(a > 0 && (a - b) / b < 1e-3 && (b - a) / b < 1e-3) }' && ok || bad "PPL +/- $y, recomputed $want"
finish cli.test.sh; exit
fi

# 1. usage errors: exit 2, the command named, the option named
for c in info generate dump bench tokenize detokenize chat-template chrf detox-score \
         probe knowledge-report mixture detox train merge bpe-train world "experiment knowledge"; do
    $LLAMAREF_BIN $c --no-such-option >/dev/null 2>"$T/e"
    expect_eq "$c unknown option: exit" "$?" 2
    has "$c unknown option" "$(cat $T/e)" "llamaref ${c%% *}: unknown option '--no-such-option'"
    $LLAMAREF_BIN $c --help >"$T/h" 2>&1; expect_eq "$c --help: exit" "$?" 0
done
$LLAMAREF_BIN eval mmlu --no-such-option 2>"$T/e"; expect_eq "eval unknown option: exit" "$?" 2
for c in generate probe detox eval; do
    sub=$c; [ $c = eval ] && sub="eval mmlu"
    $LLAMAREF_BIN $sub --model 2>"$T/e"; expect_eq "$c missing value: exit" "$?" 2
    has "$c missing value" "$(cat $T/e)" "option --model needs a value"
done
$LLAMAREF_BIN generate -m $W -p x --temperatur 1 2>"$T/e"
has "did you mean" "$(cat $T/e)" "llamaref generate: unknown option '--temperatur'; did you mean --temperature?"
$LLAMAREF_BIN probe --facts x --shots y --out "$T/o.jsonl" --max-new-tokens 2>"$T/e"
has "probe missing value" "$(cat $T/e)" "llamaref probe: option --max-new-tokens needs a value"

# 2. sampler values: range-checked, before any work
for bad in "--top-p 2" "--top-p 0" "--temperature inf" "--temp nan" "--temperature -1" "--min-p 1.5"; do
    $LLAMAREF_BIN generate -m $W -p "x" $bad >/dev/null 2>"$T/e"
    expect_eq "generate $bad: exit" "$?" 2
    has "generate $bad" "$(cat $T/e)" "llamaref generate: option --"
    $LLAMAREF_BIN probe -m $W --facts $W/qa.jsonl --shots $W/shots.jsonl --out "$T/never/p.jsonl" $bad >/dev/null 2>"$T/e"
    expect_eq "probe $bad: exit" "$?" 2
done
[ ! -e "$T/never" ] && ok || bad "a refused probe created its output directory"

# 3. llama.cpp spellings: -m -p -n --temp -s -c -f give the long options' output
a=$($LLAMAREF_BIN generate --model $W --prompt "The" --max-new-tokens 8 --temperature 0.7 --seed 5 2>/dev/null)
b=$($LLAMAREF_BIN generate -m $W -p "The" -n 8 --temp 0.7 -s 5 2>/dev/null)
[ -n "$a" ] && expect_eq "short options" "$b" "$a" || bad "generate printed nothing"
printf 'The' > "$T/prompt.txt"
b=$($LLAMAREF_BIN generate -m $W -f "$T/prompt.txt" -n 8 --temp 0.7 -s 5 2>/dev/null)
expect_eq "-f prompt file" "$b" "$a"
# --seed -1 draws a seed and says which; that seed reproduces the output
a=$($LLAMAREF_BIN generate -m $W -p "The" -n 8 --temp 1 --seed -1 2>"$T/e")
s=$(sed -n 's/.*drew seed \([0-9]*\).*/\1/p' "$T/e")
[ -n "$s" ] && ok || bad "--seed -1 printed no seed: $(cat $T/e)"
b=$($LLAMAREF_BIN generate -m $W -p "The" -n 8 --temp 1 --seed "${s:-0}" 2>/dev/null)
expect_eq "drawn seed reproduces" "$b" "$a"

# 4. the context: prompt + new tokens within max_position_embeddings (256)
$LLAMAREF_BIN generate -m $W -p "The" -n 300 --no-stop >/dev/null 2>"$T/e"
expect_eq "context: exit" "$?" 1
has "context" "$(cat $T/e)" "exceed the context length 256 (the model's max_position_embeddings)"
$LLAMAREF_BIN generate -m $W -p "The" -n 16777216 --no-stop >/dev/null 2>"$T/e"
expect_eq "huge -n: exit" "$?" 1
$LLAMAREF_BIN generate -m $W -p "The" -c 1000 >/dev/null 2>"$T/e"
expect_eq "-c beyond the model: exit" "$?" 2
has "-c beyond the model" "$(cat $T/e)" "--max-len 1000 is beyond the model's context (max_position_embeddings 256)"
$LLAMAREF_BIN generate -m $W -p "The" -n 4 >/dev/null 2>&1; expect_eq "within the context" "$?" 0

# 5. a NaN weight is named (on by default; --no-check-weights skips the scan)
mkdir -p "$T/nan"; cp $W/config.json $W/tokenizer.model $W/model.safetensors "$T/nan/"
set -- $(od -An -tu1 -N3 "$T/nan/model.safetensors")
hdr=$(( $1 + 256 * $2 + 65536 * $3 ))
printf '\000\000\300\177' | dd of="$T/nan/model.safetensors" bs=1 seek=$((8 + hdr)) conv=notrunc 2>/dev/null
$LLAMAREF_BIN generate -m "$T/nan" -p "The" -n 2 >/dev/null 2>"$T/e"
expect_eq "NaN weight: exit" "$?" 1
has "NaN weight" "$(cat $T/e)" "llamaref generate: $T/nan: tensor model.embed_tokens.weight element 0 is NaN"
$LLAMAREF_BIN probe -m "$T/nan" --facts $W/qa.jsonl --shots $W/shots.jsonl --limit 1 --prompts 1 --out "$T/nan.jsonl" >/dev/null 2>"$T/e"
has "NaN weight (probe)" "$(cat $T/e)" "tensor model.embed_tokens.weight element 0 is NaN"
$LLAMAREF_BIN generate -m "$T/nan" -p "The" -n 2 --no-check-weights >/dev/null 2>"$T/e"
expect_eq "--no-check-weights" "$?" 0

# 6. a tokenizer that does not belong to the model; EOS outside the vocabulary
head -c 20000 $W/corpus.txt > "$T/small.txt"
$LLAMAREF_BIN bpe-train --corpus "$T/small.txt" --vocab-size 300 --out "$T/small.model" --quiet 2>/dev/null || bad "bpe-train failed"
$LLAMAREF_BIN generate -m $W --tokenizer "$T/small.model" -p "The" -n 2 >/dev/null 2>"$T/e"
expect_eq "vocabulary mismatch: exit" "$?" 1
has "vocabulary mismatch" "$(cat $T/e)" "do not belong together"
mkdir -p "$T/eos"; cp $W/tokenizer.model $W/model.safetensors "$T/eos/"
sed 's/"eos_token_id": [0-9]*/"eos_token_id": 99999/' $W/config.json > "$T/eos/config.json"
$LLAMAREF_BIN generate -m "$T/eos" -p "The" -n 2 >/dev/null 2>"$T/e"
expect_eq "eos outside: exit" "$?" 1
has "eos outside" "$(cat $T/e)" "eos_token_id 99999 is outside the vocabulary (vocab_size 2304)"

# 7. probe: a world model gets the plain template by default and says so
# (the same records as --template plain); mixture follows the probe
head -n 6 $W/qa.jsonl > "$T/facts.jsonl"
$LLAMAREF_BIN probe -m $W --facts "$T/facts.jsonl" --shots $W/shots.jsonl --prompts 2 -n 12 --out "$T/auto/p.jsonl" >/dev/null 2>"$T/e" || bad "probe failed: $(cat $T/e)"
has "probe says the template" "$(cat $T/e)" "llamaref probe: template plain (auto: a world model"
$LLAMAREF_BIN probe -m $W --facts "$T/facts.jsonl" --shots $W/shots.jsonl --prompts 2 -n 12 --template plain --out "$T/plain.jsonl" >/dev/null 2>&1
same "auto = plain on a world model" "$T/auto/p.jsonl" "$T/plain.jsonl"
if grep -q "$(printf '\r')" "$T/e"; then bad "carriage return in a log file"; else ok; fi
$LLAMAREF_BIN mixture --facts "$T/auto/p.jsonl" --unknown 0 --out "$T/mix.jsonl" >/dev/null 2>"$T/e"
has "mixture follows the probe" "$(cat $T/e)" "template plain (auto: the probe's"
# --seed -1 is recorded in the summary
$LLAMAREF_BIN probe -m $W --facts "$T/facts.jsonl" --shots $W/shots.jsonl --prompts 1 --samples 1 -n 4 --seed -1 --out "$T/seed.jsonl" >/dev/null 2>"$T/e"
s=$(sed -n 's/.*drew seed \([0-9]*\).*/\1/p' "$T/e")
has "drawn seed recorded" "$(cat $T/seed.json)" "\"seed\": ${s:-none},"

# 8. an output that cannot be written is refused before any work
mkdir -p "$T/ro"; touch "$T/ro/file"
$LLAMAREF_BIN probe -m $W --facts "$T/facts.jsonl" --shots $W/shots.jsonl --prompts 2 --out "$T/ro/file/p.jsonl" >/dev/null 2>"$T/e"
expect_eq "unwritable --out: exit" "$?" 1
has "unwritable --out" "$(cat $T/e)" "llamaref probe: cannot write in $T/ro/file"
case "$(cat $T/e)" in *prompts*) bad "probe computed before failing on --out" ;; *) ok ;; esac
$LLAMAREF_BIN eval ppl -m $W --data $W/valid.txt --out "$T/ro/file/ppl.json" >/dev/null 2>"$T/e"
expect_eq "eval unwritable --out: exit" "$?" 1
case "$(cat $T/e)" in *"tokens through the model"*) bad "eval computed before failing on --out" ;; *) ok ;; esac

# 9. knowledge-report: no trained unknown fact -> n/a, not 0
grep '"role": "known"' "$T/mix.jsonl" > "$T/trained.jsonl"
printf '{"question": "x?", "answers": ["y"], "role": "known"}\n' >> "$T/trained.jsonl"
out=$($LLAMAREF_BIN knowledge-report --before "$T/auto/p.jsonl" --after "$T/plain.jsonl" --trained "$T/trained.jsonl" --out "$T/kr/r.json" 2>"$T/e")
has "reliability n/a" "$out" "reliability n/a (0 trained facts)"
has "reliability null" "$(cat $T/kr/r.json)" '"reliability": null'

# 10. tokenize --text: exactly the text (no newline from echo)
a=$(printf 'Hello world' | $LLAMAREF_BIN tokenize --tokenizer $W)
b=$($LLAMAREF_BIN tokenize --tokenizer $W --text 'Hello world')
expect_eq "tokenize --text" "$b" "$a"
printf 'Hello world' > "$T/t.txt"
b=$($LLAMAREF_BIN tokenize --tokenizer $W -f "$T/t.txt")
expect_eq "tokenize --file" "$b" "$a"
$LLAMAREF_BIN tokenize --text x >/dev/null 2>"$T/e"; expect_eq "tokenize without --tokenizer: exit" "$?" 2

# 11. old spellings still work, with a warning
$LLAMAREF_BIN eval ppl -m $W --text $W/valid.txt >/dev/null 2>"$T/e"
has "--text deprecated" "$(cat $T/e)" "--text is deprecated, use --data"
# 13. the shared options have the same --help text in every command
for o in "-m, --model PATH" "--tokenizer PATH" "--temp, --temperature T" "--top-p P" \
         "-s, --seed S" "-n, --max-new-tokens N" "--no-check-weights"; do
    lines=$(for c in generate probe detox "eval mmlu" train; do
        $LLAMAREF_BIN $c --help | grep -e "^  $o " ; done | sort -u)
    n=$(printf '%s\n' "$lines" | grep -c .)
    expect_eq "help line '$o' identical ($lines)" "$n" 1
done

# 12. eval: lm-evaluation-harness 0.4's standard errors (the sample
# standard error of the mean; MMLU's group pooled by subject size), checked
# against the formulas recomputed here from the accuracies; perplexity as
# llama.cpp prints it
B="$T/bench"; mkdir -p "$B/test" "$B/dev"
cp $W/benchmark/test/world_test.csv "$B/test/"; cp $W/benchmark/dev/world_dev.csv "$B/dev/"
head -n 13 $W/benchmark/test/world_test.csv > "$B/test/small_test.csv"
cp $W/benchmark/dev/world_dev.csv "$B/dev/small_dev.csv"
$LLAMAREF_BIN eval mmlu -m $W --data "$B" --format letter --num-shots 2 --out "$T/mmlu.json" >/dev/null 2>&1 || bad "eval mmlu failed"
j=$(cat "$T/mmlu.json")
sub() { sed -n "s/.*\"$1\": {\"questions\": \([0-9]*\), \"acc\": \([0-9.e-]*\),.*\"acc_stderr,none\": \([0-9.e-]*\),.*/\1 \2 \3/p" "$T/mmlu.json"; }
set -- $(sub small) $(sub world)
tot=$(sed -n 's/.*"acc_stderr,none": \([0-9.e-]*\),$/\1/p' "$T/mmlu.json" | head -n 1)
set -- "${1:-0}" "${2:-0}" "${3:-}" "${4:-0}" "${5:-0}" "${6:-}"
want=$(awk -v n1="$1" -v p1="$2" -v n2="$4" -v p2="$5" 'BEGIN {
    s1 = sqrt(p1 * (1 - p1) / (n1 - 1)); s2 = sqrt(p2 * (1 - p2) / (n2 - 1));
    pooled = sqrt(((n1 - 1) * s1 * s1 * n1 + (n2 - 1) * s2 * s2 * n2) / (n1 + n2 - 2) / (n1 + n2));
    printf "%.12f %.12f %.12f", s1, s2, pooled }')
got=$(awk -v a="$3" -v b="$6" -v c="$tot" 'BEGIN { printf "%.12f %.12f %.12f", a, b, c }')
[ -n "$3" ] || got="no acc_stderr in $T/mmlu.json"
expect_eq "acc_stderr (small, world, pooled)" "$got" "$want"
case "$2" in 0|1) bad "degenerate accuracy $2: the check needs 0 < acc < 1" ;; *) ok ;; esac
has "acc,none" "$j" '"acc,none": '
out=$($LLAMAREF_BIN eval ppl -m $W --data $W/valid.txt --window 128 --verbose 2>"$T/e")
ppl=$(echo "$out" | sed -n 's/.*perplexity \([0-9.]*\).*/\1/p')
has "PPL = X +/- Y" "$out" "PPL = $ppl +/- 0."
last=$(grep '^\[' "$T/e" | tail -n 1 | sed 's/^\[[0-9]*\]//')
expect_eq "--verbose: the last window's running value" "$last" "$ppl"
# the +/- recomputed from the token NLLs: with --window 2 --stride 1 each
# window scores one new token, so the running values give every token's NLL
head -c 300 $W/valid.txt > "$T/short.txt"
y=$($LLAMAREF_BIN eval ppl -m $W --data "$T/short.txt" --window 2 --stride 1 --verbose 2>"$T/e" | sed -n 's/^PPL = [0-9.]* +\/- \([0-9.]*\)$/\1/p')
want=$(grep '^\[' "$T/e" | sed 's/^\[\([0-9]*\)\]/\1 /' | awk '{ L = $1 * log($2); x = L - prev; prev = L;
    s += x; s2 += x * x; n++ } END { m = s / n; printf "%.6f", exp(m) * sqrt((s2 / n - m * m) / (n - 1)) }')
awk -v a="${y:-0}" -v b="${want:-1}" 'BEGIN { exit !(a > 0 && (a - b) / b < 1e-3 && (b - a) / b < 1e-3) }' && ok || bad "PPL +/- $y, recomputed $want"
finish cli.test.sh
