/* verify_names.c - the name side of `llamaref verify` (verify.h,
 * docs/verify.md "Name maps"): user maps from JSON, the built-in maps for
 * Hugging Face module paths (vectors/gen/hf_dump.py) and llama.cpp's graph
 * tensor names, and the computation order the walk follows (forward,
 * loss, activation gradients, weight gradients in backward order,
 * optimizer state).
 * Depends on: verify_internal.h (verify.h), json, safetensors, common. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

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

int lr_verify_names(const char *names, lr_verify_opts *o, lr_verify_map *map,
                    lr_error *err)
{
    if (!strcmp(names, "hf") || !strcmp(names, "llama.cpp")) {
        o->builtin_map = names;
        return 0;
    }
    if (lr_verify_map_load(names, map, err)) return -1;
    o->map = map;
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

const lr_verify_map_entry *lrv_map_find(const lr_verify_map *m,
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
 * row-major.  A name seen again is written "<name>#2", "#3" (a dump tool
 * must do so).  Qcur-N/Kcur-N: the first is the projection ([T, QD]); the
 * last one is after RoPE: "#2" where the callback sees two (before and
 * after RoPE), "#3" where it sees three (the release node-llama-cpp 3.22.1
 * ships also names the [T, H, hd] reshape before RoPE).  "a|b": the first
 * that the candidate has.  Checked on a real dump (docs/verify.md). */
static const builtin_entry llamacpp_map[] = {
    {"embed", "embd", 0},
    {"attn_norm", "attn_norm-%d", 0},
    {"q", "Qcur-%d", LR_VMAP_INTERLEAVE | LR_VMAP_RESHAPE},
    {"k", "Kcur-%d", LR_VMAP_INTERLEAVE | LR_VMAP_RESHAPE},
    {"v", "Vcur-%d", LR_VMAP_RESHAPE},
    {"q_rope", "Qcur-%d#3|Qcur-%d#2", LR_VMAP_INTERLEAVE | LR_VMAP_RESHAPE},
    {"k_rope", "Kcur-%d#3|Kcur-%d#2", LR_VMAP_INTERLEAVE | LR_VMAP_RESHAPE},
    {"attn_probs", "kq_soft_max-%d", LR_VMAP_RESHAPE},
    {"attn_out", "kqv_out-%d", LR_VMAP_RESHAPE},
    {"o_proj", "attn_out-%d", 0},
    {"h", "ffn_inp-%d", 0},
    {"mlp_norm", "ffn_norm-%d", 0},
    {"gate", "ffn_gate-%d", 0},
    {"up", "ffn_up-%d", 0},
    {"act", "ffn_swiglu-%d", 0},
    {"mlp_out", "ffn_out-%d", 0},
    {"out", "l_out-%d", 0},
    {"final_norm", "result_norm", 0},
    {"logits", "result_output", 0},
    {NULL, NULL, 0}};

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
        layer = lrv_parse_layer(rest, &rest);
        for (e = tab; e->golden; e++) {
            const char *alt = e->candidate;
            if (strcmp(rest, e->golden) || (layer < 0) != !strstr(e->candidate, "%d"))
                continue;
            while (alt && *alt) { /* "a|b": the first the candidate has */
                const char *bar = strchr(alt, '|');
                char pat[64];
                const lr_st_tensor *ct, *gt = lr_st_at(golden, i);
                snprintf(pat, sizeof pat, "%.*s",
                         (int)(bar ? (size_t)(bar - alt) : strlen(alt)), alt);
                alt = bar ? bar + 1 : NULL;
                snprintf(cname, sizeof cname, "%s", grad ? "d:" : "");
                snprintf(cname + strlen(cname), sizeof cname - strlen(cname),
                         pat, (int)layer);
                if (!(ct = lr_st_find(cand, cname))) continue;
                /* a reshape needs the same elements: a KV cache padded
                 * beyond T (kq_soft_max [H, T, n_ctx]) is left unmapped */
                if ((e->transform & LR_VMAP_RESHAPE) && ct->nelem != gt->nelem &&
                    !(gt->ndim >= 2 && gt->shape[0] > 0 &&
                      gt->nelem / (uint64_t)gt->shape[0] == ct->nelem))
                    break;
                if (lr_verify_map_add(m, g, cname, e->transform, err)) {
                    lr_verify_map_free(m);
                    return -1;
                }
                break;
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
long lrv_parse_layer(const char *name, const char **rest)
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
    if (p && (layer = lrv_parse_layer(p, &rest)) >= 0) {
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
    if ((layer = lrv_parse_layer(name, &rest)) >= 0 &&
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
    if (!strcmp(name, "dlogits")) { k.major = LRV_ORD_BACKWARD; return k; }
    if (!strcmp(name, "dfinal_norm")) { k.major = LRV_ORD_BACKWARD; k.minor = 1; return k; }
    if (name[0] == 'd' && (layer = lrv_parse_layer(name + 1, &rest)) >= 0 &&
        (i = layer_name_index(rest)) >= 0) {
        k.major = LRV_ORD_BACKWARD + 1 + (1000000 - layer);
        k.minor = N_LAYER_NAMES - i;
        return k;
    }
    if (!strcmp(name, "dembed")) { k.major = LRV_ORD_BACKWARD + 1000002; return k; }
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
