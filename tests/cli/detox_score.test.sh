#!/bin/sh
# detox_score.test.sh - `llamaref detox-score`: FL/chrF agree with
# `llamaref chrf` on MultiParaDetox, hand-checked best-candidate selection
# with STA/SIM columns (TSV and JSONL), and errors naming file and line.
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/detox_score_test"
mkdir -p "$T"

# 1. one candidate per source = plain evaluation; corpus chrF as sacreBLEU (gen_chrf.py)
if [ -f "$LLAMAREF_DATA/multiparadetox/de.tsv" ]; then
    { printf 'source\toutput\treference\n'
      tail -n +2 "$LLAMAREF_DATA/multiparadetox/de.tsv" | awk -F'\t' '{print $1 "\t" $1 "\t" $2}'; } > "$T/de.tsv"
    out=$($LLAMAREF_BIN detox-score --pairs "$T/de.tsv")
    has "de sources" "$out" "sources 400  candidates 400  refusals 0"
    has "de corpus chrF" "$out" "chrF (corpus) 84.015149"
    has "de mean FL" "$out" "FL (mean sentence chrF/100) 0.821286"
else
    echo "detox_score.test.sh: skipped: multiparadetox/de.tsv missing (README.md: Getting the assets)" >&2
    skip=$((skip + 3))
fi

# 2. selection: score = STA*SIM*FL, refusals never chosen over a non-refusal
#    "A b c." vs ref "A b.": FL = 0.5773...; 0.2*0.9*FL < 0.9*0.8*1 -> line 3
#    "X y": line 4 is a refusal -> line 5 ("X q" vs "X z": chars X,q|X,z;
#    unigram P=R=1/2, bigram 0 -> F = 0.25)
printf 'source\toutput\treference\tsta\tsim\nA b c.\tA b c.\tA b.\t0.2\t0.9\nA b c.\tA b.\tA b.\t0.9\t0.8\nX y\tI cannot help with that\tX z\t1\t1\nX y\tX q\tX z\t0.5\t0.5\nZ\tZ\tZ\t1\t0.5\n' > "$T/c.tsv"
out=$($LLAMAREF_BIN detox-score --pairs "$T/c.tsv" --sta sta --sim sim --out "$T/c.jsonl")
has "selection counts" "$out" "sources 3  candidates 5  refusals 1"
has "selection FL" "$out" "FL (mean sentence chrF/100) 0.750000"
has "selection J" "$out" "J (mean STA*SIM*FL) 0.427500"   # (0.72 + 0.0625 + 0.5) / 3
sel=$(sed -E 's/.*"line": ([0-9]+).*/\1/' "$T/c.jsonl" | tr '\n' ' ')
[ "$sel" = "3 5 6 " ] && ok || bad "selected lines: $sel"
# JSONL with several references (best reference counts)
printf '{"source":"A","output":"A b.","reference":["nope","A b."],"sta":0.5,"sim":1}\n\n{"source":"A","output":"A b c.","reference":"A b.","sta":0.6,"sim":1}\n' > "$T/c2.jsonl"
out=$($LLAMAREF_BIN detox-score --pairs "$T/c2.jsonl" --sta sta --sim sim)
has "jsonl J" "$out" "J (mean STA*SIM*FL) 0.500000"

# ties: equal selection scores -> the earliest row wins.  Source "T": lines
# 2 and 4 both score 1*1*FL(=1: chrF ignores white space); source "R": two
# refusals (both -1) -> line 5; the output column tells which row was taken
printf 'source\toutput\treference\tsta\tsim\nT\tab\tab\t1\t1\nU\tu\tu\t1\t1\nT\ta b\tab\t1\t1\nR\tI cannot help with that\tx\t1\t1\nR\tI cannot help with this\tx\t1\t1\n' > "$T/tie.tsv"
$LLAMAREF_BIN detox-score --pairs "$T/tie.tsv" --sta sta --sim sim --out "$T/tie.jsonl" > /dev/null
sel=$(sed -E 's/.*"line": ([0-9]+).*/\1/' "$T/tie.jsonl" | tr '\n' ' ')
[ "$sel" = "2 3 5 " ] && ok || bad "tie: selected lines $sel, expected 2 3 5 (earliest row on ties)"
has "tie: first output kept" "$(cat "$T/tie.jsonl")" '"output": "ab"'

# 3. malformed input names file and line
printf 'source\toutput\nA\tB\tC\n' > "$T/bad1.tsv"
msg=$($LLAMAREF_BIN detox-score --pairs "$T/bad1.tsv" 2>&1); rc=$?
has "field count" "$rc $msg" "1 "; has "field count msg" "$msg" "bad1.tsv:2: 3 fields, the header has 2"
printf 'output\tsta\nA\t1.5\n' > "$T/bad2.tsv"
msg=$($LLAMAREF_BIN detox-score --pairs "$T/bad2.tsv" --sta sta 2>&1)
has "sta range" "$msg" "bad2.tsv:2: sta '1.5' is not a number in [0, 1]"
msg=$($LLAMAREF_BIN detox-score --pairs "$T/bad2.tsv" --sim sim 2>&1)
has "missing column" "$msg" "bad2.tsv:1: header has no SIM column 'sim'"
printf '{"output":"a"}\n{"output": 3}\n' > "$T/bad3.jsonl"
msg=$($LLAMAREF_BIN detox-score --pairs "$T/bad3.jsonl" 2>&1)
has "jsonl type" "$msg" "bad3.jsonl:2: \"output\" missing or not a string"
printf '{"output":"a"}\n{"output": "b",}\n' > "$T/bad4.jsonl"
msg=$($LLAMAREF_BIN detox-score --pairs "$T/bad4.jsonl" 2>&1)
has "jsonl syntax" "$msg" "bad4.jsonl:2"
printf 'output\treference\nok\tbad \303(\n' > "$T/bad5.tsv"
msg=$($LLAMAREF_BIN detox-score --pairs "$T/bad5.tsv" 2>&1)
has "utf8" "$msg" "bad5.tsv:2: reference 1: ill-formed UTF-8 at byte 4"

finish detox_score.test.sh
