/* test_bench.c - bench.h: the weight bytes a decoded token streams,
 * counted here from the model's tensors (every layer matrix and norm, the
 * final norm, lm_head; a tied lm_head is the embedding); the decode and
 * matmul measurements run and report finite positive figures (their
 * values are never asserted: wall-clock). */
#include <math.h>

#include "harness.h"

#include "llamaref/model/bench.h"

static double tensor_bytes(const lr_tensor *t)
{
    return (double)lr_tensor_nelem(t) * (double)lr_dtype_size(t->dtype);
}

static void check_model(const char *dir)
{
    lr_model *m = NULL;
    lr_error err;
    lr_bench_decode_result r;
    double want = 0;
    int l;
    CHECK_OK(lr_model_load(dir, NULL, &m, &err), &err);
    if (!m) return;
    for (l = 0; l < m->config.num_hidden_layers; l++) {
        const lr_layer_weights *w = &m->layers[l];
        want += tensor_bytes(&w->input_layernorm) + tensor_bytes(&w->q_proj) +
                tensor_bytes(&w->k_proj) + tensor_bytes(&w->v_proj) +
                tensor_bytes(&w->o_proj) + tensor_bytes(&w->post_attention_layernorm) +
                tensor_bytes(&w->gate_proj) + tensor_bytes(&w->up_proj) +
                tensor_bytes(&w->down_proj);
    }
    want += tensor_bytes(&m->norm) + tensor_bytes(&m->lm_head);
    CHECK_NEAR(lr_weight_bytes_per_token(m), want, 0);
    CHECK_OK(lr_bench_decode(m, 5, 3, &r, &err), &err);
    CHECK(r.prefill_tps > 0 && r.decode_tps > 0 && r.weights_gbs > 0);
    CHECK(isfinite(r.decode_tps));
    lr_model_free(m);
}

static void test_weight_bytes(void)
{
    check_model("vectors/forward/gqa_tied");
    check_model("vectors/forward/mqa_headdim"); /* untied */
}

static void test_matmul(void)
{
    double g = lr_bench_matmul(1, 8, 32, 16, 2), h = lr_bench_matmul(0, 8, 32, 16, 2);
    CHECK(g > 0 && isfinite(g) && h > 0 && isfinite(h));
}

int main(void)
{
    RUN(test_weight_bytes);
    RUN(test_matmul);
    return h_finish("test_bench");
}
