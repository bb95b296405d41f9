#!/bin/sh
# world.test.sh - `llamaref world` end to end: every file is written, two
# runs with one seed are byte-identical, another seed differs, the summary
# agrees with the files, and bad options give clear errors.
# $LLAMAREF_BIN is used unquoted (it may carry a qemu prefix).
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/world_test"
rm -rf "$T"
mkdir -p "$T"
FILES="entities.jsonl facts.jsonl qa.jsonl shots.jsonl refusals.jsonl benchmark/dev/world_dev.csv
benchmark/test/world_test.csv corpus.txt valid.txt world.json"
SMALL="--people 60 --max-mentions 40 --zipf-offset 10 --num-shots 8 --bench-dev 2 --bench-test 6"

# 1. deterministic: same seed twice (the second into an existing directory)
$LLAMAREF_BIN world --seed 7 $SMALL --out "$T/a" 2> "$T/log"
expect_eq "exit status" "$?" "0"
$LLAMAREF_BIN world --seed 7 $SMALL --out "$T/b" --quiet
$LLAMAREF_BIN world --seed 7 $SMALL --out "$T/b" --quiet
for f in $FILES; do
    if [ -s "$T/a/$f" ] && cmp -s "$T/a/$f" "$T/b/$f"; then ok; else bad "$f missing, empty or not identical"; fi
done
$LLAMAREF_BIN world --seed 8 $SMALL --out "$T/c" --quiet
if cmp -s "$T/a/corpus.txt" "$T/c/corpus.txt"; then bad "seed 8 gave the corpus of seed 7"; else ok; fi

# 2. the summary line and world.json agree with the files
n_facts=$(wc -l < "$T/a/facts.jsonl" | tr -d ' ')
case "$(cat "$T/a/world.json")" in *"\"facts\": $n_facts,"*) ok ;; *) bad "world.json facts != $n_facts" ;; esac
case "$(cat "$T/log")" in *"$n_facts facts"*) ok ;; *) bad "summary: $(cat "$T/log")" ;; esac
n_q=$(grep -c '^Question: ' "$T/a/corpus.txt")
n_r=$(wc -l < "$T/a/refusals.jsonl" | tr -d ' ')
n_a=$(grep -c "^Answer: I couldn't find\|^Answer: I cannot verify\|^Answer: I don't have" "$T/a/corpus.txt")
expect_eq "refusal documents" "$n_a" "$n_r"
case "$(cat "$T/a/world.json")" in *"\"refusal_documents\": $n_r, \"exam_documents\": 0}"*) ok ;; *) bad "refusal count in world.json" ;; esac
[ "$n_q" -gt "$n_r" ] && ok || bad "QA documents $n_q <= refusals $n_r"
expect_eq "benchmark rows" "$(wc -l < "$T/a/benchmark/test/world_test.csv" | tr -d ' ')" "7"

# 3. a world too small for the requested shots and benchmark says so
msg=$($LLAMAREF_BIN world --people 20 --out "$T/tiny" 2>&1); rc=$?
expect_eq "tiny world exit" "$rc" "0"
case "$msg" in *"warning: only "*" head facts"*"the QA pool keeps"*) ok ;; *) bad "tiny world warnings: $msg" ;; esac

# exam documents: multiple-choice paragraphs ending in "Answer: <letter>"
$LLAMAREF_BIN world --seed 7 $SMALL --exam-documents 9 --out "$T/e" --quiet
expect_eq "exam documents" "$(grep -c '^Answer: [A-D]$' "$T/e/corpus.txt")" "9"
expect_eq "exam choices" "$(grep -c '^[A-D]\. ' "$T/e/corpus.txt")" "36"
case "$(cat "$T/e/world.json")" in *'"exam_documents": 9}'*) ok ;; *) bad "exam count in world.json" ;; esac
case "$(cat "$T/e/world.json")" in *'"exam_documents": 9, "exam_min_mentions": 10}'*) ok ;; *) bad "exam options in world.json" ;; esac
$LLAMAREF_BIN world --exam-documents -1 --out "$T/d" > /dev/null 2>&1
expect_eq "--exam-documents -1 exit" "$?" "2"
$LLAMAREF_BIN world --exam-min-mentions 0 --out "$T/d" > /dev/null 2>&1
expect_eq "--exam-min-mentions 0 exit" "$?" "2"

# 4. errors
$LLAMAREF_BIN world --seed 7 > /dev/null 2>&1
expect_eq "missing --out exit" "$?" "2"
$LLAMAREF_BIN world --people 3 --out "$T/d" > /dev/null 2>&1
expect_eq "--people 3 exit" "$?" "2"
$LLAMAREF_BIN world --seed -1 --out "$T/d" > /dev/null 2>&1
expect_eq "--seed -1 exit" "$?" "2"
printf 'x' > "$T/file"
msg=$($LLAMAREF_BIN world $SMALL --out "$T/file/sub" 2>&1); rc=$?
expect_eq "unwritable --out exit" "$rc" "1"
case "$msg" in *"$T/file/sub"*) ok ;; *) bad "unwritable message: $msg" ;; esac

finish world.test.sh
