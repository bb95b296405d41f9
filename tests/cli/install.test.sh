#!/bin/sh
# install.test.sh - llamaref as an installed library (issue 20), for the
# build configuration `make test` runs (the Makefile passes it: LLAMAREF_CC,
# LLAMAREF_MAKE with the command line's variables, LLAMAREF_SHARED, ...):
#  1. make install PREFIX=$tmp/shared: headers (every one, and the
#     umbrella), libNAME.a, libNAME.so.MAJOR.MINOR.PATCH with soname
#     libNAME.so.MAJOR exporting lr_ symbols only, the CLI, NAME.pc with
#     the version of version.h; NAME is llamaref or, for DOUBLE=1,
#     llamaref-double (another ABI: never the same soname or .pc);
#  2. make install SHARED=0 PREFIX=$tmp/static: the static library only;
#  3. DESTDIR staging and make uninstall (nothing left behind);
#  4. from a directory outside the source tree, with pkg-config only:
#     examples/logits.c against the static and the shared library (same
#     output, the next token the CLI's greedy decoder picks),
#     examples/attention_check.cpp (g++; must also fail with --bug) and
#     examples/ops_ctypes.py (python3, shared library).  In a cross build
#     (RUN set) only the static C example runs, under $RUN; the C++ and
#     ctypes examples run in the native configurations (skipped here);
#  5. tests/model/test_ops.c and tests/formats/test_quant.c (the ops against the golden
#     vectors) compiled against the installed headers alone and linked with
#     the installed static and (natively) shared library, and a probe that
#     the library has this build's options (DOUBLE, SIMD, OMP, version).
set -u
. "$(dirname "$0")/../lib.sh"
SRC=$(pwd)
mkdir -p "$LLAMAREF_TMP"
T=$(cd "$LLAMAREF_TMP" && pwd)/install_test
rm -rf "$T"; mkdir -p "$T"
# the examples are built in a directory outside the source tree (removed at
# the end; the install prefixes stay in $T for inspection)
W=$(mktemp -d "${TMPDIR:-/tmp}/llamaref-install-test.XXXXXX") || exit 1
case "$W" in "$SRC"/*) echo "FAIL: $W is inside the source tree" >&2; exit 1 ;; esac
trap 'rm -rf "$W"' EXIT
MAKE=${LLAMAREF_MAKE:-make}
CC=${LLAMAREF_CC:-cc}
NAME=${LLAMAREF_LIBNAME:-llamaref}
SHARED=${LLAMAREF_SHARED:-1}
RUN=${RUN:-}
BINNAME=llamaref; [ "$NAME" = llamaref-double ] && BINNAME=llamaref-double
ver() { sed -n "s/^#define LR_VERSION_$1 \([0-9]*\).*/\1/p" include/llamaref/core/version.h; }
MAJOR=$(ver MAJOR); VERSION=$MAJOR.$(ver MINOR).$(ver PATCH)
if command -v pkg-config >/dev/null 2>&1; then :; else
    echo "skipped: pkg-config is not installed"; skip=$((skip + 1))
    finish install.test.sh; exit
fi

# ---- 1. the full install ----
P=$T/shared
if $MAKE -s install PREFIX="$P" > "$T/install.log" 2>&1; then ok
else bad "make install PREFIX=$P failed: $(tail -n 5 "$T/install.log")"; fi
exists "$P/include/llamaref.h"
n_src=$(cd include && find llamaref -name "*.h" | sort); n_inst=$(cd "$P/include" 2>/dev/null && find llamaref -name "*.h" | sort)
expect_eq "installed headers" "$n_inst" "$n_src"
exists "$P/lib/lib$NAME.a"
exists "$P/bin/$BINNAME"
exists "$P/lib/pkgconfig/$NAME.pc"
expect_eq "pkg-config version" "$(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --modversion $NAME 2>&1)" "$VERSION"
out=$($RUN "$P/bin/$BINNAME" help 2>&1)
has "installed CLI runs" "$out" "tokenize"
if [ "$NAME" = llamaref-double ]; then
    has "double Cflags" "$(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --cflags $NAME)" "-DLR_DOUBLE"
    if [ -e "$P/lib/libllamaref.a" ] || [ -e "$P/lib/pkgconfig/llamaref.pc" ]; then
        bad "a DOUBLE=1 install wrote the float build's names"; else ok; fi
