# lib.sh - what every tests/cli/*.test.sh shares; sourced (not run) by each,
# from the repository root, with
#     . "$(dirname "$0")/../lib.sh"
# It provides:
#  - the defaults of the environment the scripts read (each may be set by
#    the caller; the Makefile sets LLAMAREF_BIN, with a qemu prefix when
#    RUN is set, and LLAMAREF_TMP; .ci/run sets LLAMAREF_ASSETS and
#    LLAMAREF_DATA):
#      LLAMAREF_BIN     the llamaref command, used unquoted  (./llamaref)
#      LLAMAREF_TMP     scratch directory                     (build/tmp)
#      LLAMAREF_ASSETS  models and tokenizers                 (../shared/assets)
#      LLAMAREF_DATA    data sets                             (../shared/data)
#  - the counters pass, fail and skip (a script adds to skip itself);
#  - the checks, each counting one pass or one failure (a failure prints
#    "FAIL: ..." on stderr):
#      ok                       a check passed
#      bad MESSAGE...           a check failed
#      expect_eq NAME GOT WANT  GOT = WANT as strings
#      has NAME HAYSTACK NEEDLE NEEDLE is a substring of HAYSTACK
#      same NAME FILE1 FILE2    the files are byte-identical (cmp -s)
#      exists FILE              FILE exists and is not empty
#  - finish NAME: prints the summary line tests/run.sh parses,
#    "NAME: N passed, N failed, N skipped", and returns non-zero when a
#    check failed.  A script ends with `finish NAME` so that its exit status
#    is finish's; an early end is `finish NAME; exit`.
: "${LLAMAREF_BIN:=./llamaref}"
: "${LLAMAREF_TMP:=build/tmp}"
: "${LLAMAREF_ASSETS:=../shared/assets}"
: "${LLAMAREF_DATA:=../shared/data}"
# asset REL: the path of an external file, $LLAMAREF_ASSETS/REL, else the
# repository's data/REL (`make llama3-tokenizer` writes
# data/llama3/tokenizer.model there); the first when neither exists.
# README.md, "Getting the assets", says where each file is published.
asset() { if [ ! -e "$LLAMAREF_ASSETS/$1" ] && [ -e "data/$1" ]; then echo "data/$1"; else echo "$LLAMAREF_ASSETS/$1"; fi; }
pass=0; fail=0; skip=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }
expect_eq() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi; }
has() { case "$2" in *"$3"*) ok ;; *) bad "$1: '$3' not in: $2" ;; esac; }
same() { if cmp -s "$2" "$3"; then ok; else bad "$1: $2 and $3 differ"; fi; }
exists() { if [ -s "$1" ]; then ok; else bad "missing $1"; fi; }
finish() {
    echo "$1: $pass passed, $fail failed, $skip skipped"
    [ "$fail" -eq 0 ]
}
