#!/usr/bin/python3
"""gen_pretokenize_vectors.py - golden pre-tokenizer splits from Python's
`regex` module (Debian python3-regex) running the Llama 3 split regex, the
semantics tiktoken and Hugging Face implement.

    /usr/bin/python3 vectors/gen/gen_pretokenize_vectors.py

Writes vectors/tokenizer/llama3_pretokenize.json: {"cases": [{"text",
"pieces"}]} where pieces are the regex matches in order (they always cover
the text).  The inputs stress what the JS oracle of gen_tokenizer_vectors.mjs
cannot check: U+0085 (White_Space), U+FEFF (not White_Space), U+001C..1F,
the (?i) contraction with U+017F LONG S, plus seeded random strings over
whitespace, letters, numbers and symbols.  Characters are limited to ones
whose class is the same in Unicode 14, 15 and 15.1.
"""
import json
import os
import random

import regex

PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
           r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tokenizer", "llama3_pretokenize.json")


def split(text):
    pieces = regex.findall(PATTERN, text)
    assert "".join(pieces) == text, text
    return pieces


def main():
    fixed = [
        "it's IT'S it'ſ it\u2019s 'ſup '\u017f",
        "a\x85b", "a \x85 b", "\x85\x85x", "x\x85\x85", "a\x85\nb",
        "a\ufeffb", " \ufeff x", "\ufeff\ufeff",
        "a\x1cb\x1d c\x1e\x1f",
        "a  \n  b", "a \t\n\t b", "  \r\n  \r\n  ", " \n",
        "x\u3000\u3000y", "x\u2028\u2029y", "x \u00a0\u00a0", "\u00a0!",
        " !a", "  !a", " ?\n\nb", "!!\r\n", "'\n", "'s\n",
        "123456789", "12a34", "\u00b2\u00b3\u00b9",
        "", " ", "\t", "\n", "a",
        # found by oracle-check-text (seed 932484, string 4011): letters of
        # Unicode 15.1 (CJK Ext I) and 16.0 (Egyptian Hieroglyphs Ext-A, ...)
        "\U0001cefb\U00029914\U000f3272\U0001ed55\U00052268\U0002ee20\ud1ff"
        "\U00019a34\ubd82\U000228d5\U0001a805\u5d2c\U0002dd0c\U00020510"
        "\U000150cb\U0001ae85\u9751\U000122ae\U000143b1\U00020f8c\U00020b64"
        "\U0002c0ca\U0001ed02\uf6bc",
        "a\U000143b1b \U0002ee20 1\U00016d70 \U00010d40\U00010d30",
    ]
    alphabet = [" ", " ", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x85", "\xa0", "\u1680",
                "\u2000", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
                "\ufeff", "\x1c", "\x1f", "\u200b", "\u180e",
                "a", "Z", "s", "S", "t", "r", "e", "v", "m", "l", "L", "d", "\u017f",
                "\u00e9", "\u0416", "\u6f22", "\u0628", "\u0301", "\u093f",
                "0", "9", "\u0663", "\u00bd", "\u2163", "\u2460",
                "'", "'", "\u2019", ".", "!", "-", "<", "|", "\x00", "\x7f", "\U0001f600", "\u200d"]
    rng = random.Random(20240726)
    texts = list(fixed)
    for i in range(600):
        n = 1 + rng.randrange(40 if i < 500 else 200)
        texts.append("".join(rng.choice(alphabet) for _ in range(n)))
    cases = [{"text": t, "pieces": split(t)} for t in texts]
    with open(OUT, "w", encoding="utf-8") as f:
        f.write('{\n "generator": "vectors/gen/gen_pretokenize_vectors.py with Python regex %s",\n'
                ' "pattern": %s,\n "cases": [\n' % (regex.__version__, json.dumps(PATTERN)))
        f.write(",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases))
        f.write("\n ]\n}\n")
    print("llama3_pretokenize.json: %d cases" % len(cases))


if __name__ == "__main__":
    main()
