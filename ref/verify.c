/* verify.c - golden dump vs candidate dump, tensor by tensor in computation
 * order; the first divergence and a diagnosis from its pattern (verify.h,
 * docs/verify.md).  Tensors are streamed: one golden/candidate pair is in
 * memory at a time, read as float64 through the safetensors reader.
 * Depends on: safetensors, json, common. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/verify.h"

/* ---- name maps ---- */

int lr_verify_map_add(lr_verify_map *m, const char *golden,
                      const char *candidate, int transform, lr_error *err)
{
    lr_verify_map_entry *e;
    size_t cap;
    if (m->n == (size_t)-1 / sizeof *e / 2)
        return lr_fail(err, "name map: too many entries");
    cap = m->n + 1;
    e = realloc(m->e, cap * sizeof *e);
    if (!e) return lr_fail(err, "out of memory growing the name map");
    m->e = e;
    e += m->n;
    e->golden = lr_strdup(golden, err);
    e->candidate = e->golden ? lr_strdup(candidate, err) : NULL;
    if (!e->candidate) { free(e->golden); return -1; }
    e->transform = transform;
    m->n++;
    return 0;
}

void lr_verify_map_free(lr_verify_map *m)
{
    size_t i;
    if (!m) return;
    for (i = 0; i < m->n; i++) { free(m->e[i].golden); free(m->e[i].candidate); }
    free(m->e);
    free(m->source);
    memset(m, 0, sizeof *m);
}

static int json_flag(const lr_json *v, const char *key, const char *src,
                     const char *name, int *out, lr_error *err)
{
    const lr_json *f = lr_json_get(v, key);
    *out = 0;
    if (!f) return 0;
    if (f->type != LR_JSON_TRUE && f->type != LR_JSON_FALSE)
        return lr_fail(err, "%s: entry '%s': \"%s\" must be true or false",
                       src, name, key);
    *out = f->type == LR_JSON_TRUE;
    return 0;
}

int lr_verify_map_load(const char *path, lr_verify_map *m, lr_error *err)
{
    lr_json_doc *doc = NULL;
    const lr_json *root;
    size_t i;
    memset(m, 0, sizeof *m);
    if (lr_json_parse_file(path, &doc, err)) return -1;
    root = lr_json_root(doc);
    if (root->type != LR_JSON_OBJECT) {
        lr_json_free(doc);
        return lr_fail(err, "%s: a name map must be a JSON object "
                       "{\"golden name\": \"candidate name\", ...}", path);
    }
    if (!(m->source = lr_strdup(path, err))) goto fail;
    for (i = 0; i < root->len; i++) {
        const lr_json *v = &root->items[i];
        const char *g = root->keys[i], *c = NULL;
        int tr = 0, il = 0, rs = 0;
        if (v->type == LR_JSON_STRING) c = v->str;
        else if (v->type == LR_JSON_OBJECT) {
            if (lr_json_get_string(v, "name", path, &c, err) ||
                json_flag(v, "transpose", path, g, &tr, err) ||
                json_flag(v, "interleave", path, g, &il, err) ||
                json_flag(v, "reshape", path, g, &rs, err))
                goto fail;
        } else {
            lr_fail(err, "%s:%d: entry '%s' must be a string or an object "
                    "{\"name\", \"transpose\", \"interleave\", \"reshape\"}",
                    path, v->line, g);
            goto fail;
        }
        if (lr_verify_map_add(m, g, c, (tr ? LR_VMAP_TRANSPOSE : 0) |
                              (il ? LR_VMAP_INTERLEAVE : 0) |
                              (rs ? LR_VMAP_RESHAPE : 0), err))
            goto fail;
    }
    lr_json_free(doc);
    return 0;
fail:
    lr_json_free(doc);
    lr_verify_map_free(m);
    return -1;
}

static const lr_verify_map_entry *map_find(const lr_verify_map *m,
                                           const char *golden)
{
    size_t i;
    if (!m) return NULL;
    for (i = m->n; i-- > 0;)
        if (!strcmp(m->e[i].golden, golden)) return &m->e[i];
    return NULL;
}

/* Built-in maps: for each golden name of docs/tensors.md, the candidate
 * name ("%d" = layer) and the layout transform. */
typedef struct builtin_entry {
    const char *golden, *candidate;
    int transform;
} builtin_entry;

static const builtin_entry hf_map[] = {
    {"embed", "model.embed_tokens", 0},
    {"attn_norm", "model.layers.%d.input_layernorm", 0},
    {"q", "model.layers.%d.self_attn.q_proj", 0},
    {"k", "model.layers.%d.self_attn.k_proj", 0},
    {"v", "model.layers.%d.self_attn.v_proj", 0},
    {"q_rope", "model.layers.%d.self_attn.rotary.q", 0},
    {"k_rope", "model.layers.%d.self_attn.rotary.k", 0},
    {"attn_probs", "model.layers.%d.self_attn.attn_weights", 0},
    {"attn_out", "model.layers.%d.self_attn.o_proj.input", 0},
    {"o_proj", "model.layers.%d.self_attn.o_proj", 0},
    {"h", "model.layers.%d.post_attention_layernorm.input", 0},
    {"mlp_norm", "model.layers.%d.post_attention_layernorm", 0},
    {"gate", "model.layers.%d.mlp.gate_proj", 0},
    {"up", "model.layers.%d.mlp.up_proj", 0},
    {"act", "model.layers.%d.mlp.down_proj.input", 0},
    {"mlp_out", "model.layers.%d.mlp.down_proj", 0},
    {"out", "model.layers.%d", 0},
    {"final_norm", "model.norm", 0},
    {"logits", "lm_head", 0},
    {NULL, NULL, 0}};

/* llama.cpp (llm_build_llama): GGUF q/k weights are in Meta's rotary
 * layout, so Qcur/Kcur are interleaved; ggml's [hd, H, T] is [T, H, hd]
 * row-major.  Qcur-N/Kcur-N appear twice (before and after RoPE): the
 * second under "<name>#2". */
static const builtin_entry llamacpp_map[] = {
    {"attn_norm", "attn_norm-%d", 0},
    {"q", "Qcur-%d", LR_VMAP_INTERLEAVE | LR_VMAP_RESHAPE},
    {"k", "Kcur-%d", LR_VMAP_INTERLEAVE | LR_VMAP_RESHAPE},
    {"v", "Vcur-%d", LR_VMAP_RESHAPE},
    {"q_rope", "Qcur-%d#2", LR_VMAP_INTERLEAVE | LR_VMAP_RESHAPE},
    {"k_rope", "Kcur-%d#2", LR_VMAP_INTERLEAVE | LR_VMAP_RESHAPE},
    {"attn_probs", "kq_soft_max-%d", LR_VMAP_RESHAPE},
    {"attn_out", "kqv_out-%d", LR_VMAP_RESHAPE},
    {"h", "ffn_inp-%d", 0},
    {"mlp_norm", "ffn_norm-%d", 0},
    {"mlp_out", "ffn_out-%d", 0},
    {"out", "l_out-%d", 0},
    {"final_norm", "result_norm", 0},
    {"logits", "result_output", 0},
    {NULL, NULL, 0}};

static long parse_layer(const char *name, const char **rest);

int lr_verify_map_builtin(const char *which, lr_st_file *golden,
                          lr_st_file *cand, lr_verify_map *m, lr_error *err)
{
    const builtin_entry *tab, *e;
    size_t i;
    memset(m, 0, sizeof *m);
    if (!strcmp(which, "hf")) tab = hf_map;
    else if (!strcmp(which, "llama.cpp")) tab = llamacpp_map;
    else return lr_fail(err, "unknown built-in name map '%s' (hf, llama.cpp, "
                        "or a JSON file)", which);
    if (!(m->source = lr_strdup(which, err))) return -1;
    for (i = 0; i < lr_st_count(golden); i++) {
        const char *g = lr_st_at(golden, i)->name, *rest = g;
        long layer;
        char cname[160];
        /* hf: the gradient of X (dX, dlayers.N.X) is "d:" + X's name */
        int grad = tab == hf_map && g[0] == 'd' &&
                   (!strncmp(g, "dlayers.", 8) || !strcmp(g, "dlogits") ||
                    !strcmp(g, "dfinal_norm") || !strcmp(g, "dembed"));
        if (grad) rest = g + 1;
        layer = parse_layer(rest, &rest);
        for (e = tab; e->golden; e++) {
            if (strcmp(rest, e->golden) || (layer < 0) != !strstr(e->candidate, "%d"))
                continue;
            snprintf(cname, sizeof cname, "%s", grad ? "d:" : "");
            snprintf(cname + strlen(cname), sizeof cname - strlen(cname),
                     e->candidate, (int)layer);
            if (lr_st_find(cand, cname) &&
                lr_verify_map_add(m, g, cname, e->transform, err)) {
                lr_verify_map_free(m);
                return -1;
            }
        }
    }
    return 0;
}

