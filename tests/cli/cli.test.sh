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
. "$(dirname "$0")/../lib.sh"
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

# 0a. every command's --help: exit 0, "usage: llamaref CMD" first, and each
# option the command accepts (the option strings of its source: its cmd_*
# function, CLI_LM_OPTS for the model options, train's and world's option
# tables) on an option line in the shared two-column format ("  OPTION
# text", the option within the first 28 columns); an old spelling kept for
# one release is named in the text instead.  The dispatcher's list is the
# list checked.
body() { awk -v f="$2" '$0 ~ "^(static )?int " f "\\(" { on = 1 } on { print } on && /^}/ { exit }' "$1"; }
cmds=$($LLAMAREF_BIN --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
[ "$(echo $cmds | wc -w)" -ge 21 ] && ok || bad "llamaref --help lists $(echo $cmds | wc -w) commands"
shared="-m,_--model_PATH --tokenizer_PATH --adapter_DIR --temp,_--temperature_T --top-k_K
        --top-p_P --min-p_M -s,_--seed_S -n,_--max-new-tokens_N --no-check-weights --keep-dtype
        --shots_FILE --num-shots_N -f,_--file_FILE -c,_--max-len_N --data_PATH --rslora_|_--no-rslora"
for c in $cmds; do
    fn=cmd_$(echo "$c" | tr - _)
    f=$(grep -l "^int $fn(" ref/cli/*.c)
    [ -n "$f" ] || { bad "$c: no $fn in ref/cli"; continue; }
    body "$f" "$fn" > "$T/src"
    grep -q CLI_LM_OPTS "$T/src" && sed -n '/^#define CLI_LM_OPTS/,/[^\\]$/p' ref/cli/cli_lm.h >> "$T/src"
    [ "$c" = train ] && sed -n '/lr_train_opt train_opts\[\]/,/^};/p' ref/train/train_options.c >> "$T/src"
    [ "$c" = world ] && sed -n '/lr_world_opt world_opts\[\]/,/^};/p' ref/papers/knowledge/world.c >> "$T/src"
    $LLAMAREF_BIN $c --help > "$T/h" 2>&1; expect_eq "$c --help: exit" "$?" 0
    has "$c --help: usage line" "$(head -n 1 "$T/h")" "usage: llamaref $c "
    grep '^  -' "$T/h" | cut -c1-28 > "$T/cols"
    n=0
    for o in $(grep -o '"--[a-z0-9-]*"\|"-[a-zA-Z]"' "$T/src" | tr -d '"' | sort -u); do
        case "$o" in --help|-h) continue ;; esac
        n=$((n + 1))
        if grep -q -e " $o\( \|,\|\$\)" "$T/cols"; then ok
        elif grep -q -e "old spelling $o " "$T/h"; then ok
        else bad "$c --help does not list $o"; fi
    done
    [ "$n" -gt 0 ] && ok || bad "$c: no option found in $f"
    # a shared option is listed with its shared line (cli_help), not a
    # line of the command's own; world's --seed is its own 64-bit seed
    for o in $shared; do
        opt=$(echo "$o" | sed 's/.*\(--[a-z-]*\).*/\1/' | tr _ ' ')
        spec=$(echo "$o" | tr _ ' ')
        [ "$c $opt" = "world --seed" ] && continue
        if grep -q -e " $opt\( \|,\|\$\)" "$T/cols"; then
            grep -q -e "^  $spec " "$T/h" && ok || bad "$c --help: $opt without the shared line '$spec'"
        fi
    done
done
# the shared options' lines: the same text in every command that lists them
for o in $shared; do
    o=$(echo "$o" | tr _ ' ')
    lines=$(for c in $cmds; do $LLAMAREF_BIN $c --help | grep -e "^  $o " ; done | sort -u)
    n=$(printf '%s\n' "$lines" | grep -c .)
    expect_eq "help line '$o' identical in every command ($lines)" "$n" 1
done

# 0b. exit status, table-driven: a usage error (a bad or missing value,
# contradicting options, an unknown task) exits 2, a runtime error (a file
# missing or unreadable, bad content) exits 1, for every command; every
# message line starts with "llamaref CMD".  verify keeps 1 for "the dumps
# diverge", so an unreadable input is 2 there (documented in its --help).
N="$T/none"; mkdir -p "$T/ro"; touch "$T/ro/file"
while IFS='|' read -r want args; do
    [ -n "$want" ] || continue
    eval "set -- $args"
    $LLAMAREF_BIN "$@" > /dev/null 2> "$T/e" < /dev/null
    expect_eq "exit status of: $args ($(head -n 1 "$T/e"))" "$?" "$want"
    pre="llamaref $1"
    [ "$1" = nosuchcommand ] && { pre="llamaref: "; head -n 1 "$T/e" > "$T/e1"; mv "$T/e1" "$T/e"; }
    [ -s "$T/e" ] && ok || bad "$args: no message"
    if grep -v -q "^$pre" "$T/e"; then bad "$args: a message line without '$pre': $(cat "$T/e")"; else ok; fi
done <<EOF
2|info --model
1|info -m $N
2|generate -m $W -p x --top-p 2
2|generate -m $W -p x -f $N
1|generate -m $N -p x
2|dump -m $W --ids '1 x' --out $T/d.st
1|dump -m $N --ids '1 2' --out $T/d.st
2|verify --golden a --candidate b --rtol -1
2|verify --golden $N --candidate $N
2|bench --size 3
1|bench --stories $N
2|tokenize --tokenizer $W --text x -f y
1|tokenize --tokenizer $W -f $N
2|detokenize --tokenizer $W --bos
1|detokenize --tokenizer $N
2|chat-template --tokenizer $W --messages x --template foo
1|chat-template --tokenizer $W --messages $N
2|chrf --hyp x --ref y --beta -1
1|chrf --hyp $N --ref $N
2|detox-score --pairs x --word-order 99
1|detox-score --pairs $N
2|probe -m $W --facts x --shots y --out $T/p.jsonl --template foo
2|probe --facts x --shots y --out $T/p.jsonl
1|probe -m $W --facts $N --shots $W/shots.jsonl --out $T/p.jsonl
2|knowledge-report --before x --after y --out $T/k.json --top -1
1|knowledge-report --before $N --after $N --out $T/k.json
2|mixture --facts x --unknown -1 --out $T/m.jsonl
1|mixture --facts $N --unknown 1 --out $T/m.jsonl
2|eval foo
2|eval
2|eval ppl -m $W --data x --format letter
2|eval mmlu --data x
1|eval ppl -m $W --data $N
2|detox -m $W --shots x --lang de --inputs y --out $T/x.jsonl --candidates 0
2|detox -m $W --shots x --lang de --inputs y --out $T/x.jsonl --template foo
1|detox -m $W --shots $N --lang de --inputs $N --out $T/x.jsonl
2|train -m $W --data x --out $T/tr --warmup 2 --warmup-ratio 0.1
2|train -m $W --data x --out $T/tr --lr 0
1|train -m $W --data $N --out $T/tr
2|merge -m $W --adapter x
1|merge -m $W --adapter $N --out $T/mg
2|export-gguf -m $W --out $T/x.gguf --tokenizer $W --no-tokenizer
2|export-gguf -m $W --out $T/x.gguf --type q4
1|export-gguf -m $N --out $T/x.gguf
2|bpe-train --corpus x --vocab-size 3 --out $T/b.model
1|bpe-train --corpus $N --vocab-size 300 --out $T/b.model
1|bpe-train --corpus $W/valid.txt --vocab-size 300 --out $T/ro/file/b.model
2|world --out $T/w --people 3
1|world --out $T/ro/file/w
2|experiment foo
2|experiment
2|experiment knowledge -m $W --facts $N --out $T/exp --lr -1
2|experiment knowledge -m $W --facts $N --out $T/exp --dropout 2
2|experiment knowledge -m $W --facts $N --out $T/exp --template foo
1|experiment knowledge -m $W --facts $N --out $T/exp
2|nosuchcommand
EOF
# 0c. --seed defaults to 42 in every command: mixture without --seed selects
# what --seed 42 selects (and not what --seed 0 does)
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    printf '{"question": "u%s?", "answers": ["a%s"], "category": "Unknown"}\n' $i $i
    printf '{"question": "k%s?", "answers": ["b%s"], "category": "HighlyKnown"}\n' $i $i
done > "$T/cat.jsonl"
for s in "" "--seed 42" "--seed 0"; do
    $LLAMAREF_BIN mixture --facts "$T/cat.jsonl" --unknown 3 --extra 1 --template plain $s \
        --out "$T/mix$(echo "$s" | tr -dc 0-9).jsonl" > /dev/null 2>&1 || bad "mixture $s failed"
done
same "mixture: default seed = 42" "$T/mix.jsonl" "$T/mix42.jsonl"
cmp -s "$T/mix.jsonl" "$T/mix0.jsonl" && bad "mixture: seed 0 selects as the default does" || ok
if [ ! -s "$W/model.safetensors" ]; then
    echo "cli.test.sh: skipped: $W/model.safetensors missing (committed in the repository)" >&2
    skip=$((skip + 1)); finish cli.test.sh; exit
fi

# 1. usage errors: exit 2, the command named, the option named
for c in info generate dump bench tokenize detokenize chat-template chrf detox-score \
         probe knowledge-report mixture detox train merge bpe-train world "experiment knowledge" \
         verify export-gguf "eval mmlu"; do
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
has "unwritable --out" "$(cat $T/e)" "llamaref probe: cannot create directory $T/ro/file (for $T/ro/file/p.jsonl): File exists"
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
