/* loglik.c - continuation log-likelihoods and perplexity through the
 * shared loss function; see loglik.h. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/eval/loglik.h"
#include "llamaref/model/loss.h"
#include "llamaref/model/sampler.h"

#define PPL_PIECE 64 /* rows fed per step when computing perplexity */

int lr_loglik_init(lr_loglik *L, const lr_model *m, int max_len, lr_error *err)
{
    memset(L, 0, sizeof *L);
    L->V = m->config.vocab_size;
    return lr_prefix_cache_init(&L->pc, m, max_len, err);
}

void lr_loglik_free(lr_loglik *L)
{
    if (!L) return;
    lr_prefix_cache_free(&L->pc);
    free(L->slab);
    free(L->labels);
    free(L->tok_lp);
    memset(L, 0, sizeof *L);
}

static int ensure_slab(lr_loglik *L, int rows, lr_error *err)
{
    lr_float *s;
    int *l;
    double *t;
    size_t n;
    if (rows <= L->slab_rows) return 0;
    if (lr_size_mul((size_t)rows, (size_t)L->V, &n))
        return lr_fail(err, "log-likelihood: %d rows too many", rows);
    s = realloc(L->slab, n * sizeof *s);
    if (!s) return lr_fail(err, "out of memory (log-likelihood logits, %d rows)", rows);
    L->slab = s;
    l = realloc(L->labels, (size_t)rows * sizeof *l);
    if (!l) return lr_fail(err, "out of memory");
    L->labels = l;
    t = realloc(L->tok_lp, (size_t)rows * sizeof *t);
    if (!t) return lr_fail(err, "out of memory");
    L->tok_lp = t;
    L->slab_rows = rows;
    return 0;
}

int lr_loglik_score(lr_loglik *L, const int *ctx, int n_ctx, const int *cont,
                    int n_cont, double *ll, int *is_greedy, lr_error *err)
{
    int V = L->V, j, greedy = 1;
    double nll;
    long cnt;
    if (n_ctx < 1 || n_cont < 1)
        return lr_fail(err, "log-likelihood: empty context or continuation");
    if (ensure_slab(L, n_cont + 1, err)) return -1;
    /* row 0: logits after the context; rows 1..n_cont-1: after cont[j-1] */
    if (lr_prefix_cache_set(&L->pc, ctx, n_ctx, NULL, NULL, err)) return -1;
    memcpy(L->slab, L->pc.dec.logits, (size_t)V * sizeof *L->slab);
    if (n_cont > 1 &&
        lr_prefix_cache_append(&L->pc, cont, n_cont - 1, L->slab + V, err))
        return -1;
    memset(L->slab + (size_t)n_cont * V, 0, (size_t)V * sizeof *L->slab);
    /* labels in input-id layout: row t is scored against labels[t + 1] */
    L->labels[0] = LR_IGNORE_INDEX;
    for (j = 0; j < n_cont; j++) L->labels[j + 1] = cont[j];
    if (lr_causal_lm_loss(L->slab, L->labels, 1, n_cont + 1, V, L->tok_lp,
                          &nll, &cnt, NULL, 0.0, err))
        return -1;
    if (cnt != n_cont)
        return lr_fail(err, "log-likelihood: %ld tokens counted, %d expected",
                       cnt, n_cont);
    for (j = 0; j < n_cont && is_greedy; j++)
        greedy &= lr_argmax(L->slab + (size_t)j * V, V) == cont[j];
    *ll = -nll;
    if (is_greedy) *is_greedy = greedy;
    return 0;
}

static int encode(const lr_tokenizer *tok, const char *s, size_t n, int bos,
                  lr_tokens *t, lr_error *err)
{
    t->n = 0;
    return lr_tokenizer_encode(tok, s, n, bos ? LR_ENCODE_BOS : 0, t, err);
}

