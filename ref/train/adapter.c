/* adapter.c - PEFT adapter directories (see adapter.h).
 * Depends on: lora, json, safetensors, model, and for
 * lr_adapter_merge_save tokenizer, gguf and quant (a merge into a .gguf). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/train/adapter.h"
#include "llamaref/formats/gguf.h"
#include "llamaref/core/json.h"
#include "llamaref/model/model.h"
#include "llamaref/formats/quant.h"
#include "llamaref/formats/safetensors.h"
#include "llamaref/tokenizer/tokenizer.h"

void lr_adapter_key(char *buf, size_t size, int layer, int target, char ab)
{
    snprintf(buf, size, "base_model.model.model.layers.%d.%s.lora_%c.weight",
             layer, lr_lora_target_path(target), ab);
}

static int json_is_empty(const lr_json *v)
{
    return !v || v->type == LR_JSON_NULL || v->type == LR_JSON_FALSE ||
           ((v->type == LR_JSON_OBJECT || v->type == LR_JSON_ARRAY ||
             v->type == LR_JSON_STRING) && v->len == 0);
}

/* Reads the config.  PEFT matches target_modules against module names such
 * as "model.layers.3.mlp.up_proj": a string is a regular expression
 * (re.fullmatch), a list entry matches a name equal to it or ending in
 * ".entry" (then layers_to_transform filters), exclude_modules removes
 * names the same way.  A list of bare names (q_proj ... down_proj) is
 * resolved here; anything else (a regex, "model.layers.0.mlp.up_proj",
 * names of other architectures, exclude_modules) sets *from_file: the
 * adapted modules are then the ones whose tensors PEFT saved. */
