/* generate.c - prompt ids, stop ids and answer text around generation
 * (generate.h), and the sampling loop.  Depends on tokenizer.c,
 * chat_template.c, model.h (the config's EOS ids), forward.c (the decoder)
 * and sampler.c. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/tokenizer/chat_template.h"
#include "llamaref/model/generate.h"
#include "llamaref/core/tokens.h"

const char *lr_prompt_style_name(lr_prompt_style style)
{
    return style == LR_PROMPT_CHAT ? "chat"
         : style == LR_PROMPT_CHATML ? "chatml" : "plain";
}

static void add_stop(int *stops, int *n, int id)
{
    int i;
    if (id < 0 || *n >= 16) return;
    for (i = 0; i < *n; i++)
        if (stops[i] == id) return;
    stops[(*n)++] = id;
}

int lr_generation_stops(const lr_model *m, const lr_tokenizer *tok, int *stops)
{
    int n = 0, i;
    for (i = 0; i < m->config.n_eos; i++)
        add_stop(stops, &n, m->config.eos_token_ids[i]);
    if (tok->format == LR_TOK_LLAMA2C) {
        add_stop(stops, &n, 1);
    } else {
        add_stop(stops, &n, lr_tokenizer_special_id(tok, "<|eot_id|>"));
        add_stop(stops, &n, lr_tokenizer_special_id(tok, "<|eom_id|>"));
        add_stop(stops, &n, lr_tokenizer_special_id(tok, "<|end_of_text|>"));
        add_stop(stops, &n, lr_tokenizer_special_id(tok, "<|im_end|>"));
    }
    return n;
}

int lr_generate_tokens(lr_decoder *dec, lr_sampler *smp, int n_new,
                       const int *stops, int n_stops,
                       int (*on_token)(void *ctx, int id, int index, lr_error *err),
                       void *ctx, int *generated, lr_error *err)
{
    *generated = 0;
    while (*generated < n_new) {
        int next = lr_sample(smp, dec->logits), s, stop = 0;
        (*generated)++;
        for (s = 0; s < n_stops; s++) stop |= next == stops[s];
        if (stop) break;
        if (on_token && on_token(ctx, next, *generated - 1, err)) return -1;
        if (*generated == n_new) break;
        if (lr_decoder_feed(dec, &next, 1, NULL, err)) return -1;
    }
    return 0;
}

int lr_generate_run(const lr_model *m, const int *ids, int n_prompt,
                    const lr_generate_options *o,
                    int (*on_token)(void *ctx, int id, int index, lr_error *err),
                    void *ctx, int *generated, double *prompt_s, double *gen_s,
                    lr_error *err)
{
    lr_decoder dec;
    lr_sampler smp;
    double t0, t1;
    int rc = -1;
    memset(&dec, 0, sizeof dec);
    memset(&smp, 0, sizeof smp);
    *generated = 0;
    if (lr_decoder_init(&dec, m, n_prompt + o->n_new, 64, err) ||
        lr_sampler_init(&smp, m->config.vocab_size, o->temperature, o->top_k,
                        o->top_p, o->min_p, o->seed, err))
        goto done;
    lr_decoder_reset(&dec, 0);
    t0 = lr_clock_seconds();
    if (lr_decoder_feed(&dec, ids, n_prompt, NULL, err)) goto done;
    t1 = lr_clock_seconds();
    *prompt_s = t1 - t0;
    rc = -2;
    if (lr_generate_tokens(&dec, &smp, o->n_new, o->stops, o->n_stops, on_token, ctx,
                           generated, err))
        goto done;
    *gen_s = lr_clock_seconds() - t1;
    rc = 0;
done:
    lr_sampler_free(&smp);
    lr_decoder_free(&dec);
    return rc;
}

int lr_chat_prompt_tokens(const lr_tokenizer *tok, const char *system,
                          const char *user, lr_tokens *out, lr_error *err)
{
    lr_chat_message msg[2];
    lr_chat_template kind = LR_CHAT_LLAMA31;
    lr_buf rendered = {0};
    char *dsys = NULL;
    size_t n = 0;
    int r;
    if (system) {
        msg[n].role = "system";
        msg[n].content = system;
        msg[n++].content_len = strlen(system);
    }
    msg[n].role = "user";
    msg[n].content = user;
    msg[n++].content_len = strlen(user);
    /* a GGUF's own template when llamaref knows it (ChatML) */
    if (tok->chat_template && lr_chat_template_detect(tok->chat_template, &kind, &dsys, err))
        kind = LR_CHAT_LLAMA31;
    r = kind == LR_CHAT_CHATML ? lr_chat_render_chatml(msg, n, 1, dsys, &rendered, err)
                               : lr_chat_render(kind, msg, n, 1, NULL, &rendered, err);
    free(dsys);
    r = r || lr_tokenizer_encode(tok, rendered.data, rendered.len, LR_ENCODE_SPECIAL, out,
                                 err);
    lr_buf_free(&rendered);
    return r ? -1 : 0;
}

int lr_prompt_tokens(const lr_tokenizer *tok, lr_prompt_style style,
                     const char *text, size_t len, int **ids, int *n,
                     lr_error *err)
{
    lr_tokens t = {0};
    size_t i;
    unsigned flags = style == LR_PROMPT_PLAIN ? LR_ENCODE_BOS : LR_ENCODE_SPECIAL;
    *ids = NULL;
    *n = 0;
    if (lr_tokenizer_encode(tok, text, len, flags, &t, err)) {
        lr_tokens_free(&t);
        return -1;
    }
    *ids = lr_alloc(t.n ? t.n : 1, sizeof **ids, "prompt ids", err);
    if (!*ids) { lr_tokens_free(&t); return -1; }
    for (i = 0; i < t.n; i++) (*ids)[i] = (int)t.ids[i];
    *n = (int)t.n;
    lr_tokens_free(&t);
    return 0;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

char *lr_answer_text(const lr_tokenizer *tok, lr_prompt_style style,
                     const int32_t *ids, size_t n, lr_error *err)
{
    lr_buf b = {0};
    size_t s = 0, e;
    char *r;
    if (n && lr_tokenizer_decode(tok, ids, n, &b, err)) {
        lr_buf_free(&b);
        return NULL;
    }
    e = b.len;
    while (s < e && is_ws(b.data[s])) s++;
    if (style == LR_PROMPT_PLAIN) {
        size_t k;
        for (k = s; k < e; k++)
            if (b.data[k] == '\n') { e = k; break; }
    }
    while (e > s && is_ws(b.data[e - 1])) e--;
    r = lr_strndup(b.data ? b.data + s : "", e - s, err);
    lr_buf_free(&b);
    return r;
}
