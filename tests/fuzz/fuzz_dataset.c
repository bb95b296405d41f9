/* fuzz_dataset.c - libFuzzer target: training data JSONL (`llamaref train
 * --data`: prompt/completion, text, messages, input_ids/labels) through
 * lr_dataset_load with a byte-level tokenizer, loss on all tokens and on
 * completions, with and without a vocabulary bound and a length limit;
 * a loaded set is shuffled and collated. */
#include "fuzz_util.h"
#include "llamaref/train/dataset.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    const char *p = fz_write("train.jsonl", data, n);
    const lr_tokenizer *tok = fz_byte_tokenizer();
    int mode;
    if (!p) return 0;
    for (mode = 0; mode < 3; mode++) {
        lr_dataset_opts o;
        lr_dataset ds;
        lr_error err;
        memset(&o, 0, sizeof o);
        o.loss_on = mode == 1 ? LR_LOSS_COMPLETION : LR_LOSS_ALL;
        o.vocab_size = mode == 2 ? 0 : (int)tok->vocab_size;
        o.max_len = mode == 1 ? 16 : 0;
        o.truncate = mode == 1;
        if (lr_dataset_load(p, tok, &o, &ds, &err) == 0) {
            size_t idx[2], perm[4];
            int B = ds.n > 1 ? 2 : 1, L = ds.max_len, *tk, *lb;
            unsigned char *mk;
            idx[0] = 0; idx[1] = ds.n - 1;
            if (ds.n <= 4) lr_dataset_shuffle(perm, ds.n, 1, 0);
            if (L < 1 || L > (1 << 20)) abort();
            tk = malloc(sizeof *tk * (size_t)B * (size_t)L);
            lb = malloc(sizeof *lb * (size_t)B * (size_t)L);
            mk = malloc((size_t)B * (size_t)L);
            if (tk && lb && mk && lr_dataset_collate(&ds, idx, B, 0, tk, lb, mk) > L) abort();
            free(tk); free(lb); free(mk);
            lr_dataset_free(&ds);
        }
    }
    return 0;
}
