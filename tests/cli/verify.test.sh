#!/bin/sh
# verify.test.sh - `llamaref verify` from the command line: the reference's
# own dump of a golden case passes (exit 0) against the float64 golden, a
# zero tolerance makes it diverge (exit 1) with a JSON report, a batch row
# is chosen with --row, and unusable input (missing, empty, truncated, not
# safetensors, shapes no map explains, a map naming a missing tensor, bad
# flags) gives exit 2 with a message naming the file or tensor and leaves
# no --json file.  Planted divergences: tests/eval/test_verify.c.
. "$(dirname "$0")/../lib.sh"
T=$LLAMAREF_TMP/verify_cli
rm -rf "$T"; mkdir -p "$T"
G=vectors/forward/gqa_tied/expected.safetensors
IDS="47 83 38 53 76 116 24 121 15 49 23 105"

$LLAMAREF_BIN dump --model vectors/forward/gqa_tied --ids "$IDS" --all \
    --out "$T/cand.safetensors" || bad "dump gqa_tied"

out=$($LLAMAREF_BIN verify --golden $G --candidate "$T/cand.safetensors" \
      --json "$T/pass.json"); rc=$?
expect_eq "pass exit" "$rc" 0
has "pass summary" "$out" "PASS: 37 tensors within tolerance"
has "logits top-1" "$out" "top-1 agrees at 12 of 12 positions"
has "only in golden" "$out" "only in golden:    input_ids"
has "json pass" "$(cat "$T/pass.json")" '"pass": true'
has "json null" "$(cat "$T/pass.json")" '"first_divergence": null'

# a zero tolerance: the float build's rounding is a divergence
out=$($LLAMAREF_BIN verify --golden $G --candidate "$T/cand.safetensors" \
      --rtol 0 --json "$T/fail.json"); rc=$?
expect_eq "rtol 0 exit" "$rc" 1
has "rtol 0 names first" "$out" "FIRST DIVERGENCE: layers.0.attn_norm"
has "json fail" "$(cat "$T/fail.json")" '"first_divergence": {"tensor": "layers.0.attn_norm"'
has "json index" "$(cat "$T/fail.json")" '"index": ['

# bf16 compute type: wider default tolerances, still a pass
$LLAMAREF_BIN verify --golden $G --candidate "$T/cand.safetensors" \
    --compute bf16 >/dev/null; expect_eq "bf16 exit" "$?" 0

# --row: padded_batch row 0 (full) against the dump of its ids
P=vectors/forward/padded_batch/expected.safetensors
$LLAMAREF_BIN dump --model vectors/forward/padded_batch \
    --ids "4 18 39 25 55 43 14 23 50" --all --out "$T/row0.safetensors" ||
    bad "dump padded_batch"
$LLAMAREF_BIN verify --golden $P --candidate "$T/row0.safetensors" >/dev/null
expect_eq "row 0 exit" "$?" 0
$LLAMAREF_BIN verify --golden $P --candidate "$T/row0.safetensors" --row 1 >/dev/null
expect_eq "row 1 exit" "$?" 1
msg=$($LLAMAREF_BIN verify --golden $P --candidate "$T/row0.safetensors" --row 3 2>&1)
expect_eq "row 3 exit" "$?" 2
has "row 3 message" "$msg" "has a batch of 3"

# --model: the reference runs itself and is the golden
out=$(TMPDIR="$T" $LLAMAREF_BIN verify --model vectors/forward/gqa_tied --ids "$IDS" \
      --candidate $G 2>/dev/null); rc=$?
expect_eq "model exit" "$rc" 0
has "model pass" "$out" "PASS: 37 tensors within tolerance"
out=$(TMPDIR="$T" $LLAMAREF_BIN verify --model vectors/forward/gqa_tied \
      --ids "47 83 38 53 76 116 24 121 15 49 23 104" --candidate $G 2>/dev/null); rc=$?
expect_eq "model other ids exit" "$rc" 1
has "model other ids" "$out" "FIRST DIVERGENCE: embed: 64 of 768 elements beyond tolerance, worst at [0, 11,"
L=vectors/lora/all7_gqa
out=$(TMPDIR="$T" $LLAMAREF_BIN verify --model $L --adapter $L --ids "1 35 57 40 9 40 18 4 5" \
      --labels "1 -100 -100 -100 9 40 18 4 5" --candidate $L/expected.safetensors 2>/dev/null); rc=$?
expect_eq "model lora exit" "$rc" 0
has "model lora grads" "$out" "grad.base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"
# activation gradients in the dump, verified in backward order
$LLAMAREF_BIN dump --model $L --adapter $L --ids "1 35 57 40 9 40 18 4 5" \
    --labels "1 -100 -100 -100 9 40 18 4 5" --out "$T/lg.safetensors" || bad "dump lora grads"
