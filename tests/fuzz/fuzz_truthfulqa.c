/* fuzz_truthfulqa.c - libFuzzer target: TruthfulQA's mc_task.json
 * (lr_tqa_load) and the few-shot context of every question. */
#include "fuzz_util.h"
#include "llamaref/eval/truthfulqa.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    const char *p = fz_write("mc_task.json", data, n);
    lr_tqa t;
    lr_error err;
    if (p && lr_tqa_load(p, &t, &err) == 0) {
        size_t i;
        for (i = 0; i < t.n && i < 8; i++) {
            lr_buf b = {0};
            (void)lr_tqa_context(t.items[i].question, &b, &err);
            lr_buf_free(&b);
        }
        lr_tqa_free(&t);
    }
    return 0;
}
