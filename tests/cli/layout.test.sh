#!/bin/sh
# layout.test.sh - the library's folders keep their order (README "Layout",
# issue 13): each folder of ref/ and include/llamaref/ includes headers of
# its own folder and of the folders before it in the Makefile's LIB_DIRS
# (core, formats, tokenizer, model, train, eval, papers/knowledge,
# papers/detox) and never of a later one; no include climbs out of its
# folder with "../"; every library source lies in one of those folders and
# every public header in the folder of its source; the CLI stays a thin
# layer of parse -> call -> print: no command file over 400 lines, and the
# whole of ref/cli under a ceiling that only comes down.
set -u
. "$(dirname "$0")/../lib.sh"
dirs=$(sed -n 's/^LIB_DIRS = //p' Makefile)
[ -n "$dirs" ] && ok || bad "no LIB_DIRS line in the Makefile"
rank() { # rank DIR: its position in LIB_DIRS, or empty
    i=0; for d in $dirs; do i=$((i + 1)); [ "$d" = "$1" ] && { echo $i; return; }; done
}
# 1. no library source outside the folders, none in a folder not listed
for f in ref/*.c ref/*.h; do
    [ -e "$f" ] || continue
    case $f in ref/exports.map) ;; *) bad "$f lies outside the library's folders" ;; esac
done
for f in $(find ref include/llamaref -name '*.[ch]' ! -path 'ref/cli/*' ! -path 'ref/gen/*' | sort); do
    d=${f#ref/}; d=${d#include/llamaref/}; d=${d%/*}
    [ -n "$(rank "$d")" ] && ok || bad "$f: folder $d is not in LIB_DIRS"
done
# 2. includes point down (or sideways), never up, never out with ../
for f in $(find ref include/llamaref -name '*.[ch]' ! -path 'ref/gen/*' | sort); do
    d=${f#ref/}; d=${d#include/llamaref/}; d=${d%/*}
    if [ "$d" = cli ]; then r=99; else r=$(rank "$d"); fi
    [ -n "$r" ] || continue
    n_up=0
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
        case $inc in
        *../*) bad "$f includes $inc (climbs out of its folder)"; n_up=$((n_up + 1)) ;;
        llamaref/*/*.h)
            t=${inc#llamaref/}; t=${t%/*}
            rt=$(rank "$t")
            if [ -z "$rt" ]; then bad "$f includes $inc: no such folder"; n_up=$((n_up + 1))
            elif [ "$rt" -gt "$r" ]; then bad "$f ($d) includes $inc ($t, a later folder)"; n_up=$((n_up + 1)); fi ;;
        esac
    done
    [ "$n_up" -eq 0 ] && ok
done
# 3. each source's public header sits in the same folder
for f in $(find ref -name '*.c' ! -path 'ref/cli/*' ! -path 'ref/gen/*' | sort); do
    d=${f#ref/}; d=${d%/*}; b=$(basename "$f" .c)
    for h in include/llamaref/*/"$b".h include/llamaref/papers/*/"$b".h; do
        [ -e "$h" ] || continue
        case $h in include/llamaref/$d/$b.h) ok ;; *) bad "$f has its header in $h" ;; esac
    done
done
# 4. the CLI is parse -> call -> print (issue 13): no cmd_*.c over 400
# lines; ref/cli in all (.c and .h) under CLI_MAX lines.  Issue 13 asks for
# under 3,000; until the CLI gets there CLI_MAX is a ratchet: lower it
# whenever ref/cli shrinks; raised once, to 3,770, when the merge of
# bench --decode-only/--threads and the sharded experiment added 25 lines.
CLI_MAX=3712
for f in ref/cli/cmd_*.c; do
    n=$(wc -l < "$f")
    [ "$n" -le 400 ] && ok || bad "$f has $n lines (a command file holds at most 400: move library work into the library)"
done
n=$(cat ref/cli/*.c ref/cli/*.h | wc -l)
[ "$n" -lt "$CLI_MAX" ] && ok || bad "ref/cli has $n lines in all (at most $((CLI_MAX - 1)); issue 13 asks for under 3,000)"
finish layout.test.sh
