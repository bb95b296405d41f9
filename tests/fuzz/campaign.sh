#!/bin/sh
# campaign.sh - the fuzzing campaign of docs/formats.md: each target until
# RUNS executions or SECONDS seconds, JOBS targets at a time, under nice, on
# a working copy of its committed corpus, with the memory limits of `make
# fuzz`; prints one table row per target.  Run from the repository root
# after `make fuzz-build`:
#     sh tests/fuzz/campaign.sh [RUNS [SECONDS [JOBS [TARGET...]]]]
# MAX_LEN=N (default 4096) sets libFuzzer's -max_len (bpe_train: 1024, the
# bytes its harness reads).  WORKERS=W (default 1) runs W processes per
# target on the same working corpus (libFuzzer reloads it every second, so
# each sees the others' finds), RUNS/W executions each; CPU=C pins them
# all to CPU C (taskset), so that together they use at most one core.
set -u
RUNS=${1:-1000000}; SECS=${2:-600}; JOBS=${3:-2}; MAX_LEN=${MAX_LEN:-4096}
WORKERS=${WORKERS:-1}; CPU=${CPU:-}
[ $# -gt 3 ] && shift 3 || set --
B=${FUZZ_B:-build/fuzz}
targets=${*:-$(ls tests/fuzz/fuzz_*.c | sed 's|tests/fuzz/fuzz_||; s|\.c$||')}
one() {
    t=$1
    mkdir -p "$B/corpus_$t" "$B/artifacts"
    pin=; [ -n "$CPU" ] && pin="taskset -c $CPU"
    pids=; w=1; while [ "$w" -le "$WORKERS" ]; do
        log="$B/campaign_$t.log"; [ "$WORKERS" -gt 1 ] && log="$B/campaign_$t.$w.log"
        nice -n 10 $pin "$B/fuzz_$t" -runs=$((RUNS / WORKERS)) -max_total_time="$SECS" -max_len="$MAX_LEN" \
            -rss_limit_mb=512 -malloc_limit_mb=256 -print_final_stats=1 -close_fd_mask=3 \
            -artifact_prefix="$B/artifacts/$t-" "$B/corpus_$t" "tests/fuzz/corpus/$t" \
            > "$log" 2>&1 &
        pids="$pids $!"; w=$((w + 1))
    done
    rc=0; for p in $pids; do wait "$p" || rc=$?; done
    ex=0; eps=0; cov=0; ft=0
    for log in "$B/campaign_$t.log" "$B/campaign_$t".*.log; do
        [ -f "$log" ] || continue
        [ "$WORKERS" -gt 1 ] && [ "$log" = "$B/campaign_$t.log" ] && continue
        e=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log")
        s=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log")
        last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
        c=$(echo "$last" | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
        f=$(echo "$last" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')
        ex=$((ex + ${e:-0})); eps=$((eps + ${s:-0}))
        [ "${c:-0}" -gt "$cov" ] && cov=$c; [ "${f:-0}" -gt "$ft" ] && ft=$f
    done
    echo "| $t | $ex | $eps | $cov | $ft | $( [ $rc -eq 0 ] && echo none || echo "exit $rc, see $B/campaign_$t*.log" ) |"
}
if [ "${CAMPAIGN_ONE:-}" ]; then one "$CAMPAIGN_ONE" > "$B/row_$CAMPAIGN_ONE"; exit 0; fi
echo "| target | executions | exec/s | coverage (edges) | features | findings |"
echo "|---|---|---|---|---|---|"
# a pool of JOBS workers over the targets
for t in $targets; do echo "$t"; done |
    xargs -P "$JOBS" -I{} env CAMPAIGN_ONE={} FUZZ_B="$B" MAX_LEN="$MAX_LEN" WORKERS="$WORKERS" CPU="$CPU" \
        sh "$0" "$RUNS" "$SECS" "$JOBS"
for t in $targets; do cat "$B/row_$t"; done