/* ---- computation order ---- */

static const char *const layer_names[] = {
    "attn_norm", "q", "k", "v", "q_rope", "k_rope", "attn_scores",
    "attn_probs", "attn_out", "o_proj", "h", "mlp_norm", "gate", "up", "act",
    "mlp_out", "out"};
#define N_LAYER_NAMES ((int)(sizeof layer_names / sizeof layer_names[0]))

/* Within one layer of a weight-gradient walk, in backward order. */
static const char *const grad_modules[] = {
    "down_proj", "up_proj", "gate_proj", "post_attention_layernorm",
    "o_proj", "v_proj", "k_proj", "q_proj", "input_layernorm"};

static int layer_name_index(const char *s)
{
    int i;
    for (i = 0; i < N_LAYER_NAMES; i++)
        if (!strcmp(s, layer_names[i])) return i;
    return -1;
}

/* "layers.N.rest" -> N and rest; -1 when name is not of that form. */
static long parse_layer(const char *name, const char **rest)
{
    const char *p = name;
    long n = 0;
    if (strncmp(p, "layers.", 7)) return -1;
    p += 7;
    if (*p < '0' || *p > '9') return -1;
    while (*p >= '0' && *p <= '9' && n < 1000000) n = n * 10 + (*p++ - '0');
    if (*p != '.') return -1;
    *rest = p + 1;
    return n;
}

#define ORD_BACKWARD 2000000
#define ORD_GRAD 4000000
#define ORD_OPT 10000000
#define ORD_OTHER 900000000

static lr_verify_key grad_key(const char *key)
{
    lr_verify_key k;
    const char *p = strstr(key, "layers."), *rest;
    long layer;
    size_t i;
    k.major = ORD_GRAD;
    k.minor = 0;
    if (p && (layer = parse_layer(p, &rest)) >= 0) {
        k.major = ORD_GRAD + 1 + (1000000 - layer);
        k.minor = 50;
        for (i = 0; i < sizeof grad_modules / sizeof grad_modules[0]; i++)
            if (strstr(rest, grad_modules[i])) { k.minor = (int)i * 4; break; }
        if (strstr(rest, "lora_A")) k.minor += 1;
    } else if (strstr(key, "embed_tokens")) {
        k.major = ORD_GRAD + 1000002;
    } else if (strstr(key, "lm_head")) {
        k.minor = 0;
    } else if (strstr(key, "norm")) {
        k.minor = 1;
    } else {
        k.minor = 2;
    }
    return k;
}

lr_verify_key lr_verify_order(const char *name)
{
    lr_verify_key k;
    const char *rest;
    long layer;
    int i;
    k.major = ORD_OTHER;
    k.minor = 0;
    if (!strcmp(name, "embed")) { k.major = 0; return k; }
    if ((layer = parse_layer(name, &rest)) >= 0 &&
        (i = layer_name_index(rest)) >= 0) {
        k.major = 1 + layer;
        k.minor = i;
        return k;
    }
    if (!strcmp(name, "final_norm")) { k.major = 1000001; return k; }
    if (!strcmp(name, "logits")) { k.major = 1000001; k.minor = 1; return k; }
    if (!strcmp(name, "loss")) { k.major = 1000002; return k; }
    /* activation gradients, backward: dlogits, dfinal_norm, dlayers.N.*
     * from the last layer down (out first), dembed */
    if (!strcmp(name, "dlogits")) { k.major = ORD_BACKWARD; return k; }
    if (!strcmp(name, "dfinal_norm")) { k.major = ORD_BACKWARD; k.minor = 1; return k; }
    if (name[0] == 'd' && (layer = parse_layer(name + 1, &rest)) >= 0 &&
        (i = layer_name_index(rest)) >= 0) {
        k.major = ORD_BACKWARD + 1 + (1000000 - layer);
        k.minor = N_LAYER_NAMES - i;
        return k;
    }
    if (!strcmp(name, "dembed")) { k.major = ORD_BACKWARD + 1000002; return k; }
    if (!strncmp(name, "grad.", 5)) return grad_key(name + 5);
    {
        static const char *const opt[] = {"param.", "exp_avg.", "exp_avg_sq."};
        for (i = 0; i < 3; i++) {
            /* bare names: a checkpoint's flat optimizer.safetensors */
            if (!strncmp(name, opt[i], strlen(opt[i]) - 1) &&
                (name[strlen(opt[i]) - 1] == 0 ||
                 (i == 0 && !strcmp(name, "params")))) {
                k.major = (int64_t)ORD_OPT * (i + 1);
                return k;
            }
            if (!strncmp(name, opt[i], strlen(opt[i]))) {
                k = grad_key(name + strlen(opt[i]));
                k.major += (int64_t)ORD_OPT * (i + 1);
                return k;
            }
        }
        /* a parameter under its PEFT / HF key (an adapter or checkpoint) */
        if (strstr(name, ".weight")) {
            k = grad_key(name);
            k.major += ORD_OPT;
            return k;
        }
    }
    return k;
}

static int cmp_order(const char *a, const char *b)
{
    lr_verify_key ka = lr_verify_order(a), kb = lr_verify_order(b);
    if (ka.major != kb.major) return ka.major < kb.major ? -1 : 1;
    if (ka.minor != kb.minor) return ka.minor < kb.minor ? -1 : 1;
    return strcmp(a, b);
}

static int cmp_tensor_ptr(const void *a, const void *b)
{
    const lr_st_tensor *ta = *(const lr_st_tensor *const *)a;
    const lr_st_tensor *tb = *(const lr_st_tensor *const *)b;
    return cmp_order(ta->name, tb->name);
}

/* ---- tolerances ---- */

static double unit_roundoff(lr_dtype d)
{
    switch (d) {
    case LR_F64: return ldexp(1.0, -53);
    case LR_F16: return ldexp(1.0, -11);
    case LR_BF16: return ldexp(1.0, -8);
    default: return ldexp(1.0, -24);
    }
}

static int is_grad_like(const char *name)
{
    return !strncmp(name, "grad.", 5) || !strncmp(name, "param.", 6) ||
           !strncmp(name, "exp_avg", 7) || !strcmp(name, "dlogits") ||
           !strcmp(name, "dfinal_norm") || !strcmp(name, "dembed") ||
           !strncmp(name, "dlayers.", 8);
}

/* Whether the tensor is computed after the first RoPE of the forward. */
static int after_rope(const char *name)
{
    lr_verify_key k = lr_verify_order(name);
    if (k.major >= ORD_BACKWARD) return 1;
    if (k.major == 0) return 0;
    if (k.major == 1) return k.minor >= 4; /* layers.0.q_rope on */
    return 1;
}

double lr_verify_default_rtol(lr_dtype compute, const char *name,
                              long max_pos)
{
    /* a: roundings to the compute type that reach the tensor (its inputs,
     * its weights and itself, each relative error u, each bounded relative
     * to the tensor's max |x|); b: accumulation (dot products, sums) that
     * real backends carry in float32 or better. */
    double u = unit_roundoff(compute);
    double ua = compute == LR_F64 ? u : unit_roundoff(LR_F32);
    double a = 8, b = 64, r;
    const char *rest;
    lr_verify_key k = lr_verify_order(name);
    if (!strcmp(name, "embed")) { a = 1; b = 0; }
    else if (parse_layer(name, &rest) >= 0) {
        if (!strcmp(rest, "attn_norm") || !strcmp(rest, "mlp_norm")) { a = 8; b = 32; }
        else if (!strcmp(rest, "attn_scores") || !strcmp(rest, "attn_probs") ||
                 !strcmp(rest, "attn_out")) { a = 16; b = 64; }
    } else if (!strcmp(name, "final_norm")) { a = 8; b = 32; }
    else if (!strcmp(name, "logits") || !strcmp(name, "loss")) { a = 16; b = 128; }
    else if (is_grad_like(name) || k.major >= ORD_BACKWARD) { a = 32; b = 1024; }
    r = a * u + b * ua;
    if (after_rope(name)) r += 2.0 * (double)max_pos * ua;
    return r;
}

void lr_verify_opts_init(lr_verify_opts *o)
{
    memset(o, 0, sizeof *o);
    o->compute = -1;
    o->rtol = -1;
    o->atol = -1;
    o->golden_compute = -1;
}

/* ---- comparing one pair ---- */

static int is_masked_match(double g, double c)
{
    return g == c || (g == -HUGE_VAL && c <= -1e30);
}

static int is_heads_cols(const char *rest)
{
    return !strcmp(rest, "q") || !strcmp(rest, "k") || !strcmp(rest, "v") ||
           !strcmp(rest, "q_rope") || !strcmp(rest, "k_rope") ||
           !strcmp(rest, "attn_out");
}

