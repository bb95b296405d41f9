/* mixture.c - seeded training mixtures of unknown facts plus known facts
 * or paraphrases; see mixture.h. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/json.h"
#include "llamaref/papers/knowledge/knowledge.h"
#include "llamaref/papers/knowledge/mixture.h"
#include "llamaref/core/rng.h"

int lr_mix_kind_parse(const char *name, lr_mix_kind *k)
{
    if (!strcmp(name, "known")) *k = LR_MIX_KNOWN;
    else if (!strcmp(name, "paraphrase")) *k = LR_MIX_PARAPHRASE;
    else return -1;
    return 0;
}

void lr_mixture_free(lr_mixture *m)
{
    if (!m) return;
    free(m->ex);
    memset(m, 0, sizeof *m);
}

static void shuffle(size_t *a, size_t n, lr_rng *r)
{
    size_t i;
    for (i = n; i > 1; i--) {
        size_t j = (size_t)lr_rng_below(r, (uint64_t)i), t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

int lr_mixture_build(const lr_facts *facts, size_t n_unknown, size_t k,
                     lr_mix_kind kind, uint64_t seed, lr_mixture *out,
                     lr_error *err)
{
    size_t *uk = NULL, *hk = NULL, n_uk = 0, n_hk = 0, i, e, total;
    lr_rng rng;
    int rc = -1;

    memset(out, 0, sizeof *out);
    uk = lr_alloc(facts->n ? facts->n : 1, sizeof *uk, "mixture", err);
    hk = lr_alloc(facts->n ? facts->n : 1, sizeof *hk, "mixture", err);
    if (!uk || !hk) goto done;
    for (i = 0; i < facts->n; i++) {
        int c = facts->items[i].category;
        if (c < 0) {
            lr_fail(err, "%s:%lu: fact has no \"category\" (run llamaref "
                    "probe first)", facts->path, facts->items[i].line);
            goto done;
        }
        if (c == LR_SLICK_UNKNOWN) uk[n_uk++] = i;
        if (c == LR_SLICK_HIGHLY_KNOWN) hk[n_hk++] = i;
    }
    lr_rng_seed(&rng, lr_seed_of(LR_STREAM_MIXTURE, seed, 0, 0, 0));
    shuffle(uk, n_uk, &rng);
    shuffle(hk, n_hk, &rng);
    if (n_unknown > n_uk) {
        lr_fail(err, "%s: %lu Unknown facts requested, only %lu available",
                facts->path, (unsigned long)n_unknown, (unsigned long)n_uk);
        goto done;
    }
    if (kind == LR_MIX_KNOWN && k > 0 && n_hk == 0) {
        lr_fail(err, "%s: no HighlyKnown facts for --kind known", facts->path);
        goto done;
    }
    if (lr_size_mul(n_unknown, k + 1, &total)) {
        lr_fail(err, "mixture too large");
        goto done;
    }
    out->ex = lr_alloc(total ? total : 1, sizeof *out->ex, "mixture", err);
    if (!out->ex) goto done;
    for (i = 0; i < n_unknown; i++) {
        const lr_fact *u = &facts->items[uk[i]];
        lr_mix_example *x = &out->ex[out->n++];
        x->question = u->question;
        x->fact = u;
        x->role = LR_ROLE_UNKNOWN;
        x->group = i;
        if (kind == LR_MIX_PARAPHRASE && k > 0 && !u->n_paraphrases) {
            lr_fail(err, "%s:%lu: fact \"%.60s\" has no \"paraphrases\"",
                    facts->path, u->line, u->question);
            goto done;
        }
        for (e = 0; e < k; e++) {
            x = &out->ex[out->n++];
            x->group = i;
            if (kind == LR_MIX_KNOWN) {
                size_t slot = i * k + e;
                x->fact = &facts->items[hk[slot % n_hk]];
                x->question = x->fact->question;
                x->role = LR_ROLE_KNOWN;
                if (slot >= n_hk) out->n_reused++;
            } else {
                x->fact = u;
                x->question = u->paraphrases[e % u->n_paraphrases];
                x->role = LR_ROLE_PARAPHRASE;
            }
        }
    }
    rc = 0;
done:
    if (rc) lr_mixture_free(out);
    free(uk);
    free(hk);
    return rc;
}

void lr_mixture_write_jsonl(lr_buf *b, const lr_mixture *mx,
                            const char *system, int plain, size_t roles[LR_ROLE_COUNT])
{
    static const char *const role_names[LR_ROLE_COUNT] = {"unknown", "known", "paraphrase"};
    size_t e;
    for (e = 0; e < mx->n; e++) {
        const lr_mix_example *x = &mx->ex[e];
        const char *ans = x->fact->answers[0];
        size_t a;
        lr_buf p = {0}, c = {0};
        if (roles) roles[x->role]++;
        if (plain) {
            lr_buf_printf(&p, "%s\n\nQuestion: %s\nAnswer:", system, x->question);
            lr_buf_printf(&c, " %s", ans);
        } else {
            lr_buf_printf(&p, "Question: %s", x->question);
            lr_buf_printf(&c, "Answer: %s", ans);
        }
        lr_buf_puts(b, "{\"question\": ");
        lr_json_write_string(b, x->question, strlen(x->question));
        lr_buf_puts(b, ", \"answers\": [");
        for (a = 0; a < x->fact->n_answers; a++) {
            if (a) lr_buf_puts(b, ", ");
            lr_json_write_string(b, x->fact->answers[a], strlen(x->fact->answers[a]));
        }
        lr_buf_printf(b, "], \"role\": \"%s\", \"group\": %lu",
                      role_names[x->role], (unsigned long)x->group);
        if (plain) {
            lr_buf_puts(b, ", \"prompt\": ");
            lr_json_write_string(b, p.data, p.len);
            lr_buf_puts(b, ", \"completion\": ");
            lr_json_write_string(b, c.data, c.len);
            lr_buf_puts(b, "}\n");
            lr_buf_free(&p);
            lr_buf_free(&c);
            continue;
        }
        lr_buf_puts(b, ", \"messages\": [{\"role\": \"system\", \"content\": ");
        lr_json_write_string(b, system, strlen(system));
        lr_buf_puts(b, "}, {\"role\": \"user\", \"content\": ");
        lr_json_write_string(b, p.data, p.len);
        lr_buf_puts(b, "}, {\"role\": \"assistant\", \"content\": ");
        lr_json_write_string(b, c.data, c.len);
        lr_buf_puts(b, "}]}\n");
        lr_buf_free(&p);
        lr_buf_free(&c);
    }
}
