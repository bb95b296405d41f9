/* lm.c - a model with its tokenizer and optional LoRA adapter, loaded and
 * checked as every evaluation command needs it (lm.h): NaN / Inf weights,
 * token ids outside the vocabulary, the prompt template a model expects.
 * Depends on: model.h, tokenizer.h, adapter.h, lora.h, chat_template.h,
 * generate.h, json.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/train/adapter.h"
#include "llamaref/tokenizer/chat_template.h"
#include "llamaref/core/json.h"
#include "llamaref/eval/lm.h"
#include "llamaref/model/generate.h"
#include "llamaref/train/lora.h"

int lr_lm_load(lr_lm *lm, lr_error *err)
{
    lr_load_options opt;
    const char *tp;
    if (!lm->model_path) {
        return lr_fail(err, "--model PATH is required");
    }
    memset(&opt, 0, sizeof opt);
    opt.keep_dtype = lm->keep_dtype;
    opt.use_mmap = lm->keep_dtype;
    if (lr_model_load(lm->model_path, &opt, &lm->model, err)) return -1;
    if (!lm->no_check_weights && lr_check_weights(lm->model, err)) return -1;
    if (lm->adapter_path) {
        /* W' = W + s B A for every adapted linear (lora.h): the same function
         * as PEFT's unmerged forward up to rounding */
        lr_lora lo;
        int r;
        memset(&lo, 0, sizeof lo);
        r = lr_adapter_load(lm->adapter_path, &lm->model->config, &lo, err) ||
            lr_lora_merge(lm->model, &lo, err);
        lr_lora_free(&lo);
        if (r) return lr_fail_prefix(err, "--adapter %s", lm->adapter_path);
    }
    if (lm->no_tokenizer) return lr_check_vocab(lm->model, NULL, err);
    tp = lm->tok_path ? lm->tok_path : lm->model_path;
    if (!lm->tok_path && !lr_path_is_dir(lm->model_path) && strcmp(lm->model->format, "gguf")) {
        return lr_fail(err, "--tokenizer PATH is needed for a llama2.c checkpoint");
    }
    if (lr_tokenizer_load(tp, &lm->tok, err)) return -1;
    lm->have_tok = 1;
    return lr_check_vocab(lm->model, &lm->tok, err);
}

static int bad_weight(const lr_model *m, const char *name, const lr_tensor *t,
                      lr_error *err)
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
            return lr_fail(err, "%s: tensor %s element %llu is %s (a broken "
                           "checkpoint; --no-check-weights skips this check)",
                           m->path ? m->path : "model", name, (unsigned long long)i,
                           x != x ? "NaN" : x > 0 ? "+Inf" : "-Inf");
        }
    }
    return 0;
}