static int is_heads_rows(const char *rest)
{
    return !strcmp(rest, "attn_scores") || !strcmp(rest, "attn_probs");
}

/* Whether every element of c agrees with g within tol (masked -inf too). */
static int all_within(const double *g, const double *c, uint64_t n,
                      double tol)
{
    uint64_t i;
    for (i = 0; i < n; i++) {
        double gv = g[i], cv = c[i];
        if (is_masked_match(gv, cv)) continue;
        if (!isfinite(gv) || !isfinite(cv) || fabs(cv - gv) > tol) return 0;
    }
    return 1;
}

/* Top-1 agreement and max |delta log-softmax| over rows of V logits,
 * added to t's running figures.  Per row: one pass for finiteness, the two
 * argmaxes (first index of the largest) and the range of d = c - g; one
 * pass for the two log-sum-exps.  Then, with dz = lse(c) - lse(g),
 * max_j |(c_j - lse c) - (g_j - lse g)| = max_j |d_j - dz| =
 * max(max d - dz, dz - min d).  The candidate's exp(c_j - max c) is
 * exp(g_j - max g) * exp(e_j), e_j = d_j - (max c - max g); for |e_j| <=
 * 1e-3 the Taylor polynomial of exp(e_j) to e^4/24 is exact to double
 * rounding (the next term is < 1e-17), which spares half of the exp calls:
 * they were the largest cost of a vocabulary-wide row. */
static void logit_rows(lr_verify_tensor *t, const double *g, const double *c,
                       uint64_t rows, int64_t V)
{
    uint64_t rr;
    int64_t j;
    for (rr = 0; rr < rows; rr++) {
        const double *gr = g + rr * (uint64_t)V, *cr = c + rr * (uint64_t)V;
        int64_t ag = 0, ac = 0;
        double mg = gr[0], mc = cr[0], zg = 0, zc = 0, dmin = 0, dmax = 0;
        double dm, dz, dl;
        int finite = 1;
        if (V > 0) dmin = dmax = cr[0] - gr[0];
        for (j = 0; j < V; j++) {
            double gv = gr[j], cv = cr[j], d = cv - gv;
            finite &= d - d == 0; /* NaN / Inf on either side */
            if (gv > mg) { mg = gv; ag = j; }
            if (cv > mc) { mc = cv; ac = j; }
            if (d > dmax) dmax = d;
            if (d < dmin) dmin = d;
        }
        t->top1_rows++;
        if (!finite) { t->max_dlogsoftmax = HUGE_VAL; continue; }
        t->top1_agree += ag == ac;
        dm = mc - mg;
        for (j = 0; j < V; j++) {
            double eg = exp(gr[j] - mg), e = (cr[j] - gr[j]) - dm;
            zg += eg;
            zc += fabs(e) <= 1e-3
                  ? eg * (1 + e * (1 + e * (0.5 + e * (1.0 / 6 + e * (1.0 / 24)))))
                  : exp(cr[j] - mc);
        }
        dz = (mc + log(zc)) - (mg + log(zg));
        dl = dmax - dz > dz - dmin ? dmax - dz : dz - dmin;
        if (dl > t->max_dlogsoftmax) t->max_dlogsoftmax = dl;
    }
}

static void measure(lr_verify_tensor *t, const double *g, const double *c,
                    const char *name, int head_dim)
{
    double *scratch;
    uint64_t i, n = t->nelem;
    double sgg = 0, scc = 0, sgc = 0, sdd = 0, tol, worst = -1;
    uint64_t worst_i = 0;
    int nd = t->ndim;
    int64_t last = nd ? t->shape[nd - 1] : 1;
    int64_t pos_dim = nd >= 2 ? t->shape[nd - 2] : 0;
    int64_t pos_stride = last, head_stride = 0, n_heads = 0;
    const char *rest = NULL;
    int activation = !is_grad_like(name) && strcmp(name, "loss") &&
                     lr_verify_order(name).major < ORD_BACKWARD;
    long *head_bad = NULL;
    t->gmax = 0;
    for (i = 0; i < n; i++)
        if (isfinite(g[i]) && fabs(g[i]) > t->gmax) t->gmax = fabs(g[i]);
    tol = t->atol > t->rtol * t->gmax ? t->atol : t->rtol * t->gmax;
    t->max_abs = 0;
    t->pos_first = t->pos_last = -1;
    t->pos_bad = 0;
    t->n_pos = activation && nd >= 2 ? (long)pos_dim : 0;
    t->head_one = -1;
    t->n_heads = 0;
    if (activation && parse_layer(name, &rest) >= 0) {
        if (is_heads_rows(rest) && nd >= 3) {
            n_heads = t->shape[nd - 3];
            head_stride = pos_dim * last;
        } else if (is_heads_cols(rest) && head_dim > 0 && last % head_dim == 0) {
            n_heads = last / head_dim;
        }
        if (n_heads > 0 && n_heads <= 65536)
            head_bad = calloc((size_t)n_heads, sizeof *head_bad);
        if (head_bad) t->n_heads = (int)n_heads;
    }
    {
        long last_pos_counted = -1;
        for (i = 0; i < n; i++) {
            double gv = g[i], cv = c[i], d = cv - gv;
            int bad;
            if (d - d == 0 && fabs(d) <= tol) { /* fast path: both finite, good */
                d = fabs(d);
                sgg += gv * gv; scc += cv * cv; sgc += gv * cv; sdd += d * d;
                if (d > t->max_abs) t->max_abs = d;
                if (d > worst) { worst = d; worst_i = i; }
                continue;
            }
            if (is_masked_match(gv, cv)) continue;
            if (!isfinite(cv)) { t->non_finite++; d = HUGE_VAL; bad = 1; }
            else if (!isfinite(gv)) { d = HUGE_VAL; bad = 1; }
            else {
                d = fabs(cv - gv);
                bad = d > tol;
                sgg += gv * gv; scc += cv * cv; sgc += gv * cv;
                sdd += (gv - cv) * (gv - cv);
                if (d > t->max_abs) t->max_abs = d;
            }
            if (d > worst) { worst = d; worst_i = i; }
            if (!bad) continue;
            t->n_bad++;
            if (t->n_pos) {
                long p = (long)((i / (uint64_t)pos_stride) % (uint64_t)pos_dim);
                if (t->pos_first < 0 || p < t->pos_first) t->pos_first = p;
                if (p > t->pos_last) t->pos_last = p;
                if (p != last_pos_counted) { t->pos_bad++; last_pos_counted = p; }
            }
            if (head_bad) {
                uint64_t h = head_stride
                    ? (i / (uint64_t)head_stride) % (uint64_t)n_heads
                    : (i % (uint64_t)last) / (uint64_t)head_dim;
                head_bad[h]++;
            }
        }
    }
    if (t->n_pos && t->pos_bad > t->pos_last - t->pos_first + 1)
        t->pos_bad = t->pos_last - t->pos_first + 1; /* [H, T, T] revisits */
    t->max_rel = t->gmax > 0 ? t->max_abs / t->gmax : (t->max_abs > 0 ? HUGE_VAL : 0);
    t->nmse = sgg > 0 ? sdd / sgg : (sdd > 0 ? HUGE_VAL : 0);
    t->cosine = sgg > 0 && scc > 0 ? sgc / sqrt(sgg * scc)
                                   : (sgg == 0 && scc == 0 ? 1 : 0);
    t->ok = t->n_bad == 0;
    {   /* worst element in the candidate's own shape */
        uint64_t r = worst_i;
        int d;
        for (d = nd - 1; d >= 0; d--) {
            t->worst[d] = t->shape[d] ? (int64_t)(r % (uint64_t)t->shape[d]) : 0;
            if (t->shape[d]) r /= (uint64_t)t->shape[d];
        }
    }
    if (head_bad) {
        int h;
        t->n_heads_bad = 0;
        for (h = 0; h < t->n_heads; h++)
            if (head_bad[h]) { t->n_heads_bad++; t->head_one = h; }
        if (t->n_heads_bad != 1) t->head_one = -1;
        free(head_bad);
    }
    if (t->is_logits && nd >= 1 && last > 0) {
        t->top1_rows = 0; t->top1_agree = 0; t->max_dlogsoftmax = 0;
        logit_rows(t, g, c, n / (uint64_t)last, last);
    }
    t->scale = 1; t->scale_fits = 0; t->transposed = 0; t->interleaved = 0;
    if (t->ok || t->non_finite) return;
    /* only a failing tensor needs the scratch copy (layout checks below);
     * without memory for it those two checks are skipped */
    scratch = malloc(sizeof *scratch * (size_t)(n + 1));
    /* patterns: a constant scale factor */
    if (sgg > 0) {
        double s = sgc / sgg, worst_s = 0;
        int fin = 1;
        for (i = 0; i < n && fin; i++) {
            if (is_masked_match(g[i], c[i])) continue;
            if (!isfinite(g[i])) { fin = 0; break; }
            if (fabs(c[i] - s * g[i]) > worst_s) worst_s = fabs(c[i] - s * g[i]);
        }
        t->scale = s;
        t->scale_fits = fin && worst_s <= tol * (fabs(s) > 1 ? fabs(s) : 1) &&
                        fabs(s - 1) * t->gmax > tol;
    }
    /* the last two dims swapped (square) */
    if (scratch && nd >= 2 && t->shape[nd - 1] == t->shape[nd - 2] &&
        t->shape[nd - 1] > 1) {
        uint64_t m = (uint64_t)last, mm = m * m, b, r, q;
        for (b = 0; b < n; b += mm)
            for (r = 0; r < m; r++)
                for (q = 0; q < m; q++) scratch[b + r * m + q] = g[b + q * m + r];
        t->transposed = all_within(scratch, c, n, tol);
    }
    /* Meta's rotary layout: per head, columns (i, i + hd/2) at (2i, 2i+1) */
    if (scratch && head_dim > 1 && head_dim % 2 == 0 && nd >= 1 &&
        last % head_dim == 0 && rest && is_heads_cols(rest)) {
        uint64_t row, hd = (uint64_t)head_dim, half = hd / 2, h, k;
        for (row = 0; row < n; row += (uint64_t)last)
            for (h = 0; h < (uint64_t)last; h += hd)
                for (k = 0; k < half; k++) {
                    scratch[row + h + 2 * k] = g[row + h + k];
                    scratch[row + h + 2 * k + 1] = g[row + h + k + half];
                }
        t->interleaved = all_within(scratch, c, n, tol);
    }
    free(scratch);
}

