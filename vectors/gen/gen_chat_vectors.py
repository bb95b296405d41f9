#!/usr/bin/python3
"""gen_chat_vectors.py - golden chat prompts rendered by Jinja2 (Debian
python3-jinja2) from the Llama 3.1 Instruct and Llama 3.0 Instruct chat
templates (the `chat_template` of their tokenizer_config.json), in the
environment Hugging Face's apply_chat_template uses (trim_blocks,
lstrip_blocks, tojson with ensure_ascii=False, bos_token "<|begin_of_text|>").
The 3.1 template below omits only the tool-definition branches, which
llamaref does not support (no tools are passed here either way).

    /usr/bin/python3 vectors/gen/gen_chat_vectors.py
    cd vectors/gen && node gen_tokenizer_vectors.mjs   # adds the ids

Writes vectors/tokenizer/chat_cases.json: [{"name", "template",
"messages", "add_generation_prompt", "rendered"}].
"""
import json
import os

from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tokenizer", "chat_cases.json")

LLAMA31 = (
    "{{- bos_token }}\n"
    "{%- if custom_tools is defined %}\n    {%- set tools = custom_tools %}\n{%- endif %}\n"
    "{%- if not tools_in_user_message is defined %}\n    {%- set tools_in_user_message = true %}\n{%- endif %}\n"
    "{%- if not date_string is defined %}\n    {%- set date_string = \"26 Jul 2024\" %}\n{%- endif %}\n"
    "{%- if not tools is defined %}\n    {%- set tools = none %}\n{%- endif %}\n\n"
    "{#- This block extracts the system message, so we can slot it into the right place. #}\n"
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {%- set system_message = messages[0]['content']|trim %}\n"
    "    {%- set messages = messages[1:] %}\n"
    "{%- else %}\n    {%- set system_message = \"\" %}\n{%- endif %}\n\n"
    "{#- System message + builtin tools #}\n"
    "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n"
    "{%- if builtin_tools is defined or tools is not none %}\n    {{- \"Environment: ipython\\n\" }}\n{%- endif %}\n"
    "{%- if builtin_tools is defined %}\n"
    "    {{- \"Tools: \" + builtin_tools | reject('equalto', 'code_interpreter') | join(\", \") + \"\\n\\n\"}}\n"
    "{%- endif %}\n"
    "{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n"
    "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n"
    "{{- system_message }}\n"
    "{{- \"<|eot_id|>\" }}\n\n"
    "{%- for message in messages %}\n"
    "    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}\n"
    "        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n"
    "    {%- elif message.role == \"tool\" or message.role == \"ipython\" %}\n"
    "        {{- \"<|start_header_id|>ipython<|end_header_id|>\\n\\n\" }}\n"
    "        {%- if message.content is mapping or message.content is iterable %}\n"
    "            {{- message.content | tojson }}\n"
    "        {%- else %}\n"
    "            {{- message.content }}\n"
    "        {%- endif %}\n"
    "        {{- \"<|eot_id|>\" }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
    "{%- endif %}\n"
)

LLAMA30 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)


def render(template, messages, gen):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda x, ensure_ascii=False, indent=None, separators=None, sort_keys=False: \
        json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
    return env.from_string(template).render(messages=messages, add_generation_prompt=gen,
                                            bos_token="<|begin_of_text|>")


def main():
    convs = {
        "user only": [{"role": "user", "content": "What is the capital of France?"}],
        "system user": [{"role": "system", "content": "You are a helpful assistant."},
                        {"role": "user", "content": "Hi!"}],
        "multi turn": [{"role": "system", "content": "Answer briefly."},
                       {"role": "user", "content": "2+2?"},
                       {"role": "assistant", "content": "4"},
                       {"role": "user", "content": "And 3+3?"}],
        "trimming": [{"role": "system", "content": "  \n\tsys with spaces \u3000\n "},
                     {"role": "user", "content": "\n\n  padded question?  \r\n"},
                     {"role": "assistant", "content": " \x1c\x1d answer \x1f\x85 "}],
        "empty contents": [{"role": "system", "content": ""}, {"role": "user", "content": "   "}],
        "unicode": [{"role": "user", "content": "Entgifte: \u00abDu bist ein Idiot\u00bb \U0001f999 \u65e5\u672c\u8a9e"}],
        "special text in content": [{"role": "user", "content": "say <|eot_id|> please"}],
        "system not first": [{"role": "user", "content": "a"}, {"role": "system", "content": " b "}],
        "tool message": [{"role": "user", "content": "weather?"},
                         {"role": "tool", "content": "{\"temp\": 21, \"unit\": \"\u00b0C\"}\n"}],
        "no messages": [],
    }
    cases = []
    for tname, tmpl in [("llama3.1", LLAMA31), ("llama3", LLAMA30)]:
        for name, msgs in convs.items():
            if tname == "llama3" and name == "tool message":
                continue
            if tname == "llama3.1" and name == "no messages":
                continue  # the 3.1 template reads messages[0]: undefined for []
            for gen in (False, True):
                cases.append({"name": "%s %s%s" % (tname, name, " +gen" if gen else ""),
                              "template": tname, "messages": msgs, "add_generation_prompt": gen,
                              "rendered": render(tmpl, msgs, gen)})
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"generator": "vectors/gen/gen_chat_vectors.py with Jinja2", "cases": cases},
                  f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("chat_cases.json: %d cases" % len(cases))


if __name__ == "__main__":
    main()