int lr_check_weights(const lr_model *m, lr_error *err)
{
    static const char *const names[9] = {
        "input_layernorm", "self_attn.q_proj", "self_attn.k_proj",
        "self_attn.v_proj", "self_attn.o_proj", "post_attention_layernorm",
        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
    char name[128];
    int l, k;
    if (bad_weight(m, "model.embed_tokens.weight", &m->embed_tokens, err) ||
        bad_weight(m, "model.norm.weight", &m->norm, err) ||
        (m->lm_head.data != m->embed_tokens.data &&
         bad_weight(m, "lm_head.weight", &m->lm_head, err)))
        return -1;
    for (l = 0; l < m->config.num_hidden_layers; l++) {
        const lr_layer_weights *w = &m->layers[l];
        const lr_tensor *t[9];
        t[0] = &w->input_layernorm; t[1] = &w->q_proj; t[2] = &w->k_proj;
        t[3] = &w->v_proj; t[4] = &w->o_proj; t[5] = &w->post_attention_layernorm;
        t[6] = &w->gate_proj; t[7] = &w->up_proj; t[8] = &w->down_proj;
        for (k = 0; k < 9; k++) {
            snprintf(name, sizeof name, "model.layers.%d.%s.weight", l, names[k]);
            if (bad_weight(m, name, t[k], err)) return -1;
        }
    }
    return 0;
}

int lr_check_vocab(const lr_model *m, const lr_tokenizer *tok, lr_error *err)
{
    const lr_config *c = &m->config;
    int k;
    if (c->bos_token_id >= c->vocab_size) {
        return lr_fail(err, "%s: bos_token_id %d is outside the vocabulary "
                       "(vocab_size %d)", m->path ? m->path : "config",
                       c->bos_token_id, c->vocab_size);
    }
    for (k = 0; k < c->n_eos; k++)
        if (c->eos_token_ids[k] < 0 || c->eos_token_ids[k] >= c->vocab_size) {
            return lr_fail(err, "%s: eos_token_id %d is outside the vocabulary "
                           "(vocab_size %d)", m->path ? m->path : "config",
                           c->eos_token_ids[k], c->vocab_size);
        }
    if (tok && tok->vocab_size > (size_t)c->vocab_size) {
        return lr_fail(err, "the tokenizer has %lu tokens but the model's "
                       "vocabulary only %d: they do not belong together "
                       "(--tokenizer)", (unsigned long)tok->vocab_size,
                       c->vocab_size);
    }
    if (tok && tok->format != LR_TOK_LLAMA2C && tok->vocab_size * 2 < (size_t)c->vocab_size) {
        return lr_fail(err, "the tokenizer has %lu tokens, the model's "
                       "vocabulary %d: they do not belong together "
                       "(--tokenizer)", (unsigned long)tok->vocab_size,
                       c->vocab_size);
    }
    return 0;
}

void lr_lm_free(lr_lm *lm)
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
static int chatml_tokenizer(const lr_lm *lm)
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

int lr_lm_prompt_style(const lr_lm *lm, const char *arg, lr_prompt_style *out,
                       const char **why, lr_error *err)
{
    *why = NULL;
    if (!arg || !strcmp(arg, "auto")) {
        *why = plain_model(lm->model_path);
        if (*why) {
            *out = LR_PROMPT_PLAIN;
        } else if (chatml_tokenizer(lm)) {
            *out = LR_PROMPT_CHATML;
            *why = "the tokenizer's chat template is ChatML";
        } else if (lm->have_tok && lr_tokenizer_special_id(&lm->tok, "<|eot_id|>") >= 0) {
            *out = LR_PROMPT_CHAT;
            *why = "the tokenizer has <|eot_id|>";
        } else {
            *out = LR_PROMPT_PLAIN;
            *why = "the tokenizer has no <|eot_id|>";
        }
    } else if (!strcmp(arg, "chat") && chatml_tokenizer(lm)) {
        *out = LR_PROMPT_CHATML;
    } else if (!strcmp(arg, "chat")) {
        if (!lm->have_tok || lr_tokenizer_special_id(&lm->tok, "<|eot_id|>") < 0)
            return lr_fail(err, "--template chat needs a Llama 3 tokenizer (with "
                           "<|eot_id|>)");
        *out = LR_PROMPT_CHAT;
    } else if (!strcmp(arg, "plain")) {
        *out = LR_PROMPT_PLAIN;
    } else {
        return lr_fail(err, "--template must be auto, chat or plain (got '%s')", arg);
    }
    return 0;
}

static void add_stop(int *stops, int *n, int cap, int id)
{
    int i;
    if (id < 0 || *n >= cap) return;
    for (i = 0; i < *n; i++)
        if (stops[i] == id) return;
    stops[(*n)++] = id;
}

int lr_lm_stop_ids(const lr_lm *lm, int *stops, int cap)
{
    const lr_config *c = &lm->model->config;
    int i, n = 0;
    for (i = 0; i < c->n_eos; i++) add_stop(stops, &n, cap, c->eos_token_ids[i]);
    if (lm->have_tok && lm->tok.format == LR_TOK_LLAMA2C) {
        add_stop(stops, &n, cap, 1);
    } else if (lm->have_tok) {
        add_stop(stops, &n, cap, lr_tokenizer_special_id(&lm->tok, "<|eot_id|>"));
        add_stop(stops, &n, cap, lr_tokenizer_special_id(&lm->tok, "<|eom_id|>"));
        add_stop(stops, &n, cap, lr_tokenizer_special_id(&lm->tok, "<|end_of_text|>"));
    }
    return n;
}

int lr_lm_prompt_ids(const lr_lm *lm, const char *prompt, int chat,
                     const char *system, int **ids, int *n, lr_error *err)
{
    lr_tokens t = {0};
    size_t i;
    int r = chat ? lr_chat_prompt_tokens(&lm->tok, system, prompt, &t, err)
                 : lr_tokenizer_encode(&lm->tok, prompt, strlen(prompt), LR_ENCODE_BOS,
                                       &t, err);
    *ids = NULL;
    *n = 0;
    if (r) { lr_tokens_free(&t); return -1; }
    *ids = malloc(sizeof **ids * (t.n ? t.n : 1));
    for (i = 0; *ids && i < t.n; i++) (*ids)[i] = t.ids[i];
    *n = (int)t.n;
    lr_tokens_free(&t);
    if (!*ids || !*n) {
        free(*ids);
        *ids = NULL;
        return lr_fail(err, "empty prompt");
    }
    return 0;
}
