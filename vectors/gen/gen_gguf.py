#!/usr/bin/env python3
"""gen_gguf.py - golden vectors for GGML dequantisation, from gguf-py.

The oracle is the real `gguf` package (gguf==0.19.0, gguf-py's quants.py,
NumPy).  For every type llamaref dequantises it decodes 10,000 random
blocks ("units": one block of a block format, 32 elements of F32/F16/BF16)
whose raw bytes come from splitmix64, a generator the C test reproduces,
so only the results are committed:

    <T>.f32hash   I32 [N]   per unit: FNV-1a 64 (low 32 bits) of the
                            float32 output's little-endian bytes (gguf-py's
                            own float32 result; any NaN hashed as 0x7fc00000)
    <T>.f64hash   I32 [N]   the same formulas evaluated in float64 (gguf-py's
                            code run with np.float32 standing for np.float64;
                            exact for every type), NaN as 0x7ff8000000000000
    <T>.first     F32 [8, block]  the first 8 units in full (for messages)

Random bytes make NaN/Inf scales and every bit pattern; blocks quantised by
gguf-py from random floats are checked too, for the types it quantises:

    <T>.qraw      U8  [M, type_size]  gguf-py quantize() of M blocks
    <T>.qf32hash / <T>.qf64hash      their dequantisation hashes
    <T>.quanthash I32 [N]   hash of quantize() bytes of N random float
                            blocks (F16, BF16, Q8_0: llamaref quantises
                            these itself for export-gguf)

Stream definitions (shared with tests/formats/test_quant.c):
  splitmix64(state): state += 0x9E3779B97F4A7C15; z = state;
    z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9; z = (z ^ z >> 27) *
    0x94D049BB133111EB; return z ^ z >> 31
  raw bytes of type T: seed 1000 + T's id, successive outputs as 8
    little-endian bytes each, units back to back.
  random floats: seed 5000; per 32-element block one draw r0 gives the
    exponent e = r0 % 24 - 12, then each element x = ((r >> 40) - 2^23)
    * 2^(e - 23) (exact in float32).

Part 2: GGUF files written by gguf-py's GGUFWriter (the oracle of the file
format), for tests/formats/test_gguf.c:

    vectors/gguf/<case>.gguf   the golden HF models of vectors/forward/<case>
        as llama.cpp's convert_hf_to_gguf.py lays them out: q/k rows
        permuted to Meta's interleaved RoPE layout, rope_freqs for llama3
        scaling, no output.weight when tied; F32 (BF16 for bf16_far)
    vectors/gguf/gqa_tied.be.gguf  the same, written big-endian
    vectors/gguf/world_tokenizer.gguf  tokenizer.ggml.* of data/world's
        tokenizer (tiktoken ranks as "gpt2" tokens + merges, Llama 3.1
        specials, pre "llama-bpe"), no tensors

Run: /work/oracle-env/bin/python vectors/gen/gen_gguf.py
Writes vectors/quant/quant_vectors.safetensors and vectors/gguf/
(deterministic).
"""
import os
import sys

import numpy as np
import gguf
import gguf.quants as gq
from gguf import GGMLQuantizationType as T
from st_write import write_numpy  # deterministic bytes (safetensors' own is not)

N = 10000
M = 1024
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "quant", "quant_vectors.safetensors")

TYPES = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
         "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
QUANTISABLE = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"]
QUANTISERS = ["F16", "BF16", "Q8_0"]

MASK = (1 << 64) - 1


