/* test_lm.c - lm.h on the committed world model (data/world): loading
 * with and without checks, a NaN weight and an Inf weight named by tensor
 * and element, vocabulary mismatches, the prompt-style rules. */
#include <math.h>

#include "harness.h"

#include "llamaref/tokenizer/chat_template.h"
#include "llamaref/eval/lm.h"
#include "llamaref/model/sampler.h"
#include "llamaref/core/tokens.h"

#define WORLD "data/world"

static void test_load_and_checks(void)
{
    lr_lm lm;
    lr_error err;
    lr_tensor *t;
    lr_config saved;
    memset(&lm, 0, sizeof lm);
    lm.model_path = WORLD;
    CHECK_OK(lr_lm_load(&lm, &err), &err);
    CHECK(lm.have_tok && lm.model != NULL);
    if (!lm.model) return;
    CHECK_OK(lr_check_weights(lm.model, &err), &err);
    CHECK_OK(lr_check_vocab(lm.model, &lm.tok, &err), &err);
    /* a NaN in layer 0's up_proj, element 7; then +Inf in the final norm */
    t = &lm.model->layers[0].up_proj;
    CHECK(t->dtype == LR_F32 || t->dtype == LR_F64);
    if (t->dtype == LR_F32) ((float *)t->data)[7] = NAN;
    else ((double *)t->data)[7] = NAN;
    CHECK_ERR(lr_check_weights(lm.model, &err), &err,
              "tensor model.layers.0.mlp.up_proj.weight element 7 is NaN");
    if (t->dtype == LR_F32) ((float *)t->data)[7] = 0;
    else ((double *)t->data)[7] = 0;
    t = &lm.model->norm;
    if (t->dtype == LR_F32) ((float *)t->data)[3] = INFINITY;
    else ((double *)t->data)[3] = INFINITY;
    CHECK_ERR(lr_check_weights(lm.model, &err), &err,
              "tensor model.norm.weight element 3 is +Inf");
    /* vocabulary: a BOS id outside it; a tokenizer larger than the model's */
    saved = lm.model->config;
    lm.model->config.bos_token_id = lm.model->config.vocab_size;
    CHECK_ERR(lr_check_vocab(lm.model, NULL, &err), &err, "bos_token_id");
    lm.model->config = saved;
    lm.model->config.vocab_size = (int)lm.tok.vocab_size - 1;
    CHECK_ERR(lr_check_vocab(lm.model, &lm.tok, &err), &err, "do not belong together");
    lm.model->config = saved;
    lr_lm_free(&lm);
    CHECK(lm.model == NULL && !lm.have_tok);
    /* the broken-weight check runs at load */
    memset(&lm, 0, sizeof lm);
    CHECK_ERR(lr_lm_load(&lm, &err), &err, "--model PATH is required");
    lm.model_path = WORLD;
    lm.adapter_path = "no/such/adapter";
    CHECK_ERR(lr_lm_load(&lm, &err), &err, "--adapter no/such/adapter: ");
    lr_lm_free(&lm);
}

/* no_tokenizer: a llama2.c checkpoint loads without one (ids in and out),
 * and needs one otherwise */
static void test_no_tokenizer(void)
{
    const char *bin = h_asset("stories260K/stories260K.bin");
    lr_lm lm;
    lr_error err;
    if (!bin) SKIP("stories260K missing (README.md: Getting the assets)");
    memset(&lm, 0, sizeof lm);
    lm.model_path = bin;
    CHECK_ERR(lr_lm_load(&lm, &err), &err, "--tokenizer PATH is needed for a llama2.c");
    lr_lm_free(&lm);
    lm.no_tokenizer = 1;
    CHECK_OK(lr_lm_load(&lm, &err), &err);
    CHECK(lm.model != NULL && !lm.have_tok);
    lr_lm_free(&lm);
}

static void test_prompt_style(void)
{
    lr_lm lm;
    lr_error err;
    lr_prompt_style st = LR_PROMPT_CHAT;
    const char *why = NULL;
    memset(&lm, 0, sizeof lm);
    lm.model_path = WORLD;
    CHECK_OK(lr_lm_load(&lm, &err), &err);
    CHECK_OK(lr_lm_prompt_style(&lm, "auto", &st, &why, &err), &err);
    CHECK_INT(st, LR_PROMPT_PLAIN);
    CHECK(why && strstr(why, "world.json"));
    CHECK_OK(lr_lm_prompt_style(&lm, "plain", &st, &why, &err), &err);
    CHECK(why == NULL);
    /* without a tokenizer (none with <|eot_id|>) chat is refused, auto
     * still says plain for a world model */
    lm.have_tok = 0;
    CHECK_ERR(lr_lm_prompt_style(&lm, "chat", &st, &why, &err), &err, "<|eot_id|>");
    CHECK_OK(lr_lm_prompt_style(&lm, NULL, &st, &why, &err), &err);
    CHECK_INT(st, LR_PROMPT_PLAIN);
    lm.have_tok = 1;
    CHECK_ERR(lr_lm_prompt_style(&lm, "fancy", &st, &why, &err), &err, "got 'fancy'");
    CHECK_STR(lr_prompt_style_name(LR_PROMPT_CHATML), "chatml");
    lr_lm_free(&lm);
}

