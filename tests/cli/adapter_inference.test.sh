#!/bin/sh
# adapter_inference.test.sh - a LoRA adapter trained by `llamaref train` on
# stories260K used for inference: `generate --adapter` changes the greedy
# continuation to the trained one and gives the same ids as `generate` on
# the `merge`d checkpoint; `dump --adapter` without --labels writes the
# merged model's logits (bit-identical to dumping the merged checkpoint);
# the same adapter still loads when its adapter_config.json is written the
# other ways PEFT writes it (target_modules as a regex string, as
# "all-linear", layers_to_transform as an int, extra names in the list).
# $LLAMAREF_BIN is used unquoted (it may carry a qemu prefix).
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/adapter_inference_test"
rm -rf "$T"; mkdir -p "$T"

S="$LLAMAREF_ASSETS/stories260K"
if [ ! -f "$S/stories260K.bin" ] || [ ! -f "$S/tok512.bin" ]; then
    echo "adapter_inference.test.sh: skipped: stories260K assets missing (README.md: Getting the assets)" >&2
    skip=$((skip + 1)); finish adapter_inference.test.sh; exit
fi
if [ -n "${LLAMAREF_EMULATED:-}" ]; then
    # training under qemu-user takes minutes; test_lora covers the library
    echo "adapter_inference.test.sh: skipped: emulated target (runs natively in CI)" >&2
    skip=$((skip + 1)); finish adapter_inference.test.sh; exit
fi
M="$S/stories260K.bin"
BASE="403 407 261 378 432 383 286 261 376 298 315 421 395 317 426 338"

# 1. train: after "403 407 261" (the model's own start) the adapter learns
#    the run 300..310 instead of the base continuation 378 432 ...
for i in 1 2 3 4; do
    echo '{"input_ids": [1, 403, 407, 261, 300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310]}'
done > "$T/data.jsonl"
$LLAMAREF_BIN train --model "$M" --data "$T/data.jsonl" --out "$T/ad" --epochs 20 --batch 4 --lr 1e-2 --r 4 --alpha 8 --dropout 0 --targets all 2>"$T/train.err" || bad "train failed: $(cat "$T/train.err")"

# 2. generate: the base greedy ids, then with the adapter the trained run
got=$($LLAMAREF_BIN generate --model "$M" --prompt-ids 1 -n 16 --ids 2>/dev/null)
expect_eq "base greedy" "$got" "$BASE"
ad=$($LLAMAREF_BIN generate --model "$M" --adapter "$T/ad" --prompt-ids 1 -n 16 --ids 2>"$T/g.err") || bad "generate --adapter failed: $(cat "$T/g.err")"
case "$ad" in
    "403 407 261 300 301 302 303 304 305 306 307 308 309 310"*) ok ;;
    *) bad "generate --adapter: '$ad' does not continue with the trained 300..310" ;;
esac
if [ "$ad" != "$BASE" ]; then ok; else bad "the adapter did not change the greedy output"; fi

# 3. the merged checkpoint decodes to the same ids (and text)
$LLAMAREF_BIN merge --model "$M" --adapter "$T/ad" --out "$T/merged" 2>"$T/m.err" || bad "merge failed: $(cat "$T/m.err")"
got=$($LLAMAREF_BIN generate --model "$T/merged" --prompt-ids 1 -n 16 --ids 2>/dev/null)
expect_eq "merged == --adapter (ids)" "$got" "$ad"
a=$($LLAMAREF_BIN generate --model "$M" --tokenizer "$S/tok512.bin" --adapter "$T/ad" --prompt "Once upon a time" -n 24 2>/dev/null)
b=$($LLAMAREF_BIN generate --model "$T/merged" --tokenizer "$S/tok512.bin" --prompt "Once upon a time" -n 24 2>/dev/null)
expect_eq "merged == --adapter (text)" "$a" "$b"
[ -n "$a" ] && ok || bad "generate --adapter printed no text"