/* ---- reading ---- */

#define READ_CHUNK (1u << 20)

/* Decodes n little-endian values of floating type dt at p into o; -1
 * for a type that is not floating. */
static int decode_f64(lr_dtype dt, const unsigned char *p, size_t n, double *o)
{
    size_t i;
    switch (dt) {
    case LR_F64:
        for (i = 0; i < n; i++, p += 8) {
            uint64_t b = (uint64_t)p[0] | (uint64_t)p[1] << 8 |
                         (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
                         (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
                         (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
            memcpy(&o[i], &b, 8);
        }
        return 0;
    case LR_F32:
        for (i = 0; i < n; i++, p += 4) {
            uint32_t b = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                         (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            float v;
            memcpy(&v, &b, 4);
            o[i] = v;
        }
        return 0;
    case LR_F16:
        for (i = 0; i < n; i++, p += 2) o[i] = lr_f16_to_f32(lr_le16(p));
        return 0;
    case LR_BF16:
        for (i = 0; i < n; i++, p += 2) o[i] = lr_bf16_to_f32(lr_le16(p));
        return 0;
    default:
        return -1;
    }
}

/* The bytes of elements [from, from + n) of tensor t: straight from the
 * mapping when f is mapped (no copy), else read into buf. */
static const unsigned char *read_piece(lr_st_file *f, const lr_st_tensor *t,
                                       uint64_t from, size_t n,
                                       unsigned char *buf, lr_error *err)
{
    size_t esz = lr_dtype_size(t->dtype);
    const unsigned char *mapped = lr_st_mapped(f, t);
    lr_st_tensor part = *t;
    if (!lr_dtype_is_float(t->dtype)) {
        lr_fail(err, "%s: tensor '%s' has dtype %s, a floating type was expected",
                lr_st_path(f), t->name, lr_dtype_name(t->dtype));
        return NULL;
    }
    if (mapped) return mapped + from * esz;
    part.offset = t->offset + from * esz;
    part.nelem = n;
    part.nbytes = (uint64_t)n * esz;
    if (lr_st_read_raw(f, &part, buf, err)) {
        lr_fail_prefix(err, "tensor '%s'", t->name);
        return NULL;
    }
    return buf;
}

/* Reads a floating tensor whole as float64 through buf (READ_CHUNK bytes). */
static int read_f64(lr_st_file *f, const lr_st_tensor *t, double *dst,
                    unsigned char *buf, lr_error *err)
{
    size_t chunk = READ_CHUNK / lr_dtype_size(t->dtype), n;
    uint64_t done = 0;
    while (done < t->nelem) {
        const unsigned char *p;
        n = t->nelem - done < chunk ? (size_t)(t->nelem - done) : chunk;
        if (!(p = read_piece(f, t, done, n, buf, err))) return -1;
        decode_f64(t->dtype, p, n, dst + done);
        done += n;
    }
    return 0;
}

/* Running figures of quick_pass: four interleaved partial sums (element j
 * of a block goes to lane j % 4, a fixed order), so that the additions do
 * not wait on each other. */
typedef struct quick_acc {
    double sgg[4], scc[4], sgc[4], sdd[4];
    double gmax, mx;
    uint64_t worst_i;
} quick_acc;

/* Adds elements [base, base + n) (g, c) to a.  Returns 0, or 1 when a sum
 * is not finite: a NaN or infinity on either side, or a difference whose
 * square overflows (the caller then measures element by element).  The
 * worst element is looked for only in a block whose largest difference
 * beats the running maximum: its first occurrence, as an element-by-element
 * search would find. */
static int quick_block(quick_acc *a, const double *g, const double *c,
                       size_t n, uint64_t base)
{
    /* the sums in locals (a may alias g and c as far as the compiler
     * knows, which would store them at every step) */
    double gg0 = a->sgg[0], gg1 = a->sgg[1], gg2 = a->sgg[2], gg3 = a->sgg[3];
    double cc0 = a->scc[0], cc1 = a->scc[1], cc2 = a->scc[2], cc3 = a->scc[3];
    double gc0 = a->sgc[0], gc1 = a->sgc[1], gc2 = a->sgc[2], gc3 = a->sgc[3];
    double dd0 = a->sdd[0], dd1 = a->sdd[1], dd2 = a->sdd[2], dd3 = a->sdd[3];
    double m0 = 0, m1 = 0, m2 = 0, m3 = 0, x0 = 0, x1 = 0, x2 = 0, x3 = 0;
    double bmx;
    size_t j;
    int l;
    for (j = 0; j + 4 <= n; j += 4) {
        double g0 = g[j], g1 = g[j + 1], g2 = g[j + 2], g3 = g[j + 3];
        double c0 = c[j], c1 = c[j + 1], c2 = c[j + 2], c3 = c[j + 3];
        double e0 = c0 - g0, e1 = c1 - g1, e2 = c2 - g2, e3 = c3 - g3;
        double a0 = fabs(g0), a1 = fabs(g1), a2 = fabs(g2), a3 = fabs(g3);
        double d0 = fabs(e0), d1 = fabs(e1), d2 = fabs(e2), d3 = fabs(e3);
        m0 = a0 > m0 ? a0 : m0; m1 = a1 > m1 ? a1 : m1;
        m2 = a2 > m2 ? a2 : m2; m3 = a3 > m3 ? a3 : m3;
        x0 = d0 > x0 ? d0 : x0; x1 = d1 > x1 ? d1 : x1;
        x2 = d2 > x2 ? d2 : x2; x3 = d3 > x3 ? d3 : x3;
        gg0 += g0 * g0; cc0 += c0 * c0; gc0 += g0 * c0; dd0 += e0 * e0;
        gg1 += g1 * g1; cc1 += c1 * c1; gc1 += g1 * c1; dd1 += e1 * e1;
        gg2 += g2 * g2; cc2 += c2 * c2; gc2 += g2 * c2; dd2 += e2 * e2;
        gg3 += g3 * g3; cc3 += c3 * c3; gc3 += g3 * c3; dd3 += e3 * e3;
    }
    a->sgg[0] = gg0; a->sgg[1] = gg1; a->sgg[2] = gg2; a->sgg[3] = gg3;
    a->scc[0] = cc0; a->scc[1] = cc1; a->scc[2] = cc2; a->scc[3] = cc3;
    a->sgc[0] = gc0; a->sgc[1] = gc1; a->sgc[2] = gc2; a->sgc[3] = gc3;
    a->sdd[0] = dd0; a->sdd[1] = dd1; a->sdd[2] = dd2; a->sdd[3] = dd3;
    for (; j < n; j++) { /* the tail, lane j % 4 as above */
        double gv = g[j], cv = c[j], e = cv - gv;
        l = (int)(j & 3);
        m0 = fabs(gv) > m0 ? fabs(gv) : m0;
        x0 = fabs(e) > x0 ? fabs(e) : x0;
        a->sgg[l] += gv * gv; a->scc[l] += cv * cv; a->sgc[l] += gv * cv;
        a->sdd[l] += e * e;
    }
    for (l = 0; l < 4; l++)
        if (!(a->sgg[l] - a->sgg[l] == 0 && a->scc[l] - a->scc[l] == 0 &&
              a->sdd[l] - a->sdd[l] == 0))
            return 1;
    m0 = m0 > m1 ? m0 : m1; m2 = m2 > m3 ? m2 : m3;
    if ((m0 > m2 ? m0 : m2) > a->gmax) a->gmax = m0 > m2 ? m0 : m2;
    x0 = x0 > x1 ? x0 : x1; x2 = x2 > x3 ? x2 : x3;
    bmx = x0 > x2 ? x0 : x2;
    if (bmx > a->mx) {
        a->mx = bmx;
        for (j = 0; j < n && fabs(c[j] - g[j]) != bmx; j++) {}
        a->worst_i = base + j;
    }
    return 0;
}

/* The common case in one streaming pass: golden slice gs and candidate ct
 * are read in pieces of up to READ_CHUNK bytes each (raw, two buffers of
 * READ_CHUNK bytes) and decoded and compared QUICK_BLOCK elements at a time
 * (gb, cb: small enough to stay in the L1 cache); logits a piece of whole
 * rows at a time (gb, cb: QUICK_CHUNK doubles each).  Returns 0 when every
 * element is finite and within tolerance, with t's figures filled; 1 when
 * some element may not be (the caller then reads both whole and measures
 * them); -1 on a read error. */
#define QUICK_CHUNK 131072 /* elements (1 MB of doubles); a row of logits fits */
#define QUICK_BLOCK 1024

static int quick_pass(lr_st_file *gf, const lr_st_tensor *gs, lr_st_file *cf,
                      const lr_st_tensor *ct, unsigned char *raw, double *gb,
                      double *cb, lr_verify_tensor *t, lr_error *err)
{
    size_t gsz = lr_dtype_size(gs->dtype), csz = lr_dtype_size(ct->dtype);
    double sgg, scc, sgc, sdd, tol;
    uint64_t done = 0, worst_i;
    uint64_t V = t->is_logits && t->ndim ? (uint64_t)t->shape[t->ndim - 1] : 0;
    size_t chunk = V ? (size_t)(QUICK_CHUNK / V * V)
                     : READ_CHUNK / (gsz > csz ? gsz : csz);
    quick_acc a;
    memset(&a, 0, sizeof a);
    if (V) t->top1_rows = t->top1_agree = 0, t->max_dlogsoftmax = 0;
    while (done < ct->nelem) {
        size_t n = ct->nelem - done < chunk ? (size_t)(ct->nelem - done) : chunk, j, b;
        const unsigned char *pg = read_piece(gf, gs, done, n, raw, err);
        const unsigned char *pc = pg ? read_piece(cf, ct, done, n, raw + READ_CHUNK, err)
                                     : NULL;
        if (!pc) return -1;
        if (V) {
            decode_f64(gs->dtype, pg, n, gb);
            decode_f64(ct->dtype, pc, n, cb);
            if (quick_block(&a, gb, cb, n, done)) return 1;
            logit_rows(t, gb, cb, n / V, (int64_t)V);
        } else {
            for (j = 0; j < n; j += b) {
                b = n - j < QUICK_BLOCK ? n - j : QUICK_BLOCK;
                decode_f64(gs->dtype, pg + j * gsz, b, gb);
                decode_f64(ct->dtype, pc + j * csz, b, cb);
                if (quick_block(&a, gb, cb, b, done + j)) return 1;
            }
        }
        done += n;
    }
    sgg = (a.sgg[0] + a.sgg[1]) + (a.sgg[2] + a.sgg[3]);
    scc = (a.scc[0] + a.scc[1]) + (a.scc[2] + a.scc[3]);
    sgc = (a.sgc[0] + a.sgc[1]) + (a.sgc[2] + a.sgc[3]);
    sdd = (a.sdd[0] + a.sdd[1]) + (a.sdd[2] + a.sdd[3]);
    tol = t->atol > t->rtol * a.gmax ? t->atol : t->rtol * a.gmax;
    if (!(a.mx <= tol)) return 1;
    t->gmax = a.gmax;
    t->max_abs = a.mx;
    t->max_rel = a.gmax > 0 ? a.mx / a.gmax : 0;
    t->nmse = sgg > 0 ? sdd / sgg : 0;
    t->cosine = sgg > 0 && scc > 0 ? sgc / sqrt(sgg * scc) : (sgg == 0 && scc == 0 ? 1 : 0);
    t->ok = 1;
    t->pos_first = t->pos_last = -1;
    t->head_one = -1;
    t->scale = 1;
    worst_i = a.worst_i;
    {
        int d;
        for (d = t->ndim - 1; d >= 0; d--) {
            t->worst[d] = t->shape[d] ? (int64_t)(worst_i % (uint64_t)t->shape[d]) : 0;
            if (t->shape[d]) worst_i /= (uint64_t)t->shape[d];
        }
    }
    return 0;
}

/* ---- the walk ---- */

static int shape_str(char *buf, size_t cap, int nd, const int64_t *s)
{
    size_t o = 0;
    int d;
    o += (size_t)snprintf(buf + o, cap - o, "[");
    for (d = 0; d < nd && o < cap; d++)
        o += (size_t)snprintf(buf + o, cap - o, d ? ", %lld" : "%lld", (long long)s[d]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
    return 0;
}

static int same_dims(int na, const int64_t *a, int nb, const int64_t *b)
{
    int d;
    if (na != nb) return 0;
    for (d = 0; d < na; d++)
        if (a[d] != b[d]) return 0;
    return 1;
}

/* Applies the map's transforms to golden data of shape (nd, s), in place
 * through tmp; updates s to the candidate layout. */
static void apply_transform(int tr, double *g, double *tmp, uint64_t n,
                            int nd, int64_t *s, int head_dim)
{
    uint64_t i;
    if ((tr & LR_VMAP_INTERLEAVE) && nd >= 1 && head_dim > 1 &&
        head_dim % 2 == 0 && s[nd - 1] % head_dim == 0) {
        uint64_t last = (uint64_t)s[nd - 1], hd = (uint64_t)head_dim,
                 half = hd / 2, row, h, k;
        for (row = 0; row < n; row += last)
            for (h = 0; h < last; h += hd)
                for (k = 0; k < half; k++) {
                    tmp[row + h + 2 * k] = g[row + h + k];
                    tmp[row + h + 2 * k + 1] = g[row + h + k + half];
                }
        for (i = 0; i < n; i++) g[i] = tmp[i];
    }
    if ((tr & LR_VMAP_TRANSPOSE) && nd >= 2) {
        uint64_t r = (uint64_t)s[nd - 2], q = (uint64_t)s[nd - 1], m = r * q,
                 b, a, e;
        int64_t x;
        for (b = 0; b + m <= n && m; b += m)
            for (a = 0; a < r; a++)
                for (e = 0; e < q; e++) tmp[b + e * r + a] = g[b + a * q + e];
        for (i = 0; i < n; i++) g[i] = tmp[i];
        x = s[nd - 2]; s[nd - 2] = s[nd - 1]; s[nd - 1] = x;
    }
}

/* ---- the diagnosis ---- */

typedef struct op_info {
    const char *name, *in1, *in2, *op;
} op_info;

static const op_info layer_ops[] = {
    {"attn_norm", NULL, NULL, "RMSNorm input_layernorm (w * x / sqrt(mean(x^2) + eps))"},
    {"q", "attn_norm", NULL, "q_proj (a transposed weight, or Meta's q/k row order)"},
    {"k", "attn_norm", NULL, "k_proj (a transposed weight, or Meta's q/k row order)"},
    {"v", "attn_norm", NULL, "v_proj"},
    {"q_rope", "q", NULL, "RoPE for queries"},
    {"k_rope", "k", NULL, "RoPE for keys"},
    {"attn_scores", "q_rope", "k_rope", "q k^T / sqrt(head_dim) and the causal mask"},
    {"attn_probs", "attn_scores", NULL, "the softmax over keys"},
    {"attn_out", "attn_probs", "v", "probs . v (query head h reads kv head h / (H/KV))"},
    {"o_proj", "attn_out", NULL, "o_proj"},
    {"h", "o_proj", NULL, "the attention residual (x + o_proj)"},
    {"mlp_norm", "h", NULL, "RMSNorm post_attention_layernorm"},
    {"gate", "mlp_norm", NULL, "gate_proj"},
    {"up", "mlp_norm", NULL, "up_proj"},
    {"act", "gate", "up", "silu(gate) * up"},
    {"mlp_out", "act", NULL, "down_proj"},
    {"out", "mlp_out", "h", "the MLP residual (h + mlp_out)"}};

static const lr_verify_tensor *find_t(const lr_verify_report *r, const char *n)
{
    size_t i;
    for (i = 0; i < r->n; i++)
        if (!strcmp(r->t[i].name, n)) return &r->t[i];
    return NULL;
}

/* "X is within tolerance" / "X is not in the candidate" for the inputs. */
static int inputs_ok(const lr_verify_report *r, const char *a, const char *b,
                     char *say, size_t cap)
{
    const lr_verify_tensor *ta = a ? find_t(r, a) : NULL;
    const lr_verify_tensor *tb = b ? find_t(r, b) : NULL;
    say[0] = 0;
    if (!a) return 0;
    if (!ta || (b && !tb)) {
        snprintf(say, cap, "%s%s%s not compared (absent from one dump)", a,
                 b ? " / " : "", b ? b : "");
        return 0;
    }
    if (!ta->ok || (tb && !tb->ok)) return 0;
    snprintf(say, cap, "%s%s%s %s within tolerance", a, b ? " and " : "",
             b ? b : "", b ? "are" : "is");
    return 1;
}

static void idx_str(char *buf, size_t cap, const lr_verify_tensor *t)
{
    shape_str(buf, cap, t->ndim, t->worst);
}

static void diagnose(lr_verify_report *r)
{
    const lr_verify_tensor *t = &r->t[r->first];
    const char *rest = NULL, *op = NULL;
    char in1[96], in2[96], inputs[240], idx[160], *d = r->diagnosis;
    size_t cap = sizeof r->diagnosis, o = 0;
    long layer = parse_layer(t->name, &rest);
    int ins = 0, i;
    in1[0] = in2[0] = inputs[0] = 0;
    idx_str(idx, sizeof idx, t);
    if (layer >= 0) {
        for (i = 0; i < (int)(sizeof layer_ops / sizeof layer_ops[0]); i++)
            if (!strcmp(rest, layer_ops[i].name)) {
                const op_info *oi = &layer_ops[i];
                op = oi->op;
                if (oi->in1) snprintf(in1, sizeof in1, "layers.%ld.%s", layer, oi->in1);
                else if (layer == 0) snprintf(in1, sizeof in1, "embed");
                else snprintf(in1, sizeof in1, "layers.%ld.out", layer - 1);
                if (oi->in2) snprintf(in2, sizeof in2, "layers.%ld.%s", layer, oi->in2);
            }
    } else if (!strcmp(t->name, "final_norm")) {
        op = "the final RMSNorm (model.norm)";
        for (i = (int)r->n - 1; i >= 0; i--)
            if (parse_layer(r->t[i].name, &rest) >= 0 && !strcmp(rest, "out")) {
                snprintf(in1, sizeof in1, "%s", r->t[i].name);
                break;
            }
    } else if (!strcmp(t->name, "logits")) {
        op = "lm_head (embed_tokens when tie_word_embeddings)";
        snprintf(in1, sizeof in1, "final_norm");
    } else if (!strcmp(t->name, "loss")) {
        op = "the cross-entropy (labels shifted by one, -100 ignored, mean over scored tokens)";
        snprintf(in1, sizeof in1, "logits");
    } else if (!strcmp(t->name, "embed")) {
        op = "the embedding lookup (rows of embed_tokens)";
    }
    ins = inputs_ok(r, in1[0] ? in1 : NULL, in2[0] ? in2 : NULL, inputs,
                    sizeof inputs);
#define SAY(...) do { if (o < cap) o += (size_t)snprintf(d + o, cap - o, __VA_ARGS__); } while (0)
    SAY("%s: %llu of %llu elements beyond tolerance, worst at %s", t->name,
        (unsigned long long)t->n_bad, (unsigned long long)t->nelem, idx);
    if (t->non_finite) {
        SAY("; %llu non-finite value%s in the candidate where the golden is "
            "finite (overflow, a division by zero, uninitialised memory)",
            (unsigned long long)t->non_finite, t->non_finite > 1 ? "s" : "");
    } else if (t->transposed) {
        SAY("; it equals the golden with its last two dimensions swapped: a "
            "transposed matrix");
    } else if (t->interleaved) {
        SAY("; it equals the golden with each head's rotary pairs (i, i+hd/2) "
            "stored at (2i, 2i+1): q/k in Meta's layout; permute the q_proj/"
            "k_proj rows as the HF conversion does (or map with "
            "\"interleave\": true)");
    } else if (t->scale_fits) {
        SAY("; it is a constant multiple of the golden (candidate = %.6g x "
            "golden): a scale factor, ", t->scale);
        if (strstr(t->name, "lora"))
            SAY("the LoRA scale (lora_alpha / r, or lora_alpha / sqrt(r) with "
                "use_rslora)");
        else if (rest && layer >= 0 && !strcmp(rest, "attn_scores"))
            SAY("the attention scale 1/sqrt(head_dim)");
        else if (strstr(t->name, "norm"))
            SAY("a norm weight (or the LoRA scale of an adapter feeding it)");
        else
            SAY("a missing or extra multiplier (the LoRA scale lora_alpha / r, "
                "a norm weight, 1/sqrt(head_dim))");
    } else if (t->n_bad == 1) {
        SAY("; only that one element is wrong: an indexing or boundary error");
    } else if (t->head_one >= 0 && t->n_heads > 1) {
        SAY("; only head %d of %d diverges: that head's offset (h * head_dim) "
            "or, with GQA, its kv head (h / (H/KV))", t->head_one, t->n_heads);
    } else if (t->n_pos > 1 && t->pos_first > 0) {
        SAY("; it diverges from t = %ld on (positions 0..%ld within tolerance)",
            t->pos_first, t->pos_first - 1);
        if (ins && rest && (!strcmp(rest, "q_rope") || !strcmp(rest, "k_rope")))
            SAY(" while %s: %s at positions >= %ld (rope_theta, rope_scaling, "
                "the angle pos * inv_freq and its precision)", inputs, op,
                t->pos_first);
        else if (ins && op)
            SAY(" while %s: %s at later positions", inputs, op);
        op = NULL;
    }
    if (op && ins) SAY("; %s, so the step between is wrong: %s", inputs, op);
    else if (op && inputs[0]) SAY("; %s; the step: %s", inputs, op);
    else if (op && !in1[0]) SAY("; the step: %s", op);
#undef SAY
}

/* ---- JSON report ---- */

static void json_shape(lr_buf *b, int nd, const int64_t *s)
{
    int d;
    lr_buf_puts(b, "[");
    for (d = 0; d < nd; d++) lr_buf_printf(b, d ? ", %lld" : "%lld", (long long)s[d]);
    lr_buf_puts(b, "]");
}

static void json_key_num(lr_buf *b, const char *key, double v)
{
    lr_buf_printf(b, ", \"%s\": ", key);
    lr_json_write_number(b, v);
}

static void json_names(lr_buf *b, char **names, size_t n)
{
    size_t i;
    lr_buf_puts(b, "[");
    for (i = 0; i < n; i++) {
        if (i) lr_buf_puts(b, ", ");
        lr_json_write_string(b, names[i], strlen(names[i]));
    }
    lr_buf_puts(b, "]");
}

int lr_verify_report_json(const lr_verify_report *r, lr_buf *b)
{
    size_t i;
    lr_buf_printf(b, "{\"pass\": %s,\n\"first_divergence\": ",
                  r->pass ? "true" : "false");
    if (r->first >= 0) {
        const lr_verify_tensor *t = &r->t[r->first];
        lr_buf_puts(b, "{\"tensor\": ");
        lr_json_write_string(b, t->name, strlen(t->name));
        lr_buf_puts(b, ", \"candidate_tensor\": ");
        lr_json_write_string(b, t->cand_name, strlen(t->cand_name));
        lr_buf_puts(b, ", \"index\": ");
        json_shape(b, t->ndim, t->worst);
        json_key_num(b, "max_rel", t->max_rel);
        json_key_num(b, "max_abs", t->max_abs);
        json_key_num(b, "rtol", t->rtol);
        json_key_num(b, "atol", t->atol);
        lr_buf_puts(b, ", \"diagnosis\": ");
        lr_json_write_string(b, r->diagnosis, strlen(r->diagnosis));
        lr_buf_puts(b, "}");
    } else {
        lr_buf_puts(b, "null");
    }
    lr_buf_printf(b, ",\n\"max_position\": %ld,\n\"tensors\": [", r->max_pos);
    for (i = 0; i < r->n; i++) {
        const lr_verify_tensor *t = &r->t[i];
        lr_buf_puts(b, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
        lr_json_write_string(b, t->name, strlen(t->name));
        lr_buf_puts(b, ", \"candidate_name\": ");
        lr_json_write_string(b, t->cand_name, strlen(t->cand_name));
        lr_buf_puts(b, ", \"shape\": ");
        json_shape(b, t->ndim, t->shape);
        lr_buf_printf(b, ", \"golden_dtype\": \"%s\", \"dtype\": \"%s\", "
                      "\"compute\": \"%s\"", lr_dtype_name(t->gdtype),
                      lr_dtype_name(t->cdtype), lr_dtype_name(t->compute));
        json_key_num(b, "max_abs", t->max_abs);
        json_key_num(b, "max_rel", t->max_rel);
        json_key_num(b, "nmse", t->nmse);
        json_key_num(b, "cosine", t->cosine);
        lr_buf_printf(b, ", \"non_finite\": %llu, \"n_bad\": %llu",
                      (unsigned long long)t->non_finite, (unsigned long long)t->n_bad);
        json_key_num(b, "rtol", t->rtol);
        json_key_num(b, "atol", t->atol);
        if (t->is_logits) {
            lr_buf_printf(b, ", \"top1_agree\": %ld, \"top1_positions\": %ld",
                          t->top1_agree, t->top1_rows);
            json_key_num(b, "max_dlogsoftmax", t->max_dlogsoftmax);
        }
        lr_buf_printf(b, ", \"ok\": %s}", t->ok ? "true" : "false");
    }
    lr_buf_puts(b, "\n],\n\"only_golden\": ");
    json_names(b, r->only_golden, r->n_only_golden);
    lr_buf_puts(b, ",\n\"only_candidate\": ");
    json_names(b, r->only_candidate, r->n_only_candidate);
    lr_buf_puts(b, "}\n");
    return b->oom ? -1 : 0;
}

static int push_name(char ***list, size_t *n, const char *name, lr_error *err)
{
    char **l = realloc(*list, (*n + 1) * sizeof **list);
    if (!l) return lr_fail(err, "out of memory listing tensors");
    *list = l;
    if (!(l[*n] = lr_strdup(name, err))) return -1;
    (*n)++;
    return 0;
}

/* Positions of the golden's row (position_ids), else 0 .. T-1. */
static long golden_max_pos(lr_st_file *gf, int row, lr_error *err)
{
    const lr_st_tensor *p = lr_st_find(gf, "position_ids");
    const lr_st_tensor *e = lr_st_find(gf, "logits");
    long mx = 0;
    if (!e) e = lr_st_find(gf, "embed");
    if (p && !lr_dtype_is_float(p->dtype) && p->nelem > 0 && p->nelem < (1u << 26)) {
        int64_t *v = lr_alloc((size_t)p->nelem, sizeof *v, "position_ids", err);
        uint64_t i, per = p->ndim >= 2 ? (uint64_t)p->shape[p->ndim - 1] : p->nelem,
                    b0 = p->ndim >= 2 && (uint64_t)row * per < p->nelem ? (uint64_t)row * per : 0;
        if (!v || lr_st_read_i64(gf, p, v, err)) { free(v); return -1; }
        for (i = b0; i < b0 + per && i < p->nelem; i++)
            if (v[i] > mx) mx = (long)v[i];
        free(v);
        return mx;
    }
    if (e && e->ndim >= 2) mx = (long)e->shape[e->ndim - 2] - 1;
    return mx;
}

static void golden_heads(lr_st_file *gf, lr_verify_report *r)
{
    const lr_st_tensor *s = lr_st_find(gf, "layers.0.attn_scores");
    const lr_st_tensor *q = lr_st_find(gf, "layers.0.q");
    if (!s) s = lr_st_find(gf, "layers.0.attn_probs");
    if (s && s->ndim >= 3 && q && q->ndim >= 1 && s->shape[s->ndim - 3] > 0) {
        r->n_heads = (int)s->shape[s->ndim - 3];
        if (q->shape[q->ndim - 1] % r->n_heads == 0)
            r->head_dim = (int)(q->shape[q->ndim - 1] / r->n_heads);
    }
}

/* Compares integer tensors present on both sides (the inputs): they must
 * be the same, else the dumps are not of the same computation. */
static int check_inputs(lr_st_file *gf, lr_st_file *cf, const lr_st_tensor *gt,
                        const lr_st_tensor *ct, int row, lr_error *err)
{
    int64_t *a = NULL, *b = NULL;
    uint64_t i, off = 0, n = ct->nelem;
    int rc = 0;
    if (lr_dtype_is_float(ct->dtype))
        return lr_fail(err, "%s: tensor '%s' is %s, the golden %s has it as %s",
                       lr_st_path(cf), ct->name, lr_dtype_name(ct->dtype),
                       lr_st_path(gf), lr_dtype_name(gt->dtype));
    if (gt->nelem > (1u << 26) || n > gt->nelem) return 0;
    if (n < gt->nelem && gt->ndim >= 2) off = (uint64_t)row * n;
    if (off + n > gt->nelem) return 0;
    a = lr_alloc((size_t)gt->nelem + 1, sizeof *a, "golden inputs", err);
    b = a ? lr_alloc((size_t)n + 1, sizeof *b, "candidate inputs", err) : NULL;
    if (!b || lr_st_read_i64(gf, gt, a, err) || lr_st_read_i64(cf, ct, b, err)) {
        free(a); free(b);
        return -1;
    }
    for (i = 0; i < n; i++)
        if (a[off + i] != b[i]) {
            rc = lr_fail(err, "%s: '%s' differs from the golden %s's at element "
                         "%llu (%lld vs %lld): the dumps are not of the same inputs",
                         lr_st_path(cf), ct->name, lr_st_path(gf),
                         (unsigned long long)i, (long long)b[i], (long long)a[off + i]);
            break;
        }
    free(a); free(b);
    return rc;
}

/* gs = row `row` of golden tensor gt's batch (its leading dimension), per
 * elements a row: the slice compared when the candidate has one sequence. */
static int golden_row(lr_st_file *gf, const lr_st_tensor *gt, int row,
                      uint64_t per, lr_st_tensor *gs, lr_error *err)
{
    if (row >= gt->shape[0])
        return lr_fail(err, "--row %d: golden tensor '%s' in %s has a batch of %lld",
                       row, gt->name, lr_st_path(gf), (long long)gt->shape[0]);
    gs->nelem = per;
    gs->nbytes = per * lr_dtype_size(gt->dtype);
    gs->offset = gt->offset + (uint64_t)row * gs->nbytes;
    gs->ndim = gt->ndim - 1;
    memmove(gs->shape, gt->shape + 1, sizeof gs->shape[0] * (LR_MAX_DIMS - 1));
    return 0;
}

int lr_verify(lr_st_file *gf, lr_st_file *cf, const lr_verify_opts *o,
              lr_verify_report *r, lr_error *err)
{
    size_t ng = lr_st_count(gf), nc = lr_st_count(cf), i, j;
    const lr_st_tensor **order = NULL;
    unsigned char *hit = NULL;
    double *g = NULL, *c = NULL, *tmp = NULL;
    unsigned char *rbuf = NULL;
    double *qbuf = NULL;
    size_t cap = 0;
    lr_verify_map bm;
    lr_verify_opts def;
    if (!o) { lr_verify_opts_init(&def); o = &def; }
    memset(r, 0, sizeof *r);
    memset(&bm, 0, sizeof bm);
    r->first = -1;
    if (o->row < 0) return lr_fail(err, "row %d: must be >= 0", o->row);
    golden_heads(gf, r);
    if ((r->max_pos = golden_max_pos(gf, o->row, err)) < 0) return -1;
    order = lr_alloc(ng + 1, sizeof *order, "tensor order", err);
    hit = lr_zalloc(nc + 1, 1, "candidate flags", err);
    r->t = lr_zalloc(ng + 1, sizeof *r->t, "report", err);
    rbuf = lr_alloc(2 * READ_CHUNK, 1, "read buffer", err);
    qbuf = lr_alloc(2 * QUICK_CHUNK, sizeof *qbuf, "read buffer", err);
    if (!order || !hit || !r->t || !rbuf || !qbuf) goto fail;
    for (i = 0; i < ng; i++) order[i] = lr_st_at(gf, i);
    qsort(order, ng, sizeof *order, cmp_tensor_ptr);
    if (o->builtin_map &&
        lr_verify_map_builtin(o->builtin_map, gf, cf, &bm, err))
        goto fail;
    if (o->map) /* every map entry must name tensors that exist */
        for (i = 0; i < o->map->n; i++) {
            const lr_verify_map_entry *e = &o->map->e[i];
            if (!lr_st_find(gf, e->golden)) {
                lr_fail(err, "%s: the map names golden tensor '%s', which %s "
                        "does not have", o->map->source ? o->map->source : "name map",
                        e->golden, lr_st_path(gf));
                goto fail;
            }
            if (!lr_st_find(cf, e->candidate)) {
                lr_fail(err, "%s: the map names candidate tensor '%s' (for '%s'), "
                        "which %s does not have", o->map->source ? o->map->source
                        : "name map", e->candidate, e->golden, lr_st_path(cf));
                goto fail;
            }
        }
    for (i = 0; i < ng; i++) {
        const lr_st_tensor *gt = order[i], *ct;
        const lr_verify_map_entry *me = map_find(o->map, gt->name)
                                        ? map_find(o->map, gt->name)
                                        : map_find(&bm, gt->name);
        const char *cname = me ? me->candidate : gt->name;
        lr_st_tensor gs = *gt; /* the golden slice compared */
        int64_t gshape[LR_MAX_DIMS];
        int gnd, tr = me ? me->transform : 0, d, k;
        lr_verify_tensor *t;
        char s1[160], s2[160];
        ct = lr_st_find(cf, cname);
        if (!ct) {
            if (push_name(&r->only_golden, &r->n_only_golden, gt->name, err)) goto fail;
            continue;
        }
        for (j = 0; j < nc; j++)
            if (lr_st_at(cf, j) == ct) hit[j] = 1;
        if (!lr_dtype_is_float(gt->dtype)) {
            if (check_inputs(gf, cf, gt, ct, o->row, err)) goto fail;
            continue;
        }
        if (!lr_dtype_is_float(ct->dtype)) {
            lr_fail(err, "%s: tensor '%s' has dtype %s; the golden '%s' is %s",
                    lr_st_path(cf), ct->name, lr_dtype_name(ct->dtype), gt->name,
                    lr_dtype_name(gt->dtype));
            goto fail;
        }
        /* shapes: golden (after the map's transpose) equal to the
         * candidate's, or one of them with a leading batch dimension */
        gnd = gt->ndim;
        memcpy(gshape, gt->shape, sizeof gshape);
        if ((tr & LR_VMAP_TRANSPOSE) && gnd >= 2) {
            int64_t x = gshape[gnd - 1];
            gshape[gnd - 1] = gshape[gnd - 2]; gshape[gnd - 2] = x;
        }
        if ((tr & LR_VMAP_RESHAPE) && ct->nelem == gt->nelem) {
            /* the same elements in the same order */
        } else if ((tr & LR_VMAP_RESHAPE) && gt->ndim >= 2 && gt->shape[0] > 0 &&
                   gt->nelem / (uint64_t)gt->shape[0] == ct->nelem) {
            uint64_t per = ct->nelem;
            if (golden_row(gf, gt, o->row, per, &gs, err)) goto fail;
        } else if (same_dims(gnd, gshape, ct->ndim, ct->shape)) {
            /* compare everything */
        } else if ((gnd == ct->ndim + 1 && same_dims(ct->ndim, gshape + 1,
                                                     ct->ndim, ct->shape)) ||
                   (gnd == ct->ndim && gnd >= 2 && ct->shape[0] == 1 &&
                    same_dims(gnd - 1, gshape + 1, gnd - 1, ct->shape + 1))) {
            /* one row of the golden's batch (the candidate with or without
             * its own batch dimension of one) */
            uint64_t per = gt->shape[0] ? gt->nelem / (uint64_t)gt->shape[0] : 0;
            if (golden_row(gf, gt, o->row, per, &gs, err)) goto fail;
        } else if (ct->ndim == gnd + 1 && ct->shape[0] == 1 &&
                   same_dims(gnd, gshape, gnd, ct->shape + 1)) {
            /* candidate has a batch of one */
        } else {
            shape_str(s1, sizeof s1, gt->ndim, gt->shape);
            shape_str(s2, sizeof s2, ct->ndim, ct->shape);
            lr_fail(err, "shape mismatch: golden '%s' in %s is %s, candidate '%s' "
                    "in %s is %s%s", gt->name, lr_st_path(gf), s1, ct->name,
                    lr_st_path(cf), s2, tr ? " (after the map's transpose)" : "");
            goto fail;
        }
        if (gs.nelem != ct->nelem) {
            lr_fail(err, "internal: element counts of '%s' differ", gt->name);
            goto fail;
        }
        t = &r->t[r->n++];
        if (!(t->name = lr_strdup(gt->name, err)) ||
            !(t->cand_name = lr_strdup(ct->name, err)))
            goto fail;
        t->ndim = ct->ndim;
        for (d = 0; d < ct->ndim; d++) t->shape[d] = ct->shape[d];
        t->gdtype = gt->dtype;
        t->cdtype = ct->dtype;
        t->compute = o->compute >= 0 ? (lr_dtype)o->compute : ct->dtype;
        t->nelem = ct->nelem;
        t->rtol = o->rtol >= 0 ? o->rtol
                               : lr_verify_default_rtol(t->compute, gt->name, r->max_pos);
        if (o->rtol < 0 && o->golden_compute >= 0)
            t->rtol += lr_verify_default_rtol((lr_dtype)o->golden_compute,
                                              gt->name, r->max_pos);
        t->atol = o->atol >= 0 ? o->atol : 0;
        t->is_logits = !strcmp(gt->name, "logits");
        /* the common case in one streaming pass; a tensor that may fail,
         * logits and mapped layouts are read whole and measured */
        k = tr || (t->is_logits && (t->ndim < 1 || t->shape[t->ndim - 1] > QUICK_CHUNK)) ? 1
          : quick_pass(gf, &gs, cf, ct, rbuf, qbuf, qbuf + QUICK_CHUNK, t, err);
        if (k < 0) goto fail;
        if (k) {
            if (ct->nelem > cap || !g) {
                free(g); free(c); free(tmp);
                g = c = tmp = NULL;
                cap = (size_t)ct->nelem;
                if (ct->nelem > (uint64_t)((size_t)-1 / sizeof(double))) {
                    lr_fail(err, "%s: tensor '%s' does not fit in memory", lr_st_path(cf), ct->name);
                    goto fail;
                }
                g = lr_alloc(cap + 1, sizeof *g, gt->name, err);
                c = g ? lr_alloc(cap + 1, sizeof *c, ct->name, err) : NULL;
                if (!c) goto fail;
            }
            if (tr && !tmp && !(tmp = lr_alloc(cap + 1, sizeof *tmp, "map transform", err)))
                goto fail;
            if (read_f64(gf, &gs, g, rbuf, err)) goto fail;
            for (j = 0; j < (size_t)gs.nelem; j++)
                if (g[j] != g[j]) {
                    lr_fail(err, "%s: golden tensor '%s' holds NaN (element %llu): "
                            "not usable as truth", lr_st_path(gf), gt->name,
                            (unsigned long long)j);
                    goto fail;
                }
            if (tr) {
                int64_t s[LR_MAX_DIMS];
                memcpy(s, gs.shape, sizeof s);
                apply_transform(tr, g, tmp, gs.nelem, gs.ndim, s, r->head_dim);
            }
            if (read_f64(cf, ct, c, rbuf, err)) goto fail;
            measure(t, g, c, gt->name, r->head_dim);
        }
        if (!t->ok && r->first < 0) r->first = (long)(r->n - 1);
    }
    for (j = 0; j < nc; j++)
        if (!hit[j] && push_name(&r->only_candidate, &r->n_only_candidate,
                                 lr_st_at(cf, j)->name, err))
            goto fail;
    if (r->n == 0) {
        lr_fail(err, "%s and %s have no floating tensor in common (names: "
                "docs/tensors.md; a name map: --names)", lr_st_path(gf), lr_st_path(cf));
        goto fail;
    }
    r->pass = r->first < 0;
    if (!r->pass) diagnose(r);
    free(order); free(hit); free(g); free(c); free(tmp); free(rbuf); free(qbuf);
    lr_verify_map_free(&bm);
    return 0;
fail:
    free(order); free(hit); free(g); free(c); free(tmp); free(rbuf); free(qbuf);
    lr_verify_map_free(&bm);
    lr_verify_report_free(r);
    return -1;
}

int lr_verify_files(const char *golden, const char *candidate,
                    const lr_verify_opts *o, lr_verify_report *r,
                    lr_error *err)
{
    lr_st_file *gf = NULL, *cf = NULL;
    int rc;
    memset(r, 0, sizeof *r);
    r->first = -1;
    /* mapped where the host can (decoded in place, no copy), else stdio */
    if (lr_st_open(golden, 0, &gf, err)) return lr_fail_prefix(err, "golden");
    if (lr_st_open(candidate, 0, &cf, err)) {
        lr_st_close(gf);
        return lr_fail_prefix(err, "candidate");
    }
    rc = lr_verify(gf, cf, o, r, err);
    lr_st_close(gf);
    lr_st_close(cf);
    return rc;
}

void lr_verify_report_free(lr_verify_report *r)
{
    size_t i;
    if (!r) return;
    for (i = 0; i < r->n; i++) { free(r->t[i].name); free(r->t[i].cand_name); }
    free(r->t);
    for (i = 0; i < r->n_only_golden; i++) free(r->only_golden[i]);
    for (i = 0; i < r->n_only_candidate; i++) free(r->only_candidate[i]);
    free(r->only_golden);
    free(r->only_candidate);
    memset(r, 0, sizeof *r);
    r->first = -1;
}
