#!/bin/sh
# generate.test.sh - `llamaref generate` and `llamaref dump` end to end:
# stories260K greedy text and ids against llama2.c's published sample
# (../shared/assets/stories260K/greedy_first64.json), sampling is
# reproducible from the seed, dump writes the documented tensor names, and
# bad input fails with a clear message.
# $LLAMAREF_BIN is used unquoted (it may carry a qemu prefix).
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/generate_test"
mkdir -p "$T"

S="$LLAMAREF_ASSETS/stories260K"
if [ -f "$S/stories260K.bin" ] && [ -f "$S/tok512.bin" ]; then
    # 1. greedy ids from BOS = the first 16 published ids
    got=$($LLAMAREF_BIN generate --model "$S/stories260K.bin" --prompt-ids 1 -n 16 --ids 2>/dev/null)
    expect_eq "greedy ids" "$got" "403 407 261 378 432 383 286 261 376 298 315 421 395 317 426 338"
    # 2. greedy text from an empty prompt (BOS only) = the published sample
    got=$($LLAMAREF_BIN generate --model "$S/stories260K.bin" --tokenizer "$S/tok512.bin" --prompt "" -n 40 2>/dev/null)
    has "greedy text" "$got" "Once upon a time, there was a little girl named Lily. She loved to play outside in the park."
    # 3. sampling: same seed, same text; another seed, another text
    a=$($LLAMAREF_BIN generate --model "$S/stories260K.bin" --tokenizer "$S/tok512.bin" --prompt "Once upon a time" -n 40 --temperature 1 --top-p 0.95 --seed 7 2>/dev/null)
    b=$($LLAMAREF_BIN generate --model "$S/stories260K.bin" --tokenizer "$S/tok512.bin" --prompt "Once upon a time" -n 40 --temperature 1 --top-p 0.95 --seed 7 2>/dev/null)
    c=$($LLAMAREF_BIN generate --model "$S/stories260K.bin" --tokenizer "$S/tok512.bin" --prompt "Once upon a time" -n 40 --temperature 1 --top-p 0.95 --seed 8 2>/dev/null)
    expect_eq "same seed" "$a" "$b"
    if [ "$a" != "$c" ] && [ -n "$a" ]; then ok; else bad "seeds 7 and 8 gave the same text '$a'"; fi
    # 4. a llama2.c checkpoint needs a tokenizer for text
    err=$($LLAMAREF_BIN generate --model "$S/stories260K.bin" --prompt "hi" 2>&1 >/dev/null)
    has "no tokenizer" "$err" "--tokenizer PATH is needed"
else
    echo "generate.test.sh: skipped: stories260K assets missing (README.md: Getting the assets)" >&2
    skip=$((skip + 4))
fi

# 5. dump: names and shapes of the contract (docs/tensors.md)
V=vectors/forward/gqa_tied
if $LLAMAREF_BIN dump --model "$V" --ids "5 9 77 3" --out "$T/all.safetensors" --all; then
    hdr=$(head -c 20000 "$T/all.safetensors" | tr -d '\000')
    for name in '"logits":{"dtype":"F32","shape":[4,128]' '"embed"' '"final_norm"' \
        '"layers.1.attn_scores":{"dtype":"F32","shape":[4,4,4]' '"layers.0.q_rope":{"dtype":"F32","shape":[4,64]' \
        '"layers.0.k_rope":{"dtype":"F32","shape":[4,32]' '"layers.1.act"' '"layers.1.out"'; do
        has "dump --all header" "$hdr" "$name"
    done
else
    bad "dump --all failed"
fi
$LLAMAREF_BIN dump --model "$V" --ids "5 9 77 3" --out "$T/logits.safetensors" && ok || bad "dump failed"
hdr=$(head -c 4000 "$T/logits.safetensors" | tr -d '\000')
case "$hdr" in *layers.0*) bad "dump without --all wrote intermediates" ;; *) ok ;; esac
err=$($LLAMAREF_BIN dump --model "$V" --ids "5 9 128" --out "$T/x.safetensors" 2>&1)
has "dump bad id" "$err" "outside the vocabulary"
err=$($LLAMAREF_BIN dump --model "$V" --ids "5 x" --out "$T/x.safetensors" 2>&1)
has "dump malformed ids" "$err" "not a list of integers"

# 6. a malformed --prompt-ids is a usage error found before any work (the
# model path does not exist: the id list is refused first, exit 2)
err=$($LLAMAREF_BIN generate --model "$T/no-such-model" --prompt-ids "5 y" 2>&1 >/dev/null); rc=$?
expect_eq "generate --prompt-ids '5 y': exit status" "$rc" 2
has "generate --prompt-ids '5 y': message" "$err" "llamaref generate: option --prompt-ids: '5 y' is not a list of integers (at byte 2)"
finish generate.test.sh
