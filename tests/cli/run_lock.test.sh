#!/bin/sh
# run_lock.test.sh - tests/run.sh runs one test run at a time per scratch
# directory ($LLAMAREF_TMP, one per build directory B): a second run while
# the first holds it refuses to start, naming the first, and runs nothing;
# a lock left by a process that is gone is taken over; the lock is removed
# when the run ends.  (Two aarch64 runs sharing one B overwrote each other's
# files and failed like real bugs, issue 22.)  Uses only sh, no llamaref.
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/run_lock_test"
rm -rf "$T"; mkdir -p "$T"
S="$T/scratch"
# a one-check suite that leaves a mark when it runs, and a slow one
printf 'touch "%s/ran"\necho "one: 1 passed, 0 failed, 0 skipped"\n' "$T" > "$T/one.test.sh"
printf 'sleep 3\necho "slow: 1 passed, 0 failed, 0 skipped"\n' > "$T/slow.test.sh"
runsh() { LLAMAREF_TMP="$S" sh tests/run.sh "$@"; }

# 1. nothing else running: runs, and the lock is gone afterwards
out=$(runsh "$T/one.test.sh" 2>&1); rc=$?
expect_eq "free: exit" "$rc" 0
has "free: summary" "$out" "1 passed, 0 failed"
[ ! -e "$S.lock" ] && ok || bad "free: lock left behind"

# 2. a live holder (this shell): refused, named, nothing run, its lock kept
rm -f "$T/ran"; mkdir "$S.lock"; echo $$ > "$S.lock/pid"
out=$(runsh "$T/one.test.sh" 2>&1); rc=$?
expect_eq "held: exit" "$rc" 1
has "held: names the holder" "$out" "is in use by another test run (pid $$)"
has "held: summary" "$out" "0 passed, 1 failed"
[ ! -e "$T/ran" ] && ok || bad "held: a suite ran while another run held the directory"
expect_eq "held: holder's lock kept" "$(cat "$S.lock/pid" 2>/dev/null)" "$$"

# 3. the holder is gone: taken over, runs, lock removed
sh -c 'exit 0' & dead=$!; wait $dead
echo "$dead" > "$S.lock/pid"
out=$(runsh "$T/one.test.sh" 2>&1); rc=$?
expect_eq "stale: exit" "$rc" 0
has "stale: says so" "$out" "taking over the stale lock"
[ -e "$T/ran" ] && ok || bad "stale: the suite did not run"
[ ! -e "$S.lock" ] && ok || bad "stale: lock left behind"

# 4. two real runs at once: the second refuses, the first is unharmed
runsh "$T/slow.test.sh" > "$T/first.out" 2>&1 & first=$!
n=0; while [ ! -s "$S.lock/pid" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
out=$(runsh "$T/one.test.sh" 2>&1); rc=$?
expect_eq "concurrent: second exit" "$rc" 1
has "concurrent: second refused" "$out" "is in use by another test run"
wait $first; rc=$?
expect_eq "concurrent: first exit" "$rc" 0
has "concurrent: first summary" "$(cat "$T/first.out")" "1 passed, 0 failed"
[ ! -e "$S.lock" ] && ok || bad "concurrent: lock left behind"
finish run_lock.test.sh
