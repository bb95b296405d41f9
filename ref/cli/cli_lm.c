/* cli_lm.c - model/tokenizer/adapter loading and report paths for the
 * evaluation commands; see cli_lm.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/adapter.h"
#include "llamaref/chat_template.h"
#include "llamaref/json.h"
#include "llamaref/lora.h"
#include "llamaref/report.h"

int cli_lm_option(cli_lm *lm, int argc, char **argv, int *i)
{
    const char *a = cli_opt(argv[*i]), *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    const char **dst = NULL;
    if (!strcmp(a, "--keep-dtype")) { lm->keep_dtype = 1; return 1; }
    if (!strcmp(a, "--no-check-weights")) { lm->no_check_weights = 1; return 1; }
    if (!strcmp(a, "--model")) dst = &lm->model_path;
    else if (!strcmp(a, "--tokenizer")) dst = &lm->tok_path;
    else if (!strcmp(a, "--adapter")) dst = &lm->adapter_path;
    else return 0;
    if (!v) {
        fprintf(stderr, "llamaref %s: option %s needs a value\n", cli_cmd, a);
        return -1;
    }
    *dst = v;
    (*i)++;
    return 1;
}

int cli_lm_load(cli_lm *lm, const char *cmd)
{
    lr_load_options opt;
    lr_error err;
    const char *tp;
    if (!lm->model_path) {
        fprintf(stderr, "llamaref %s: --model PATH is required\n", cmd);
        return -1;
    }
    memset(&opt, 0, sizeof opt);
    opt.keep_dtype = lm->keep_dtype;
    opt.use_mmap = lm->keep_dtype;
    if (lr_model_load(lm->model_path, &opt, &lm->model, &err)) {
        fprintf(stderr, "llamaref %s: %s\n", cmd, err.msg);
        return -1;
    }
    if (!lm->no_check_weights && cli_check_weights(cmd, lm->model)) return -1;
    if (lm->adapter_path) {
        /* W' = W + s B A for every adapted linear (lora.h): the same function
         * as PEFT's unmerged forward up to rounding */
        lr_lora lo;
        int r;
        memset(&lo, 0, sizeof lo);
        r = lr_adapter_load(lm->adapter_path, &lm->model->config, &lo, &err) ||
            lr_lora_merge(lm->model, &lo, &err);
        lr_lora_free(&lo);
        if (r) {
            fprintf(stderr, "llamaref %s: --adapter %s: %s\n", cmd,
                    lm->adapter_path, err.msg);
            return -1;
        }
    }
    tp = lm->tok_path ? lm->tok_path : lm->model_path;
    if (!lm->tok_path && !lr_path_is_dir(lm->model_path) && strcmp(lm->model->format, "gguf")) {
        fprintf(stderr, "llamaref %s: --tokenizer PATH is needed for a "
                "llama2.c checkpoint\n", cmd);
        return -1;
    }
    if (lr_tokenizer_load(tp, &lm->tok, &err)) {
        fprintf(stderr, "llamaref %s: %s\n", cmd, err.msg);
        return -1;
    }
    lm->have_tok = 1;
    return cli_check_vocab(cmd, lm->model, &lm->tok);
}

static int bad_weight(const char *cmd, const lr_model *m, const char *name,
                      const lr_tensor *t)
{
    uint64_t n = lr_tensor_nelem(t), i;
    for (i = 0; i < n; i++) {
        int bad;
        if (t->dtype == LR_BF16 || t->dtype == LR_F16) {
            uint16_t x = ((const uint16_t *)t->data)[i];
            bad = t->dtype == LR_BF16 ? (x & 0x7f80u) == 0x7f80u
                                      : (x & 0x7c00u) == 0x7c00u;
        } else {
            lr_float x = lr_tensor_get(t, (size_t)i);
            bad = x - x != 0;
        }
        if (bad) {
            double x = (double)lr_tensor_get(t, (size_t)i);
            fprintf(stderr, "llamaref %s: %s: tensor %s element %llu is %s "
                    "(a broken checkpoint; --no-check-weights skips this "
                    "check)\n", cmd, m->path ? m->path : "model", name,
                    (unsigned long long)i,
                    x != x ? "NaN" : x > 0 ? "+Inf" : "-Inf");
            return -1;
        }
    }
    return 0;
}