fi
if [ "$SHARED" = 1 ]; then
    so=$P/lib/lib$NAME.so.$VERSION
    exists "$so"
    expect_eq "soname link" "$(readlink "$P/lib/lib$NAME.so.$MAJOR")" "lib$NAME.so.$VERSION"
    expect_eq "dev link" "$(readlink "$P/lib/lib$NAME.so")" "lib$NAME.so.$MAJOR"
    has "soname" "$(readelf -d "$so" 2>&1 | grep SONAME)" "[lib$NAME.so.$MAJOR]"
    syms=$(nm -D --defined-only "$so" | awk 'NF == 3 { print $3 }')
    n_all=$(printf '%s\n' "$syms" | grep -c .)
    others=$(printf '%s\n' "$syms" | grep -v '^lr_' | head -n 5)
    if [ -z "$others" ] && [ "$n_all" -gt 100 ]; then ok
    else bad "libNAME.so exports $n_all symbols, not only lr_: $others"; fi
    # the API of the headers is there (a function of every op header)
    for f in lr_version lr_matmul_plain lr_rmsnorm_forward_plain lr_rope_inv_freq_plain \
             lr_attention_backward lr_mlp_backward lr_causal_lm_loss lr_lora_linear_backward \
             lr_adamw_step lr_forward lr_model_load; do
        if printf '%s\n' "$syms" | grep -qx "$f"; then ok; else bad "$f not exported"; fi
    done
else
    if ls "$P/lib/"*.so* >/dev/null 2>&1; then bad "SHARED=0 installed a .so"; else ok; fi
fi

# ---- 2. a static-only install ----
S=$T/static
if $MAKE -s install SHARED=0 PREFIX="$S" > "$T/install_static.log" 2>&1; then ok
else bad "make install SHARED=0 failed: $(tail -n 5 "$T/install_static.log")"; fi
exists "$S/lib/lib$NAME.a"
if ls "$S/lib/"*.so* >/dev/null 2>&1; then bad "SHARED=0 installed a .so"; else ok; fi

# ---- 3. DESTDIR staging, then uninstall ----
D=$T/stage
if $MAKE -s install DESTDIR="$D" PREFIX=/opt/lr > "$T/stage.log" 2>&1; then ok
else bad "make install DESTDIR failed: $(tail -n 5 "$T/stage.log")"; fi
exists "$D/opt/lr/lib/lib$NAME.a"
has "pc prefix is PREFIX, not DESTDIR" "$(cat "$D/opt/lr/lib/pkgconfig/$NAME.pc" 2>&1)" "prefix=/opt/lr"
$MAKE -s uninstall DESTDIR="$D" PREFIX=/opt/lr > "$T/uninstall.log" 2>&1 || bad "make uninstall failed"
left=$(find "$D" -type f -o -type l | head -n 5)
expect_eq "files left after uninstall" "$left" ""

