/* fuzz_st_index.c - libFuzzer target: a sharded checkpoint, the input split
 * at "\n====\n" lines into model.safetensors.index.json and two shards
 * (model-00001-of-00002.safetensors, model-00002-of-00002.safetensors),
 * opened with lr_st_set_open; every tensor looked up and its first bytes read. */
#include "fuzz_util.h"
#include "llamaref/formats/safetensors.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    const unsigned char *part[3];
    size_t len[3], i;
    const char *index;
    lr_st_set *s;
    lr_error err;
    if (fz_split(data, n, 3, part, len) != 3) return 0;
    if (!(index = fz_write("model.safetensors.index.json", part[0], len[0])) ||
        !fz_write("model-00001-of-00002.safetensors", part[1], len[1]) ||
        !fz_write("model-00002-of-00002.safetensors", part[2], len[2]))
        return 0;
    if (lr_st_set_open(index, 0, &s, &err) == 0) {
        for (i = 0; i < lr_st_set_count(s); i++) {
            lr_st_file *f, *f2;
            const lr_st_tensor *t = lr_st_set_at(s, i, &f);
            if (!t || !f || lr_st_set_find(s, t->name, &f2) != t || f2 != f) abort();
            if (t->nelem <= 4096) {
                void *buf = malloc((size_t)t->nelem * 8 + 8);
                if (buf) { (void)lr_st_read_raw(f, t, buf, &err); free(buf); }
            }
        }
        lr_st_set_close(s);
    }
    return 0;
}