out=$(TMPDIR="$T" $LLAMAREF_BIN verify --model $L --adapter $L --ids "1 35 57 40 9 40 18 4 5" \
      --labels "1 -100 -100 -100 9 40 18 4 5" --candidate "$T/lg.safetensors" 2>/dev/null); rc=$?
expect_eq "activation grads exit" "$rc" 0
order=$(printf '%s\n' "$out" | awk '{print $1}' | grep -n -E '^(loss|dlogits|dfinal_norm|dlayers.1.out|dlayers.1.attn_norm|dlayers.0.out|dlayers.0.q|grad.base_model.model.model.layers.1.mlp.down_proj.lora_B.weight)$' | cut -d: -f2 | tr '\n' ' ')
expect_eq "backward order" "$order" "loss dlogits dfinal_norm dlayers.1.out dlayers.1.attn_norm dlayers.0.out dlayers.0.q grad.base_model.model.model.layers.1.mlp.down_proj.lora_B.weight "
msg=$(TMPDIR="$T" $LLAMAREF_BIN verify --model "$T/no-model" --ids "1 2" --candidate $G 2>&1)
expect_eq "model missing exit" "$?" 2
has "model missing message" "$msg" "no-model"
expect_eq "no temporary golden left" "$(ls "$T" | grep -c llamaref-verify-golden)" 0

# unusable input: exit 2, a message naming the file / tensor, no --json
check2() { # NAME NEEDLE verify-args...
    name=$1; needle=$2; shift 2
    rm -f "$T/bad.json"
    msg=$($LLAMAREF_BIN verify "$@" --json "$T/bad.json" 2>&1); rc=$?
    expect_eq "$name exit" "$rc" 2
    has "$name message" "$msg" "$needle"
    if [ -e "$T/bad.json" ]; then bad "$name left a --json file"; else ok; fi
}
: > "$T/empty.safetensors"
head -c 300 "$T/cand.safetensors" > "$T/trunc.safetensors"
check2 missing "$T/nope.safetensors" --golden $G --candidate "$T/nope.safetensors"
check2 empty "$T/empty.safetensors" --golden $G --candidate "$T/empty.safetensors"
check2 truncated "$T/trunc.safetensors" --golden $G --candidate "$T/trunc.safetensors"
check2 not-safetensors "config.json" --golden vectors/forward/gqa_tied/config.json \
    --candidate "$T/cand.safetensors"
$LLAMAREF_BIN dump --model vectors/forward/mqa_headdim --ids "1 2 3" --all \
    --out "$T/other.safetensors" || bad "dump mqa_headdim"
check2 shape "shape mismatch: golden 'embed'" --golden $G --candidate "$T/other.safetensors"
check2 shape-both "is [3, 48]" --golden $G --candidate "$T/other.safetensors"
echo '{"layers.0.q": "Qcur-0"}' > "$T/map.json"
check2 map-missing "candidate tensor 'Qcur-0'" --golden $G --candidate "$T/cand.safetensors" \
    --names "$T/map.json"
echo '{"layers.0.q": 3}' > "$T/badmap.json"
check2 map-bad "badmap.json" --golden $G --candidate "$T/cand.safetensors" \
    --names "$T/badmap.json"
check2 compute "--compute 'f8'" --golden $G --candidate "$T/cand.safetensors" --compute f8
check2 required "--candidate and either --golden or --model" --golden $G
check2 rtol "--rtol" --golden $G --candidate "$T/cand.safetensors" --rtol -1

# real foreign output (vectors/verify/, written by vectors/gen/hf_dump.py):
# HF transformers float32 passes; rope_theta 20000 in layer 1 is caught
out=$($LLAMAREF_BIN verify --golden $G --candidate vectors/verify/hf_gqa_tied_f32.safetensors \
      --names hf); rc=$?
expect_eq "hf f32 exit" "$rc" 0
has "hf f32 pass" "$out" "PASS: 35 tensors within tolerance"
out=$($LLAMAREF_BIN verify --golden $G --candidate vectors/verify/hf_gqa_tied_f32_rope_bug.safetensors \
      --names hf); rc=$?
expect_eq "hf rope bug exit" "$rc" 1
has "hf rope bug first" "$out" "FIRST DIVERGENCE: layers.1.q_rope: 613 of 768 elements beyond tolerance, worst at [0, 11, 49]; it diverges from t = 1 on"
has "hf rope bug diagnosis" "$out" "while layers.1.q is within tolerance: RoPE for queries"

# HF + PEFT float32 backward (activation and LoRA gradients) against the
# reference run by verify itself
out=$(TMPDIR="$T" $LLAMAREF_BIN verify --model $L --adapter $L --ids "1 35 57 40 9 40 18 4 5" \
      --labels "1 -100 -100 -100 9 40 18 4 5" \
      --candidate vectors/verify/hf_all7_gqa_f32_grads.safetensors --names hf 2>/dev/null); rc=$?