# ---- 4. the examples, built outside the tree with pkg-config ----
cd "$W" || exit 1
CWARN="-std=c99 -Wall -Wextra -Wpedantic -Werror"
case "$CC" in *tcc*) CWARN="-Wall" ;; esac
LINK_STATIC=""
[ "${LLAMAREF_STATIC:-0}" = 1 ] && LINK_STATIC=-static
MODEL=$SRC/vectors/forward/gqa_tied
IDS="1 5 9 23 7"
want=$(cd "$SRC" && $LLAMAREF_BIN generate --model "$MODEL" --prompt-ids "$IDS" -n 1 --ids 2>/dev/null)
build_c() { # build_c KIND PKG_CONFIG_PATH PKGFLAGS...
    kind=$1; pcp=$2; shift 2
    PKG_CONFIG_PATH=$pcp $CC $CWARN -o "logits_$kind" "$SRC/examples/logits.c" \
        $(PKG_CONFIG_PATH=$pcp pkg-config --cflags "$@" $NAME) \
        $(PKG_CONFIG_PATH=$pcp pkg-config --libs "$@" $NAME) $LINK_STATIC > "build_$kind.log" 2>&1
}
if build_c static "$S/lib/pkgconfig" --static; then ok
else bad "examples/logits.c (static) did not build: $(head -n 5 build_static.log)"; fi
out_static=$($RUN ./logits_static "$MODEL" $IDS 2>&1)
has "logits (static)" "$out_static" "next token (greedy): $want"
has "logits (static) version" "$out_static" "llamaref $VERSION"
err=$($RUN ./logits_static "$MODEL" 1 999999 2>&1); rc=$?
expect_eq "logits: bad id exit" "$rc" 1
has "logits: bad id message" "$err" "999999"

# ---- 5. the ops' golden-vector tests through the installed library alone ----
# tests/model/test_ops.c (every op of docs/library.md's table, forward and
# backward, against vectors/) and tests/formats/test_quant.c (dequantisation against
# gguf-py) include llamaref.h or llamaref/*.h and the test helpers
# tests/harness.h and vectors.h, which include public headers only.  Here
# they are compiled with the installed headers (no -I into the source tree)
# and linked with the installed library (the static one here, in every
# configuration and under $RUN in the cross builds; the shared one below,
# which exports lr_ symbols only); each must pass as in the tree.  abi_probe
# checks that the library was built with this configuration's options:
# lr_float_size() (DOUBLE), lr_matmul_is_fast() (SIMD) and the version.
simd=$(printf '%s\n' "${LLAMAREF_CFLAGS:-}" | sed -n 's/.*-DLR_SIMD=\([01]\).*/\1/p'); simd=${simd:-1}
fsize=4; [ "${LLAMAREF_DOUBLE:-0}" = 1 ] && fsize=8
cat > abi_probe.c <<'PROBE'
#include <stdio.h>
#include <string.h>
#include <llamaref.h>
int main(void)
{
    char v[32];
    sprintf(v, "%d.%d.%d", LR_VERSION_MAJOR, LR_VERSION_MINOR, LR_VERSION_PATCH);
    printf("version %s %s\nfloat_size %d %d\nfast %d\n", lr_version(),
           strcmp(v, lr_version()) == 0 && lr_version_number() == LR_VERSION_NUMBER
               ? "matches" : "MISMATCH",
           lr_float_size(), (int)sizeof(lr_float), lr_matmul_is_fast());
    return 0;
}
PROBE
want_probe=$(printf 'version %s matches\nfloat_size %s %s\nfast %s' "$VERSION" "$fsize" "$fsize" "$simd")
public_api() { # public_api KIND PKG_CONFIG_PATH PKGFLAGS...: build and run the three
    kind=$1; pcp=$2; shift 2
    for t in abi_probe test_ops test_quant; do
        case $t in abi_probe) src=abi_probe.c ;; test_ops) src=$SRC/tests/model/$t.c ;;
        test_quant) src=$SRC/tests/formats/$t.c ;; esac
        if PKG_CONFIG_PATH=$pcp $CC $CWARN -I"$SRC/tests" -o "${t}_$kind" "$src" \
            $(PKG_CONFIG_PATH=$pcp pkg-config --cflags "$@" $NAME) \
            $(PKG_CONFIG_PATH=$pcp pkg-config --libs "$@" $NAME) $LINK_STATIC > "build_${t}_$kind.log" 2>&1; then ok
        else bad "$src against the installed $kind library did not build: $(head -n 5 "build_${t}_$kind.log")"; fi
    done
    expect_eq "abi_probe ($kind)" "$(LD_LIBRARY_PATH=$P/lib $RUN ./abi_probe_$kind 2>&1)" "$want_probe"
    for t in test_ops test_quant; do
        out=$(cd "$SRC" && LD_LIBRARY_PATH=$P/lib $RUN "$W/${t}_$kind" 2>&1); rc=$?
        line=$(printf '%s\n' "$out" | tail -n 1)
        if [ "$rc" = 0 ] && printf '%s\n' "$line" | grep -Eq '^[a-z_]+: [1-9][0-9]* passed, 0 failed, 0 skipped$'; then ok
        else bad "tests/$t.c against the installed $kind library (exit $rc): $(printf '%s\n' "$out" | tail -n 8)"; fi
    done
}
public_api static "$S/lib/pkgconfig" --static

