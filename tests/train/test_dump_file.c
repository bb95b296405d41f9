/* test_dump_file.c - lr_dump_file (dump_file.h), what `llamaref dump` and
 * `llamaref verify --model` run: the logits it writes agree with the KV-
 * cache decoder (another code path) on the last token; --all adds every
 * intermediate of docs/tensors.md; labels add the loss; the metadata;
 * errors naming the adapter. */
#include <math.h>

#include "harness.h"

#include "llamaref/train/dump_file.h"
#include "llamaref/model/forward.h"
#include "llamaref/model/model.h"
#include "llamaref/formats/safetensors.h"

#define MODEL "vectors/forward/gqa_tied"

static void test_dump(void)
{
    static const int ids[4] = {1, 7, 3, 11}, labels[4] = {1, 7, 3, 11};
    lr_dump_options o;
    lr_st_file *f = NULL;
    const lr_st_tensor *t;
    lr_model *m = NULL;
    lr_decoder dec;
    lr_error err;
    double *lg = NULL;
    int v, V;
    memset(&o, 0, sizeof o);
    o.model_path = MODEL;
    o.ids = ids;
    o.T = 4;
    o.f64 = 1;
    CHECK_OK(lr_dump_file(&o, h_tmp("dump_a.safetensors"), &err), &err);
    CHECK_OK(lr_st_open(h_tmp("dump_a.safetensors"), 0, &f, &err), &err);
    if (!f) return;
    t = lr_st_find(f, "logits");
    CHECK(t && t->dtype == LR_F64 && t->shape[0] == 4);
    CHECK(lr_st_find(f, "layers.0.q") == NULL);
    CHECK_STR(lr_json_get(lr_st_metadata(f), "generator")->str, "llamaref dump");
    CHECK_OK(lr_model_load(MODEL, NULL, &m, &err), &err);
    if (t && m) {
        V = m->config.vocab_size;
        CHECK_INT(t->shape[1], V);
        lg = malloc(sizeof *lg * (size_t)t->nelem);
        CHECK_OK(lr_st_read_f64(f, t, lg, &err), &err);
        memset(&dec, 0, sizeof dec);
        CHECK_OK(lr_decoder_init(&dec, m, 8, 2, &err), &err);
        lr_decoder_reset(&dec, 0);
        CHECK_OK(lr_decoder_feed(&dec, ids, 4, NULL, &err), &err);
        for (v = 0; lg && v < V; v++)
            CHECK_NEAR(lg[3 * V + v], (double)dec.logits[v], 1e-4 * (1 + fabs(lg[3 * V + v])));
        lr_decoder_free(&dec);
        free(lg);
    }
    lr_st_close(f);
    /* every intermediate */
    o.all = 1;
    o.pos0 = 2;
    CHECK_OK(lr_dump_file(&o, h_tmp("dump_b.safetensors"), &err), &err);
    CHECK_OK(lr_st_open(h_tmp("dump_b.safetensors"), 0, &f, &err), &err);
    if (f) {
        CHECK(lr_st_find(f, "layers.0.attn_probs") != NULL);
        CHECK(lr_st_find(f, "final_norm") != NULL);
        lr_st_close(f);
    }
    /* the loss */
    o.all = 0;
    o.labels = labels;
    CHECK_OK(lr_dump_file(&o, h_tmp("dump_c.safetensors"), &err), &err);
    CHECK_OK(lr_st_open(h_tmp("dump_c.safetensors"), 0, &f, &err), &err);
    if (f) {
        CHECK(lr_st_find(f, "loss") != NULL);
        lr_st_close(f);
    }
    o.labels = NULL;
    o.adapter = "no/such/adapter";
    CHECK_ERR(lr_dump_file(&o, h_tmp("dump_d.safetensors"), &err), &err,
              "--adapter no/such/adapter");
    lr_model_free(m);
}

int main(void)
{
    RUN(test_dump);
    return h_finish("test_dump_file");
}
