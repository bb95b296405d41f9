/* prefix_cache.c - KV-cache decoding with longest-common-prefix reuse; see
 * prefix_cache.h. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/model/prefix_cache.h"

#define PREFIX_CHUNK 64 /* rows per batched decoder step */

int lr_prefix_cache_init(lr_prefix_cache *pc, const lr_model *m, int max_len,
                         lr_error *err)
{
    memset(pc, 0, sizeof *pc);
    if (max_len < 1) return lr_fail(err, "prefix cache: max_len %d < 1", max_len);
    pc->tokens = lr_alloc((size_t)max_len, sizeof *pc->tokens,
                          "prefix cache tokens", err);
    if (!pc->tokens) return -1;
    if (lr_decoder_init(&pc->dec, m, max_len, PREFIX_CHUNK, err)) {
        free(pc->tokens);
        pc->tokens = NULL;
        return -1;
    }
    lr_decoder_reset(&pc->dec, 0);
    return 0;
}

void lr_prefix_cache_free(lr_prefix_cache *pc)
{
    if (!pc) return;
    lr_decoder_free(&pc->dec);
    free(pc->tokens);
    memset(pc, 0, sizeof *pc);
}

int lr_prefix_cache_append(lr_prefix_cache *pc, const int *tokens, int n,
                           lr_float *all_logits, lr_error *err)
{
    int start = pc->dec.len;
    if (n <= 0) return 0;
    if (n > pc->dec.max_len - start)
        return lr_fail(err, "sequence of %d tokens does not fit the context "
                       "of %d tokens (use a larger --max-len)", start + n,
                       pc->dec.max_len);
    if (lr_decoder_feed(&pc->dec, tokens, n, all_logits, err)) return -1;
    memcpy(pc->tokens + start, tokens, (size_t)n * sizeof *tokens);
    pc->n_fed += n;
    return 0;
}

int lr_prefix_cache_set(lr_prefix_cache *pc, const int *tokens, int n,
                        lr_float *all_logits, int *n_kept, lr_error *err)
{
    int keep = 0, limit;
    if (n < 1) return lr_fail(err, "prefix cache: empty sequence");
    if (n > pc->dec.max_len)
        return lr_fail(err, "sequence of %d tokens does not fit the context "
                       "of %d tokens (use a larger --max-len)", n,
                       pc->dec.max_len);
    limit = pc->dec.len < n - 1 ? pc->dec.len : n - 1;
    while (keep < limit && pc->tokens[keep] == tokens[keep]) keep++;
    pc->dec.len = keep; /* rows 0..keep-1 stay valid; the rest is overwritten */
    pc->n_reused += keep;
    if (n_kept) *n_kept = keep;
    return lr_prefix_cache_append(pc, tokens + keep, n - keep, all_logits, err);
}

int lr_prefix_cache_generate(lr_prefix_cache *pc, const int *prompt,
                             int n_prompt, lr_sampler *smp, int max_new,
                             const int *stops, int n_stops, lr_tokens *out,
                             lr_error *err)
{
    int i, s;
    out->n = 0;
    if (lr_prefix_cache_set(pc, prompt, n_prompt, NULL, NULL, err)) return -1;
    for (i = 0; i < max_new; i++) {
        int next = lr_sample(smp, pc->dec.logits), stop = 0;
        for (s = 0; s < n_stops; s++) stop |= next == stops[s];
        if (stop) break;
        if (lr_tokens_push(out, next, err)) return -1;
        if (i + 1 < max_new &&
            lr_prefix_cache_append(pc, &next, 1, NULL, err))
            return -1;
    }
    return 0;
}
