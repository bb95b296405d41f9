#!/usr/bin/python3
"""gen_llama2_vectors.py - golden vectors for the llama2.c-format (SentencePiece
BPE) tokenizer from Debian's python3-sentencepiece loading Meta's Llama 2
tokenizer.model (../shared/assets/llama2/tokenizer.model), an independent
implementation.  llamaref reads the same vocabulary from llama2.c's
tokenizer.bin.

    /usr/bin/python3 vectors/gen/gen_llama2_vectors.py

Writes vectors/tokenizer/llama2_cases.json: "encode": [{"text", "ids"}]
(ids without BOS/EOS) and "decode": [{"ids", "text"}] (only ids whose bytes
are valid UTF-8, since SentencePiece replaces invalid bytes by U+FFFD while
llamaref passes them through).  Only ids are stored, no vocabulary.
"""
import csv
import json
import os
import random

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("LLAMAREF_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))
OUT = os.path.join(HERE, "..", "tokenizer", "llama2_cases.json")


def main():
    sp = spm.SentencePieceProcessor(model_file=os.path.join(SHARED, "assets/llama2/tokenizer.model"))
    texts = []
    for lang in ["de", "es", "ru", "en"]:
        with open(os.path.join(SHARED, "data/multiparadetox/%s.tsv" % lang), encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
        for r in rows[:30]:
            texts += [r[0], r[1]]
        texts.append("\n".join(r[1] for r in rows[30:130]))
    with open(os.path.join(SHARED, "data/synthdetoxm/few_shot_pairs.json"), encoding="utf-8") as f:
        pairs = json.load(f)
    for lang in sorted(pairs):
        texts += pairs[lang]["toxic"] + pairs[lang]["neutral"]
    with open(os.path.join(SHARED, "assets/llama2/cases.json"), encoding="utf-8") as f:
        texts += [c["text"] for c in json.load(f)["cases"]]
    texts += [
        "", " ", "  ", "a", " a", "a ", "  leading and trailing  ", "\n", "x\n\ny", "tab\there",
        "Hello world", "I believe the meaning of life is", "It's 12345 o'clock!",
        "a\u2581b \u2581 \u2581\u2581c",  # U+2581 reads as a space
        "<s> </s> <unk> <0x0A> <0xFF>", "\u6211\u559c\u6b22\u5927\u7f8a\u9a7c\u3002",
        "\U0001f999\U0001f600 \U0001f468\u200d\U0001f469\u200d\U0001f467", "e\u0301 \u00e9",
        "\ufb01 \uff21 \u2460", "\u0645\u0631\u062d\u0628\u0627", "\u0928\u092e\u0938\u094d\u0924\u0947",
        "\U0001d504\U0001d51e", "\x00\x01\x7f", "\u00a0nbsp\u3000ideo", "\r\n\r\n",
        "def f(x):\n    return x**2  # square\n", "https://example.com/a?b=c&d=e",
        "supercalifragilisticexpialidocious" * 20, "ab" * 500, " " * 100 + "x",
    ]
    rng = random.Random(7)
    alphabet = list(" \t\nabcdeorstxyzABC0123.,!?'-") + ["\u00e9", "\u00df", "\u0416", "\u044f",
                                                          "\u6f22", "\U0001f600", "\u0301", "\u2581"]
    for i in range(200):
        texts.append("".join(rng.choice(alphabet) for _ in range(1 + rng.randrange(60))))
    enc = [{"text": t, "ids": sp.encode(t)} for t in texts]
    dec = []
    for ids in [[1], [1, 2], [29871], [1, 29871, 13], [0, 306], [13, 306], [1, 13, 306], [306, 29871, 306],
                [1, 1, 306], [2, 306], [1, 29871, 29871, 306]]:
        dec.append({"ids": ids, "text": sp.decode(ids)})
    for c in enc[:60] + enc[-40:]:
        dec.append({"ids": c["ids"], "text": sp.decode(c["ids"])})
        dec.append({"ids": [1] + c["ids"] + [2], "text": sp.decode([1] + c["ids"] + [2])})
    with open(OUT, "w", encoding="utf-8") as f:
        f.write('{\n "generator": "vectors/gen/gen_llama2_vectors.py with python3-sentencepiece %s",\n'
                % spm.__version__)
        f.write(' "encode": [\n' + ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in enc))
        f.write('\n ],\n "decode": [\n' + ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in dec))
        f.write("\n ]\n}\n")
    print("llama2_cases.json: %d encode, %d decode cases" % (len(enc), len(dec)))


if __name__ == "__main__":
    main()