int cli_check_weights(const char *cmd, const lr_model *m)
{
    static const char *const names[9] = {
        "input_layernorm", "self_attn.q_proj", "self_attn.k_proj",
        "self_attn.v_proj", "self_attn.o_proj", "post_attention_layernorm",
        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
    char name[128];
    int l, k;
    if (bad_weight(cmd, m, "model.embed_tokens.weight", &m->embed_tokens) ||
        bad_weight(cmd, m, "model.norm.weight", &m->norm) ||
        (m->lm_head.data != m->embed_tokens.data &&
         bad_weight(cmd, m, "lm_head.weight", &m->lm_head)))
        return -1;
    for (l = 0; l < m->config.num_hidden_layers; l++) {
        const lr_layer_weights *w = &m->layers[l];
        const lr_tensor *t[9];
        t[0] = &w->input_layernorm; t[1] = &w->q_proj; t[2] = &w->k_proj;
        t[3] = &w->v_proj; t[4] = &w->o_proj; t[5] = &w->post_attention_layernorm;
        t[6] = &w->gate_proj; t[7] = &w->up_proj; t[8] = &w->down_proj;
        for (k = 0; k < 9; k++) {
            snprintf(name, sizeof name, "model.layers.%d.%s.weight", l, names[k]);
            if (bad_weight(cmd, m, name, t[k])) return -1;
        }
    }
    return 0;
}

int cli_check_vocab(const char *cmd, const lr_model *m, const lr_tokenizer *tok)
{
    const lr_config *c = &m->config;
    int k;
    if (c->bos_token_id >= c->vocab_size) {
        fprintf(stderr, "llamaref %s: %s: bos_token_id %d is outside the "
                "vocabulary (vocab_size %d)\n", cmd, m->path ? m->path : "config",
                c->bos_token_id, c->vocab_size);
        return -1;
    }
    for (k = 0; k < c->n_eos; k++)
        if (c->eos_token_ids[k] < 0 || c->eos_token_ids[k] >= c->vocab_size) {
            fprintf(stderr, "llamaref %s: %s: eos_token_id %d is outside the "
                    "vocabulary (vocab_size %d)\n", cmd,
                    m->path ? m->path : "config", c->eos_token_ids[k],
                    c->vocab_size);
            return -1;
        }
    if (tok && tok->vocab_size > (size_t)c->vocab_size) {
        fprintf(stderr, "llamaref %s: the tokenizer has %lu tokens but the "
                "model's vocabulary only %d: they do not belong together "
                "(--tokenizer)\n", cmd, (unsigned long)tok->vocab_size,
                c->vocab_size);
        return -1;
    }
    if (tok && tok->format != LR_TOK_LLAMA2C && tok->vocab_size * 2 < (size_t)c->vocab_size) {
        fprintf(stderr, "llamaref %s: the tokenizer has %lu tokens, the "
                "model's vocabulary %d: they do not belong together "
                "(--tokenizer)\n", cmd, (unsigned long)tok->vocab_size,
                c->vocab_size);
        return -1;
    }
    return 0;
}

void cli_lm_free(cli_lm *lm)
{
    if (lm->have_tok) lr_tokenizer_free(&lm->tok);
    lr_model_free(lm->model);
    lm->model = NULL;
    lm->have_tok = 0;
}

/* Why a model was trained without a chat template, or NULL: its directory
 * holds world.json (a model of `llamaref world`'s synthetic world, trained
 * on plain text), or its config.json says "llamaref_template": "plain". */
static const char *plain_model(const char *model_path)
{
    char *p;
    FILE *f;
    lr_json_doc *doc = NULL;
    lr_error err;
    const char *why = NULL;
    if (!lr_path_is_dir(model_path)) return NULL;
    if ((p = lr_path_join(model_path, "world.json", NULL)) != NULL &&
        (f = fopen(p, "rb")) != NULL) {
        fclose(f);
        why = "a world model (world.json), trained on plain text";
    }
    free(p);
    p = NULL;
    if (!why && (p = lr_path_join(model_path, "config.json", NULL)) != NULL &&
        lr_json_parse_file(p, &doc, &err) == 0) {
        const lr_json *t = lr_json_get(lr_json_root(doc), "llamaref_template");
        if (t && t->type == LR_JSON_STRING && !strcmp(t->str, "plain"))
            why = "config.json: \"llamaref_template\": \"plain\"";
    }
    if (doc) lr_json_free(doc);
    free(p);
    return why;
}

/* The tokenizer's own chat template (a GGUF's tokenizer.chat_template) is
 * ChatML. */
static int chatml_tokenizer(const cli_lm *lm)
{
    lr_chat_template kind;
    char *dsys = NULL;
    lr_error err;
    int r;
    if (!lm->have_tok || !lm->tok.chat_template) return 0;
    r = !lr_chat_template_detect(lm->tok.chat_template, &kind, &dsys, &err) &&
        kind == LR_CHAT_CHATML;
    free(dsys);
    return r;
}

int cli_template_arg(const char *cmd, const char *arg)
{
    if (!strcmp(arg, "auto") || !strcmp(arg, "chat") || !strcmp(arg, "plain")) return 0;
    fprintf(stderr, "llamaref %s: --template must be auto, chat or plain (got '%s')\n",
            cmd, arg);
    return -1;
}

int cli_prompt_style(const char *cmd, const char *arg, const cli_lm *lm,
                     lr_prompt_style *out)
{
    if (!arg || !strcmp(arg, "auto")) {
        const char *why = plain_model(lm->model_path);
        if (why) {
            *out = LR_PROMPT_PLAIN;
        } else if (chatml_tokenizer(lm)) {
            *out = LR_PROMPT_CHATML;
            why = "the tokenizer's chat template is ChatML";
        } else if (lm->have_tok && lr_tokenizer_special_id(&lm->tok, "<|eot_id|>") >= 0) {
            *out = LR_PROMPT_CHAT;
            why = "the tokenizer has <|eot_id|>";
        } else {
            *out = LR_PROMPT_PLAIN;
            why = "the tokenizer has no <|eot_id|>";
        }
        fprintf(stderr, "llamaref %s: template %s (auto: %s; --template "
                "chat|plain chooses)\n", cmd,
                lr_prompt_style_name(*out), why);
    } else if (!strcmp(arg, "chat") && chatml_tokenizer(lm)) {
        *out = LR_PROMPT_CHATML;
    } else if (!strcmp(arg, "chat")) {
        if (!lm->have_tok || lr_tokenizer_special_id(&lm->tok, "<|eot_id|>") < 0) {
            fprintf(stderr, "llamaref %s: --template chat needs a Llama 3 "
                    "tokenizer (with <|eot_id|>)\n", cmd);
            return -1;
        }
        *out = LR_PROMPT_CHAT;
    } else if (!strcmp(arg, "plain")) {
        *out = LR_PROMPT_PLAIN;
    } else {
        return cli_template_arg(cmd, arg);
    }
    if (arg && strcmp(arg, "auto"))
        fprintf(stderr, "llamaref %s: template %s (--template)\n", cmd, arg);
    return 0;
}

int cli_ctx_len(const char *cmd, const lr_model *m, long *max_len, int given)
{
    long mp = m->config.max_position_embeddings;
    if (mp <= 0 || *max_len <= mp) return 0;
    if (given) {
        fprintf(stderr, "llamaref %s: --max-len %ld is beyond the model's "
                "context (max_position_embeddings %ld)\n", cmd, *max_len, mp);
        return -1;
    }
    *max_len = mp;
    return 0;
}

int cli_write(const char *cmd, const char *path, const char *data, size_t len)
{
    lr_error err;
    if (lr_write_file_atomic(path, data, len, &err)) {
        fprintf(stderr, "llamaref %s: %s\n", cmd, err.msg);
        return -1;
    }
    return 0;
}

const char *cli_report_path(const char *out, const char *suffix, int slot)
{
    static char buf[8][4096];
    lr_report_path(buf[slot & 7], sizeof buf[0], out, suffix);
    return buf[slot & 7];
}
