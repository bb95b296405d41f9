#!/bin/sh
# chrf.test.sh - `llamaref chrf` end to end: corpus and sentence scores on
# MultiParaDetox (expected values from vectors/gen/gen_chrf.py, i.e.
# sacreBLEU 2.6.0 itself), the README's Czech example with every digit,
# several references, and the errors for bad input.
# $LLAMAREF_BIN is used unquoted (it may carry a qemu prefix).
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/chrf_test"
mkdir -p "$T"

# 1. corpus and sentence scores over German MultiParaDetox (toxic vs neutral)
if [ -f "$LLAMAREF_DATA/multiparadetox/de.tsv" ]; then
    tail -n +2 "$LLAMAREF_DATA/multiparadetox/de.tsv" | cut -f1 > "$T/h.txt"
    tail -n +2 "$LLAMAREF_DATA/multiparadetox/de.tsv" | cut -f2 > "$T/r.txt"
    got=$($LLAMAREF_BIN chrf --hyp "$T/h.txt" --ref "$T/r.txt" | sed -E 's/^chrF2 = ([0-9.]+) .*/\1/')
    expect_eq "de corpus chrF" "$got" "84.015149"
    got=$($LLAMAREF_BIN chrf --hyp "$T/h.txt" --ref "$T/r.txt" --word-order 2 | sed -E 's/^chrF2\+\+ = ([0-9.]+) .*/\1/')
    expect_eq "de corpus chrF++" "$got" "83.775229"
    got=$($LLAMAREF_BIN chrf --hyp "$T/h.txt" --ref "$T/r.txt" --sentence | head -n 2 | tr '\n' ' ')
    expect_eq "de sentence chrF" "$got" "90.303975 51.044290 "
    n=$($LLAMAREF_BIN chrf --hyp "$T/h.txt" --ref "$T/r.txt" --sentence | wc -l | tr -d ' ')
    expect_eq "de sentence count" "$n" "400"
else
    echo "chrf.test.sh: skipped: $LLAMAREF_DATA/multiparadetox/de.tsv missing (README.md: Getting the assets)" >&2
    skip=$((skip + 4))
fi

# 2. several references (best reference by sentence F) and emoji, no final newline
printf 'the quick brown fox\nI love it \360\237\230\200\360\237\221\215\360\237\217\275!' > "$T/mh.txt"
printf 'a slow red dog\nI really love it \360\237\230\200!\n' > "$T/m1.txt"
printf 'the quick brown fox jumps\nI really love it \360\237\230\200!\n' > "$T/m2.txt"
printf 'quick fox\nI really love it \360\237\230\200!\n' > "$T/m3.txt"
got=$($LLAMAREF_BIN chrf --hyp "$T/mh.txt" --ref "$T/m1.txt" --ref "$T/m2.txt" --ref "$T/m3.txt" --sentence | tr '\n' ' ')
expect_eq "multi-reference sentences" "$got" "76.933743 39.466966 "
got=$($LLAMAREF_BIN chrf --hyp "$T/mh.txt" --ref "$T/m1.txt" --ref "$T/m2.txt" --ref "$T/m3.txt" --word-order 2 --sentence | tr '\n' ' ')
expect_eq "multi-reference chrF++" "$got" "77.996210 40.861701 "

# 3. errors name the file and line
printf 'ok\nbad \303(\n' > "$T/bad.txt"
printf 'a\nb\n' > "$T/two.txt"
msg=$($LLAMAREF_BIN chrf --hyp "$T/bad.txt" --ref "$T/two.txt" 2>&1); rc=$?
expect_eq "ill-formed UTF-8 exit" "$rc" "1"
case "$msg" in *"bad.txt:2: ill-formed UTF-8 at byte 4"*) ok ;; *) bad "utf8 message: $msg" ;; esac
msg=$($LLAMAREF_BIN chrf --hyp "$T/mh.txt" --ref "$T/bad.txt" --ref "$T/two.txt" 2>&1); rc=$?
case "$msg" in *"bad.txt:2: "*) ok ;; *) bad "utf8 in reference: $msg" ;; esac
printf 'a\nb\nc\n' > "$T/three.txt"
msg=$($LLAMAREF_BIN chrf --hyp "$T/three.txt" --ref "$T/two.txt" 2>&1); rc=$?
expect_eq "line count mismatch exit" "$rc" "1"
case "$msg" in *"three.txt has 3 lines but"*"two.txt has 2"*) ok ;; *) bad "mismatch message: $msg" ;; esac
$LLAMAREF_BIN chrf --hyp "$T/two.txt" > /dev/null 2>&1; rc=$?
expect_eq "missing --ref exit" "$rc" "2"
$LLAMAREF_BIN chrf --hyp "$T/two.txt" --ref "$T/two.txt" --word-order x > /dev/null 2>&1; rc=$?
expect_eq "bad --word-order exit" "$rc" "2"
msg=$($LLAMAREF_BIN chrf --hyp "$T/nonexistent.txt" --ref "$T/two.txt" 2>&1); rc=$?
case "$rc:$msg" in 1:*nonexistent.txt*) ok ;; *) bad "missing file: $rc $msg" ;; esac

# 3. --digits 17: the whole double, equal to sacreBLEU 2.6.0's
#    "%.17f" % CHRF().sentence_score(hyp, [ref]).score for the README example
printf 'Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.\n' > "$T/cz_h.txt"
printf 'Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.\n' > "$T/cz_r.txt"
got=$($LLAMAREF_BIN chrf --hyp "$T/cz_h.txt" --ref "$T/cz_r.txt" --sentence --digits 17)
expect_eq "Czech example, 17 digits" "$got" "39.14081690316368878"
$LLAMAREF_BIN chrf --hyp "$T/cz_h.txt" --ref "$T/cz_r.txt" --digits 18 > /dev/null 2>&1; rc=$?
expect_eq "bad --digits exit" "$rc" "2"

finish chrf.test.sh
