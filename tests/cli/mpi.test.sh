#!/bin/sh
# mpi.test.sh - data-parallel training under mpirun (issue 18; par.h,
# trainer.h, docs/training.md "Data-parallel training"): `mpirun -np N
# llamaref train` writes byte-identical files (adapter, model, optimizer
# state, metrics, checkpoints) to one process, for N = 1, 2, 3 (uneven
# shards and a rank with no example of a micro-batch), LoRA with dropout
# and full-parameter, and across --resume; killing one rank mid-run ends
# the job with an error and leaves the last complete checkpoint resumable
# to the same bits; an error ends every rank; a command that does not run
# data-parallel refuses; `probe` and `eval mmlu|truthfulqa` shard their
# items (`eval ppl` its windows, `detox` its inputs, `eval --requests` its
# questions) and `experiment knowledge` walks its grid on every rank, each
# step sharded, with identical outputs.
# Runs only for an MPI build (LLAMAREF_MPI=1, set by `make test MPI=1`)
# with mpirun on PATH; otherwise skipped.  The one-process reference is
# $LLAMAREF_REF_BIN (.ci/run: the default build's ./llamaref), else the MPI
# build itself started without mpirun (then it is one process).
# $LLAMAREF_BIN is used unquoted.
set -u
. "$(dirname "$0")/../lib.sh"
if [ "${LLAMAREF_MPI:-0}" != 1 ] || ! command -v mpirun > /dev/null 2>&1; then
    echo "mpi.test.sh: not an MPI build (make MPI=1) or no mpirun: skipped" >&2
    skip=52; finish mpi.test.sh; exit
fi
T="$LLAMAREF_TMP/mpi_test"
rm -rf "$T"; mkdir -p "$T"
REF=${LLAMAREF_REF_BIN:-$LLAMAREF_BIN}
# Open MPI in containers: no single-copy shared-memory transfer; as root
# only with --allow-run-as-root; one host, no ssh
export OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && MPIRUN="$MPIRUN --allow-run-as-root"

# same_tree NAME DIR1 DIR2: the same files, each byte-identical
same_tree() {
    a=$(cd "$2" && find . -type f | sort); b=$(cd "$3" && find . -type f | sort)
    if [ "$a" != "$b" ]; then bad "$1: file lists differ: $a / $b"; return; fi
    d=""
    for f in $a; do cmp -s "$2/$f" "$3/$f" || d="$d $f"; done
    if [ -z "$d" ]; then ok; else bad "$1: differ:$d"; fi
}

LORA="--model vectors/lora/all7_gqa --data vectors/lora/e2e/data.jsonl --targets all --r 2 --alpha 4 --dropout 0.1 --lr 1e-2 --epochs 6 --batch 3 --grad-accum 2 --warmup 1 --seed 5 --save-every 1"
cat > "$T/full.jsonl" <<'J'
{"input_ids": [1, 35, 17, 30, 9, 30, 18, 4, 5]}
{"input_ids": [1, 12, 13, 14], "labels": [1, -100, 13, 14]}
{"input_ids": [1, 2, 3, 4, 5, 6]}
{"input_ids": [1, 7, 7, 7, 7, 7, 7, 39]}
{"input_ids": [1, 30, 31]}
J
FULL="--full --model vectors/full/untied_pad_llama3 --data $T/full.jsonl --lr 1e-2 --epochs 4 --batch 2 --grad-accum 2 --warmup 1 --schedule cosine --weight-decay 0.1 --seed 3 --save-every 2"

# 1. LoRA (dropout 0.1; micro-batches of 3: shards 3 / 1+2 / 1+1+1) and
# full-parameter (micro-batches of 2: rank 0 of 3 holds none)
$REF train $LORA --out "$T/lora1" > /dev/null 2>&1 || bad "one-process LoRA run failed"
$REF train $FULL --out "$T/full1" > /dev/null 2>&1 || bad "one-process full run failed"
for n in 1 2 3; do
    $MPIRUN -np $n $LLAMAREF_BIN train $LORA --out "$T/lora_np$n" > "$T/lora_np$n.log" 2>&1 ||
        bad "mpirun -np $n LoRA failed: $(tail -n 3 $T/lora_np$n.log)"
    same_tree "LoRA -np $n" "$T/lora1" "$T/lora_np$n"
    $MPIRUN -np $n $LLAMAREF_BIN train $FULL --out "$T/full_np$n" > "$T/full_np$n.log" 2>&1 ||
        bad "mpirun -np $n full failed: $(tail -n 3 $T/full_np$n.log)"
    same_tree "full -np $n" "$T/full1" "$T/full_np$n"
