#!/usr/bin/python3
"""bpe_train_ref.py - an independent, deliberately naive byte-level BPE
trainer: the expected output for ref/tokenizer/bpe_train.c (`llamaref bpe-train`).

    /usr/bin/python3 vectors/gen/bpe_train_ref.py            # regenerate
    /usr/bin/python3 vectors/gen/bpe_train_ref.py --check    # compare only

Same definition as include/llamaref/tokenizer/bpe_train.h, implemented the slow and
obvious way (a full recount of every pair at every step, no incremental
bookkeeping):
  - split the text with the Llama 3 regex (Python `regex`, python3-regex),
    count the distinct pieces (UTF-8 bytes);
  - tokens 0..255 are the single bytes;
  - repeat: count adjacent pairs over all pieces (weighted by the piece
    count; overlapping occurrences all count), drop pairs whose bytes would
    exceed max_token_bytes, take the highest count (ties: smallest left id,
    then smallest right id), replace occurrences left to right without
    overlap; the merged bytes get a new id unless already a token;
  - stop at vocab_size tokens or when no pair is left.

Writes, for each configuration in CASES, vectors/bpe/<name>.model (tiktoken:
"base64(bytes) rank") and vectors/bpe/<name>.merges ("left right result
count" per merge) for the corpus vectors/bpe/corpus.txt.
"""
import base64
import collections
import os
import sys

import regex

PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
           r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.join(HERE, "..", "bpe")

# name, vocab_size, max_token_bytes
CASES = [("corpus_v700", 700, 128), ("corpus_v500_max4", 500, 4)]


def train(text, vocab_size, max_token_bytes):
    split = regex.findall(PATTERN, text)
    assert "".join(split) == text  # the pieces cover the text
    pieces = collections.Counter(p.encode("utf-8") for p in split)
    words = [[list(p), c] for p, c in pieces.items()]
    vocab = [bytes([b]) for b in range(256)]
    index = {t: i for i, t in enumerate(vocab)}
    merges = []
    while len(vocab) < vocab_size:
        counts = collections.Counter()
        for syms, c in words:
            for a, b in zip(syms, syms[1:]):
                counts[(a, b)] += c
        best = None
        for (a, b), c in counts.items():
            if len(vocab[a]) + len(vocab[b]) > max_token_bytes:
                continue
            key = (-c, a, b)
            if best is None or key < best:
                best = key
        if best is None:
            break
        count, a, b = -best[0], best[1], best[2]
        merged = vocab[a] + vocab[b]
        if merged in index:
            new = index[merged]
        else:
            new = len(vocab)
            vocab.append(merged)
            index[merged] = new
        merges.append((a, b, new, count))
        for w in words:
            syms, out, i = w[0], [], 0
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            w[0] = out
    return vocab, merges


def tiktoken_text(vocab):
    return "".join("%s %d\n" % (base64.b64encode(t).decode("ascii"), i)
                   for i, t in enumerate(vocab))


def merges_text(merges):
    return "".join("%d %d %d %d\n" % m for m in merges)


def main():
    check = "--check" in sys.argv[1:]
    with open(os.path.join(DIR, "corpus.txt"), "rb") as f:
        text = f.read().decode("utf-8")
    bad = 0
    for name, vocab_size, max_bytes in CASES:
        vocab, merges = train(text, vocab_size, max_bytes)
        outputs = {name + ".model": tiktoken_text(vocab), name + ".merges": merges_text(merges)}
        for fname, data in outputs.items():
            path = os.path.join(DIR, fname)
            if check:
                with open(path) as f:
                    same = f.read() == data
                print("%s: %s" % (fname, "same" if same else "DIFFERENT"))
                bad += not same
            else:
                with open(path, "w") as f:
                    f.write(data)
        print("%s: %d tokens, %d merges (%d into an existing token), longest %d bytes"
              % (name, len(vocab), len(merges), len(merges) - (len(vocab) - 256),
                 max(len(t) for t in vocab)), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
