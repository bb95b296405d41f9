/* verify_compare.c - comparing one golden/candidate tensor pair for
 * `llamaref verify` (docs/verify.md): the default tolerances per compute
 * type and tensor kind; reading a tensor as float64 in pieces; the one
 * streaming pass that settles the common case (everything within
 * tolerance) with memory bounded by a few MB; and the full measure of a
 * tensor that may fail (positions, heads, scale, transposed or
 * interleaved layouts), which the diagnosis reads.
 * Depends on: verify_internal.h (verify.h), safetensors, common, libm. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

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
    if (k.major >= LRV_ORD_BACKWARD) return 1;
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
    else if (lrv_parse_layer(name, &rest) >= 0) {
        if (!strcmp(rest, "attn_norm") || !strcmp(rest, "mlp_norm")) { a = 8; b = 32; }
        else if (!strcmp(rest, "attn_scores") || !strcmp(rest, "attn_probs") ||
                 !strcmp(rest, "attn_out")) { a = 16; b = 64; }
    } else if (!strcmp(name, "final_norm")) { a = 8; b = 32; }
    else if (!strcmp(name, "logits") || !strcmp(name, "loss")) { a = 16; b = 128; }
    else if (is_grad_like(name) || k.major >= LRV_ORD_BACKWARD) { a = 32; b = 1024; }
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

int lr_verify_compute_from_name(const char *name, int *out)
{
    if (!strcmp(name, "f32")) *out = LR_F32;
    else if (!strcmp(name, "f64")) *out = LR_F64;
    else if (!strcmp(name, "f16")) *out = LR_F16;
    else if (!strcmp(name, "bf16")) *out = LR_BF16;
    else return -1;
    return 0;
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

void lrv_measure(lr_verify_tensor *t, const double *g, const double *c,
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
                     lr_verify_order(name).major < LRV_ORD_BACKWARD;
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
    if (activation && lrv_parse_layer(name, &rest) >= 0) {
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

/* Reads a floating tensor whole as float64 through buf (LRV_READ_CHUNK bytes). */
int lrv_read_f64(lr_st_file *f, const lr_st_tensor *t, double *dst,
                    unsigned char *buf, lr_error *err)
{
    size_t chunk = LRV_READ_CHUNK / lr_dtype_size(t->dtype), n;
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

/* Running figures of lrv_quick_pass: four interleaved partial sums (element j
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
    double m0 = 0, m1 = 0, x0 = 0, x1 = 0; /* max |g|, max |c - g|, two lanes */
    double bmx;
    size_t j;
    int l;
    for (j = 0; j + 4 <= n; j += 4) {
        double g0 = g[j], g1 = g[j + 1], g2 = g[j + 2], g3 = g[j + 3];
        double c0 = c[j], c1 = c[j + 1], c2 = c[j + 2], c3 = c[j + 3];
        double e0 = c0 - g0, e1 = c1 - g1, e2 = c2 - g2, e3 = c3 - g3;
        double a0 = fabs(g0) > fabs(g2) ? fabs(g0) : fabs(g2);
        double a1 = fabs(g1) > fabs(g3) ? fabs(g1) : fabs(g3);
        double d0 = fabs(e0) > fabs(e2) ? fabs(e0) : fabs(e2);
        double d1 = fabs(e1) > fabs(e3) ? fabs(e1) : fabs(e3);
        m0 = a0 > m0 ? a0 : m0; m1 = a1 > m1 ? a1 : m1;
        x0 = d0 > x0 ? d0 : x0; x1 = d1 > x1 ? d1 : x1;
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
    m0 = m0 > m1 ? m0 : m1;
    if (m0 > a->gmax) a->gmax = m0;
    bmx = x0 > x1 ? x0 : x1;
    if (bmx > a->mx) {
        a->mx = bmx;
        for (j = 0; j < n && fabs(c[j] - g[j]) != bmx; j++) {}
        a->worst_i = base + j;
    }
    return 0;
}

/* The common case in one streaming pass: golden slice gs and candidate ct
 * are read in pieces of up to LRV_READ_CHUNK bytes each (raw, two buffers of
 * LRV_READ_CHUNK bytes) and decoded and compared QUICK_BLOCK elements at a time
 * (gb, cb: small enough to stay in the L1 cache); logits a piece of whole
 * rows at a time (gb, cb: LRV_QUICK_CHUNK doubles each).  Returns 0 when every
 * element is finite and within tolerance, with t's figures filled; 1 when
 * some element may not be (the caller then reads both whole and measures
 * them); -1 on a read error. */
#define QUICK_BLOCK 1024

int lrv_quick_pass(lr_st_file *gf, const lr_st_tensor *gs, lr_st_file *cf,
                      const lr_st_tensor *ct, unsigned char *raw, double *gb,
                      double *cb, lr_verify_tensor *t, lr_error *err)
{
    size_t gsz = lr_dtype_size(gs->dtype), csz = lr_dtype_size(ct->dtype);
    double sgg, scc, sgc, sdd, tol;
    uint64_t done = 0, worst_i;
    uint64_t V = t->is_logits && t->ndim ? (uint64_t)t->shape[t->ndim - 1] : 0;
    size_t chunk = V ? (size_t)(LRV_QUICK_CHUNK / V * V)
                     : LRV_READ_CHUNK / (gsz > csz ? gsz : csz);
    quick_acc a;
    memset(&a, 0, sizeof a);
    if (V) t->top1_rows = t->top1_agree = 0, t->max_dlogsoftmax = 0;
    while (done < ct->nelem) {
        size_t n = ct->nelem - done < chunk ? (size_t)(ct->nelem - done) : chunk, j, b;
        const unsigned char *pg = read_piece(gf, gs, done, n, raw, err);
        const unsigned char *pc = pg ? read_piece(cf, ct, done, n, raw + LRV_READ_CHUNK, err)
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
