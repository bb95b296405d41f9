/* test_lora_each.c - several examples in one LoRA forward and backward
 * (lr_lora_forward_each / lr_lora_backward_each, and the trainer's groups
 * of equal-length examples) give every example bit for bit what it gets
 * alone (lr_lora_forward + lr_lora_backward with B = 1): its loss, its
 * gradient, its dropout masks; with stored activations and with
 * recompute.  Dimensions are odd on purpose (T x in not a multiple of 8,
 * so each sequence's dropout mask starts mid-byte in a batch-wide mask). */
#include "harness.h"
#include "llamaref/train/trainer.h"

#define NB 3  /* sequences */
#define TT 5  /* tokens each */

static lr_model *tiny_model(lr_error *err)
{
    lr_config c;
    lr_model *m = NULL;
    memset(&c, 0, sizeof c);
    c.hidden_size = 12; c.intermediate_size = 20; c.num_hidden_layers = 2;
    c.num_attention_heads = 3; c.num_key_value_heads = 1; c.head_dim = 4;
    c.vocab_size = 11; c.rms_norm_eps = 1e-5; c.rope_theta = 10000;
    c.max_position_embeddings = 64; c.bos_token_id = -1;
    if (lr_model_init_random(&c, 3, &m, err)) return NULL;
    return m;
}

static int tiny_lora(lr_lora *lo, const lr_model *m, lr_error *err)
{
    lr_lora_config lc;
    size_t i;
    memset(&lc, 0, sizeof lc);
    lc.r = 3; lc.alpha = 5; lc.dropout = 0.25; lc.targets = 0x7f;
    if (lr_lora_alloc(lo, &m->config, &lc, err)) return -1;
    lr_lora_init(lo, 5);
    for (i = 0; i < lo->n_params; i++) /* B != 0: A gets gradients */
        if (lo->params[i] == 0) lo->params[i] = (lr_float)(0.01 * (i % 7) - 0.03);
    return 0;
}

static void each_case(int recompute)
{
    lr_error err;
    lr_model *m = tiny_model(&err);
    lr_lora lo;
    lr_train_ws one, all;
    int ids[NB * TT], labels[NB * TT], b, i;
    uint64_t seeds[NB] = {11, 0x9e3779b97f4a7c15ULL, 5};
    double nll[NB], nll1;
    long cnt[NB], cnt1;
    lr_float *units, *alone;
    size_t stride;
    CHECK(m != NULL);
    if (!m) return;
    CHECK_OK(tiny_lora(&lo, m, &err), &err);
    stride = lo.n_params + 3; /* any stride >= n_params */
    for (i = 0; i < NB * TT; i++) {
        ids[i] = (i * 7 + 2) % 11;
        labels[i] = i % 4 == 3 ? -100 : (i * 5 + 1) % 11;
    }
    units = calloc(NB * stride, sizeof *units);
    alone = calloc(lo.n_params, sizeof *alone);
    /* the batch workspace longer than the sequences: cur_T < T */
    CHECK_OK(lr_train_ws_alloc(&all, m, &lo, NB, TT + 2, recompute, &err), &err);
    CHECK_OK(lr_train_ws_alloc(&one, m, &lo, 1, TT, recompute, &err), &err);
    CHECK_OK(lr_lora_forward_each(&all, m, &lo, ids, labels, NB, TT, 0.25,
                                  seeds, nll, cnt, &err), &err);
    CHECK_OK(lr_lora_backward_each(&all, m, &lo, units, stride, 0.125, &err),
             &err);
    for (b = 0; b < NB; b++) {
        memset(alone, 0, sizeof *alone * lo.n_params);
        CHECK_OK(lr_lora_forward(&one, m, &lo, ids + b * TT, labels + b * TT,
                                 NULL, 1, TT, 0.25, seeds[b], &nll1, &cnt1,
                                 &err), &err);
        CHECK_OK(lr_lora_backward(&one, m, &lo, alone, 0.125, &err), &err);
        CHECK(memcmp(&nll1, &nll[b], sizeof nll1) == 0);
        CHECK_INT(cnt1, cnt[b]);
        CHECK(memcmp(alone, units + b * stride, sizeof *alone * lo.n_params) == 0);
        /* the padding between units is untouched */
        if (b + 1 < NB) CHECK(units[b * stride + lo.n_params] == 0);
    }
    /* each backward refuses the other forward's workspace */
    CHECK_ERR(lr_lora_backward(&all, m, &lo, alone, 0.125, &err), &err,
              "lr_lora_backward_each");
    CHECK_ERR(lr_lora_backward_each(&one, m, &lo, units, stride, 0.125, &err),
              &err, "lr_lora_backward");
    CHECK_ERR(lr_lora_backward_each(&all, m, &lo, units, lo.n_params - 1,
                                    0.125, &err), &err, "stride");
    lr_train_ws_free(&all);
    lr_train_ws_free(&one);
    free(units);
    free(alone);
    lr_lora_free(&lo);
    lr_model_free(m);
}

