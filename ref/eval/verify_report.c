/* verify_report.c - what `llamaref verify` says about a comparison
 * (docs/verify.md): the diagnosis of the first divergence from the
 * pattern of its failing elements and the state of the step's inputs,
 * the table `llamaref verify` prints and the JSON report.
 * Depends on: verify_internal.h (verify.h), json (lr_buf), common. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

int lrv_shape_str(char *buf, size_t cap, int nd, const int64_t *s)
{
    size_t o = 0;
    int d;
    o += (size_t)snprintf(buf + o, cap - o, "[");
    for (d = 0; d < nd && o < cap; d++)
        o += (size_t)snprintf(buf + o, cap - o, d ? ", %lld" : "%lld", (long long)s[d]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
    return 0;
}

/* ---- the diagnosis ---- */

/* A failing tensor with at least half its elements beyond tolerance and a
 * cosine with the golden of at least this is "small and spread": a
 * precision difference (a layout bug, a wrong head or position gives a
 * cosine far from 1).  llama.cpp's Q8-quantised activations on SmolLM2:
 * 0.99999 at the first matmul (docs/smollm2.md). */
#define LRV_SPREAD_COSINE 0.999

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
    lrv_shape_str(buf, cap, t->ndim, t->worst);
}

void lrv_diagnose(lr_verify_report *r)
{
    const lr_verify_tensor *t = &r->t[r->first];
    const char *rest = NULL, *op = NULL;
    char in1[96], in2[96], inputs[240], idx[160], *d = r->diagnosis;
    size_t cap = sizeof r->diagnosis, o = 0;
    long layer = lrv_parse_layer(t->name, &rest);
    int ins = 0, i, spread = 0;
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
            if (lrv_parse_layer(r->t[i].name, &rest) >= 0 && !strcmp(rest, "out")) {
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
    } else if (t->n_bad * 2 >= t->nelem && t->cosine >= LRV_SPREAD_COSINE) {
        SAY("; the difference is small and spread over the tensor (cosine "
            "%.6f, nmse %.3g): a precision difference, not a layout or "
            "indexing error: arithmetic coarser than the tolerance assumes "
            "(quantised activations, as llama.cpp's Q8 blocks for quantised "
            "weights; lower-precision weights or accumulation); --compute or "
            "--rtol sets what is expected", t->cosine, t->nmse);
        spread = 1;
    }
    if (op && ins && spread) /* the op's name, without its layout hints */
        SAY("; %s, so it arises in the step between: %.*s", inputs,
            (int)(strstr(op, " (") ? (size_t)(strstr(op, " (") - op) : strlen(op)), op);
    else if (op && ins) SAY("; %s, so the step between is wrong: %s", inputs, op);
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

/* "[2,5,64]": the shape as the table prints it */
static void text_shape(const lr_verify_tensor *t, char *buf, size_t cap)
{
    size_t o = 0;
    int d;
    o += (size_t)snprintf(buf, cap, "[");
    for (d = 0; d < t->ndim && o < cap; d++)
        o += (size_t)snprintf(buf + o, cap - o, d ? ",%lld" : "%lld",
                              (long long)t->shape[d]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

int lr_verify_report_text(const lr_verify_report *r, lr_buf *b)
{
    size_t i;
    char shape[96];
    lr_buf_printf(b, "%-28s %-16s %10s %10s %10s %10s %9s %6s %s\n", "tensor", "shape",
                  "max_abs", "max_rel", "rtol", "nmse", "cosine", "nonfin", "");
    for (i = 0; i < r->n; i++) {
        const lr_verify_tensor *t = &r->t[i];
        text_shape(t, shape, sizeof shape);
        lr_buf_printf(b, "%-28s %-16s %10.3g %10.3g %10.3g %10.3g %9.6f %6llu %s\n",
                      t->name, shape, t->max_abs, t->max_rel, t->rtol, t->nmse,
                      t->cosine, (unsigned long long)t->non_finite,
                      t->ok ? "ok" : (long)i == r->first ? "FIRST DIVERGENCE" : "BAD");
        if (t->is_logits)
            lr_buf_printf(b, "%-28s top-1 agrees at %ld of %ld positions, max |d "
                          "log-softmax| %.3g\n", "", t->top1_agree, t->top1_rows,
                          t->max_dlogsoftmax);
    }
    for (i = 0; i < r->n_only_golden; i++)
        lr_buf_printf(b, "only in golden:    %s\n", r->only_golden[i]);
    for (i = 0; i < r->n_only_candidate; i++)
        lr_buf_printf(b, "only in candidate: %s\n", r->only_candidate[i]);
    if (r->pass)
        lr_buf_printf(b, "PASS: %lu tensors within tolerance\n", (unsigned long)r->n);
    else
        lr_buf_printf(b, "FIRST DIVERGENCE: %s\n", r->diagnosis);
    return b->oom ? -1 : 0;
}

int lr_verify_report_save_json(const lr_verify_report *r, const char *path,
                               lr_error *err)
{
    lr_buf b = {0};
    int rc = lr_verify_report_json(r, &b) ? lr_fail(err, "out of memory")
                                          : lr_write_file_atomic(path, b.data, b.len, err);
    lr_buf_free(&b);
    return rc;
}
