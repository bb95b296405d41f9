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


def main():
    binary, model, texts, node_dir = sys.argv[1:5]
    tmp = tempfile.mkdtemp()
    try:
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
