/* fuzz_safetensors.c - libFuzzer target: arbitrary bytes as a safetensors
 * file (stdio and mmap), then every tensor read back in every way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llamaref/formats/safetensors.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    char path[64];
    FILE *f;
    int flags;
    sprintf(path, "/tmp/fuzz_st_%ld.safetensors", (long)getpid());
    f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, n, f);
    fclose(f);
    for (flags = 0; flags <= LR_ST_MMAP; flags += LR_ST_MMAP) {
        lr_st_file *st;
        lr_error err;
        size_t i;
        if (lr_st_open(path, flags, &st, &err)) continue;
        for (i = 0; i < lr_st_count(st); i++) {
            const lr_st_tensor *t = lr_st_at(st, i);
            void *buf;
            if (t->nelem > (1u << 20)) continue;
            buf = malloc((size_t)t->nelem * 8 + 8);
            if (!buf) continue;
            if (lr_dtype_is_float(t->dtype)) {
                lr_st_read_f32(st, t, buf, &err);
                lr_st_read_f64(st, t, buf, &err);
                lr_st_read_native(st, t, buf, &err);
            } else {
                lr_st_read_i64(st, t, buf, &err);
            }
            lr_st_read_raw(st, t, buf, &err);
            free(buf);
            if (lr_st_find(st, t->name) != t) abort(); /* lookup must agree */
        }
        lr_st_close(st);
    }
    remove(path);
    return 0;
}