/* lr_chat_prompt_tokens (generate.h): a tokenizer without a template of
 * its own gets the Llama 3.1 rendering of system + user with the
 * generation prompt, special tokens parsed */
static void test_chat_prompt(void)
{
    lr_lm lm;
    lr_error err;
    lr_chat_message msg[2];
    lr_buf r = {0};
    lr_tokens got = {0}, want = {0};
    memset(&lm, 0, sizeof lm);
    lm.model_path = WORLD;
    CHECK_OK(lr_lm_load(&lm, &err), &err);
    if (!lm.have_tok) return;
    CHECK(lm.tok.chat_template == NULL);
    msg[0].role = "system";
    msg[0].content = "Be brief.";
    msg[0].content_len = 9;
    msg[1].role = "user";
    msg[1].content = "Who is X?";
    msg[1].content_len = 9;
    CHECK_OK(lr_chat_render(LR_CHAT_LLAMA31, msg, 2, 1, NULL, &r, &err), &err);
    CHECK_OK(lr_tokenizer_encode(&lm.tok, r.data, r.len, LR_ENCODE_SPECIAL, &want, &err),
             &err);
    CHECK_OK(lr_chat_prompt_tokens(&lm.tok, "Be brief.", "Who is X?", &got, &err), &err);
    CHECK_INT(got.n, want.n);
    CHECK(got.n == want.n && !memcmp(got.ids, want.ids, got.n * sizeof *got.ids));
    lr_tokens_free(&got);
    lr_tokens_free(&want);
    lr_buf_free(&r);
    lr_lm_free(&lm);
}

/* lr_generate_tokens (generate.h) with a greedy sampler: the tokens of a
 * hand-written argmax-and-feed loop; a stop id ends the loop before it is
 * passed on (and counted as sampled); an error from the callback ends it */
typedef struct seen_ids { int ids[16], n, fail_at; } seen_ids;

static int collect(void *ctx, int id, int index, lr_error *err)
{
    seen_ids *s = ctx;
    if (index != s->n) return lr_fail(err, "index %d after %d tokens", index, s->n);
    if (s->n == s->fail_at) return lr_fail(err, "stop here");
    s->ids[s->n++] = id;
    return 0;
}

static void test_generate_tokens(void)
{
    lr_lm lm;
    lr_decoder d;
    lr_sampler smp;
    lr_error err;
    static const int prompt[3] = {1, 5, 9};
    int want[6], i, gen = 0, stop;
    seen_ids s;
    memset(&lm, 0, sizeof lm);
    lm.model_path = WORLD;
    CHECK_OK(lr_lm_load(&lm, &err), &err);
    if (!lm.model) return;
    CHECK_OK(lr_decoder_init(&d, lm.model, 16, 4, &err), &err);
    CHECK_OK(lr_sampler_init(&smp, lm.model->config.vocab_size, 0, 0, 1, 0, 1, &err), &err);
    lr_decoder_reset(&d, 0);
    CHECK_OK(lr_decoder_feed(&d, prompt, 3, NULL, &err), &err);
    for (i = 0; i < 6; i++) {
        want[i] = lr_argmax(d.logits, lm.model->config.vocab_size);
        CHECK_OK(lr_decoder_feed(&d, &want[i], 1, NULL, &err), &err);
    }
    memset(&s, 0, sizeof s);
    s.fail_at = -1;
    lr_decoder_reset(&d, 0);
    CHECK_OK(lr_decoder_feed(&d, prompt, 3, NULL, &err), &err);
    CHECK_OK(lr_generate_tokens(&d, &smp, 6, NULL, 0, collect, &s, &gen, &err), &err);
    CHECK_INT(gen, 6);
    CHECK_INT(s.n, 6);
    CHECK(!memcmp(s.ids, want, sizeof want));
    /* the third token as a stop id */
    stop = want[2];
    memset(&s, 0, sizeof s);
    s.fail_at = -1;
    lr_decoder_reset(&d, 0);
    CHECK_OK(lr_decoder_feed(&d, prompt, 3, NULL, &err), &err);
    CHECK_OK(lr_generate_tokens(&d, &smp, 6, &stop, 1, collect, &s, &gen, &err), &err);
    for (i = 0; i < 2 && want[i] != stop; i++) {}
    CHECK_INT(s.n, i);
    CHECK_INT(gen, i + 1);
    memset(&s, 0, sizeof s);
    s.fail_at = 1;
    lr_decoder_reset(&d, 0);
    CHECK_OK(lr_decoder_feed(&d, prompt, 3, NULL, &err), &err);
    CHECK_ERR(lr_generate_tokens(&d, &smp, 6, NULL, 0, collect, &s, &gen, &err), &err,
              "stop here");
    lr_sampler_free(&smp);
    lr_decoder_free(&d);
    lr_lm_free(&lm);
}

int main(void)
{
    RUN(test_load_and_checks);
    RUN(test_no_tokenizer);
    RUN(test_prompt_style);
    RUN(test_chat_prompt);
    RUN(test_generate_tokens);
    return h_finish("test_lm");
}