static int read_config(const char *dir, int n_layers, lr_lora_config *cfg,
                       int *from_file, lr_error *err)
{
    static const char *const unsupported[] = {
        "use_dora", "DoRA", "fan_in_fan_out", "fan_in_fan_out",
        "lora_bias", "a bias on lora_B (lora_bias)",
        "use_qalora", "QA-LoRA (use_qalora)",
        "modules_to_save", "modules_to_save",
        "layer_replication", "layer_replication",
        "target_parameters", "target_parameters",
        "trainable_token_indices", "trainable_token_indices",
        "rank_pattern", "rank_pattern (per-module ranks)",
        "alpha_pattern", "alpha_pattern (per-module alphas)"};
    char *path = lr_path_join(dir, "adapter_config.json", err);
    lr_json_doc *doc = NULL;
    const lr_json *root, *v;
    int64_t r;
    double alpha;
    size_t i;
    int rc = -1;
    memset(cfg, 0, sizeof *cfg);
    *from_file = 0;
    if (!path) return -1;
    if (lr_json_parse_file(path, &doc, err)) goto done;
    root = lr_json_root(doc);
    if (root->type != LR_JSON_OBJECT) {
        lr_fail(err, "%s: not a JSON object", path);
        goto done;
    }
    v = lr_json_get(root, "peft_type");
    if (!v || v->type != LR_JSON_STRING || strcmp(v->str, "LORA")) {
        lr_fail(err, "%s: peft_type is not \"LORA\"", path);
        goto done;
    }
    if (lr_json_get_int(root, "r", path, &r, err) ||
        lr_json_get_number(root, "lora_alpha", path, &alpha, err))
        goto done;
    if (r < 1 || r > 1 << 20) {
        lr_fail(err, "%s: r = %lld is not a valid rank", path, (long long)r);
        goto done;
    }
    cfg->r = (int)r;
    cfg->alpha = alpha;
    v = lr_json_get(root, "lora_dropout");
    cfg->dropout = v && v->type == LR_JSON_NUMBER ? v->number : 0;
    v = lr_json_get(root, "use_rslora");
    cfg->use_rslora = v && v->type == LR_JSON_TRUE;
    /* options that change the function or add tensors: false, null, {} or
     * [] (as PEFT writes its defaults) are fine, anything else is refused */
    for (i = 0; i < sizeof unsupported / sizeof *unsupported; i += 2)
        if (!json_is_empty(lr_json_get(root, unsupported[i]))) {
            lr_fail(err, "%s: %s is not supported", path, unsupported[i + 1]);
            goto done;
        }
    v = lr_json_get(root, "bias");
    if (v && !(v->type == LR_JSON_STRING && !strcmp(v->str, "none"))) {
        lr_fail(err, "%s: bias must be \"none\"", path);
        goto done;
    }
    v = lr_json_get(root, "target_modules");
    if (v && v->type == LR_JSON_STRING && !strcmp(v->str, "all-linear")) {
        cfg->targets = (1u << LR_LORA_NTARGETS) - 1; /* every linear but lm_head */
    } else if (v && v->type == LR_JSON_STRING && v->len > 0) {
        *from_file = 1; /* a regular expression */
    } else if (v && v->type == LR_JSON_ARRAY) {
        for (i = 0; i < v->len; i++) {
            int t = v->items[i].type == LR_JSON_STRING
                        ? lr_lora_target_from_name(v->items[i].str) : -1;
            if (v->items[i].type != LR_JSON_STRING) {
                lr_fail(err, "%s:%d: target_modules[%lu] is not a string",
                        path, v->items[i].line, (unsigned long)i);
                goto done;
            }
            if (t < 0) *from_file = 1;
            else cfg->targets |= 1u << t;
        }
    }
    if (!json_is_empty(lr_json_get(root, "exclude_modules"))) *from_file = 1;
    if (!cfg->targets && !*from_file) {
        lr_fail(err, "%s: target_modules is missing or empty", path);
        goto done;
    }
    cfg->n_layers = n_layers;
    v = lr_json_get(root, "layers_to_transform");
    if (!json_is_empty(v) && !*from_file) {
        size_t n = v->type == LR_JSON_ARRAY ? v->len : 1;
        cfg->layers = lr_zalloc((size_t)n_layers, 1, "LoRA layers", err);
        if (!cfg->layers) goto done;
        for (i = 0; i < n; i++) {
            const lr_json *e = v->type == LR_JSON_ARRAY ? &v->items[i] : v;
            if (e->type != LR_JSON_NUMBER || !e->is_integer ||
                e->integer < 0 || e->integer >= n_layers) {
                lr_fail(err, "%s:%d: layers_to_transform entry is not a layer "
                        "index in [0, %d)", path, e->line, n_layers);
                free(cfg->layers);
                cfg->layers = NULL;
                goto done;
            }
            cfg->layers[e->integer] = 1;
        }
    }
    if (*from_file) cfg->targets = 0;
    rc = 0;
done:
    lr_json_free(doc);
    free(path);
    return rc;
}

int lr_adapter_read_config(const char *dir, int n_layers, lr_lora_config *cfg,
                           lr_error *err)
{
    int from_file;
    if (read_config(dir, n_layers, cfg, &from_file, err)) return -1;
    if (from_file)
        return lr_fail(err, "%s/adapter_config.json: target_modules / "
                       "exclude_modules are resolved from the saved tensors "
                       "(use lr_adapter_load)", dir);
    return 0;
}

