#!/bin/sh
# run.sh - runs every test program given as arguments (build/tests/test_*)
# and every tests/cli/*.test.sh script, then prints one closing line
# "N passed, N failed[, N skipped]" with the sums of their per-suite lines.
# $RUN (e.g. "qemu-s390x -L /usr/s390x-linux-gnu") prefixes each C test.
# Exit status is non-zero when any test failed or any suite crashed.
# One run at a time per scratch directory ($LLAMAREF_TMP, i.e. per build
# directory B): the tests write fixed names there, so two runs sharing it
# overwrite each other's files and fail in ways that look like bugs (seen
# with two aarch64 runs in one B, issue 22).  The run holds the directory
# $LLAMAREF_TMP.lock (mkdir is atomic) with its pid inside; a second run
# refuses to start, naming the first; a lock whose process is gone is
# taken over.
set -u
passed=0; failed=0; skipped=0; crashed=0
: "${LLAMAREF_TMP:=build/tmp}"
export LLAMAREF_TMP
mkdir -p "$LLAMAREF_TMP"
lock="$LLAMAREF_TMP.lock"
if ! mkdir "$lock" 2>/dev/null; then
    holder=$(cat "$lock/pid" 2>/dev/null)
    # just created by a run that has not written its pid yet
    [ -n "$holder" ] || { sleep 1; holder=$(cat "$lock/pid" 2>/dev/null); }
    if [ -n "$holder" ] && kill -0 "$holder" 2>/dev/null; then
        echo "tests/run.sh: $LLAMAREF_TMP is in use by another test run (pid $holder);" \
             "run one at a time per build directory, or give this one its own B=" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "tests/run.sh: taking over the stale lock $lock (pid ${holder:-unknown} is gone)" >&2
    rm -rf "$lock"
    if ! mkdir "$lock" 2>/dev/null; then
        echo "tests/run.sh: another test run took $lock meanwhile; run one at a time" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
fi
echo $$ > "$lock/pid"
trap 'rm -rf "$lock"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for t in "$@"; do
    case "$t" in
        *.sh) out=$(sh "$t" 2>&1); rc=$? ;;
        *) out=$(${RUN:-} "$t" 2>&1); rc=$? ;;
    esac
    line=$(printf '%s\n' "$out" | grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -n 1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out" | tail -n 30
        echo "CRASH $t (exit $rc, no summary line)"
        crashed=$((crashed + 1))
        continue
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    s=$(echo "$line" | sed -E 's/.* ([0-9]+) skipped$/\1/')
    if [ "$f" != 0 ] || [ "$rc" != 0 ]; then
        printf '%s\n' "$out" | grep -v -E '^[A-Za-z0-9_.-]+: [0-9]+ passed' | tail -n 40
        if [ "$f" = 0 ]; then crashed=$((crashed + 1)); echo "CRASH $t (exit $rc)"; fi
    elif [ "$s" != 0 ]; then
        printf '%s\n' "$out" | grep 'skipped:' | head -n 5
    fi
    echo "$line"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
failed=$((failed + crashed))
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
