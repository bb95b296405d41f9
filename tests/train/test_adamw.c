/* test_adamw.c - AdamW, schedules, clipping and accumulation against
 * torch.optim.AdamW + transformers.get_scheduler + clip_grad_norm_ (float64,
 * vectors/adamw from vectors/gen/gen_lora.py).  Tolerance relative to the
 * tensor's scale: double 1e-12 (params/moments), float 2e-6. */
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "harness.h"
#include "llamaref/train/adamw.h"
#include "llamaref/formats/safetensors.h"

#ifdef LR_DOUBLE
#define TOL 1e-12
#define TOL_NORM 1e-12 /* gradient norm; measured 1.8e-16 */
#else
#define TOL 2e-6
#define TOL_NORM 3e-8 /* gradient norm; measured 5.6e-9 */
#endif

static double *rd(lr_st_file *f, const char *name)
{
    const lr_st_tensor *t = lr_st_find(f, name);
    double *d;
    lr_error err;
    if (!t) { fprintf(stderr, "missing %s\n", name); return NULL; }
    d = malloc(sizeof *d * (size_t)t->nelem);
    if (lr_st_read_f64(f, t, d, &err)) { free(d); return NULL; }
    return d;
}

static const char *meta(lr_st_file *f, const char *key)
{
    const lr_json *v = lr_json_get(lr_st_metadata(f), key);
    return v && v->type == LR_JSON_STRING ? v->str : "";
}

static double maxrel(const lr_float *a, const double *b, size_t n)
{
    double mx = 1e-30, md = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        mx = fmax(mx, fabs(b[i]));
        if (!(fabs(a[i] - b[i]) <= md)) md = fabs(a[i] - b[i]);
    }
    return md / mx;
}

static void run_case(const char *file)
{
    enum { N = 22 };
    char path[256], key[64];
    lr_st_file *f = NULL;
    lr_error err;
    lr_adamw o;
    lr_sched sch;
    lr_float p[N], g[N];
    double *p0, *grads, lr0, wd, maxn;
    long total, warmup, accum, k, a;
    int i, used = 0;
    snprintf(path, sizeof path, "vectors/adamw/%s.safetensors", file);
    CHECK_OK(lr_st_open(path, 0, &f, &err), &err);
    if (!f) return;
    CHECK_OK(lr_sched_from_name(meta(f, "schedule"), &sch, &err), &err);
    total = atol(meta(f, "total_steps"));
    warmup = atol(meta(f, "warmup"));
    accum = atol(meta(f, "grad_accum"));
    lr0 = atof(meta(f, "lr"));
    wd = atof(meta(f, "weight_decay"));
    maxn = atof(meta(f, "max_grad_norm"));
    p0 = rd(f, "param.init");
    grads = rd(f, "grads");
    for (i = 0; i < N; i++) p[i] = (lr_float)p0[i];
    CHECK_OK(lr_adamw_init(&o, N, wd, &err), &err);
    for (k = 0; k < total; k++) {
        double lr = lr_schedule_lr(sch, k, total, warmup, lr0), norm, *e;
        for (i = 0; i < N; i++) g[i] = 0;
        for (a = 0; a < accum; a++, used++)
            for (i = 0; i < N; i++) g[i] += (lr_float)grads[used * N + i];
        norm = lr_clip_grad_norm(g, N, maxn);
        snprintf(key, sizeof key, "lr.%ld", k);
        e = rd(f, key);
        CHECK_NEAR(lr, e[0], 1e-15 * lr0);
        free(e);
        snprintf(key, sizeof key, "grad_norm.%ld", k);
        e = rd(f, key);
        if (getenv("LR_TEST_VERBOSE"))
            fprintf(stderr, "%s grad_norm.%ld rel err %.3g\n", file, k,
                    fabs(norm - e[0]) / e[0]);
        CHECK_NEAR(norm, e[0], TOL_NORM * e[0]);
        free(e);
        lr_adamw_step(&o, p, g, lr);
        snprintf(key, sizeof key, "param.%ld", k);
        e = rd(f, key);
        CHECK(maxrel(p, e, N) <= TOL);
        free(e);
        snprintf(key, sizeof key, "exp_avg.%ld", k);
        e = rd(f, key);
        CHECK(maxrel(o.m, e, N) <= TOL);
        free(e);
        snprintf(key, sizeof key, "exp_avg_sq.%ld", k);
        e = rd(f, key);
        CHECK(maxrel(o.v, e, N) <= TOL);
        free(e);
    }
    lr_adamw_free(&o);
    free(p0);
    free(grads);
    lr_st_close(f);
}

static void test_linear(void) { run_case("linear"); }
static void test_cosine_warmup_decay_accum(void) { run_case("cosine_wd"); }
static void test_constant_clip_accum(void) { run_case("const_clip"); }

static void test_schedule_values(void)
{
    lr_error err;
    lr_sched s;
    /* HF linear, no warmup: lr (N - k)/N; warmup 2 of 10: k/2 then decay */
    CHECK_NEAR(lr_schedule_lr(LR_SCHED_LINEAR, 0, 10, 0, 1e-3), 1e-3, 1e-18);
    CHECK_NEAR(lr_schedule_lr(LR_SCHED_LINEAR, 9, 10, 0, 1e-3), 1e-4, 1e-18);
    CHECK_NEAR(lr_schedule_lr(LR_SCHED_LINEAR, 1, 10, 2, 1.0), 0.5, 1e-15);
    CHECK_NEAR(lr_schedule_lr(LR_SCHED_LINEAR, 6, 10, 2, 1.0), 0.5, 1e-15);
    CHECK_NEAR(lr_schedule_lr(LR_SCHED_COSINE, 6, 10, 2, 1.0), 0.5, 1e-15);
    CHECK_NEAR(lr_schedule_lr(LR_SCHED_COSINE, 0, 10, 0, 1.0), 1.0, 1e-15);
    CHECK_ERR(lr_sched_from_name("cosine_with_restarts", &s, &err), &err,
              "unknown schedule");
}

/* lr_adamw_init writes its zeros (the moments are malloc'd, not calloc'd):
 * the memory a garbage-filled block left is reused (glibc: no mmap, no
 * trimming) and must read as zeros, over several 16384-element chunks and
 * a tail. */
static void test_init_zeroes(void)
{
    static const size_t ns[] = {1, 1000, 16384, 70001};
    size_t a, i;
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
    for (a = 0; a < sizeof ns / sizeof *ns; a++) {
        const size_t n = ns[a];
        lr_float *junk[4];
        lr_adamw o;
        lr_error err;
        int k, bad = 0;
        for (k = 0; k < 4; k++) { /* garbage where the moments will go */
            junk[k] = malloc(sizeof(lr_float) * n + 256);
            if (junk[k]) memset(junk[k], 0xA5, sizeof(lr_float) * n + 256);
        }
        for (k = 0; k < 4; k++) free(junk[k]);
        CHECK_OK(lr_adamw_init(&o, n, 0.1, &err), &err);
        for (i = 0; i < n; i++)
            if (o.m[i] != 0 || o.v[i] != 0 || signbit(o.m[i]) ||
                signbit(o.v[i]))
                bad = 1;
        CHECK(!bad);
        CHECK(o.step == 0);
        lr_adamw_free(&o);
    }
}

int main(void)
{
    RUN(test_linear);
    RUN(test_cosine_warmup_decay_accum);
    RUN(test_constant_clip_accum);
    RUN(test_schedule_values);
    RUN(test_init_zeroes);
    return h_finish("test_adamw");
}
