#!/bin/sh
# bpe_train.test.sh - `llamaref bpe-train` end to end: the file it writes is
# byte-identical to vectors/bpe/*.model (from vectors/gen/bpe_train_ref.py,
# an independent Python trainer), `tokenize`/`detokenize` load it and round
# trip text, special tokens get ids after the learned ones, and bad input
# gives clear errors.  $LLAMAREF_BIN is used unquoted (it may carry a qemu
# prefix).
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/bpe_train_test"
mkdir -p "$T"

# 1. the same vocabulary as the Python reference, for both configurations
$LLAMAREF_BIN bpe-train --corpus vectors/bpe/corpus.txt --vocab-size 700 --out "$T/v700.model" --quiet
expect_eq "exit status" "$?" "0"
if cmp -s "$T/v700.model" vectors/bpe/corpus_v700.model; then ok; else bad "v700 differs from vectors/bpe/corpus_v700.model"; fi
$LLAMAREF_BIN bpe-train --corpus vectors/bpe/corpus.txt --vocab-size 500 --max-token-bytes 4 --out "$T/v500.model" 2> "$T/log"
if cmp -s "$T/v500.model" vectors/bpe/corpus_v500_max4.model; then ok; else bad "v500 differs from vectors/bpe/corpus_v500_max4.model"; fi
case "$(cat "$T/log")" in *"244 merges -> 500 tokens"*) ok ;; *) bad "summary: $(cat "$T/log")" ;; esac

# 2. the tokenizer loads it: round trip, special-token ids 700.. and 700+9
printf 'Where was Ilsa Morrow born? Ünïcödé 😀 1234567\n\tunseen zyxw\n' > "$T/text.txt"
ids=$($LLAMAREF_BIN tokenize --tokenizer "$T/v700.model" < "$T/text.txt")
echo "$ids" | $LLAMAREF_BIN detokenize --tokenizer "$T/v700.model" > "$T/back.txt"
if cmp -s "$T/text.txt" "$T/back.txt"; then ok; else bad "round trip: $ids"; fi
got=$(printf '<|begin_of_text|>x<|eot_id|>' | $LLAMAREF_BIN tokenize --tokenizer "$T/v700.model" --special)
expect_eq "special ids" "$got" "700 120 709"

# 3. errors
msg=$($LLAMAREF_BIN bpe-train --corpus "$T/missing.txt" --vocab-size 300 --out "$T/x.model" 2>&1); rc=$?
expect_eq "missing corpus exit" "$rc" "1"
case "$msg" in *"missing.txt"*) ok ;; *) bad "missing corpus message: $msg" ;; esac
$LLAMAREF_BIN bpe-train --corpus vectors/bpe/corpus.txt --vocab-size 100 --out "$T/x.model" > /dev/null 2>&1
expect_eq "vocab-size below 256 exit" "$?" "2"
$LLAMAREF_BIN bpe-train --corpus vectors/bpe/corpus.txt --out "$T/x.model" > /dev/null 2>&1
expect_eq "missing --vocab-size exit" "$?" "2"
if [ -e "$T/x.model" ]; then bad "a failed run left $T/x.model"; else ok; fi

finish bpe_train.test.sh
