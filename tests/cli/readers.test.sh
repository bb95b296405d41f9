#!/bin/sh
# readers.test.sh - hostile input files through the CLI (issue 19): each
# must end in a clean error (exit 1, the file and line named), never a
# signal.  The library-level cases are in tests/formats/test_readers.c.
# $LLAMAREF_BIN is used unquoted (it may carry a qemu prefix).
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/readers_test"
mkdir -p "$T"

# 1. the 35-byte fact file whose second line is a lone "{" (once SIGSEGV)
printf '{"question":"q","answers":["a"]}\n{\n' > "$T/facts.jsonl"
expect_eq "facts file size" "$(wc -c < "$T/facts.jsonl" | tr -d ' ')" "35"
msg=$($LLAMAREF_BIN mixture --facts "$T/facts.jsonl" --unknown 1 --out "$T/o.jsonl" 2>&1)
rc=$?
expect_eq "mixture exit status" "$rc" "1"
has "mixture names file and line" "$msg" "$T/facts.jsonl:2"
[ -e "$T/o.jsonl" ] && bad "mixture wrote $T/o.jsonl on an error" || ok
msg=$($LLAMAREF_BIN knowledge-report --before "$T/facts.jsonl" --after "$T/facts.jsonl" --out "$T/r.json" 2>&1)
rc=$?
expect_eq "knowledge-report exit status" "$rc" "1"
has "knowledge-report names file and line" "$msg" "$T/facts.jsonl:2"

# 2. train --init with a configuration larger than the machine: refused
# before anything is allocated (the stated exception to the input bound)
printf '{"hidden_size": 65536, "intermediate_size": 1048576, "num_hidden_layers": 4096, "num_attention_heads": 64, "vocab_size": 1000000}' > "$T/huge.json"
printf '{"input_ids": [1, 2, 3]}\n' > "$T/ids.jsonl"
msg=$($LLAMAREF_BIN train --full --init "$T/huge.json" --tokenizer "$T/no-tokenizer.model" --data "$T/ids.jsonl" --out "$T/run" 2>&1)
rc=$?
expect_eq "train --init huge exit status" "$rc" "1"
has "train --init huge refused by size" "$msg" "more than this machine"

finish readers.test.sh
