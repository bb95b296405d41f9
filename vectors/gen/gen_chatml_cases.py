#!/usr/bin/env python3
"""gen_chatml_cases.py - ChatML renderings by Jinja2 (as transformers'
apply_chat_template renders a GGUF's tokenizer.chat_template) for
tests/formats/test_gguf.c.  The template is read from SmolLM2-135M-Instruct's GGUF
(`make smollm2`) with gguf-py.

Run: /work/oracle-env/bin/python vectors/gen/gen_chatml_cases.py [GGUF]
Writes vectors/tokenizer/chatml_cases.json.
"""
import json
import os
import sys

import jinja2
from gguf import GGUFReader

HERE = os.path.dirname(os.path.abspath(__file__))
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "..", "data", "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
tmpl = GGUFReader(path).fields["tokenizer.chat_template"].contents()
env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)  # as transformers
t = env.from_string(tmpl)
convs = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "Hi"}],
    [{"role": "user", "content": "  spaces kept \n"}, {"role": "assistant", "content": "ok"},
     {"role": "user", "content": "Ünïcode ✓ <|im_end|> inside"}],
    [],
]
cases = []
for msgs in convs:
    for gen in (True, False):
        cases.append({"messages": msgs, "add_generation_prompt": gen,
                      "rendered": t.render(messages=msgs, add_generation_prompt=gen)})
out = os.path.join(HERE, "..", "tokenizer", "chatml_cases.json")
json.dump({"generator": "vectors/gen/gen_chatml_cases.py (jinja2 " + jinja2.__version__ + ")",
           "template": tmpl, "cases": cases}, open(out, "w"), ensure_ascii=False, indent=1)
print("wrote", out, len(cases), "cases")