def splitmix(seed, count):
    """count outputs of splitmix64 from state seed, as uint64 numpy."""
    with np.errstate(over="ignore"):
        idx = np.arange(1, count + 1, dtype=np.uint64)
        z = np.uint64(seed) + idx * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def raw_bytes(seed, nbytes):
    words = splitmix(seed, (nbytes + 7) // 8)
    return words.astype("<u8").view(np.uint8)[:nbytes].copy()


def unit_shape(name):
    qt = T[name]
    bs, ts = gguf.GGML_QUANT_SIZES[qt]
    if bs == 1:  # plain float types: units of 32 elements
        return 32, 32 * ts
    return bs, ts


def fnv_rows(arr_bytes):
    """FNV-1a 64 of each row of a uint8 matrix, low 32 bits as int32."""
    h = np.full(arr_bytes.shape[0], 0xCBF29CE484222325, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(arr_bytes.shape[1]):
            h = (h ^ arr_bytes[:, j].astype(np.uint64)) * np.uint64(0x100000001B3)
    return (h & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32)


def hash32(out):
    out = np.ascontiguousarray(out, dtype=np.float32).copy()
    bits = out.view(np.uint32)
    bits[np.isnan(out)] = 0x7FC00000
    return fnv_rows(bits.astype("<u4").view(np.uint8).reshape(out.shape[0], -1))


def hash64(out):
    out = np.ascontiguousarray(out, dtype=np.float64).copy()
    bits = out.view(np.uint64)
    bits[np.isnan(out)] = 0x7FF8000000000000
    return fnv_rows(bits.astype("<u8").view(np.uint8).reshape(out.shape[0], -1))


class _NumpyF64:
    """np, except that np.float32 is np.float64: gguf-py's dequantisers
    evaluated in double precision."""

    def __getattr__(self, k):
        return np.float64 if k == "float32" else getattr(np, k)


def dequant32(name, raw):
    qt = T[name]
    bs, _ = unit_shape(name)
    out = gq.dequantize(raw, qt)
    return np.asarray(out, dtype=np.float32).reshape(raw.shape[0], bs)


def dequant64(name, raw):
    if name in ("F32", "F16", "BF16"):  # a float32 value is exact in double
        return dequant32(name, raw).astype(np.float64)
    cls = gq._type_traits[T[name]]
    saved = gq.np
    gq.np = _NumpyF64()
    try:
        out = cls.dequantize_blocks(raw.copy())
    finally:
        gq.np = saved
    assert out.dtype == np.float64, (name, out.dtype)
    return out.reshape(raw.shape[0], -1)


def random_floats(nblocks):
    r = splitmix(5000, nblocks * 33).reshape(nblocks, 33)
    e = (r[:, 0] % np.uint64(24)).astype(np.int64) - 12
    m = (r[:, 1:] >> np.uint64(40)).astype(np.int64) - (1 << 23)
    x = m.astype(np.float64) * np.exp2((e - 23).astype(np.float64))[:, None]
    x32 = x.astype(np.float32)
    assert np.all(x32.astype(np.float64) == x)
    return x32


def main():
    np.seterr(all="ignore")  # NaN and Inf scales are part of the test
    tensors = {}
    for name in TYPES:
        qt = T[name]
        bs, ts = unit_shape(name)
        raw = raw_bytes(1000 + int(qt), N * ts).reshape(N, ts)
        o32 = dequant32(name, raw)
        o64 = dequant64(name, raw)
        # the float64 evaluation rounds to the float32 one wherever the
        # float32 chain is exact: a sanity check of the patched evaluation
        fin = np.isfinite(o32)
        assert np.all(np.isnan(o32) == np.isnan(o64.astype(np.float32))), name
        rel = np.abs(o64[fin] - o32[fin]) / np.maximum(np.abs(o64[fin]), 1e-30)
        assert rel.max(initial=0) < 1e-6, (name, rel.max())
        tensors[name + ".f32hash"] = hash32(o32)
        tensors[name + ".f64hash"] = hash64(o64)
        tensors[name + ".first"] = o32[:8].copy()
        print(f"{name}: {N} units of {bs} elements, {ts} bytes; "
              f"{int(np.isnan(o32).sum())} NaN, {int(np.isinf(o32).sum())} Inf values")
    x = random_floats(N)
    for name in QUANTISABLE:
        q = gq.quantize(x[:M].reshape(-1), T[name]).reshape(M, -1)
        tensors[name + ".qraw"] = np.ascontiguousarray(q, dtype=np.uint8)
        tensors[name + ".qf32hash"] = hash32(dequant32(name, q))
        tensors[name + ".qf64hash"] = hash64(dequant64(name, q))
    for name in QUANTISERS:
        q = gq.quantize(x, T[name])
        qb = np.ascontiguousarray(q).view(np.uint8).reshape(N, -1)
        tensors[name + ".quanthash"] = fnv_rows(qb)
    tensors["random_floats.first"] = x[:8].copy()
    meta = {"generator": "vectors/gen/gen_gguf.py", "gguf": gguf.__version__
            if hasattr(gguf, "__version__") else "0.19.0",
            "units": str(N), "quantised_units": str(M)}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    write_numpy(OUT, tensors, metadata=meta)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


# ---- part 2: GGUF files ----

GGUF_DIR = os.path.join(HERE, "..", "gguf")
FORWARD = os.path.join(HERE, "..", "forward")


def load_hf(case):
    import json
    from safetensors import safe_open
    d = os.path.join(FORWARD, case)
    cfg = json.load(open(os.path.join(d, "config.json")))
    w = {}
    with safe_open(os.path.join(d, "model.safetensors"), "np") as f:
        for k in f.keys():
            w[k] = f.get_tensor(k)
    return cfg, w


def load_hf_raw_bf16(case):
    """BF16 tensors as uint16 bit patterns (numpy has no bfloat16)."""
    import json
    import struct
    d = os.path.join(FORWARD, case, "model.safetensors")
    data = open(d, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    hdr = json.loads(data[8:8 + n])
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        raw = np.frombuffer(data[8 + n + a:8 + n + b], dtype="<u2").reshape(v["shape"])
        assert v["dtype"] == "BF16", v["dtype"]
        out[k] = raw
    return out


def meta_permute(w, n_head):
    """HF rotate_half rows -> Meta interleaved rows (convert_hf_to_gguf)."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def llama3_rope_freqs(cfg):
    import math
    rs = cfg["rope_scaling"]
    base = cfg["rope_theta"]
    dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    factor = rs["factor"]
    low, high = rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    freqs = 1.0 / (base ** (np.arange(0, dim, 2, dtype=np.float64) / dim))
    out = []
    for f in freqs:
        wl = 2 * math.pi / f
        if wl < old / high:
            out.append(1.0)
        elif wl > old / low:
            out.append(factor)
        else:
            sm = (old / wl - low) / (high - low)
            out.append(1 / ((1 - sm) / factor + sm))
    return np.array(out, dtype=np.float32)


def write_model(case, out, endian=None, bf16=False):
    if bf16:
        import json
        cfg = json.load(open(os.path.join(FORWARD, case, "config.json")))
        w = load_hf_raw_bf16(case)
    else:
        cfg, w = load_hf(case)
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads", nh)
    hd = cfg.get("head_dim") or H // nh
    kw = {} if endian is None else {"endianess": endian}
    wr = gguf.GGUFWriter(out, "llama", **kw)
    wr.add_block_count(cfg["num_hidden_layers"])
    wr.add_context_length(cfg["max_position_embeddings"])
    wr.add_embedding_length(H)
    wr.add_feed_forward_length(cfg["intermediate_size"])
    wr.add_head_count(nh)
    wr.add_head_count_kv(nkv)
    wr.add_key_length(hd)
    wr.add_value_length(hd)
    wr.add_rope_dimension_count(hd)
    wr.add_rope_freq_base(cfg["rope_theta"])
    wr.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    wr.add_vocab_size(cfg["vocab_size"])
    wr.add_file_type(32 if bf16 else 0)

    def put(name, a):
        if bf16:
            wr.add_tensor(name, np.ascontiguousarray(a).view(np.uint8).reshape(*a.shape[:-1], -1),
                          raw_dtype=T.BF16)
        else:
            wr.add_tensor(name, np.ascontiguousarray(a, dtype=np.float32))

    if cfg.get("rope_scaling"):
        wr.add_tensor("rope_freqs.weight", llama3_rope_freqs(cfg))
    put("token_embd.weight", w["model.embed_tokens.weight"])
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        put(f"blk.{l}.attn_norm.weight", w[p + "input_layernorm.weight"])
        put(f"blk.{l}.attn_q.weight", meta_permute(w[p + "self_attn.q_proj.weight"], nh))
        put(f"blk.{l}.attn_k.weight", meta_permute(w[p + "self_attn.k_proj.weight"], nkv))
        put(f"blk.{l}.attn_v.weight", w[p + "self_attn.v_proj.weight"])
        put(f"blk.{l}.attn_output.weight", w[p + "self_attn.o_proj.weight"])
        put(f"blk.{l}.ffn_norm.weight", w[p + "post_attention_layernorm.weight"])
        put(f"blk.{l}.ffn_gate.weight", w[p + "mlp.gate_proj.weight"])
        put(f"blk.{l}.ffn_up.weight", w[p + "mlp.up_proj.weight"])
        put(f"blk.{l}.ffn_down.weight", w[p + "mlp.down_proj.weight"])
    put("output_norm.weight", w["model.norm.weight"])
    if not cfg.get("tie_word_embeddings", False):
        put("output.weight", w["lm_head.weight"])
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()


def gpt2_byte_map():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


LLAMA31 = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
           "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>",
           "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
           "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"]


def write_tokenizer(tiktoken_path, out):
    """A tiktoken file as gpt2 tokens + merges, the way transformers'
    TikTokenConverter derives merges from ranks: every split of a token into
    two tokens, ordered by the merged token's rank."""
    import base64
    ranks = {}
    for line in open(tiktoken_path, "rb"):
        if line.strip():
            t, r = line.split()
            ranks[base64.b64decode(t)] = int(r)
    m = gpt2_byte_map()
    spell = lambda b: "".join(m[x] for x in b)
    by_rank = sorted(ranks, key=ranks.get)
    merges = []
    for tok in by_rank:
        local = []
        for i in range(1, len(tok)):
            l, r = tok[:i], tok[i:]
            if l in ranks and r in ranks:
                local.append((ranks[l], ranks[r], l, r))
        local.sort()
        merges.extend(spell(l) + " " + spell(r) for _, _, l, r in local)
    n = len(by_rank)
    names = [LLAMA31[k] if k < 11 else f"<|reserved_special_token_{k - 8}|>" for k in range(256)]
    tokens = [spell(t) for t in by_rank] + names
    types = [1] * n + [3] * 256
    wr = gguf.GGUFWriter(out, "llama")
    wr.add_tokenizer_model("gpt2")
    wr.add_tokenizer_pre("llama-bpe")
    wr.add_token_list(tokens)
    wr.add_token_types(types)
    wr.add_token_merges(merges)
    wr.add_bos_token_id(n)
    wr.add_eos_token_id(n + 1)
    wr.add_add_bos_token(True)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()
    return len(merges)


def main2():
    os.makedirs(GGUF_DIR, exist_ok=True)
    for case in ["gqa_tied", "llama3_rope", "mqa_headdim"]:
        write_model(case, os.path.join(GGUF_DIR, case + ".gguf"))
    write_model("bf16_far", os.path.join(GGUF_DIR, "bf16_far.gguf"), bf16=True)
    write_model("gqa_tied", os.path.join(GGUF_DIR, "gqa_tied.be.gguf"),
                endian=gguf.GGUFEndian.BIG)
    nm = write_tokenizer(os.path.join(HERE, "..", "..", "data", "world", "tokenizer.model"),
                         os.path.join(GGUF_DIR, "world_tokenizer.gguf"))
    for f in sorted(os.listdir(GGUF_DIR)):
        print(f, os.path.getsize(os.path.join(GGUF_DIR, f)), "bytes")
    print("world tokenizer merges:", nm)


# ---- part 3: a SentencePiece ("llama") tokenizer written by gguf-py ----
#
# Llama 2's tokenizer.model (an asset: $LLAMAREF_ASSETS/llama2, not
# committed) as llama.cpp's convert_hf_to_gguf.py lays it out
# (_create_vocab_sentencepiece: every piece, its score and its type from
# the sentencepiece library; Llama 2's special ids and add_bos/add_eos),
# written by GGUFWriter into a scratch file.  Committed: the file's size and
# FNV-1a 64 (tests/formats/test_gguf.c writes the same bytes from llama2.c's
# tokenizer.bin, the same vocabulary, and checks that they are these), and
# the ids the sentencepiece library gives the tokenizer corpus
# (vectors/tokenizer/llama3_cases.json, the lines of vectors/bpe/corpus.txt
# and llama2/cases.json; no BOS).

SPM_OUT = os.path.join(GGUF_DIR, "llama2_spm.json")


def spm_texts():
    import json
    here = os.path.join(HERE, "..")
    d = json.load(open(os.path.join(here, "tokenizer", "llama3_cases.json"), encoding="utf-8"))
    cases = d["cases"] if isinstance(d, dict) else d
    texts = [c["text"] for c in cases if isinstance(c.get("text"), str)]
    with open(os.path.join(here, "bpe", "corpus.txt"), "rb") as f:
        corpus = f.read().decode("utf-8")
    texts += corpus.split("\n")
    return texts


def write_spm_tokenizer(model_path, out):
    import sentencepiece
    sp = sentencepiece.SentencePieceProcessor(model_file=model_path)
    n = sp.vocab_size()
    tokens, scores, types = [], [], []
    for i in range(n):
        tokens.append(sp.id_to_piece(i).encode("utf-8"))
        scores.append(sp.get_score(i))
        t = gguf.TokenType.NORMAL
        if sp.is_unknown(i):
            t = gguf.TokenType.UNKNOWN
        elif sp.is_control(i):
            t = gguf.TokenType.CONTROL
        elif sp.is_unused(i):
            t = gguf.TokenType.UNUSED
        elif sp.is_byte(i):
            t = gguf.TokenType.BYTE
        types.append(int(t))
    wr = gguf.GGUFWriter(out, "llama")
    wr.add_tokenizer_model("llama")
    wr.add_tokenizer_pre("default")
    wr.add_token_list(tokens)
    wr.add_token_scores(scores)
    wr.add_token_types(types)
    wr.add_bos_token_id(sp.bos_id())
    wr.add_eos_token_id(sp.eos_id())
    wr.add_unk_token_id(sp.unk_id())
    wr.add_add_bos_token(True)
    wr.add_add_eos_token(False)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()
    return sp


def main3():
    import json
    import tempfile
    assets = os.environ.get("LLAMAREF_ASSETS", os.path.join(HERE, "..", "..", "..", "shared",
                                                            "assets"))
    src = os.path.join(assets, "llama2", "tokenizer.model")
    if not os.path.exists(src):
        print("skipped", SPM_OUT, "(no", src + ")")
        return 0
    tmp = tempfile.mkdtemp()
    try:
        path = os.path.join(tmp, "llama2_spm.gguf")
        sp = write_spm_tokenizer(src, path)
        data = open(path, "rb").read()
    finally:
        import shutil
        shutil.rmtree(tmp)
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK
    texts = spm_texts()
    ids = [sp.encode(t) for t in texts]
    doc = {"generator": "vectors/gen/gen_gguf.py (part 3)", "gguf": "0.19.0",
           "source": "llama2/tokenizer.model (LLAMAREF_ASSETS), sentencepiece " +
                     sentencepiece_version(),
           "file_bytes": len(data), "file_fnv1a64": "%016x" % h,
           "texts": "vectors/tokenizer/llama3_cases.json texts, then the lines of "
                    "vectors/bpe/corpus.txt", "n_texts": len(texts),
           "ids": ids}
    with open(SPM_OUT, "w", encoding="utf-8") as f:
        f.write("{\n")
        keys = list(doc)
        for k in keys:
            v = doc[k]
            if k == "ids":
                f.write(' "ids": [\n' + ",\n".join("  " + json.dumps(x) for x in v) + "\n ]\n")
            else:
                f.write(" %s: %s,\n" % (json.dumps(k), json.dumps(v)))
        f.write("}\n")
    print("wrote", SPM_OUT, len(texts), "texts; file", len(data), "bytes, fnv1a64", "%016x" % h)
    return 0


def sentencepiece_version():
    import sentencepiece
    return sentencepiece.__version__


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--gguf-only":
        main2()
        sys.exit(main3())
    if len(sys.argv) > 1 and sys.argv[1] == "--spm-only":
        sys.exit(main3())
    main()
    main2()
    sys.exit(main3())
