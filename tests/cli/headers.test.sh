#!/bin/sh
# headers.test.sh - the public headers as a library user sees them
# (issue 20): include/llamaref.h includes every header of include/llamaref/
# and its folders (core, formats, tokenizer, model, train, eval, papers/*)
# (so a header added on any branch is caught when merged), every header
# carries extern "C" guards and compiles on its own, every function
# declaration has a comment (its contract), and a file including
# only the umbrella compiles as C99 with the build's compiler and as C++
# with g++ (skipped when g++ is missing).  The build's configuration comes
# from the Makefile (LLAMAREF_CC, LLAMAREF_CFLAGS).
set -u
. "$(dirname "$0")/../lib.sh"
T="$LLAMAREF_TMP/headers_test"
rm -rf "$T"; mkdir -p "$T"
CC=${LLAMAREF_CC:-cc}
CFLAGS=${LLAMAREF_CFLAGS:--std=c99 -Wall -Wextra -Wpedantic -Iinclude}
U=include/llamaref.h

# 1. the umbrella lists every header, and every header it lists exists
for h in $(find include/llamaref -name "*.h" | sort); do
    n=${h#include/}
    if grep -q "^#include \"$n\"" "$U"; then ok; else bad "$U does not include $n"; fi
    if grep -q '^#ifdef __cplusplus' "$h" && grep -q '^extern "C" {' "$h"; then ok
    else bad "$h has no extern \"C\" guard"; fi
done
for n in $(sed -n 's/^#include "\(llamaref\/[A-Za-z0-9_/]*\.h\)"$/\1/p' "$U"); do
    if [ -f "include/$n" ]; then ok; else bad "$U includes missing $n"; fi
done

# 1b. every public function is documented at its declaration (issue 20: its
# contract, shapes, ownership, errors): a comment right above it, or above
# the block of declarations it belongs to (no blank line between), or on
# its first line.  Prints FILE:LINE: NAME for each one without.
undocumented=$(awk '
FNR == 1 { incom = 0; depth = 0; doc = 0; instmt = 0 }
{
    s = $0; sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s)
    if (incom) { if (index(s, "*/")) { incom = 0; doc = 1 } ; next }
    if (s == "") { if (!instmt) doc = 0; next }
    if (substr(s, 1, 2) == "/*") { if (index(s, "*/")) doc = 1; else incom = 1; next }
    if (substr(s, 1, 1) == "#" || s == "extern \"C\" {" || s == "}") next
    if (depth > 0) {
        depth += gsub(/\{/, "{", s) - gsub(/\}/, "}", s)
        if (depth == 0) doc = 0
        next
    }
    if (!instmt) {
        instmt = 1; start = FNR; text = ""
        documented = doc || index(s, "/*")
    }
    text = text " " s
    opens = gsub(/\{/, "{", s) - gsub(/\}/, "}", s)
    if (opens > 0) { depth = opens; instmt = 0; next }
    if (s ~ /;$/ || s ~ /;[ \t]*\/\*.*\*\/$/) {
        instmt = 0
        if (text ~ /\(/ && text !~ /^ typedef/ && !documented) {
            name = text; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
            print FILENAME ":" start ": " name
        }
    }
}
' $(find include/llamaref -name '*.h' | sort))
if [ -z "$undocumented" ]; then ok
else bad "public functions without a comment at their declaration:
$undocumented"; fi

# 2. the umbrella alone, C99 with the build's compiler and flags
printf '#include <llamaref.h>\nint main(void) { return lr_version_number() == LR_VERSION_NUMBER ? 0 : 1; }\n' > "$T/umbrella.c"
if out=$($CC $CFLAGS -c "$T/umbrella.c" -o "$T/umbrella.o" 2>&1) && [ -z "$out" ]; then ok
else bad "umbrella as C99 ($CC): $out"; fi

# 3. each header alone (STYLE.md: headers compile on their own)
for h in $(find include/llamaref -name "*.h" | sort); do
    printf '#include "%s"\nint lr_header_test_dummy;\n' "${h#include/}" > "$T/one.c"
    if out=$($CC $CFLAGS -c "$T/one.c" -o "$T/one.o" 2>&1) && [ -z "$out" ]; then ok
    else bad "$h alone: $out"; fi
done

# 4. the umbrella as C++ (g++; the float ABI of this build)
if command -v g++ >/dev/null 2>&1; then
    d=""; [ "${LLAMAREF_DOUBLE:-0}" = 1 ] && d=-DLR_DOUBLE
    cp "$T/umbrella.c" "$T/umbrella.cpp"
    for std in c++98 c++11 c++17; do
        if out=$(g++ -std=$std -Wall -Wextra -Wpedantic -Iinclude $d -c "$T/umbrella.cpp" -o "$T/umbrella_cpp.o" 2>&1) && [ -z "$out" ]; then ok
        else bad "umbrella as $std (g++): $out"; fi
    done
else
    echo "skipped: g++ not installed (umbrella as C++)"; skip=$((skip + 1))
fi
finish headers