expect_eq "hf grads exit" "$rc" 0
has "hf grads count" "$out" "PASS: 57 tensors within tolerance"
has "hf grads dlayers" "$out" "dlayers.0.q_rope"

# full-parameter gradients (dump --full --labels: grad.<HF name> for every
# weight) against HF torch autograd in float64 (vectors/gen/hf_dump.py
# --dtype float64 --grads-only): tied gqa_tied (lm_head's gradient summed
# into embed_tokens) and untied mqa_headdim.  --compute f32: HF's RoPE
# angles are float32 whatever the dtype (docs/verify.md), so the DOUBLE=1
# build is compared at float32 tolerances too.
FG=vectors/verify/hf_gqa_tied_f64_full_grads.safetensors
$LLAMAREF_BIN dump --model vectors/forward/gqa_tied --ids "$IDS" --full \
    --labels "-100 83 38 53 -100 116 24 121 15 49 23 105" \
    --out "$T/full.safetensors" || bad "dump --full gqa_tied"
out=$($LLAMAREF_BIN verify --golden $FG --candidate "$T/full.safetensors" --compute f32); rc=$?
expect_eq "full grads exit" "$rc" 0
has "full grads count" "$out" "PASS: 21 tensors within tolerance"
expect_eq "full grads compared" "$(printf '%s\n' "$out" | grep -c '^grad\.model\..* ok$')" 20
has "full grads embed" "$out" "grad.model.embed_tokens.weight [128,64]"
FM=vectors/verify/hf_mqa_headdim_f64_full_grads.safetensors
$LLAMAREF_BIN dump --model vectors/forward/mqa_headdim --ids "26 30 43 30 26 58 92 69 80 73 47" \
    --full --labels "26 30 43 -100 -100 58 92 69 80 73 47" \
    --out "$T/full2.safetensors" || bad "dump --full mqa_headdim"
out=$($LLAMAREF_BIN verify --golden $FM --candidate "$T/full2.safetensors" --compute f32); rc=$?
expect_eq "full grads untied exit" "$rc" 0
has "full grads untied count" "$out" "PASS: 22 tensors within tolerance"
has "full grads lm_head" "$out" "grad.lm_head.weight          [96,48]"
# activation gradients come with them
n=$(printf '%s\n' "$out" | grep -c '^only in candidate: dlayers\.')
expect_eq "full dlayers" "$n" 26
has "full dembed" "$out" "only in candidate: dembed"
# --full needs --labels and no --adapter
$LLAMAREF_BIN dump --model vectors/forward/gqa_tied --ids "$IDS" --full \
    --out "$T/x.safetensors" 2>/dev/null
expect_eq "full without labels" "$?" 2
$LLAMAREF_BIN dump --model vectors/lora/all7_gqa --adapter vectors/lora/all7_gqa \
    --ids "1 35 57" --labels "1 35 57" --full --out "$T/x.safetensors" 2>/dev/null
expect_eq "full with adapter" "$?" 2

# a real llama.cpp dump (vectors/gen/llamacpp_eval_dump.c: the eval
# callback of the llama.cpp that node-llama-cpp@3.22.1 ships) of the world
# model: --names llama.cpp maps its graph names (Qcur-N#3 after RoPE in
# that release, interleaved q/k, [T, H, hd]; the KV cache padded to 256
# cells leaves kq_soft_max unmapped)
LC=vectors/verify/llamacpp_world_f32.safetensors
if [ -f data/world/model.safetensors ]; then
    out=$($LLAMAREF_BIN verify --model data/world --ids "2048 100 101 102 103 104 105 106 107" \
          --candidate $LC --names llama.cpp 2>/dev/null); rc=$?
    expect_eq "llama.cpp exit" "$rc" 0
    has "llama.cpp count" "$out" "PASS: 63 tensors within tolerance"
    has "llama.cpp q_rope" "$out" "layers.3.q_rope              [9,4,32]"
    has "llama.cpp logits" "$out" "top-1 agrees at 9 of 9 positions"
    has "llama.cpp padded" "$out" "only in candidate: kq_soft_max-0"
else
    echo "skip: data/world/model.safetensors missing" >&2; skip=$((skip + 5))
fi

# vectors/MANIFEST.json: every listed file exists, every vectors file is listed
listed=$(grep -E '^ +"vectors/[^"*]*",?$' vectors/MANIFEST.json | sed -E 's/^ +"([^"]*)",?$/\1/')
[ -n "$listed" ] || bad "MANIFEST lists no files"
for f in $listed; do
    [ -f "$f" ] || bad "MANIFEST lists $f, which does not exist"
done
ok
for f in $(find vectors -type f ! -path 'vectors/gen/*' ! -name MANIFEST.json | sort); do
    printf '%s\n' "$listed" | grep -qx "$f" || bad "$f is not listed in vectors/MANIFEST.json"
done
ok

rm -rf "$T"
finish verify.test.sh
