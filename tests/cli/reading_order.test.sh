#!/bin/sh
# reading_order.test.sh - the README's reading order names real files, and
# each one opens with a comment that says what it is and, in the same
# comment, what it depends on ("Depends on"), as the README promises.
set -u
. "$(dirname "$0")/../lib.sh"
files=$(sed -n '/^### Reading order/,/^Documentation:/p' README.md |
        grep -o '`ref/[a-z_0-9/]*\.c`' | tr -d '`' | sort -u)
n=$(printf '%s\n' "$files" | grep -c .)
if [ "$n" -ge 12 ]; then ok; else bad "README reading order names $n files, want >= 12"; fi
for f in $files; do
    if [ ! -f "$f" ]; then bad "$f (named in the README's reading order) does not exist"; continue; fi
    case "$(head -c 3 "$f")" in "/* ") ok ;; *) bad "$f does not open with a comment" ;; esac
    # the opening comment: up to the first line that closes it
    head_comment=$(awk '{ print } /\*\// { exit }' "$f")
    has "$f: opening comment names its dependencies" "$head_comment" "Depends on"
done
finish reading_order.test.sh
