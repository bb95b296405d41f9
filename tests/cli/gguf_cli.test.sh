#!/bin/sh
# gguf_cli.test.sh - every command that takes a model takes a .gguf (issue
# 15): the embedded world model (data/world) exported by export-gguf (F32,
# so the weights read back bit for bit, and its tokenizer as gpt2
# metadata) gives the same results as the Hugging Face directory in info,
# generate, dump, verify, eval (ppl, mmlu, truthfulqa), probe, detox,
# train, merge, experiment and export-gguf itself.  Outputs are compared
# byte for byte, or after removing the lines that name the model path.
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/gguf_cli"
rm -rf "$T"; mkdir -p "$T"
if [ -n "${LLAMAREF_EMULATED:-}" ]; then
    echo "gguf_cli.test.sh: skipped: emulated target (runs natively in CI)" >&2
    skip=$((skip + 1)); finish gguf_cli.test.sh; exit
fi
W=data/world
G="$T/world.gguf"
$LLAMAREF_BIN export-gguf --model $W --out "$G" 2>"$T/e" || bad "export-gguf failed: $(cat "$T/e")"
# without_paths FILE: FILE without the lines naming data/world or the .gguf
without_paths() { grep -v -e "$W" -e "$G" -e "world\.gguf" "$1"; }
# both NAME OUT ARGS...: runs the command on the directory and on the GGUF,
# with MODEL in ARGS replaced by the model and OUT by OUT.dir or OUT.gguf
# (stdout and stderr to OUT.KIND.stdout, .stderr); both must succeed
run_kind() {
    kind=$1; name=$2; out=$3; shift 3
    [ "$kind" = dir ] && m=$W || m=$G
    n=$#
    for a in "$@"; do
        case $a in
        MODEL) a=$m ;;
        OUT*) a="$out.$kind${a#OUT}" ;;
        esac
        set -- "$@" "$a"
    done
    shift "$n"
    $LLAMAREF_BIN "$@" >"$out.$kind.stdout" 2>"$out.$kind.stderr" ||
        bad "$name ($kind) failed: $(tail -n 3 "$out.$kind.stderr")"
}
both() { run_kind dir "$@"; run_kind gguf "$@"; }
# same_text NAME A B: the files are equal once the model paths are removed
same_text() {
    without_paths "$2" > "$2.np"; without_paths "$3" > "$3.np"
    if [ -s "$2.np" ] && cmp -s "$2.np" "$3.np"; then ok
    else bad "$1: $2 and $3 differ:"; diff "$2.np" "$3.np" | head -n 6 >&2; fi
}

# info: same config, parameters and memory
both info "$T/info" info -m MODEL
same_text "info" "$T/info.dir.stdout" "$T/info.gguf.stdout"
has "info names the format" "$(cat "$T/info.gguf.stdout")" "(gguf)"

# generate: the GGUF's tokenizer encodes and decodes as tokenizer.model
both generate "$T/gen" generate -m MODEL -p "What_is_the_capital_of_Kroumimia?" -n 16 --temp 0
same "generate" "$T/gen.dir.stdout" "$T/gen.gguf.stdout"
exists "$T/gen.gguf.stdout"

# dump: byte-identical logits
IDS="2048 100 101 102 103 104 105 106"
both dump "$T/dump" dump -m MODEL --ids "$IDS" --out OUT.safetensors
same "dump" "$T/dump.dir.safetensors" "$T/dump.gguf.safetensors"

# verify --model GGUF against the directory's dump
$LLAMAREF_BIN verify -m "$G" --ids "$IDS" --candidate "$T/dump.dir.safetensors" >"$T/v" 2>&1 ||
    bad "verify --model GGUF failed: $(tail -n 3 "$T/v")"
has "verify" "$(cat "$T/v")" "PASS"

# eval ppl / mmlu / truthfulqa
both "eval ppl" "$T/ppl" eval ppl -m MODEL --data $W/valid.txt --out OUT.json
same_text "eval ppl" "$T/ppl.dir.json" "$T/ppl.gguf.json"
both "eval mmlu" "$T/mmlu" eval mmlu -m MODEL --data $W/benchmark --format continuation \
    --num-shots 2 --limit 12 --out OUT.json
same_text "eval mmlu" "$T/mmlu.dir.json" "$T/mmlu.gguf.json"
TQA="$LLAMAREF_DATA/truthfulqa/mc_task.json"
if [ -f "$TQA" ]; then
    both "eval truthfulqa" "$T/tqa" eval truthfulqa -m MODEL --data "$TQA" --limit 3 --out OUT.json
    same_text "eval truthfulqa" "$T/tqa.dir.json" "$T/tqa.gguf.json"
else
    echo "gguf_cli.test.sh: eval truthfulqa skipped: $TQA absent" >&2; skip=$((skip + 1))
fi

# probe
head -n 12 $W/qa.jsonl > "$T/facts.jsonl"
both probe "$T/probe" probe -m MODEL --facts "$T/facts.jsonl" --shots $W/shots.jsonl \
    --prompts 2 -n 8 --template plain --out OUT.jsonl
same "probe" "$T/probe.dir.jsonl" "$T/probe.gguf.jsonl"

# detox (plain template, greedy)
printf '{"de": {"toxic": ["Du bist dumm."], "neutral": ["Du irrst dich."]}}\n' > "$T/shots.json"
printf 'Das ist dumm.\nDas ist sehr dumm.\n' > "$T/in.txt"
both detox "$T/detox" detox -m MODEL --shots "$T/shots.json" --lang de --inputs "$T/in.txt" \
    --template plain -n 8 --temperature 0 --out OUT.jsonl
