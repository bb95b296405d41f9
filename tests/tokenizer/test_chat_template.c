/* test_chat_template.c - Llama 3.1 / 3.0 chat prompts against
 * vectors/tokenizer/chat_cases.json: strings rendered by Jinja2 from the
 * models' chat templates (gen_chat_vectors.py) and their ids from
 * llama3-tokenizer-js with special tokens parsed (as HF tokenizes them). */
#include "harness.h"
#include "llamaref/tokenizer/chat_template.h"
#include "llamaref/core/json.h"
#include "llamaref/tokenizer/tokenizer.h"

static void test_chat_vectors(void)
{
    const char *vp = h_asset("llama3/tokenizer.model");
    lr_tokenizer tok;
    int have_tok = 0;
    lr_json_doc *doc;
    lr_error err;
    const lr_json *cases;
    size_t i, bad = 0, bad_ids = 0;
    if (vp && lr_tokenizer_load(vp, &tok, &err) == 0) have_tok = 1;
    if (lr_json_parse_file("vectors/tokenizer/chat_cases.json", &doc, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        CHECK(0);
        return;
    }
    cases = lr_json_get(lr_json_root(doc), "cases");
    CHECK(cases && cases->len >= 30);
    for (i = 0; cases && i < cases->len; i++) {
        const lr_json *c = &cases->items[i], *want = lr_json_get(c, "rendered"), *ids = lr_json_get(c, "ids");
        lr_chat_message *msgs;
        size_t n, k;
        lr_buf out = {0};
        lr_tokens t = {0};
        lr_chat_template tmpl = !strcmp(lr_json_get(c, "template")->str, "llama3.1") ? LR_CHAT_LLAMA31
                                                                                      : LR_CHAT_LLAMA30;
        int gen = lr_json_get(c, "add_generation_prompt")->type == LR_JSON_TRUE;
        CHECK_OK(lr_chat_messages_from_json(lr_json_get(c, "messages"), "case", &msgs, &n, &err), &err);
        CHECK_OK(lr_chat_render(tmpl, msgs, n, gen, NULL, &out, &err), &err);
        if (out.len != want->len || (out.len && memcmp(out.data, want->str, out.len))) {
            if (bad++ < 5)
                fprintf(stderr, "%s:\n got  \"%s\"\n want \"%s\"\n", lr_json_get(c, "name")->str,
                        out.data ? out.data : "", want->str);
        }
        if (have_tok) {
            int same;
            CHECK_OK(lr_tokenizer_encode(&tok, out.data, out.len, LR_ENCODE_SPECIAL, &t, &err), &err);
            same = ids && ids->len == t.n;
            for (k = 0; same && k < t.n; k++) same = ids->items[k].integer == t.ids[k];
            if (!same) bad_ids++;
        }
        free(msgs);
        lr_buf_free(&out);
        lr_tokens_free(&t);
    }
    CHECK_INT(bad, 0);
    CHECK_INT(bad_ids, 0);
    lr_json_free(doc);
    if (have_tok) lr_tokenizer_free(&tok);
    if (!have_tok) SKIP("ids not checked: llama3/tokenizer.model not found in $LLAMAREF_ASSETS (README.md: Getting the assets)");
}

static int parse(lr_json_doc **doc, const char *text)
{
    lr_error err;
    if (lr_json_parse(text, strlen(text), "m", doc, &err) == 0) return 0;
    fprintf(stderr, "%s\n", err.msg);
    CHECK(0);
    return -1;
}

static void test_chat_date_and_errors(void)
{
    lr_chat_message m[1] = {{"user", "hi", 2}};
    lr_buf out = {0};
    lr_error err;
    lr_json_doc *doc;
    lr_chat_message *msgs;
    size_t n;
    CHECK_OK(lr_chat_render(LR_CHAT_LLAMA31, m, 1, 1, "01 Jan 2025", &out, &err), &err);
    CHECK_STR(out.data, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                        "Cutting Knowledge Date: December 2023\nToday Date: 01 Jan 2025\n\n<|eot_id|>"
                        "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
                        "<|start_header_id|>assistant<|end_header_id|>\n\n");
    lr_buf_free(&out);
    if (parse(&doc, "[{\"role\": \"user\", \"content\": 3}]")) return;
    CHECK_ERR(lr_chat_messages_from_json(lr_json_root(doc), "m", &msgs, &n, &err), &err, "content");
    lr_json_free(doc);
    if (parse(&doc, "[{\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": []}]")) return;
    CHECK_ERR(lr_chat_messages_from_json(lr_json_root(doc), "m", &msgs, &n, &err), &err, "tool_calls");
    lr_json_free(doc);
    CHECK(lr_chat_is_py_space(0x1C) && lr_chat_is_py_space(0x85) && lr_chat_is_py_space(0x3000));
    CHECK(!lr_chat_is_py_space(0xFEFF) && !lr_chat_is_py_space(0x200B) && !lr_chat_is_py_space('a'));
}

/* `llamaref chat-template`: the template by name, the messages from a file */
static void test_chat_render_file(void)
{
    const char *path = h_tmp("chat_messages.json");
    lr_chat_template t = LR_CHAT_LLAMA31;
    lr_buf out = {0};
    lr_error err;
    FILE *f = fopen(path, "wb");
    CHECK_INT(lr_chat_template_from_name("llama3", &t), 0);
    CHECK_INT(t, LR_CHAT_LLAMA30);
    CHECK_INT(lr_chat_template_from_name("llama2", &t), -1);
    CHECK_INT(t, LR_CHAT_LLAMA30);
    CHECK(f != NULL);
    if (!f) return;
    fputs("[{\"role\": \"user\", \"content\": \"hi\"}]", f);
    fclose(f);
    CHECK_OK(lr_chat_render_file(LR_CHAT_LLAMA30, path, 0, NULL, &out, &err), &err);
    CHECK_STR(out.data, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>");
    lr_buf_free(&out);
    CHECK_ERR(lr_chat_render_file(LR_CHAT_LLAMA30, "/nonexistent/m.json", 0, NULL, &out, &err),
              &err, "/nonexistent/m.json");
    lr_buf_free(&out);
}

int main(void)
{
    RUN(test_chat_render_file);
    RUN(test_chat_vectors);
    RUN(test_chat_date_and_errors);
    return h_finish("chat_template");
}
