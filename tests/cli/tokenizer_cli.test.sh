#!/bin/sh
# tokenizer_cli.test.sh - the CLI contract of `llamaref tokenize`,
# `detokenize` and `chat-template` (issue 3), end to end.  Expected ids come
# from llama3-tokenizer-js (see vectors/gen/gen_tokenizer_vectors.mjs), the
# Llama 2 ones from the published llama2.c cases.  Also: BOS, special-token
# parsing, JSONL, a model directory, invalid UTF-8, a 10 MB single line,
# out-of-range ids and a truncated vocabulary.
# $LLAMAREF_BIN is used unquoted (it may carry a qemu prefix).
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/tokenizer_cli"
mkdir -p "$T"
V=$(asset llama3/tokenizer.model)

if [ -f "$V" ]; then
    tok() { $LLAMAREF_BIN tokenize --tokenizer "$V" "$@"; }
    expect_eq "plain" "$(printf 'Hello world' | tok)" "9906 1917"
    expect_eq "bos" "$(printf 'Hello world' | tok --bos)" "128000 9906 1917"
    expect_eq "contractions digits" "$(printf "It's 12345 o'clock!" | tok)" "2181 596 220 4513 1774 297 63510 0"
    expect_eq "special as text" "$(printf 'Hi<|eot_id|>' | tok)" "13347 27 91 68 354 851 91 29"
    expect_eq "special parsed" "$(printf 'Hi<|eot_id|>' | tok --special)" "13347 128009"
    expect_eq "empty input" "$(printf '' | tok)" ""
    expect_eq "directory" "$(printf 'Hello world' | $LLAMAREF_BIN tokenize --tokenizer "$(dirname "$V")")" "9906 1917"
    # JSONL: one array per line, in order, JSON escapes decoded
    printf '{"text": "Hello world"}\n{"text": "caf\\u00e9\\nline2"}\n{"text": "Hi<|eot_id|>", "id": 3}\n' > "$T/in.jsonl"
    expect_eq "jsonl" "$(tok --jsonl < "$T/in.jsonl" | tr '\n' '/')" "[9906,1917]/[936,59958,198,1074,17]/[13347,27,91,68,354,851,91,29]/"
    expect_eq "jsonl special" "$(tok --jsonl --special < "$T/in.jsonl" | tail -n 1)" "[13347,128009]"
    printf '{"text": 5}\n' | tok --jsonl > /dev/null 2> "$T/err"
    if [ $? -ne 0 ] && grep -q 'stdin:1' "$T/err"; then ok; else bad "jsonl without a text string"; fi
    # detokenize: round trip, specials as text, errors
    expect_eq "detokenize" "$(echo '128000 9906 1917 128009' | $LLAMAREF_BIN detokenize --tokenizer "$V")" "<|begin_of_text|>Hello world<|eot_id|>"
    echo '9906 128256' | $LLAMAREF_BIN detokenize --tokenizer "$V" > /dev/null 2> "$T/err"
    if [ $? -eq 1 ] && grep -q 'out of range' "$T/err"; then ok; else bad "detokenize out-of-range id"; fi
    echo '9906 -1' | $LLAMAREF_BIN detokenize --tokenizer "$V" > /dev/null 2> "$T/err"
    if [ $? -eq 1 ] && grep -q 'out of range' "$T/err"; then ok; else bad "detokenize negative id"; fi
    echo '9906 abc' | $LLAMAREF_BIN detokenize --tokenizer "$V" > /dev/null 2> "$T/err"
    if [ $? -eq 1 ] && grep -q 'invalid token id' "$T/err"; then ok; else bad "detokenize garbage"; fi
    # invalid UTF-8 round-trips byte for byte
    printf 'ok \377\376 caf\303 \355\240\200 end\r\n' > "$T/bad.txt"
    tok < "$T/bad.txt" | $LLAMAREF_BIN detokenize --tokenizer "$V" > "$T/bad.out"
    if cmp -s "$T/bad.txt" "$T/bad.out"; then ok; else bad "invalid UTF-8 round trip"; fi
    # a 10 MB single line: 500000 x "the quick brown fox " = 2000000 tokens + the final space
    yes 'the quick brown fox' | head -n 500000 | tr '\n' ' ' > "$T/big.txt"
    tok < "$T/big.txt" > "$T/big.ids"
    expect_eq "10 MB line token count" "$(wc -w < "$T/big.ids" | tr -d ' ')" "2000001"
    expect_eq "10 MB line first ids" "$(cut -d' ' -f1-6 "$T/big.ids")" "1820 4062 14198 39935 279 4062"
    $LLAMAREF_BIN detokenize --tokenizer "$V" < "$T/big.ids" > "$T/big.out"
    if cmp -s "$T/big.txt" "$T/big.out"; then ok; else bad "10 MB round trip"; fi
    # chat template: text and ids (golden from Jinja2 + llama3-tokenizer-js)
    printf '[{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Hi!"}]\n' > "$T/msgs.json"
    $LLAMAREF_BIN chat-template --tokenizer "$V" --messages "$T/msgs.json" --generation-prompt > "$T/chat.txt"
    printf '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n' > "$T/chat.want"
    if cmp -s "$T/chat.txt" "$T/chat.want"; then ok; else bad "chat-template text"; fi
    expect_eq "chat-template ids" "$($LLAMAREF_BIN chat-template --tokenizer "$V" --messages "$T/msgs.json" --generation-prompt --ids)" \
        "128000 128006 9125 128007 271 38766 1303 33025 2696 25 6790 220 2366 18 198 15724 2696 25 220 1627 10263 220 2366 19 271 2675 527 264 11190 18328 13 128009 128006 882 128007 271 13347 0 128009 128006 78191 128007 271"
    expect_eq "chat-template llama3" "$($LLAMAREF_BIN chat-template --tokenizer "$V" --messages "$T/msgs.json" --template llama3 --ids)" \
        "128000 128006 9125 128007 271 2675 527 264 11190 18328 13 128009 128006 882 128007 271 13347 0 128009"
    # a vocabulary cut inside a line is an error (cut at a line end it would
    # load as a smaller vocabulary, as tiktoken does)
    head -c 699990 "$V" > "$T/trunc.model"
    printf 'x' | $LLAMAREF_BIN tokenize --tokenizer "$T/trunc.model" > /dev/null 2> "$T/err"
    if [ $? -eq 1 ] && grep -q 'trunc.model' "$T/err"; then ok; else bad "truncated vocabulary"; fi
    rm -f "$T/big.txt" "$T/big.ids" "$T/big.out"
else
    echo "tokenizer_cli.test.sh: skipped: $V missing (README.md: Getting the assets)" >&2
    skip=$((skip + 22))
fi

L2="$LLAMAREF_ASSETS/llama2/tokenizer.bin"
if [ -f "$L2" ]; then
    expect_eq "llama2 published case" "$(printf 'I believe the meaning of life is' | $LLAMAREF_BIN tokenize --tokenizer "$L2" --bos)" \
        "1 306 4658 278 6593 310 2834 338"
    expect_eq "llama2 detokenize" "$(echo '1 306 4658 278 6593 310 2834 338' | $LLAMAREF_BIN detokenize --tokenizer "$L2")" \
        "I believe the meaning of life is"
else
    echo "tokenizer_cli.test.sh: skipped: $L2 missing (README.md: Getting the assets)" >&2
    skip=$((skip + 2))
fi

$LLAMAREF_BIN tokenize --tokenizer /nonexistent < /dev/null > /dev/null 2> "$T/err"
if [ $? -eq 1 ] && grep -q '/nonexistent' "$T/err"; then ok; else bad "missing tokenizer file"; fi

finish tokenizer_cli.test.sh
