/* fuzz_mmlu.c - libFuzzer target: an MMLU CSV file (lr_csv_parse, then
 * lr_mmlu_read: header-less original format or with a header); every item
 * that loads is rendered as a prompt in both formats. */
#include "fuzz_util.h"
#include "llamaref/core/csv.h"
#include "llamaref/eval/mmlu.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    char *copy = fz_copy(data, n, 0);
    const char *p = fz_write("dev.csv", data, n);
    lr_csv c;
    lr_mmlu_items it;
    lr_error err;
    if (!copy) return 0;
    if (lr_csv_parse(copy, n, "fuzz", &c, &err) == 0) lr_csv_free(&c);
    free(copy);
    if (p && lr_mmlu_read(p, &it, &err) == 0) {
        size_t i;
        int c2;
        for (i = 0; i < it.n && i < 8; i++) {
            lr_buf b = {0};
            (void)lr_mmlu_context("abstract_algebra", it.items, i, &it.items[i], &b, &err);
            (void)lr_mmlu_prompt(LR_MMLU_LETTER, "abstract_algebra", it.items, i,
                                 &it.items[i], &b, &err);
            (void)lr_mmlu_prompt(LR_MMLU_CONTINUATION, "abstract_algebra", it.items, i,
                                 &it.items[i], &b, &err);
            for (c2 = 0; c2 < 4; c2++) {
                (void)lr_mmlu_choice(LR_MMLU_LETTER, &it.items[i], c2);
                (void)lr_mmlu_choice(LR_MMLU_CONTINUATION, &it.items[i], c2);
            }
            lr_buf_free(&b);
        }
        lr_mmlu_items_free(&it);
    }
    return 0;
}