# 4. dump --adapter without --labels: logits of the adapted model (= the
#    merged checkpoint's, to the bit), also for one token and with --all
IDS="1 403 407 261 300"
$LLAMAREF_BIN dump --model "$M" --adapter "$T/ad" --ids "$IDS" --out "$T/da.safetensors" 2>"$T/d.err" || bad "dump --adapter failed: $(cat "$T/d.err")"
$LLAMAREF_BIN dump --model "$T/merged" --ids "$IDS" --out "$T/dm.safetensors" 2>/dev/null || bad "dump merged failed"
$LLAMAREF_BIN dump --model "$M" --ids "$IDS" --out "$T/db.safetensors" 2>/dev/null || bad "dump base failed"
same "dump --adapter == dump merged" "$T/da.safetensors" "$T/dm.safetensors"
if cmp -s "$T/da.safetensors" "$T/db.safetensors"; then bad "dump --adapter wrote the base logits"; else ok; fi
h=$(head -c 4000 "$T/da.safetensors" | tr -d '\000')
has "dump --adapter logits" "$h" '"logits":{"dtype":"F32","shape":[5,512]'
case "$h" in *'"loss"'*|*grad.*) bad "dump --adapter without --labels wrote loss/gradients" ;; *) ok ;; esac
$LLAMAREF_BIN dump --model "$M" --adapter "$T/ad" --ids "1" --out "$T/d1.safetensors" 2>"$T/d1.err" && ok || bad "dump --adapter of one token failed: $(cat "$T/d1.err")"
$LLAMAREF_BIN dump --model "$M" --adapter "$T/ad" --ids "$IDS" --all --out "$T/dall.safetensors" 2>/dev/null && ok || bad "dump --adapter --all failed"
has "dump --adapter --all" "$(head -c 20000 "$T/dall.safetensors" | tr -d '\000')" '"layers.4.out"'

# 5. PEFT's other ways of writing the same adapter_config.json:
#    target_modules as a regex (re.fullmatch on "model.layers.3.mlp.up_proj"),
#    as "all-linear", as a list with names this model lacks; layers given
#    as a list, with layers_pattern
mkdir -p "$T/peft"
cp "$T/ad/adapter_model.safetensors" "$T/peft/"
variant() { # target_modules-json layers_to_transform-json
    tm=$(printf '%s' "$1" | sed 's/[\\&/]/\\&/g')
    sed -e "s/\"target_modules\": \[[^]]*\]/\"target_modules\": $tm/" \
        -e "s/\"layers_to_transform\": null/\"layers_to_transform\": $2/" \
        -e 's/"layers_pattern": null/"layers_pattern": "layers"/' \
        "$T/ad/adapter_config.json" > "$T/peft/adapter_config.json"
    got=$($LLAMAREF_BIN generate --model "$M" --adapter "$T/peft" --prompt-ids 1 -n 16 --ids 2>"$T/p.err") || bad "target_modules $1: $(cat "$T/p.err")"
    expect_eq "target_modules $1, layers_to_transform $2" "$got" "$ad"
}
variant '"model\\.layers\\.\\d+\\.(self_attn|mlp)\\.[a-z]+_proj"' null
variant '"all-linear"' null
variant '["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "query", "value"]' null
variant '["down_proj", "up_proj", "gate_proj", "o_proj", "v_proj", "k_proj", "q_proj"]' '[0, 1, 2, 3, 4]'
grep -q '"layers_to_transform": \[0, 1' "$T/peft/adapter_config.json" && ok || bad "variant config not written"

# 6. errors name the adapter
err=$($LLAMAREF_BIN generate --model "$M" --adapter "$T/none" --prompt-ids 1 -n 4 --ids 2>&1)
has "missing adapter" "$err" "--adapter $T/none"
sed 's/"use_dora": false/"use_dora": true/' "$T/ad/adapter_config.json" > "$T/peft/adapter_config.json"
err=$($LLAMAREF_BIN dump --model "$M" --adapter "$T/peft" --ids "1 2" --out "$T/x.safetensors" 2>&1)
has "DoRA refused" "$err" "DoRA is not supported"

finish adapter_inference.test.sh
