#!/bin/sh
# eval_requests.test.sh - `llamaref eval mmlu|truthfulqa --requests`: the
# requests lm-evaluation-harness would score, written without a model (their
# text is checked byte for byte against lm_eval's own tasks in
# test_lm_eval.c and by vectors/gen/gen_lm_eval.py --check).
# $LLAMAREF_BIN is used unquoted (it may carry a qemu prefix).
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/eval_requests_test"
mkdir -p "$T"

if [ -f "$LLAMAREF_DATA/mmlu/test/abstract_algebra_test.csv" ]; then
    $LLAMAREF_BIN eval mmlu --data "$LLAMAREF_DATA/mmlu" --subjects abstract_algebra,virology \
        --requests "$T/mmlu.jsonl"; rc=$?
    expect_eq "mmlu exit" "$rc" "0"
    expect_eq "mmlu requests" "$(wc -l < "$T/mmlu.jsonl" | tr -d ' ')" "266"   # 100 + 166 questions
    first=$(head -n 1 "$T/mmlu.jsonl")
    has "mmlu first" "$first" '{"subject": "abstract_algebra", "doc_id": 0, "line": 2, "context": "The following are multiple choice questions (with answers) about abstract algebra.\n\nFind all c in Z_3'
    has "mmlu letters" "$first" '"continuations": [" A", " B", " C", " D"], "gold": 1}'
    $LLAMAREF_BIN eval mmlu --data "$LLAMAREF_DATA/mmlu" --subjects abstract_algebra --format continuation \
        --shots 0 --limit 1 --requests "$T/cont.jsonl"
    has "mmlu continuation" "$(cat "$T/cont.jsonl")" '"context": "The following are questions (with answers) about abstract algebra.\n\nQuestion: Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\nAnswer:", "continuations": [" 0", " 4", " 2", " 6"]'
else
    echo "eval_requests.test.sh: skipped: mmlu missing" >&2
    skip=$((skip + 5))
fi
if [ -f "$LLAMAREF_DATA/truthfulqa/mc_task.json" ]; then
    $LLAMAREF_BIN eval truthfulqa --data "$LLAMAREF_DATA/truthfulqa/mc_task.json" --requests "$T/tqa.jsonl"
    expect_eq "truthfulqa requests" "$(wc -l < "$T/tqa.jsonl" | tr -d ' ')" "817"
    has "truthfulqa context" "$(head -n 1 "$T/tqa.jsonl")" 'A: The 1992 Olympics were held in Barcelona, Spain.\n\nQ: What is the smallest country in the world that is at least one square mile in area?\nA:", "mc1": [" Nauru is the smallest country'
else
    echo "eval_requests.test.sh: skipped: truthfulqa missing" >&2
    skip=$((skip + 2))
fi
# --requests is not an option of ppl
$LLAMAREF_BIN eval ppl --text "$T/none.txt" --requests "$T/x.jsonl" > /dev/null 2>&1; rc=$?
expect_eq "ppl --requests exit" "$rc" "2"

finish eval_requests.test.sh
