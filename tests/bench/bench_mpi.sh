#!/bin/sh
# bench_mpi.sh - data-parallel training, 1 rank against 2 ranks side by
# side in one run (issue 18; docs/performance.md "Data-parallel training"):
#   sh tests/bench/bench_mpi.sh MPI_BIN [ROUNDS]
# MPI_BIN is an MPI build (make MPI=1 B=build-mpi BIN=build-mpi/llamaref).
# A LoRA run on the world model (data/world, qa.jsonl, 40 steps of batch 8,
# all seven targets, r 4, dropout 0.1), each rank with one OpenMP thread,
# alternately with -np 1 and -np 2, ROUNDS times (default 3); prints the
# wall seconds of every run, the medians and their ratio, and checks that
# both wrote the same adapter (cmp).
set -u
BIN=${1:?usage: bench_mpi.sh MPI_BIN [ROUNDS]}
ROUNDS=${2:-3}
T=${LLAMAREF_TMP:-build/tmp}/bench_mpi
rm -rf "$T"; mkdir -p "$T"
export OMP_NUM_THREADS=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN="mpirun --oversubscribe --bind-to none"
[ "$(id -u)" = 0 ] && MPIRUN="$MPIRUN --allow-run-as-root"
ARGS="-m data/world --data data/world/qa.jsonl --targets all --r 4 --alpha 8 --dropout 0.1 --batch 8 --max-steps 40 --seed 7"
now() { date +%s.%N; }
i=1
while [ $i -le "$ROUNDS" ]; do
    for n in 1 2; do
        t0=$(now)
        $MPIRUN -np $n "$BIN" train $ARGS --out "$T/np$n" > "$T/np$n.log" 2>&1 ||
            { echo "bench_mpi: -np $n failed:"; tail -n 5 "$T/np$n.log"; exit 1; }
        t1=$(now)
        dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
        echo "$n $dt" >> "$T/times"
        echo "round $i: -np $n $dt s"
    done
    cmp -s "$T/np1/adapter_model.safetensors" "$T/np2/adapter_model.safetensors" ||
        { echo "bench_mpi: -np 1 and -np 2 wrote different adapters"; exit 1; }
    i=$((i + 1))
done
med() { awk -v n="$1" '$1 == n { print $2 }' "$T/times" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
m1=$(med 1); m2=$(med 2)
echo "median wall: 1 rank $m1 s, 2 ranks $m2 s, speed-up $(awk -v a="$m1" -v b="$m2" 'BEGIN { printf "%.2f", a / b }') (adapters identical)"
