#!/usr/bin/env python3
"""check_gguf_tokenizer.py - llamaref's GGUF tokenizer against llama.cpp's.

    python check_gguf_tokenizer.py LLAMAREF_BIN MODEL.gguf TEXTS.txt NODE_DIR

Tokenizes every line of TEXTS.txt with llama.cpp (node-llama-cpp's
model.tokenize, no special-token parsing, no BOS) and with
`llamaref tokenize --tokenizer MODEL.gguf --jsonl`, and prints how many
lines agree (and the first few that do not).  Figures: docs/gguf.md.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile


def default_corpus(path):
    """The texts of vectors/tokenizer/llama3_cases.json (newlines escaped),
    the lines of vectors/bpe/corpus.txt and the first 201 rows of each
    MultiParaDetox TSV (every column), one per line."""
    import glob
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    out = []
    d = json.load(open(os.path.join(root, "vectors/tokenizer/llama3_cases.json")))
    for c in d["cases"] if isinstance(d, dict) else d:
        t = c.get("text") if isinstance(c, dict) else None
        if t is not None:
            out.append(t.replace("\n", "\\n"))
    for l in open(os.path.join(root, "vectors/bpe/corpus.txt"), encoding="utf-8", errors="replace"):
        out.append(l.rstrip("\n"))
    data = os.environ.get("LLAMAREF_DATA", os.path.join(root, "..", "shared", "data"))
    for f in sorted(glob.glob(os.path.join(data, "multiparadetox", "*.tsv"))):
        for i, l in enumerate(open(f, encoding="utf-8")):
            if i > 200:
                break
            out.extend(l.rstrip("\n").split("\t"))
    open(path, "w").write("\n".join(out))


def main():
    binary, model, texts, node_dir = sys.argv[1:5]
    tmp = tempfile.mkdtemp()
    try:
        if texts == "default":
            texts = os.path.join(tmp, "corpus.txt")
            default_corpus(texts)
        here = os.path.dirname(os.path.abspath(__file__))
        shutil.copy(os.path.join(here, "llamacpp_logits.mjs"), node_dir)
        out = os.path.join(tmp, "lc.json")
        subprocess.run(["node", "llamacpp_logits.mjs", os.path.abspath(model), "0", out,
                        "--tokenize", os.path.abspath(texts)], check=True, cwd=node_dir)
        lc = json.load(open(out))
        jl = "".join(json.dumps({"text": l}) + "\n" for l in lc["lines"])
        r = subprocess.run([binary, "tokenize", "--tokenizer", model, "--jsonl"], input=jl.encode(),
                           check=True, capture_output=True)
        ours = [json.loads(l) for l in r.stdout.decode().splitlines()]
        assert len(ours) == len(lc["ids"]), (len(ours), len(lc["ids"]))
        bad = [(t, a, b) for t, a, b in zip(lc["lines"], lc["ids"], ours) if a != b]
        for t, a, b in bad[:5]:
            print("differs:", repr(t[:80]), a[:20], b[:20])
        print(json.dumps({"model": model, "lines": len(ours), "agree": len(ours) - len(bad),
                          "tokens": sum(len(x) for x in ours)}))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