static void test_each_equals_alone(void) { each_case(0); }
static void test_each_equals_alone_recompute(void) { each_case(1); }

/* Two steps of the trainer (batch 4, accumulation 2, dropout) with its
 * groups, then with groups forced to one example: the same parameters,
 * loss and gradient norm, bit for bit (two epochs: two shuffles).  Lengths 5, 5, 5, 4, 5, 6, 5, 5:
 * groups form only among neighbours of one length. */
static void trainer_case(int recompute)
{
    static const int lens[8] = {5, 5, 5, 4, 5, 6, 5, 5};
    lr_error err;
    lr_model *m = tiny_model(&err);
    lr_lora lo[2];
    lr_adamw opt[2];
    lr_trainer tr[2];
    lr_trainer_opts to;
    lr_dataset ds;
    lr_step_stats st[2];
    int k, i, j, step;
    CHECK(m != NULL);
    if (!m) return;
    memset(&ds, 0, sizeof ds);
    ds.n = 8;
    ds.max_len = 6;
    ds.ex = calloc(ds.n, sizeof *ds.ex);
    for (i = 0; i < 8; i++) {
        lr_example *e = &ds.ex[i];
        e->len = lens[i];
        e->ids = malloc(sizeof *e->ids * (size_t)e->len);
        e->labels = malloc(sizeof *e->labels * (size_t)e->len);
        for (j = 0; j < e->len; j++) {
            e->ids[j] = (i * 3 + j * 7 + 1) % 11;
            e->labels[j] = j == 0 ? -100 : e->ids[j];
        }
    }
    memset(&to, 0, sizeof to);
    to.batch = 4; to.accum = 2; to.epochs = 2; to.lr = 1e-2;
    to.max_norm = 1.0; to.seed = 7; to.recompute = recompute;
    CHECK_OK(lr_sched_from_name("linear", &to.sched, &err), &err);
    for (k = 0; k < 2; k++) {
        CHECK_OK(tiny_lora(&lo[k], m, &err), &err);
        CHECK_OK(lr_adamw_init(&opt[k], lo[k].n_params, 0.0, &err), &err);
        CHECK_OK(lr_trainer_init(&tr[k], m, &lo[k], NULL, &ds, &opt[k], &to,
                                 &err), &err);
    }
    /* 6 rows of the longest, batch 4: groups of up to 4 */
    CHECK_INT(tr[0].group, 4);
    tr[1].group = 1;
    for (step = 0; step < 2; step++)
        for (k = 0; k < 2; k++)
            CHECK_OK(lr_trainer_step(&tr[k], step, &st[k], &err), &err);
    CHECK(memcmp(&st[0].loss, &st[1].loss, sizeof st[0].loss) == 0);
    CHECK(memcmp(&st[0].grad_norm, &st[1].grad_norm, sizeof st[0].grad_norm) == 0);
    CHECK(memcmp(lo[0].params, lo[1].params,
                 sizeof *lo[0].params * lo[0].n_params) == 0);
    for (k = 0; k < 2; k++) {
        lr_trainer_free(&tr[k]);
        lr_adamw_free(&opt[k]);
        lr_lora_free(&lo[k]);
    }
    lr_dataset_free(&ds);
    lr_model_free(m);
}

static void test_trainer_groups_equal_alone(void) { trainer_case(0); }
static void test_trainer_groups_equal_alone_recompute(void) { trainer_case(1); }

int main(void)
{
    RUN(test_each_equals_alone);
    RUN(test_each_equals_alone_recompute);
    RUN(test_trainer_groups_equal_alone);
    RUN(test_trainer_groups_equal_alone_recompute);
    return h_finish("test_lora_each");
}