if [ -n "$RUN" ]; then
    echo "skipped: cross build ($RUN): the shared, C++ and ctypes examples run natively"
    skip=$((skip + 3))
    finish install.test.sh; exit
fi
if [ "$SHARED" = 1 ]; then
    if build_c shared "$P/lib/pkgconfig"; then ok
    else bad "examples/logits.c (shared) did not build: $(head -n 5 build_shared.log)"; fi
    has "linked to the shared library" "$(readelf -d logits_shared 2>&1 | grep NEEDED)" "lib$NAME.so.$MAJOR"
    out_shared=$(LD_LIBRARY_PATH=$P/lib ./logits_shared "$MODEL" $IDS 2>&1)
    expect_eq "logits: shared = static" "$out_shared" "$out_static"
    public_api shared "$P/lib/pkgconfig"
    has "test_ops linked to the shared library" "$(readelf -d test_ops_shared 2>&1 | grep NEEDED)" "lib$NAME.so.$MAJOR"
    # an OMP=1 library is an OpenMP one (built with the same flags)
    case "${LLAMAREF_CFLAGS:-}" in
    *-DLR_OMP*) has "OMP=1: the shared library uses OpenMP" "$(readelf -d "$so" 2>&1 | grep NEEDED)" "libgomp" ;;
    esac
else
    echo "skipped: no shared library in this configuration (SHARED=0)"; skip=$((skip + 1))
fi

# C++: against the shared library when there is one, else the static one
if command -v g++ >/dev/null 2>&1; then
    if [ "$SHARED" = 1 ]; then pcp=$P/lib/pkgconfig; st=""; else pcp=$S/lib/pkgconfig; st=--static; fi
    if g++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -o attention_check "$SRC/examples/attention_check.cpp" \
        $(PKG_CONFIG_PATH=$pcp pkg-config --cflags $st --libs $NAME) > build_cpp.log 2>&1; then ok
    else bad "examples/attention_check.cpp did not build: $(head -n 5 build_cpp.log)"; fi
    out=$(LD_LIBRARY_PATH=$P/lib ./attention_check 2>&1); rc=$?
    expect_eq "attention_check exit" "$rc" 0
    has "attention_check" "$out" "OK: fast attention matches llamaref"
    out=$(LD_LIBRARY_PATH=$P/lib ./attention_check --bug 2>&1); rc=$?
    expect_eq "attention_check --bug exit" "$rc" 1
    has "attention_check --bug" "$out" "MISMATCH"
else
    echo "skipped: g++ not installed (examples/attention_check.cpp)"; skip=$((skip + 1))
fi

# ctypes: needs the shared library (not with sanitizers: the ASan runtime
# must be loaded before python, which the example does not do)
if [ "$SHARED" != 1 ] || [ "${LLAMAREF_SAN:-0}" = 1 ] || ! command -v python3 >/dev/null 2>&1; then
    echo "skipped: ctypes example (needs the shared library without sanitizers, and python3)"
    skip=$((skip + 1))
else
    out=$(python3 "$SRC/examples/ops_ctypes.py" "$P/lib/lib$NAME.so" 2>&1); rc=$?
    expect_eq "ops_ctypes.py exit" "$rc" 0
    has "ops_ctypes.py" "$out" "OK"
    # and through pkg-config, as the script finds the library itself
    out=$(PKG_CONFIG_PATH=$P/lib/pkgconfig python3 "$SRC/examples/ops_ctypes.py" 2>&1); rc=$?
    expect_eq "ops_ctypes.py via pkg-config" "$rc" 0
fi
finish install.test.sh
