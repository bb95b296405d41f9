/* fuzz_facts.c - libFuzzer target: a fact file (JSON array or JSONL) as
 * read by mixture, probe, knowledge-report and experiment; a second load
 * appends to the same set (several --facts files). */
#include "fuzz_util.h"
#include "llamaref/papers/knowledge/facts.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    const char *p = fz_write("facts.jsonl", data, n);
    lr_facts f;
    lr_error err;
    size_t i;
    if (!p) return 0;
    memset(&f, 0, sizeof f);
    if (lr_facts_load(p, &f, &err) == 0) {
        for (i = 0; i < f.n; i++)
            if (!f.items[i].question || !f.items[i].n_answers) abort();
        (void)lr_facts_load(p, &f, &err);
        lr_facts_truncate(&f, f.n / 2);
    }
    lr_facts_free(&f);
    return 0;
}