done

# 2. --resume: 3 steps on 3 ranks, then the rest on 2 ranks from checkpoint-3
$MPIRUN -np 3 $LLAMAREF_BIN train $LORA --out "$T/lora_part" --max-steps 3 > /dev/null 2>&1 ||
    bad "partial -np 3 run failed"
$MPIRUN -np 2 $LLAMAREF_BIN train $LORA --out "$T/lora_part" --resume "$T/lora_part/checkpoint-3" \
    > "$T/resume.log" 2>&1 || bad "resume on -np 2 failed: $(tail -n 3 $T/resume.log)"
same_tree "LoRA 3 ranks, resumed on 2" "$T/lora1" "$T/lora_part"

# --seed -1: rank 0 draws, every rank uses its draw (the run equals one
# process given that seed)
RND=$(echo "$LORA" | sed 's/--seed 5/--seed -1/')
$MPIRUN -np 3 $LLAMAREF_BIN train $RND --out "$T/lora_rnd" > "$T/rnd.log" 2>&1 || bad "--seed -1 on 3 ranks failed"
drawn=$(sed -n 's/.*--seed -1: drew seed \([0-9]*\).*/\1/p' "$T/rnd.log")
n=$(echo "$drawn" | grep -c .)
[ "$n" = 1 ] && ok || bad "--seed -1: $n draws printed: $drawn"
$REF train $(echo "$LORA" | sed "s/--seed 5/--seed $drawn/") --out "$T/lora_drawn" > /dev/null 2>&1 ||
    bad "one-process run with the drawn seed failed"
same "--seed -1 on 3 ranks" "$T/lora_drawn/adapter_model.safetensors" "$T/lora_rnd/adapter_model.safetensors"

# 3. kill one rank mid-run: the job ends non-zero (no hang); every
# checkpoint left is complete and resumes to the one-process bits
LONG="--full --model vectors/full/untied_pad_llama3 --data $T/full.jsonl --lr 1e-3 --epochs 100000 --batch 2 --seed 3 --save-every 1"
$MPIRUN -np 2 sh -c 'echo $$ > "$0/pid.$OMPI_COMM_WORLD_RANK"; exec "$@"' "$T" \
    $LLAMAREF_BIN train $LONG --out "$T/killed" > "$T/killed.log" 2>&1 &
