/* adapter.c - PEFT adapter directories (see adapter.h).
 * Depends on: lora, json, safetensors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/adapter.h"
#include "llamaref/json.h"
#include "llamaref/safetensors.h"

void lr_adapter_key(char *buf, size_t size, int layer, int target, char ab)
{
    snprintf(buf, size, "base_model.model.model.layers.%d.%s.lora_%c.weight",
             layer, lr_lora_target_path(target), ab);
}

static int json_is_empty(const lr_json *v)
{
    return !v || v->type == LR_JSON_NULL ||
           ((v->type == LR_JSON_OBJECT || v->type == LR_JSON_ARRAY) &&
            v->len == 0);
}

int lr_adapter_read_config(const char *dir, int n_layers, lr_lora_config *cfg,
                           lr_error *err)
{
    char *path = lr_path_join(dir, "adapter_config.json", err);
    lr_json_doc *doc = NULL;
    const lr_json *root, *v;
    int64_t r;
    double alpha;
    size_t i;
    int rc = -1;
    memset(cfg, 0, sizeof *cfg);
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
    v = lr_json_get(root, "use_dora");
    if (v && v->type == LR_JSON_TRUE) {
        lr_fail(err, "%s: use_dora (DoRA) is not supported", path);
        goto done;
    }
    v = lr_json_get(root, "fan_in_fan_out");
    if (v && v->type == LR_JSON_TRUE) {
        lr_fail(err, "%s: fan_in_fan_out true is not supported", path);
        goto done;
    }
    v = lr_json_get(root, "bias");
    if (v && !(v->type == LR_JSON_STRING && !strcmp(v->str, "none"))) {
        lr_fail(err, "%s: bias must be \"none\"", path);
        goto done;
    }
    if (!json_is_empty(lr_json_get(root, "rank_pattern")) ||
        !json_is_empty(lr_json_get(root, "alpha_pattern"))) {
        lr_fail(err, "%s: rank_pattern/alpha_pattern are not supported", path);
        goto done;
    }
    if (!json_is_empty(lr_json_get(root, "modules_to_save"))) {
        lr_fail(err, "%s: modules_to_save is not supported", path);
        goto done;
    }
    v = lr_json_get(root, "target_modules");
    if (v && v->type == LR_JSON_STRING) {
        if (lr_lora_parse_targets(v->str, &cfg->targets, err)) {
            lr_fail_prefix(err, "%s: target_modules (regular expressions "
                           "are not supported)", path);
            goto done;
        }
    } else if (v && v->type == LR_JSON_ARRAY) {
        for (i = 0; i < v->len; i++) {
            int t = v->items[i].type == LR_JSON_STRING
                        ? lr_lora_target_from_name(v->items[i].str) : -1;
            if (t < 0) {
                lr_fail(err, "%s:%d: target_modules[%lu] is not one of "
                        "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, "
                        "down_proj", path, v->items[i].line, (unsigned long)i);
                goto done;
            }
            cfg->targets |= 1u << t;
        }
    }
    if (!cfg->targets) {
        lr_fail(err, "%s: target_modules is missing or empty", path);
        goto done;
    }
    cfg->n_layers = n_layers;
    v = lr_json_get(root, "layers_to_transform");
    if (!json_is_empty(v)) {
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
    rc = 0;
done:
    lr_json_free(doc);
    free(path);
    return rc;
}

int lr_adapter_load(const char *dir, const lr_config *mc, lr_lora *lo,
                    lr_error *err)
{
    lr_lora_config cfg;
    lr_st_file *f = NULL;
    char *path = NULL, key[160];
    size_t i, used = 0;
    int l, t, k, rc = -1;
    memset(lo, 0, sizeof *lo);
    if (lr_adapter_read_config(dir, mc->num_hidden_layers, &cfg, err))
        return -1;
    if (lr_lora_alloc(lo, mc, &cfg, err)) {
        lr_fail_prefix(err, "%s", dir);
        goto done;
    }
    path = lr_path_join(dir, "adapter_model.safetensors", err);
    if (!path || lr_st_open(path, 0, &f, err)) goto done;
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
                    lr_fail(err, "%s: missing tensor %s", path, key);
                    goto done;
                }
                if (st->ndim != 2 || st->shape[0] != rows ||
                    st->shape[1] != cols) {
                    lr_fail(err, "%s: tensor %s should have shape [%lld, %lld]",
                            path, key, (long long)rows, (long long)cols);
                    goto done;
                }
                if (lr_st_read_lr(f, st, lo->params + (k ? s->b_off : s->a_off),
                                  err))
                    goto done;
                used++;
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
