#!/usr/bin/env python3
"""seeds.py - writes the small seed corpora tests/fuzz/corpus/<target>/ and
the regression inputs tests/fuzz/regress/<target>/ (the inputs of issue 19).
A maintainer tool (run from the repository root: python3 tests/fuzz/seeds.py);
the output is committed.  Standard library only."""
import base64, json, os, struct, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)))
ASSETS = os.environ.get("LLAMAREF_ASSETS", os.path.join(ROOT, "..", "..", "..", "shared", "assets"))
SEP = b"\n====\n"
LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
             r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def put(kind, target, name, data):
    d = os.path.join(ROOT, kind, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def st(tensors, meta=None):
    """safetensors bytes: tensors = [(name, dtype, shape, raw bytes)]"""
    h, off, body = {}, 0, b""
    if meta is not None:
        h["__metadata__"] = meta
    for name, dt, shape, raw in tensors:
        h[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        body += raw
    hb = json.dumps(h, separators=(",", ":")).encode()
    return struct.pack("<Q", len(hb)) + hb + body


def f32(n, start=0.0):
    return b"".join(struct.pack("<f", start + 0.01 * i) for i in range(n))


def gpt2_chars():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = {}, 0
    for b in range(256):
        if b in bs:
            cs[b] = chr(b)
        else:
            cs[b] = chr(256 + n)
            n += 1
    return cs


def gguf(kvs, tensors, align=32):
    """GGUF v3 bytes: kvs = [(key, type, value)] with type one of "u32",
    "i32", "f32", "str", "[str]", "[i32]", "[f32]"; tensors = [(name, dims, float
    values)] stored as F32, each at an offset aligned to align bytes."""
    def s(x):
        x = x.encode() if isinstance(x, str) else x
        return struct.pack("<Q", len(x)) + x
    scalar = {"u32": (4, "<I"), "i32": (5, "<i"), "f32": (6, "<f")}
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, ty, v in kvs:
        out += s(key)
        if ty in scalar:
            out += struct.pack("<I", scalar[ty][0]) + struct.pack(scalar[ty][1], v)
        elif ty == "str":
            out += struct.pack("<I", 8) + s(v)
        elif ty == "[str]":
            out += struct.pack("<IIQ", 9, 8, len(v)) + b"".join(s(x) for x in v)
        elif ty == "[i32]":
            out += struct.pack("<IIQ", 9, 5, len(v)) + b"".join(struct.pack("<i", x) for x in v)
        elif ty == "[f32]":
            out += struct.pack("<IIQ", 9, 6, len(v)) + b"".join(struct.pack("<f", x) for x in v)
        else:
            raise ValueError(ty)
    data, off = b"", []
    for name, dims, vals in tensors:
        data += b"\0" * (-len(data) % align)
        off.append(len(data))
        data += b"".join(struct.pack("<f", x) for x in vals)
    for (name, dims, vals), o in zip(tensors, off):
        out += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", 0, o)
    return out + b"\0" * (-len(out) % align) + data


def tiktoken(tokens):
    return "".join("%s %d\n" % (base64.b64encode(t).decode(), i) for i, t in enumerate(tokens))


def main():
    byte_tokens = [bytes([b]) for b in range(256)]
    # json / config
    put("corpus", "json", "object.json", '{"a": [1, 2.5e-3, -0, true, false, null], "b": {"c": "\\u00e9\\ud83d\\ude00"}}')
    put("corpus", "json", "nested.json", "[[[[{}]]], \"x\\n\\t\", 1e308, -1e-308, 123456789012345678901]")
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
           "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
           "num_key_value_heads": 2, "vocab_size": 512, "rms_norm_eps": 1e-5,
           "rope_theta": 500000.0, "max_position_embeddings": 256, "tie_word_embeddings": True,
           "bos_token_id": 1, "eos_token_id": [2, 3], "torch_dtype": "bfloat16",
           "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                            "high_freq_factor": 4.0, "original_max_position_embeddings": 64}}
    put("corpus", "config", "llama3.json", json.dumps(cfg, indent=1))
    put("corpus", "config", "minimal.json", '{"hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "vocab_size": 4}')
    # safetensors
    put("corpus", "safetensors", "two.safetensors",
        st([("a", "F32", [2, 3], f32(6)), ("b", "BF16", [4], b"\x80\x3f" * 4), ("c", "I64", [1], struct.pack("<q", 7))],
           {"format": "pt"}))
    put("corpus", "safetensors", "f16.safetensors", st([("x", "F16", [2, 2], b"\x00\x3c" * 4), ("y", "F64", [1], struct.pack("<d", 1.5))]))
    # sharded index: index, shard 1, shard 2
    idx = {"metadata": {"total_size": 40}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                                                           "b": "model-00002-of-00002.safetensors"}}
    put("corpus", "st_index", "two_shards", json.dumps(idx).encode() + SEP + st([("a", "F32", [2], f32(2))]) + SEP + st([("b", "F32", [1, 2], f32(2))]))
    # tokenizers
    put("corpus", "tokenizer", "text.txt", "Hello world! <|begin_of_text|>  \u00e9t\u00e9 123456 \U0001F600\n\n\tx's don't")
    put("corpus", "tokenizer", "code.txt", "def f(x):\n    return x ** 2  # \u4e2d\u6587\r\n")
    merged = byte_tokens + [b"he", b"ll", b"hell", b"o ", b" w"]
    put("corpus", "tiktoken", "bytes_merges.model", tiktoken(merged))
    put("corpus", "tiktoken", "short.model", tiktoken(byte_tokens[:4]))
    cs = gpt2_chars()
    vocab = {"".join(cs[c] for c in t): i for i, t in enumerate(byte_tokens + [b"he", b"ll"])}
    tj = {"model": {"type": "BPE", "vocab": vocab, "merges": ["h e", "l l"], "ignore_merges": False},
          "normalizer": None,
          "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": LLAMA3_RE}},
                                                                  {"type": "ByteLevel"}]},
          "added_tokens": [{"id": 258, "content": "<|begin_of_text|>"}, {"id": 300, "content": "<|eot_id|>"}]}
    put("corpus", "tokenizer_json", "bytes.json", json.dumps(tj, ensure_ascii=False))
    small = dict(tj)
    small["model"] = {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}
    put("corpus", "tokenizer_json", "small.json", json.dumps(small))
    # llama2.c tokenizer.bin: <unk>, <s>, </s>, the 256 byte tokens, a few
    # pieces (the loader needs the first 259); and the real stories260K
    # tok512.bin cut after its first 300 tokens (both under 4 KB)
    def sp_bin(pieces, max_len=8):
        out = struct.pack("<i", max_len)
        for i, t in enumerate(pieces):
            out += struct.pack("<fi", -float(i), len(t)) + t
        return out
    pieces = [b"<unk>", b"<s>", b"</s>"] + [b"<0x%02X>" % b for b in range(256)] + \
        [b"\xe2\x96\x81", b"a", b"b", b"\xe2\x96\x81a", b"ab", b"\xe2\x96\x81ab", b"\xc3\xa9"]
    put("corpus", "sentencepiece", "bytes.bin", sp_bin(pieces))
    tb = os.path.join(ASSETS, "stories260K", "tok512.bin")
    if os.path.exists(tb):
        with open(tb, "rb") as f:
            d = f.read()
        pos, k = 4, 0
        while k < 300 and pos + 8 <= len(d):
            pos += 8 + struct.unpack("<i", d[pos + 4:pos + 8])[0]
            k += 1
        put("corpus", "sentencepiece", "tok512_head.bin", d[:pos])
    # llama2.c checkpoint: header (dim 8, hidden 16, 1 layer, 2 heads, 1 kv, vocab 4, seq 4) + some floats
    put("corpus", "llama2c", "v0_small.bin", struct.pack("<7i", 8, 16, 1, 2, 1, 4, 4) + f32(64))
    put("corpus", "llama2c", "v0_unshared.bin", struct.pack("<7i", 4, 8, 2, 2, 2, -3, 2) + f32(32, -0.3))
    v1 = struct.pack("<Ii7iB", 0x616b3432, 1, 8, 16, 1, 2, 1, 4, 4, 1)
    put("corpus", "llama2c", "v1_small.bin", v1 + b"\0" * (256 - len(v1)) + f32(64))
    # adapter: config + safetensors (hidden 8, kv 4, 2 layers in the target)
    acfg = {"peft_type": "LORA", "r": 2, "lora_alpha": 4, "lora_dropout": 0.0,
            "target_modules": ["q_proj", "v_proj"], "bias": "none", "use_rslora": False,
            "layers_to_transform": None}
    ts = []
    for l in range(2):
        for t, out in (("self_attn.q_proj", 8), ("self_attn.v_proj", 4)):
            ts.append(("base_model.model.model.layers.%d.%s.lora_A.weight" % (l, t), "F32", [2, 8], f32(16)))
            ts.append(("base_model.model.model.layers.%d.%s.lora_B.weight" % (l, t), "F32", [out, 2], f32(2 * out)))
    put("corpus", "adapter", "qv.adapter", json.dumps(acfg).encode() + SEP + st(ts))
    acfg2 = dict(acfg, target_modules="all-linear", layers_to_transform=[1], r=1)
    put("corpus", "adapter", "empty_st.adapter", json.dumps(acfg2).encode() + SEP + st([]))
    # optimizer state for the harness's adapter (r 2, q_proj, hidden 8, 1 layer: 32 params)
    put("corpus", "optimizer", "lora.safetensors",
        st([("params", "F32", [32], f32(32)), ("exp_avg", "F32", [32], f32(32)), ("exp_avg_sq", "F32", [32], f32(32))],
           {"step": "12", "mode": "lora"}))
    put("corpus", "optimizer", "full.safetensors", st([("exp_avg", "F32", [2], f32(2))], {"step": "x", "mode": "full"}))
    # facts
    put("corpus", "facts", "facts.jsonl", '{"question": "Who wrote X?", "answers": ["A", "B"], "paraphrases": ["X was written by?"], "category": "Unknown"}\n\n{"question": "q", "answers": "a", "category": null}\n')
    put("corpus", "facts", "facts.json", '[{"question": "q1", "answers": ["a"]}, {"question": "q2", "answers": ["b"], "category": "HighlyKnown"}]')
    # experiment.json
    put("corpus", "experiment_json", "world.json", '{"lr": 0.001, "epochs": 3, "r": 8, "alpha": 16, "batch": 2, "dropout": 0.05, "bench_format": "letter"}')
    put("corpus", "experiment_json", "bad.json", '{"r": 1.5, "bench_format": "continuation"}')
    # dataset
    put("corpus", "dataset", "formats.jsonl",
        '{"prompt": "Q: 1+1?", "completion": " 2"}\n{"text": "hello world"}\n'
        '{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
        '{"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}\n')
    put("corpus", "dataset", "ids.jsonl", '{"input_ids": [0, 255, 300]}\n\n{"input_ids": [5, 6], "labels": [5, -100]}')
    # detox-score
    put("corpus", "detox_score", "cands.tsv", "source\toutput\treference\tsta\tsim\nyou idiot\tyou person\tyou friend\t0.9\t0.8\nx\ty\tz\t0.1\t0.2\n")
    put("corpus", "detox_score", "cands.jsonl", '{"source": "a", "output": "b", "references": ["c", "d"], "sta": 0.5, "sim": 0.5}\n{"source": "a", "output": "I cannot help with that", "reference": "c"}\n')
    # chrF: hyp ==== ref
    put("corpus", "chrf", "pair.txt", "the quick brown fox\nI love it \U0001F600!\n\n" + SEP.decode() + "the fast brown fox\nI like it!\nx\n")
    # MMLU CSV
    put("corpus", "mmlu", "dev.csv", 'Find 1+1.,1,2,3,4,B\n"Quoted, ""with"" comma",a,b,c,d,D\n')
    put("corpus", "mmlu", "header.csv", 'question,A,B,C,D,answer\nWhat?,w,x,y,z,A\r\n')
    # TruthfulQA
    put("corpus", "truthfulqa", "mc_task.json", json.dumps([{"question": "Is the sky blue?", "mc1_targets": {"Yes": 1, "No": 0},
                                                          "mc2_targets": {"Yes": 1, "Often": 1, "No": 0}}]))
    # id lists
    put("corpus", "ids", "spaces.txt", "1 2 3 128000")
    put("corpus", "ids", "commas.txt", "-5,0,2147483647,-2147483648")
    # tokenize --jsonl
    put("corpus", "tokenize_jsonl", "lines.jsonl", '{"text": "hello"}\n{"text": "<|eot_id|> x"}\n\n{"text": ""}\n')
    # bpe-train corpus
    put("corpus", "bpe_train", "corpus.txt", "the cat sat on the mat. the cat ate the rat.\n\nthat's 123 cats \u00e9t\u00e9\n")
    # chat template
    put("corpus", "chat_template", "messages.json", json.dumps({"messages": [{"role": "system", "content": "Be brief."},
                                                                          {"role": "user", "content": " hi \n"},
                                                                          {"role": "assistant", "content": "hello"}]}))
    put("corpus", "chat_template", "array.json", '[{"role": "user", "content": "x"}]')
    # detox few-shot pairs
    put("corpus", "detox_shots", "pairs.json", json.dumps({"en": {"toxic": ["a", "b"], "neutral": ["c", "d"]}, "de": {"toxic": ["x"], "neutral": []}}))

    # bpe-train corpora that reach the trainer's growth and refusal paths
    # within the harness's 1024 bytes (see fuzz_bpe_train.c): a 1 KB word
    # of random letters (over 512 distinct pairs: the pair table doubles),
    # 513 distinct pieces of one or two bytes (the piece table doubles),
    # 129 equal letters and a newline (an even length: max_token_bytes 128;
    # a 128-byte token is made, then the 129-byte merge is refused)
    import random
    r = random.Random(5)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    put("corpus", "bpe_train", "distinct_pairs.txt", "".join(r.choice(letters) for _ in range(1024)))
    two = [p + l for p in "!#$%&()*+,-./:;<=>?@[]^_`{|}~" for l in letters]
    r.shuffle(two)
    one = list("0123456789") + ["\n", "\t", "\x0b"]
    put("corpus", "bpe_train", "distinct_pieces.txt",
        "".join(p + (one[i] if i < len(one) else "") for i, p in enumerate(two[:500])))
    put("corpus", "bpe_train", "long_run.txt", "a" * 129 + "\n")
    # GGUF: a one-layer llama with a gpt2 (smollm) tokenizer, and the first
    # 1200 bytes of vectors/gguf/world_tokenizer.gguf (cut in its token list)
    n_vocab, dim, ff, kv_dim = 8, 8, 16, 4
    shapes = [("token_embd.weight", [dim, n_vocab]), ("output_norm.weight", [dim]),
              ("blk.0.attn_norm.weight", [dim]), ("blk.0.ffn_norm.weight", [dim]),
              ("blk.0.attn_q.weight", [dim, dim]), ("blk.0.attn_k.weight", [dim, kv_dim]),
              ("blk.0.attn_v.weight", [dim, kv_dim]), ("blk.0.attn_output.weight", [dim, dim]),
              ("blk.0.ffn_gate.weight", [dim, ff]), ("blk.0.ffn_up.weight", [dim, ff]),
              ("blk.0.ffn_down.weight", [ff, dim])]
    tensors, k = [], 0
    for name, dims in shapes:
        n = 1
        for d in dims:
            n *= d
        # multiples of 1/32 in [-1.5, 1.5]: exact in float32 on every host
        tensors.append((name, dims, [((k + i) * 37 % 97 - 48) / 32.0 for i in range(n)]))
        k += n
    def tiny_llama(tokens):
        return gguf([
            ("general.architecture", "str", "llama"), ("llama.block_count", "u32", 1),
            ("llama.context_length", "u32", 16), ("llama.embedding_length", "u32", dim),
            ("llama.feed_forward_length", "u32", ff), ("llama.attention.head_count", "u32", 2),
            ("llama.attention.head_count_kv", "u32", 1), ("llama.rope.freq_base", "f32", 10000.0),
            ("llama.attention.layer_norm_rms_epsilon", "f32", 1e-5), ("llama.vocab_size", "u32", n_vocab),
            ("tokenizer.ggml.model", "str", "gpt2"), ("tokenizer.ggml.pre", "str", "smollm"),
            ("tokenizer.ggml.tokens", "[str]", tokens),
            ("tokenizer.ggml.token_type", "[i32]", [1, 1, 1, 1, 1, 1, 3, 3]),
            ("tokenizer.ggml.merges", "[str]", ["a b"]),
            ("tokenizer.ggml.bos_token_id", "u32", 6), ("tokenizer.ggml.eos_token_id", "u32", 7)], tensors)
    # the model loads; the tokenizer is refused (" " is not in GPT-2's byte
    # alphabet) ...
    put("corpus", "gguf", "tiny_llama.gguf", tiny_llama(["a", "b", "c", " ", "1", "ab", "<s>", "</s>"]))
    # ... and with the space as GPT-2's "\u0120" both load
    put("corpus", "gguf", "tiny_llama_tok.gguf", tiny_llama(["a", "b", "c", "\u0120", "1", "ab", "<s>", "</s>"]))
    # a SentencePiece ("llama") tokenizer: <unk>, BOS, EOS, the 256 byte
    # tokens and two pieces (loaded, encoded, written back as metadata)
    spm = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + ["\u2581a", "\u2581ab"]
    put("corpus", "gguf", "tiny_spm.gguf", gguf([
        ("general.architecture", "str", "llama"), ("tokenizer.ggml.model", "str", "llama"),
        ("tokenizer.ggml.tokens", "[str]", spm),
        ("tokenizer.ggml.scores", "[f32]", [0.0] * 259 + [-1.0, -2.0]),
        ("tokenizer.ggml.token_type", "[i32]", [2, 3, 3] + [6] * 256 + [1, 1])], []))
    wt = os.path.join(ROOT, "..", "..", "vectors", "gguf", "world_tokenizer.gguf")
    if os.path.exists(wt):
        with open(wt, "rb") as f:
            put("corpus", "gguf", "truncated_header.gguf", f.read(1200))

    # ---- regression inputs: the findings of issue 19
    put("regress", "facts", "issue19_lone_brace.jsonl", '{"question":"q","answers":["a"]}\n{\n')
    put("regress", "llama2c", "issue19_int_min_vocab.bin", struct.pack("<7i", 0, 0, 0, 0, 0, -2**31, 0))
    t307 = {"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
            "pre_tokenizer": {"type": "Split", "pattern": {"Regex": LLAMA3_RE}},
            "added_tokens": [{"id": 2147483647, "content": "x"}]}
    b = json.dumps(t307).encode()
    assert len(b) == 307, len(b)
    put("regress", "tokenizer_json", "issue19_huge_added_id.json", b)
    a77 = b'{"peft_type":"LORA","r":1048576,"lora_alpha":1,"target_modules":"all-linear"}'
    assert len(a77) == 77
    put("regress", "adapter", "issue19_huge_rank.adapter", a77 + SEP + st([]))
    for name, step in (("negative_step", "-5"), ("overflowing_step", "99999999999999999999")):
        put("regress", "optimizer", name + ".safetensors",
            st([("params", "F32", [32], f32(32)), ("exp_avg", "F32", [32], f32(32)),
                ("exp_avg_sq", "F32", [32], f32(32))], {"step": step, "mode": "lora"}))
    put("regress", "dataset", "issue19_id_2p31.jsonl", '{"input_ids": [1, 2147483648]}\n')


if __name__ == "__main__":
    main()