/* (layer, target, 'A'/'B') of a PEFT key, or -1 when name is not one. */
static int parse_key(const char *name, int n_layers, int *layer, int *target,
                     char *ab)
{
    static const char prefix[] = "base_model.model.model.layers.";
    const char *p = name + sizeof prefix - 1;
    long l = 0;
    int t;
    if (strncmp(name, prefix, sizeof prefix - 1) || *p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9' && l < n_layers) l = 10 * l + (*p++ - '0');
    if (l >= n_layers || *p++ != '.') return -1;
    for (t = 0; t < LR_LORA_NTARGETS; t++) {
        size_t n = strlen(lr_lora_target_path(t));
        if (!strncmp(p, lr_lora_target_path(t), n) &&
            (!strcmp(p + n, ".lora_A.weight") || !strcmp(p + n, ".lora_B.weight"))) {
            *layer = (int)l;
            *target = t;
            *ab = p[n + 6];
            return 0;
        }
    }
    return -1;
}

/* The adapted (layer, target) set from the tensor names: it must be every
 * listed target in every listed layer (what lr_lora_config can express). */
static int config_from_file(lr_st_file *f, const char *path, int n_layers,
                            lr_lora_config *cfg, lr_error *err)
{
    unsigned char *seen = lr_zalloc((size_t)n_layers * LR_LORA_NTARGETS, 1,
                                    "LoRA layers", err);
    size_t i;
    int l, t, all = 1;
    char ab;
    if (!seen) return -1;
    cfg->layers = lr_zalloc((size_t)n_layers, 1, "LoRA layers", err);
    if (!cfg->layers) { free(seen); return -1; }
    for (i = 0; i < lr_st_count(f); i++) {
        const char *name = lr_st_at(f, i)->name;
        if (parse_key(name, n_layers, &l, &t, &ab)) {
            free(seen);
            return lr_fail(err, "%s: unexpected tensor %s (not a LoRA A/B of "
                           "q/k/v/o/gate/up/down_proj in layers 0..%d)", path,
                           name, n_layers - 1);
        }
        seen[l * LR_LORA_NTARGETS + t] = 1;
        cfg->layers[l] = 1;
        cfg->targets |= 1u << t;
    }
    for (l = 0; l < n_layers; l++) {
        all &= cfg->layers[l];
        for (t = 0; t < LR_LORA_NTARGETS; t++)
            if (cfg->layers[l] && (cfg->targets >> t & 1) &&
                !seen[l * LR_LORA_NTARGETS + t]) {
                free(seen);
                return lr_fail(err, "%s: layer %d has no %s adapter while other "
                               "layers have one (a per-layer set of targets is "
                               "not supported)", path, l, lr_lora_target_name(t));
            }
    }
    free(seen);
    if (!cfg->targets) return lr_fail(err, "%s: no LoRA tensor", path);
    if (all) { free(cfg->layers); cfg->layers = NULL; }
    return 0;
}

int lr_adapter_load(const char *dir, const lr_config *mc, lr_lora *lo,
                    lr_error *err)
{
    lr_lora_config cfg;
    lr_st_file *f = NULL;
    char *path = NULL, key[160];
    size_t i, used = 0;
    int l, t, k, rc = -1, from_file, pass;
    memset(lo, 0, sizeof *lo);
    if (read_config(dir, mc->num_hidden_layers, &cfg, &from_file, err))
        return -1;
    path = lr_path_join(dir, "adapter_model.safetensors", err);
    if (!path || lr_st_open(path, 0, &f, err)) goto done;
    if (from_file &&
        config_from_file(f, path, mc->num_hidden_layers, &cfg, err))
        goto done;
    if (lr_lora_layout(lo, mc, &cfg, err)) {
        lr_fail_prefix(err, "%s", dir);
        goto done;
    }
    /* pass 0 checks that every tensor is there with its shape (so the
     * parameters are bounded by the file: lr_st_open checked each tensor
     * against the file size); pass 1 allocates and reads */
    for (pass = 0; pass < 2; pass++) {
    if (pass == 1) {
        lo->params = lr_zalloc(lo->n_params, sizeof(lr_float), "LoRA parameters", err);
        if (!lo->params) goto done;
    }
    for (l = 0; l < mc->num_hidden_layers; l++)
        for (t = 0; t < LR_LORA_NTARGETS; t++) {
            const lr_lora_slot *s = lr_lora_slot_get(lo, l, t);
            if (!s) continue;
            for (k = 0; k < 2; k++) {
                const lr_st_tensor *st;
                int64_t rows = k ? s->out : cfg.r, cols = k ? cfg.r : s->in;
                lr_adapter_key(key, sizeof key, l, t, k ? 'B' : 'A');
                st = lr_st_find(f, key);
                if (!st) {
                    char alt[180];
                    size_t n = strlen(key) - strlen(".weight");
                    snprintf(alt, sizeof alt, "%.*s.default.weight", (int)n, key);
                    lr_fail(err, "%s: missing tensor %s%s", path, key,
                            lr_st_find(f, alt)
                                ? " (the file has it with the adapter name "
                                  "\".default\": PEFT saves keys without it)"
                                : "");
                    goto done;
                }
                if (st->ndim != 2 || st->shape[0] != rows ||
                    st->shape[1] != cols) {
                    lr_fail(err, "%s: tensor %s should have shape [%lld, %lld]",
                            path, key, (long long)rows, (long long)cols);
                    goto done;
                }
                if (pass == 0) continue;
                if (lr_st_read_lr(f, st, lo->params + (k ? s->b_off : s->a_off),
                                  err))
                    goto done;
                used++;
            }
        }
    }
    if (lr_st_count(f) != used) {
        for (i = 0; i < lr_st_count(f); i++) {
            const char *name = lr_st_at(f, i)->name;
            int found = 0;
            for (l = 0; l < mc->num_hidden_layers && !found; l++)
                for (t = 0; t < LR_LORA_NTARGETS && !found; t++)
                    for (k = 0; k < 2 && !found; k++) {
                        lr_adapter_key(key, sizeof key, l, t, k ? 'B' : 'A');
                        found = lr_lora_slot_get(lo, l, t) && !strcmp(key, name);
                    }
            if (!found) {
                lr_fail(err, "%s: unexpected tensor %s (not implied by "
                        "adapter_config.json)", path, name);
                goto done;
            }
        }
    }
    rc = 0;
done:
    if (f) lr_st_close(f);
    free(path);
    free(cfg.layers);
    if (rc) lr_lora_free(lo);
    return rc;
}

int lr_adapter_save(const char *dir, const lr_lora *lo, const char *base_model,
                    lr_error *err)
{
    lr_buf b = {0};
    lr_st_writer *w = NULL;
    char *path = NULL, key[160];
    int l, t, k, first, rc = -1, all_layers = 1;
    const int L = lo->cfg.n_layers;
    /* adapter_config.json: the fields PEFT 0.13 writes, keys sorted */
    lr_buf_puts(&b, "{\n  \"alpha_pattern\": {},\n  \"auto_mapping\": null,\n"
                    "  \"base_model_name_or_path\": ");
    lr_json_write_string(&b, base_model ? base_model : "",
                         base_model ? strlen(base_model) : 0);
    lr_buf_puts(&b, ",\n  \"bias\": \"none\",\n  \"fan_in_fan_out\": false,\n"
                    "  \"inference_mode\": true,\n"
                    "  \"init_lora_weights\": true,\n"
                    "  \"layer_replication\": null,\n"
                    "  \"layers_pattern\": null,\n"
                    "  \"layers_to_transform\": ");
    if (lo->cfg.layers)
        for (l = 0; l < L; l++) all_layers &= lo->cfg.layers[l] != 0;
    if (!lo->cfg.layers || all_layers) {
        lr_buf_puts(&b, "null");
    } else {
        lr_buf_puts(&b, "[");
        for (l = 0, first = 1; l < L; l++)
            if (lo->cfg.layers[l]) {
                lr_buf_printf(&b, "%s%d", first ? "" : ", ", l);
                first = 0;
            }
        lr_buf_puts(&b, "]");
    }
    lr_buf_puts(&b, ",\n  \"loftq_config\": {},\n  \"lora_alpha\": ");
    lr_json_write_number(&b, lo->cfg.alpha);
    lr_buf_puts(&b, ",\n  \"lora_dropout\": ");
    lr_json_write_number(&b, lo->cfg.dropout);
    lr_buf_printf(&b, ",\n  \"megatron_config\": null,\n"
                      "  \"megatron_core\": \"megatron.core\",\n"
                      "  \"modules_to_save\": null,\n"
                      "  \"peft_type\": \"LORA\",\n  \"r\": %d,\n"
                      "  \"rank_pattern\": {},\n  \"revision\": null,\n"
                      "  \"target_modules\": [", lo->cfg.r);
    for (t = 0, first = 1; t < LR_LORA_NTARGETS; t++)
        if (lo->cfg.targets >> t & 1) {
            lr_buf_printf(&b, "%s\"%s\"", first ? "" : ", ",
                          lr_lora_target_name(t));
            first = 0;
        }
    lr_buf_printf(&b, "],\n  \"task_type\": \"CAUSAL_LM\",\n"
                      "  \"use_dora\": false,\n  \"use_rslora\": %s\n}\n",
                  lo->cfg.use_rslora ? "true" : "false");
    if (b.oom) {
        lr_fail(err, "out of memory writing adapter_config.json");
        goto done;
    }
    path = lr_path_join(dir, "adapter_config.json", err);
    if (!path || lr_write_file_atomic(path, b.data, b.len, err)) goto done;
    free(path);
    path = NULL;
    if (!(w = lr_st_writer_new(err))) goto done;
    for (l = 0; l < L; l++)
        for (t = 0; t < LR_LORA_NTARGETS; t++) {
            const lr_lora_slot *s = lr_lora_slot_get(lo, l, t);
            if (!s) continue;
            for (k = 0; k < 2; k++) {
                int64_t shape[2];
                shape[0] = k ? s->out : lo->cfg.r;
                shape[1] = k ? lo->cfg.r : s->in;
                lr_adapter_key(key, sizeof key, l, t, k ? 'B' : 'A');
                if (lr_st_writer_add_lr(w, key, LR_F32, 2, shape,
                                        lo->params + (k ? s->b_off : s->a_off),
                                        err))
                    goto done;
            }
        }
    path = lr_path_join(dir, "adapter_model.safetensors", err);
    if (!path || lr_st_writer_meta(w, "format", "pt", err) ||
        lr_st_writer_save(w, path, err))
        goto done;
    rc = 0;
done:
    if (w) lr_st_writer_free(w);
    free(path);
    lr_buf_free(&b);
    return rc;
}

/* The tokenizer files of the model directory src copied into dst (those
 * that exist), so that the merged model is complete. */
static int copy_tokenizer_files(const char *src, const char *dst, lr_error *err)
{
    static const char *const names[] = {
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "tokenizer.model", "generation_config.json"};
    size_t k;
    if (!lr_path_is_dir(src)) return 0;
    for (k = 0; k < sizeof names / sizeof names[0]; k++) {
        char *from = lr_path_join(src, names[k], err), *to = NULL, *data = NULL;
        size_t len;
        FILE *f;
        int r = 0;
        if (!from || !(to = lr_path_join(dst, names[k], err))) r = -1;
        else if ((f = fopen(from, "rb")) != NULL) {
            fclose(f);
            r = lr_read_file(from, &data, &len, err) ||
                lr_write_file_atomic(to, data, len, err);
        }
        free(data);
        free(from);
        free(to);
        if (r) return -1;
    }
    return 0;
}

int lr_adapter_merge_save(const char *model_path, const char *adapter_dir,
                          const char *out, lr_error *err)
{
    lr_model *m = NULL;
    lr_lora lo;
    lr_tokenizer tok;
    size_t n = strlen(out);
    const int to_gguf = n >= 5 && !strcmp(out + n - 5, ".gguf");
    int rc, have_tok = 0;
    memset(&lo, 0, sizeof lo);
    rc = lr_model_load(model_path, NULL, &m, err) ||
         lr_adapter_load(adapter_dir, &m->config, &lo, err) ||
         lr_lora_merge(m, &lo, err);
    if (!rc && to_gguf) {
        /* the base's tokenizer as tokenizer.ggml.* (any format it loads from) */
        if (lr_tokenizer_load(model_path, &tok, err)) {
            char why[sizeof err->msg];
            memcpy(why, err->msg, sizeof why);
            lr_fail(err, "%s (a GGUF out needs the base's tokenizer)", why);
            rc = 1;
        } else {
            have_tok = 1;
            rc = lr_model_save_gguf(m, &tok, out,
                                    m->stored_dtype == LR_BF16 ? LR_GGML_BF16
                                    : m->stored_dtype == LR_F16 ? LR_GGML_F16
                                                                : LR_GGML_F32,
                                    err) != 0;
        }
    } else if (!rc) {
        rc = lr_model_save_hf(m, out, m->stored_dtype == LR_BF16 ||
                                      m->stored_dtype == LR_F16
                                          ? m->stored_dtype : LR_FLOAT_DTYPE, err) ||
             copy_tokenizer_files(model_path, out, err);
    }
    if (have_tok) lr_tokenizer_free(&tok);
    lr_lora_free(&lo);
    lr_model_free(m);
    return rc ? -1 : 0;
}
