/* fuzz_llama2c.c - libFuzzer target: a llama2.c checkpoint (legacy v0 or
 * v1), structure-aware: when the header is plausible and small, the harness
 * pads or cuts the payload to the size the header implies, so mutation gets
 * past the size check and into the tensor reads; otherwise the bytes are
 * written as they are (the header and size checks). */
#include <stdint.h>

#include "fuzz_util.h"
#include "llamaref/model/model.h"

static int32_t le32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

/* The file size the header implies (0 if implausible or over 64 KB: the
 * file is written for every execution). */
static uint64_t implied(const unsigned char *d, size_t n)
{
    int32_t h[7];
    int i, v1 = 0, shared;
    uint64_t D, F, V, L, KV, hd, e, pos = 28;
    if (n >= 8 && (uint32_t)le32(d) == 0x616b3432u) {
        if (n < 256) return 0;
        v1 = 1;
        pos = 256;
        for (i = 0; i < 7; i++) h[i] = le32(d + 8 + 4 * i);
        shared = d[36];
    } else {
        if (n < 28) return 0;
        for (i = 0; i < 7; i++) h[i] = le32(d + 4 * i);
        shared = h[5] > 0;
        if (h[5] < 0 && h[5] != INT32_MIN) h[5] = -h[5];
    }
    for (i = 0; i < 7; i++)
        if (h[i] <= 0 || h[i] > 4096) return 0;
    if (h[0] % h[3] || h[3] % h[4]) return 0;
    D = (uint64_t)h[0]; F = (uint64_t)h[1]; L = (uint64_t)h[2]; V = (uint64_t)h[5];
    hd = D / (uint64_t)h[3];
    KV = (uint64_t)h[4] * hd;
    e = V * D + L * (2 * D + 2 * D * D + 2 * KV * D + 3 * D * F) + D + (shared ? 0 : V * D);
    if (!v1) e += (uint64_t)h[6] * hd;
    e = e * 4 + pos;
    return e > (1u << 16) ? 0 : e;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    uint64_t want = implied(data, n);
    const char *p;
    lr_model *m = NULL;
    lr_error err;
    if (want) { /* payload repeated (or cut) to the implied size */
        unsigned char *buf = malloc((size_t)want);
        size_t i, head = n < 256 ? 28 : ((uint32_t)le32(data) == 0x616b3432u ? 256 : 28);
        if (!buf) return 0;
        memcpy(buf, data, head < want ? head : (size_t)want);
        for (i = head; i < want; i++)
            buf[i] = n > head ? data[head + (i - head) % (n - head)] : 0;
        p = fz_write("model.bin", buf, (size_t)want);
        free(buf);
    } else {
        p = fz_write("model.bin", data, n);
    }
    if (!p) return 0;
    if (lr_model_load_llama2c(p, &m, &err) == 0) lr_model_free(m);
    return 0;
}