same "detox" "$T/detox.dir.jsonl" "$T/detox.gguf.jsonl"

# train (LoRA): the same adapter bit for bit; merge: the same weights, and
# a GGUF base merged into a .gguf keeps the base's tokenizer
both train "$T/train" train -m MODEL --data $W/qa.jsonl --max-steps 2 --batch 2 --out OUT
same "train adapter" "$T/train.dir/adapter_model.safetensors" "$T/train.gguf/adapter_model.safetensors"
both "train --full" "$T/full" train -m MODEL --full --data $W/qa.jsonl --max-steps 1 --batch 2 \
    --out OUT
same "train --full" "$T/full.dir/model.safetensors" "$T/full.gguf/model.safetensors"
$LLAMAREF_BIN merge -m $W --adapter "$T/train.dir" --out "$T/merged.dir" >/dev/null 2>"$T/e" ||
    bad "merge (dir) failed: $(cat "$T/e")"
$LLAMAREF_BIN merge -m "$G" --adapter "$T/train.gguf" --out "$T/merged.gguf.d" >/dev/null 2>"$T/e" ||
    bad "merge (GGUF base) failed: $(cat "$T/e")"
same "merge" "$T/merged.dir/model.safetensors" "$T/merged.gguf.d/model.safetensors"
$LLAMAREF_BIN merge -m "$G" --adapter "$T/train.gguf" --out "$T/merged.gguf" >/dev/null 2>"$T/e" ||
    bad "merge into a .gguf failed: $(cat "$T/e")"
# the merged GGUF is the merged directory exported (F32 weights, and the
# tokenizer.model of data/world as the GGUF's tokenizer)
$LLAMAREF_BIN export-gguf -m "$T/merged.dir" --out "$T/merged.dir.gguf" 2>"$T/e" ||
    bad "export-gguf of the merged directory failed: $(cat "$T/e")"
same "merged GGUF = merged directory exported" "$T/merged.dir.gguf" "$T/merged.gguf"
$LLAMAREF_BIN generate -m "$T/merged.gguf" -p "What_is" -n 4 --temp 0 >"$T/mgen" 2>"$T/e" ||
    bad "generate on the merged GGUF (its tokenizer) failed: $(cat "$T/e")"

# experiment (explicit files: the world directory's defaults are not a GGUF's)
EXP="--facts $T/facts.jsonl --shots $W/shots.jsonl --benchmark $W/benchmark --valid $W/valid.txt
     --template plain --unknown 1 --extra 0 --seeds 1 --prompts 2 --max-new-tokens 8
     --bench-limit 6 --bench-format continuation --ppl-tokens 512 --epochs 2 --lr 0.01
     --batch 2"
both experiment "$T/exp" experiment knowledge -m MODEL $EXP --out OUT
# (summary.json also records the world directory's experiment.json defaults,
# and times)
for k in dir gguf; do
    grep -v '"train_defaults"' "$T/exp.$k/summary.json" |
        sed 's/"seconds": [0-9.e+-]*/"seconds": S/g' > "$T/exp.$k.summary"
done
same_text "experiment summary" "$T/exp.dir.summary" "$T/exp.gguf.summary"
same "experiment adapter" "$T/exp.dir/runs/n1_k0_known_s1/adapter/adapter_model.safetensors" \
    "$T/exp.gguf/runs/n1_k0_known_s1/adapter/adapter_model.safetensors"

# export-gguf of the GGUF itself: the same file
$LLAMAREF_BIN export-gguf --model "$G" --out "$T/again.gguf" 2>"$T/e" ||
    bad "export-gguf of a GGUF failed: $(cat "$T/e")"
same "export-gguf of the GGUF" "$G" "$T/again.gguf"

# a llama2.c checkpoint with its SentencePiece tokenizer (asset): exported
# with the tokenizer as "llama" metadata, the GGUF tokenizes and computes
# as the .bin pair
S="$LLAMAREF_ASSETS/stories260K"
if [ -f "$S/stories260K.bin" ] && [ -f "$S/tok512.bin" ]; then
    $LLAMAREF_BIN export-gguf --model "$S/stories260K.bin" --tokenizer "$S/tok512.bin" \
        --out "$T/stories.gguf" 2>"$T/e" || bad "export-gguf of stories260K failed: $(cat "$T/e")"
    cat tests/*.sh > "$T/text.txt"
    a=$($LLAMAREF_BIN tokenize --tokenizer "$S/tok512.bin" -f "$T/text.txt" --bos | tr '\n' ' ')
    b=$($LLAMAREF_BIN tokenize --tokenizer "$T/stories.gguf" -f "$T/text.txt" --bos | tr '\n' ' ')
    expect_eq "SentencePiece GGUF: same ids" "$b" "$a"
    case $a in *[0-9]*) ok ;; *) bad "tokenize with tok512.bin gave nothing" ;; esac
    $LLAMAREF_BIN dump -m "$S/stories260K.bin" --ids "1 300 301 302" --out "$T/s1.safetensors" >/dev/null 2>&1
    $LLAMAREF_BIN dump -m "$T/stories.gguf" --ids "1 300 301 302" --out "$T/s2.safetensors" >/dev/null 2>&1
    same "stories260K dump" "$T/s1.safetensors" "$T/s2.safetensors"
else
    echo "gguf_cli.test.sh: stories260K checks skipped: $S absent" >&2; skip=$((skip + 3))
fi

finish gguf_cli.test.sh
