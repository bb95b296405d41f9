#!/usr/bin/env python3
"""check_llamacpp.py - llama.cpp's logits against llamaref's on a GGUF file.

    python check_llamacpp.py LLAMAREF_BIN MODEL.gguf "IDS" NODE_DIR

Runs `llamaref dump` (the reference; use a DOUBLE=1 build for float64
truth) and llamacpp_logits.mjs (node-llama-cpp in NODE_DIR) on the same ids
and prints max |d| / max |reference| over all positions' logits, and the
same for log-softmax.  Used for the figures in docs/gguf.md.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file


def main():
    binary, model, ids, node_dir = sys.argv[1:5]
    tmp = tempfile.mkdtemp()
    try:
        st = os.path.join(tmp, "ref.safetensors")
        subprocess.run([binary, "dump", "--model", model, "--ids", ids, "--out", st],
                       check=True, stdout=subprocess.DEVNULL)
        ref = load_file(st)["logits"].astype(np.float64)
        ref = ref.reshape(-1, ref.shape[-1])
        js = os.path.join(tmp, "llamacpp.json")
        here = os.path.dirname(os.path.abspath(__file__))
        shutil.copy(os.path.join(here, "llamacpp_logits.mjs"), node_dir)
        subprocess.run(["node", "llamacpp_logits.mjs", os.path.abspath(model), ids, js],
                       check=True, cwd=node_dir)
        lc = np.array(json.load(open(js))["logits"], dtype=np.float64)
        assert lc.shape == ref.shape, (lc.shape, ref.shape)
        rel = np.abs(lc - ref).max() / np.abs(ref).max()

        def lsm(x):
            m = x.max(-1, keepdims=True)
            return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))

        rel_lsm = np.abs(lsm(lc) - lsm(ref)).max() / np.abs(lsm(ref)).max()
        same_argmax = float((lc.argmax(-1) == ref.argmax(-1)).mean())
        print(json.dumps({"model": model, "positions": int(ref.shape[0]),
                          "vocab": int(ref.shape[1]),
                          "max_abs_diff": float(np.abs(lc - ref).max()),
                          "max_abs_ref": float(np.abs(ref).max()),
                          "rel_logits": float(rel), "rel_log_softmax": float(rel_lsm),
                          "argmax_agreement": same_argmax}))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