job=$!
i=0
while [ ! -d "$T/killed/checkpoint-3" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
if [ -s "$T/pid.1" ]; then kill -9 "$(cat "$T/pid.1")"; ok; else bad "rank 1 did not start"; fi
i=0
while kill -0 $job 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $job 2>/dev/null; then bad "the job hangs after a rank was killed"; kill $job; fi
wait $job; rc=$?
[ "$rc" != 0 ] && ok || bad "the job exited 0 after a rank was killed"
last=$(ls -d "$T"/killed/checkpoint-* 2>/dev/null | grep -v partial | sed 's/.*checkpoint-//' | sort -n | tail -n 1)
if [ -n "$last" ]; then ok; else bad "no checkpoint left"; last=0; fi
$MPIRUN -np 3 $LLAMAREF_BIN train $LONG --out "$T/killed" --resume "$T/killed" --max-steps 2 \
    > "$T/killed_resume.log" 2>&1 || bad "resume after the kill failed: $(tail -n 3 $T/killed_resume.log)"
$REF train $LONG --out "$T/unkilled" --max-steps $((last + 2)) > /dev/null 2>&1 || bad "one-process long run failed"
for f in model.safetensors optimizer.safetensors; do
    same "killed at $last, resumed: $f" "$T/unkilled/$f" "$T/killed/$f"
done

# 4. probe: the facts sharded over the ranks (7 facts on 2 and 3 ranks,
# greedy and 2 samples per prompt), every output file byte-identical,
# the prefix-cache statistics included
P="--model data/world --facts data/world/qa.jsonl --shots data/world/shots.jsonl --template plain --prompts 3 --max-new-tokens 8 --limit 7 --samples 2"
$REF probe $P --out "$T/probe1/p.jsonl" > /dev/null 2>&1 || bad "one-process probe failed"
for n in 2 3; do
    $MPIRUN -np $n $LLAMAREF_BIN probe $P --out "$T/probe_np$n/p.jsonl" > "$T/probe_np$n.log" 2>&1 ||
        bad "mpirun -np $n probe failed: $(tail -n 3 $T/probe_np$n.log)"
    same_tree "probe -np $n" "$T/probe1" "$T/probe_np$n"
done

# 5. eval mmlu and truthfulqa: the questions sharded, reports and --items
# byte-identical (TruthfulQA when $LLAMAREF_DATA has it)
E1="eval mmlu --model data/world --data data/world/benchmark --format continuation --limit 11 --num-shots 2"
E2="eval truthfulqa --model data/world --data $LLAMAREF_DATA/truthfulqa/mc_task.json --limit 7"
tasks="1 2"
[ -f "$LLAMAREF_DATA/truthfulqa/mc_task.json" ] || { tasks=1; skip=$((skip + 2)); }
for e in $tasks; do
    eval "args=\$E$e"
    $REF $args --out "$T/eval1_$e/r.json" --items "$T/eval1_$e/items.jsonl" > /dev/null 2>&1 ||
        bad "one-process eval $e failed"
    for n in 2 3; do
        $MPIRUN -np $n $LLAMAREF_BIN $args --out "$T/eval_np${n}_$e/r.json" \
            --items "$T/eval_np${n}_$e/items.jsonl" > "$T/eval_np${n}_$e.log" 2>&1 ||
            bad "mpirun -np $n eval $e failed: $(tail -n 3 $T/eval_np${n}_$e.log)"
        same_tree "eval $e -np $n" "$T/eval1_$e" "$T/eval_np${n}_$e"
    done
done
# ppl: overlapping windows (64, stride 48) sharded, the per-window lines
# of --verbose included
E3="eval ppl --model data/world --data data/world/valid.txt --window 64 --stride 48 --verbose"
$REF $E3 --out "$T/ppl1/p.json" > "$T/ppl1.out" 2> "$T/ppl1.err" || bad "one-process ppl failed"
for n in 2 3; do
    $MPIRUN -np $n $LLAMAREF_BIN $E3 --out "$T/ppl_np$n/p.json" > "$T/ppl_np$n.out" 2> "$T/ppl_np$n.err" ||
        bad "mpirun -np $n ppl failed: $(tail -n 3 $T/ppl_np$n.err)"
    same_tree "ppl -np $n" "$T/ppl1" "$T/ppl_np$n"
    same "ppl -np $n stdout" "$T/ppl1.out" "$T/ppl_np$n.out"
    grep '^\[' "$T/ppl1.err" > "$T/ppl1.win"; grep '^\[' "$T/ppl_np$n.err" > "$T/ppl_np$n.win"
    same "ppl -np $n windows" "$T/ppl1.win" "$T/ppl_np$n.win"
done
# --requests (no model): the questions sharded (mmlu: within each of 3
# subjects, 7 questions each), the lines gathered in question order
R1="eval mmlu --data $LLAMAREF_DATA/mmlu --subjects anatomy,astronomy,virology --limit 7 --num-shots 2"
R2="eval truthfulqa --data $LLAMAREF_DATA/truthfulqa/mc_task.json --limit 8"
R3="eval mmlu --data data/world/benchmark --format continuation --num-shots 2"
reqs=3
[ -f "$LLAMAREF_DATA/mmlu/test/virology_test.csv" ] && reqs="1 $reqs" || skip=$((skip + 3))
[ -f "$LLAMAREF_DATA/truthfulqa/mc_task.json" ] && reqs="$reqs 2" || skip=$((skip + 3))
for e in $reqs; do
    eval "args=\$R$e"
    $REF $args --requests "$T/req1_$e.jsonl" > /dev/null 2>&1 || bad "one-process requests $e failed"
    [ -s "$T/req1_$e.jsonl" ] && ok || bad "requests $e: empty"
    for n in 2 3; do
        $MPIRUN -np $n $LLAMAREF_BIN $args --requests "$T/req_np${n}_$e.jsonl" > "$T/req_np${n}_$e.log" 2>&1 ||
            bad "mpirun -np $n requests $e failed: $(tail -n 3 $T/req_np${n}_$e.log)"
        same "requests $e -np $n" "$T/req1_$e.jsonl" "$T/req_np${n}_$e.jsonl"
    done
done

# 6. detox: the inputs sharded (stories260K, 5 German inputs x 2
# candidates, with references), when the assets and data are there
S=$LLAMAREF_ASSETS/stories260K
X="detox --model $S/stories260K.bin --tokenizer $S/tok512.bin --shots $LLAMAREF_DATA/synthdetoxm/few_shot_pairs.json --lang de --inputs $LLAMAREF_DATA/multiparadetox/de.tsv --limit 5 --candidates 2 --num-shots 1 --max-new-tokens 12"
if [ -f "$S/stories260K.bin" ] && [ -f "$LLAMAREF_DATA/multiparadetox/de.tsv" ]; then
    $REF $X --out "$T/detox1/d.jsonl" > "$T/detox1.out" 2>/dev/null || bad "one-process detox failed"
    for n in 2 3; do
        $MPIRUN -np $n $LLAMAREF_BIN $X --out "$T/detox_np$n/d.jsonl" > "$T/detox_np$n.out" 2> "$T/detox_np$n.err" ||
            bad "mpirun -np $n detox failed: $(tail -n 3 $T/detox_np$n.err)"
        same_tree "detox -np $n" "$T/detox1" "$T/detox_np$n"
        same "detox -np $n stdout" "$T/detox1.out" "$T/detox_np$n.out"
    done
else
    skip=$((skip + 4))
fi

# 7. experiment knowledge on the world model: every rank walks the grid
# (2 x 2 points and one skipped for lack of facts; training data-parallel,
# probes, benchmark and perplexity sharded) and every file is byte-identical
# to one process's but for the wall-clock times, masked.  The runs share
# one --out path (the optimizer state records the training data's path)
# and are moved aside after each.
X="experiment knowledge --model data/world --limit 12 --unknown 1,2,20 --extra 0,1 --kind known --seeds 3 --prompts 2 --max-new-tokens 8 --epochs 2 --bench-limit 5 --bench-shots 1 --ppl-tokens 300"
untime() {
    find "$1" -name '*.json' -o -name report.md | while read -r f; do
        sed -e 's/"seconds": [-0-9.e+]*/"seconds": T/g' -e 's/Total time [0-9]* s/Total time T s/' \
            -e 's/^\(| runs\/[^|]*| ok | [0-9]* | \)[0-9]* |$/\1T |/' "$f" > "$f.untimed" && mv "$f.untimed" "$f"
    done
}
$REF $X --out "$T/exp" > "$T/exp1.out" 2> "$T/exp1.err" || bad "one-process experiment failed: $(tail -n 3 $T/exp1.err)"
has "experiment: a grid point skipped" "$(cat "$T/exp1.out")" "experiment: 6 runs (2 skipped)"
mv "$T/exp" "$T/exp1"; untime "$T/exp1"
for n in 2 3; do
    $MPIRUN -np $n $LLAMAREF_BIN $X --out "$T/exp" > "$T/exp_np$n.out" 2> "$T/exp_np$n.err" ||
        bad "mpirun -np $n experiment failed: $(tail -n 3 $T/exp_np$n.err)"
    mv "$T/exp" "$T/exp_np$n"; untime "$T/exp_np$n"
    same_tree "experiment -np $n" "$T/exp1" "$T/exp_np$n"
    same "experiment -np $n stdout" "$T/exp1.out" "$T/exp_np$n.out"
    c=$(grep -c "experiment: step 1/" "$T/exp_np$n.err")
    [ "$c" = 1 ] && ok || bad "experiment -np $n: $c ranks report progress"
done

# 8. an error ends the whole job with its message; a command that does not
# run data-parallel refuses
printf '{"input_ids": [1, 99999]}\n' > "$T/oov.jsonl"
err=$($MPIRUN -np 2 $LLAMAREF_BIN train --model vectors/lora/all7_gqa --data "$T/oov.jsonl" --out "$T/x" 2>&1); rc=$?
[ "$rc" != 0 ] && ok || bad "a failing job exited 0"
has "error message" "$err" "oov.jsonl:1: input_ids/labels entry 1 is not a token id"
printf '{"question": "a?", "answers": ["x"]}\n{"question": "b?"}\n' > "$T/badfacts.jsonl"
err=$($MPIRUN -np 2 $LLAMAREF_BIN experiment knowledge --model data/world --facts "$T/badfacts.jsonl" --out "$T/badexp" 2>&1); rc=$?
[ "$rc" != 0 ] && ok || bad "a failing experiment exited 0"
has "experiment error message" "$err" "badfacts.jsonl:2"
err=$($MPIRUN -np 2 $LLAMAREF_BIN info vectors/lora/all7_gqa 2>&1); rc=$?
[ "$rc" != 0 ] && ok || bad "info ran on 2 ranks"
has "not data-parallel" "$err" "does not run data-parallel"

finish mpi.test.sh