static int *copy_ids(const int32_t *ids, size_t n, lr_error *err)
{
    int *r = lr_alloc(n ? n : 1, sizeof *r, "token ids", err);
    size_t i;
    if (!r) return NULL;
    for (i = 0; i < n; i++) r[i] = (int)ids[i];
    return r;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

int lr_loglik_encode_pair(const lr_tokenizer *tok, const char *context,
                          const char *continuation, int add_bos, int **ctx,
                          int *n_ctx, int **cont, int *n_cont, lr_error *err)
{
    size_t lc = strlen(context), keep = lc;
    lr_buf whole = {0};
    lr_tokens tw = {0}, tc = {0};
    int rc = -1;
    *ctx = *cont = NULL;
    *n_ctx = *n_cont = 0;
    while (keep > 0 && is_space(context[keep - 1])) keep--;
    lr_buf_append(&whole, context, lc);
    lr_buf_puts(&whole, continuation);
    if (whole.oom) { lr_fail(err, "out of memory"); goto done; }
    if (keep == 0) {
        /* empty context: the harness scores after the prefix token */
        if (tok->bos_id < 0) { lr_fail(err, "empty context and no BOS token"); goto done; }
        if (encode(tok, whole.data, whole.len, 0, &tw, err)) goto done;
        *ctx = copy_ids(&tok->bos_id, 1, err);
        *n_ctx = 1;
        *cont = copy_ids(tw.ids, tw.n, err);
        *n_cont = (int)tw.n;
    } else {
        if (encode(tok, whole.data, whole.len, add_bos, &tw, err) ||
            encode(tok, context, keep, add_bos, &tc, err))
            goto done;
        if (tc.n > tw.n) { lr_fail(err, "context longer than context + continuation"); goto done; }
        *ctx = copy_ids(tc.ids, tc.n, err);
        *n_ctx = (int)tc.n;
        *cont = copy_ids(tw.ids + tc.n, tw.n - tc.n, err);
        *n_cont = (int)(tw.n - tc.n);
    }
    if (!*ctx || !*cont) goto done;
    rc = 0;
done:
    if (rc) { free(*ctx); free(*cont); *ctx = *cont = NULL; }
    lr_buf_free(&whole);
    lr_tokens_free(&tw);
    lr_tokens_free(&tc);
    return rc;
}

long lr_perplexity_windows(int n, int window, int stride)
{
    long k = 0, begin;
    if (window < 2 || stride < 1 || stride > window) return 0;
    for (begin = 0; begin < n; begin += stride) {
        k++;
        if (begin + window >= n) break;
    }
    return k;
}

/* One recorded increment block: a piece's NLL and count, then the squared
 * log-probabilities of its rows (0 at rows not counted). */
static int record(lr_buf *rec, const void *p, size_t n, lr_error *err)
{
    lr_buf_append(rec, (const char *)p, n);
    return rec->oom ? lr_fail(err, "out of memory (perplexity record)") : 0;
}

int lr_perplexity_run(lr_loglik *L, const int *tokens, int n, int window,
                      int stride, long k0, long k1, lr_buf *rec, lr_error *err)
{
    int V = L->V;
    long k;
    if (window < 2 || stride < 1 || stride > window)
        return lr_fail(err, "perplexity: need window >= 2 and 1 <= stride <= window");
    if (ensure_slab(L, PPL_PIECE + 1, err)) return -1;
    for (k = k0; k < k1; k++) {
        const long begin = k * stride;
        const long prev_end = k == 0 ? 0
                              : ((k - 1) * stride + window < n
                                     ? (k - 1) * stride + window : n);
        int end = begin + window < n ? (int)begin + window : n, p;
        int first_target = prev_end > begin + 1 ? (int)prev_end : (int)begin + 1;
        long n_pieces = (end - begin + PPL_PIECE - 1) / PPL_PIECE;
        if (record(rec, &n_pieces, sizeof n_pieces, err)) return -1;
        L->pc.dec.len = 0; /* fresh window: positions from 0 */
        for (p = (int)begin; p < end; p += PPL_PIECE) {
            int q = p + PPL_PIECE < end ? p + PPL_PIECE : end, t;
            double piece_nll;
            long piece_cnt, rows = q - p + 1;
            /* slab row 0 = logits after token p-1 (from the previous piece),
             * rows 1..q-p = logits after tokens p..q-1 */
            if (lr_prefix_cache_append(&L->pc, tokens + p, q - p,
                                       L->slab + V, err))
                return -1;
            L->labels[0] = LR_IGNORE_INDEX;
            for (t = p; t < q; t++)
                L->labels[t - p + 1] = t >= first_target && t > begin
                                           ? tokens[t] : LR_IGNORE_INDEX;
            /* the row predicting tokens[q] is the last one: also scored by
             * the next piece, so it is not a target here (T = q - p + 1) */
            if (lr_causal_lm_loss(L->slab, L->labels, 1, q - p + 1, V, L->tok_lp,
                                  &piece_nll, &piece_cnt, NULL, 0.0, err))
                return -1;
            if (record(rec, &piece_nll, sizeof piece_nll, err) ||
                record(rec, &piece_cnt, sizeof piece_cnt, err) ||
                record(rec, &rows, sizeof rows, err))
                return -1;
            for (t = 0; t < q - p + 1; t++) { /* 0 at rows not counted */
                double sq = L->tok_lp[t] * L->tok_lp[t];
                if (record(rec, &sq, sizeof sq, err)) return -1;
            }
            memcpy(L->slab, L->slab + (size_t)(q - p) * V, (size_t)V * sizeof *L->slab);
        }
    }
    return 0;
}

int lr_perplexity_fold(lr_loglik *L, const char *rec, size_t len, double *nll,
                       long *count, lr_error *err)
{
    size_t off = 0;
    int k = 0;
    *nll = 0;
    *count = 0;
    L->ppl_nll2 = 0;
#define TAKE(x) do { if (off + sizeof(x) > len) goto bad; \
                     memcpy(&(x), rec + off, sizeof(x)); off += sizeof(x); } while (0)
    while (off < len) {
        long n_pieces, i, rows, r;
        TAKE(n_pieces);
        for (i = 0; i < n_pieces; i++) {
            double piece_nll, sq;
            long piece_cnt;
            TAKE(piece_nll); TAKE(piece_cnt); TAKE(rows);
            for (r = 0; r < rows; r++) { TAKE(sq); L->ppl_nll2 += sq; }
            *nll += piece_nll;
            *count += piece_cnt;
        }
        if (L->ppl_window) L->ppl_window(L->ppl_window_ctx, k, *nll, *count);
        k++;
    }
#undef TAKE
    return 0;
bad:
    return lr_fail(err, "perplexity: truncated record");
}

int lr_perplexity(lr_loglik *L, const int *tokens, int n, int window,
                  int stride, double *nll, long *count, lr_error *err)
{
    lr_buf rec = {0};
    int rc;
    *nll = 0;
    *count = 0;
    L->ppl_nll2 = 0;
    rc = lr_perplexity_run(L, tokens, n, window, stride, 0,
                           lr_perplexity_windows(n, window, stride), &rec, err) ||
         lr_perplexity_fold(L, rec.data, rec.len, nll, count, err) ? -1 : 0;
    lr_buf_free(&rec);
    return rc;
}
