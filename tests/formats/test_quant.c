/* test_quant.c - GGML dequantisation and quantisation, bit for bit against
 * gguf-py (vectors/quant/quant_vectors.safetensors, written by
 * vectors/gen/gen_gguf.py with gguf==0.19.0).  The random raw blocks are
 * regenerated here from the same splitmix64 stream; the vectors hold the
 * FNV-1a hash of gguf-py's output for each block: its float32 result for
 * the float build, the same formulas in float64 for DOUBLE=1. */
#include "harness.h"
#include "vectors.h"

#include "llamaref/formats/quant.h"

#define VEC "vectors/quant/quant_vectors.safetensors"
#define N_UNITS 10000

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void raw_bytes(uint64_t seed, unsigned char *out, size_t n)
{
    size_t i;
    uint64_t w = 0;
    for (i = 0; i < n; i++) {
        if (i % 8 == 0) w = splitmix(&seed);
        out[i] = (unsigned char)(w >> (8 * (i % 8)));
    }
}

typedef struct fnv {
    uint64_t h;
} fnv;

static void fnv_init(fnv *f) { f->h = 0xCBF29CE484222325ull; }
static void fnv_byte(fnv *f, unsigned b) { f->h = (f->h ^ b) * 0x100000001B3ull; }

/* Hash of n values as gguf-py's output of this build's precision. */
static int32_t hash_values(const lr_float *y, size_t n)
{
    fnv f;
    size_t i;
    int k;
    fnv_init(&f);
    for (i = 0; i < n; i++) {
#ifdef LR_DOUBLE
        uint64_t b = y[i] != y[i] ? 0x7FF8000000000000ull : lr_f64_to_bits(y[i]);
        for (k = 0; k < 8; k++) fnv_byte(&f, (unsigned)(b >> (8 * k)) & 0xFF);
#else
        uint32_t b = y[i] != y[i] ? 0x7FC00000u : lr_f32_to_bits(y[i]);
        for (k = 0; k < 4; k++) fnv_byte(&f, (b >> (8 * k)) & 0xFF);
#endif
    }
    return (int32_t)(uint32_t)(f.h & 0xFFFFFFFFu);
}

static int32_t hash_bytes(const unsigned char *b, size_t n)
{
    fnv f;
    size_t i;
    fnv_init(&f);
    for (i = 0; i < n; i++) fnv_byte(&f, b[i]);
    return (int32_t)(uint32_t)(f.h & 0xFFFFFFFFu);
}

static const char *TYPES[] = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                              "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

#ifdef LR_DOUBLE
#define HASH_KIND "f64hash"
#define QHASH_KIND "qf64hash"
#else
#define HASH_KIND "f32hash"
#define QHASH_KIND "qf32hash"
#endif

static lr_st_file *open_vectors(void)
{
    lr_st_file *f = NULL;
    lr_error err;
    if (lr_st_open(VEC, 0, &f, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    return f;
}

/* Units of random bytes: one block of a block format, 32 values of the
 * float types (as the generator defines them). */
static void unit_of(int type, size_t *elems, size_t *bytes)
{
    size_t bs, ts;
    lr_ggml_type_info((uint32_t)type, &bs, &ts);
    *elems = bs == 1 ? 32 : bs;
    *bytes = bs == 1 ? 32 * ts : ts;
}

static size_t blocks_per_unit(int type)
{
    size_t bs, ts;
    lr_ggml_type_info((uint32_t)type, &bs, &ts);
    return bs == 1 ? 32 : 1;
}

static void test_type_table(void)
{
    size_t bs, ts;
    CHECK_INT(lr_ggml_type_from_name("q8_0"), LR_GGML_Q8_0);
    CHECK_INT(lr_ggml_type_from_name("Q4_K"), LR_GGML_Q4_K);
    CHECK_INT(lr_ggml_type_from_name("q4_k_m"), -1);
    CHECK_STR(lr_ggml_type_name(LR_GGML_BF16), "BF16");
    CHECK(lr_ggml_type_name(99) == NULL);
    /* sizes as ggml-common.h's static_asserts state them */
    CHECK(lr_ggml_type_info(LR_GGML_Q2_K, &bs, &ts) == 0);
    CHECK_INT(bs, 256); CHECK_INT(ts, 84);
    lr_ggml_type_info(LR_GGML_Q3_K, &bs, &ts); CHECK_INT(ts, 110);
    lr_ggml_type_info(LR_GGML_Q4_K, &bs, &ts); CHECK_INT(ts, 144);
    lr_ggml_type_info(LR_GGML_Q5_K, &bs, &ts); CHECK_INT(ts, 176);
    lr_ggml_type_info(LR_GGML_Q6_K, &bs, &ts); CHECK_INT(ts, 210);
    lr_ggml_type_info(LR_GGML_Q5_1, &bs, &ts); CHECK_INT(ts, 24); CHECK_INT(bs, 32);
    CHECK(lr_ggml_type_info(5, &bs, &ts) != 0); /* Q4_2: removed from ggml */
    CHECK(!lr_ggml_type_can_dequantize(LR_GGML_Q8_K));
    CHECK(lr_dequantize(LR_GGML_I32, NULL, 0, NULL) != 0);
}

/* Every supported type on N_UNITS blocks of random bytes. */
static void test_dequantize_random_blocks(void)
{
    lr_st_file *f = open_vectors();
    size_t k;
    if (!f) { CHECK(0); return; }
    for (k = 0; k < N_TYPES; k++) {
        int type = lr_ggml_type_from_name(TYPES[k]);
        char name[64];
        int rows = 0, cols = 0, *expect;
        size_t elems, bytes, u, bad = 0;
        unsigned char *raw;
        lr_float *y;
        snprintf(name, sizeof name, "%s.%s", TYPES[k], HASH_KIND);
        expect = vec_read_ints(f, name, &rows, &cols);
        CHECK(expect != NULL);
        if (!expect) continue;
        CHECK_INT(rows, N_UNITS);
        unit_of(type, &elems, &bytes);
        raw = malloc(bytes * N_UNITS);
        y = malloc(sizeof *y * elems);
        raw_bytes(1000 + (uint64_t)type, raw, bytes * N_UNITS);
        for (u = 0; u < N_UNITS && raw && y; u++) {
            if (lr_dequantize((uint32_t)type, raw + u * bytes, blocks_per_unit(type), y)) { CHECK(0); break; }
            if (hash_values(y, elems) != expect[u]) {
                if (bad++ < 3)
                    fprintf(stderr, "%s: unit %lu differs from gguf-py (first value %.9g)\n",
                            TYPES[k], (unsigned long)u, (double)y[0]);
            }
        }
        if (bad) fprintf(stderr, "%s: %lu of %d units differ\n", TYPES[k], (unsigned long)bad,
                         N_UNITS);
        CHECK_INT(bad, 0);
        free(raw);
        free(y);
        free(expect);
    }
    lr_st_close(f);
}

/* The first units in full, so that a reader sees values, not hashes. */
static void test_dequantize_first_values(void)
{
    lr_st_file *f = open_vectors();
    size_t k;
    if (!f) { CHECK(0); return; }
    for (k = 0; k < N_TYPES; k++) {
        int type = lr_ggml_type_from_name(TYPES[k]);
        char name[64];
        size_t n = 0, elems, bytes, i, bad = 0;
        double *expect;
        unsigned char *raw;
        lr_float *y;
        snprintf(name, sizeof name, "%s.first", TYPES[k]);
        expect = vec_read_f64(f, name, &n);
        CHECK(expect != NULL);
        if (!expect) continue;
        unit_of(type, &elems, &bytes);
        CHECK_INT(n, 8 * elems);
        raw = malloc(bytes * 8);
        y = malloc(sizeof *y * 8 * elems);
        raw_bytes(1000 + (uint64_t)type, raw, bytes * 8);
        CHECK(lr_dequantize((uint32_t)type, raw, 8 * blocks_per_unit(type), y) == 0);
        for (i = 0; i < n; i++) {
            double a = (double)(float)y[i], b = expect[i];
            if (!(a == b || (a != a && b != b)) && bad++ < 3)
                fprintf(stderr, "%s[%lu]: %.9g, gguf-py %.9g\n", TYPES[k], (unsigned long)i, a, b);
        }
        CHECK_INT(bad, 0);
        free(raw);
        free(y);
        free(expect);
    }
    lr_st_close(f);
}

/* Blocks that gguf-py quantised from random floats (sane scales). */
static void test_dequantize_quantised_blocks(void)
{
    static const char *Q[] = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"};
    lr_st_file *f = open_vectors();
    size_t k;
    lr_error err;
    if (!f) { CHECK(0); return; }
    for (k = 0; k < 5; k++) {
        int type = lr_ggml_type_from_name(Q[k]);
        char name[64];
        const lr_st_tensor *t;
        int rows = 0, cols = 0, *expect;
        size_t bs, ts, u, bad = 0;
        unsigned char *raw;
        lr_float y[32];
        lr_ggml_type_info((uint32_t)type, &bs, &ts);
        snprintf(name, sizeof name, "%s.qraw", Q[k]);
        t = lr_st_find(f, name);
        CHECK(t != NULL);
        if (!t) continue;
        raw = malloc((size_t)t->nbytes);
        CHECK_OK(lr_st_read_raw(f, t, raw, &err), &err);
        snprintf(name, sizeof name, "%s.%s", Q[k], QHASH_KIND);
        expect = vec_read_ints(f, name, &rows, &cols);
        CHECK(expect != NULL && (size_t)rows * ts == t->nbytes);
        for (u = 0; expect && u < (size_t)rows; u++) {
            lr_dequantize((uint32_t)type, raw + u * ts, 1, y);
            if (hash_values(y, 32) != expect[u]) bad++;
        }
        CHECK_INT(bad, 0);
        free(raw);
        free(expect);
    }
    lr_st_close(f);
}

/* The random float blocks of the generator. */
static void random_floats(float *x, size_t nblocks)
{
    uint64_t s = 5000;
    size_t b;
    int j;
    for (b = 0; b < nblocks; b++) {
        int e = (int)(splitmix(&s) % 24) - 12;
        for (j = 0; j < 32; j++) {
            int64_t m = (int64_t)(splitmix(&s) >> 40) - (1 << 23);
            x[b * 32 + (size_t)j] = (float)ldexp((double)m, e - 23);
        }
    }
}

/* F16, BF16 and Q8_0 quantisation equal gguf-py's quantize() bytes. */
static void test_quantise(void)
{
    static const char *Q[] = {"F16", "BF16", "Q8_0"};
    lr_st_file *f = open_vectors();
    float *x = malloc(sizeof *x * 32 * N_UNITS);
    unsigned char *q = malloc(64 * N_UNITS);
    size_t k;
    if (!f || !x || !q) { CHECK(0); free(x); free(q); lr_st_close(f); return; }
    random_floats(x, N_UNITS);
    {
        size_t n = 0;
        double *first = vec_read_f64(f, "random_floats.first", &n);
        CHECK(first && n == 256 && first[0] == x[0] && first[255] == x[255]);
        free(first);
    }
    for (k = 0; k < 3; k++) {
        char name[64];
        int rows = 0, cols = 0, *expect;
        size_t per = k == 2 ? 34 : 64, u, bad = 0;
        if (k == 0) lr_quantize_f16(x, 32 * N_UNITS, q);
        else if (k == 1) lr_quantize_bf16(x, 32 * N_UNITS, q);
        else lr_quantize_q8_0(x, 32 * N_UNITS, q);
        snprintf(name, sizeof name, "%s.quanthash", Q[k]);
        expect = vec_read_ints(f, name, &rows, &cols);
        CHECK(expect && rows == N_UNITS);
        for (u = 0; expect && u < N_UNITS; u++)
            if (hash_bytes(q + u * per, per) != expect[u]) bad++;
        if (bad) fprintf(stderr, "%s quantisation: %lu of %d blocks differ\n", Q[k],
                         (unsigned long)bad, N_UNITS);
        CHECK_INT(bad, 0);
        free(expect);
    }
    free(x);
    free(q);
    lr_st_close(f);
}

/* Hand-made blocks whose values are known without any oracle. */
static void test_known_blocks(void)
{
    unsigned char b[210];
    lr_float y[256];
    int j;
    /* Q8_0, d = 0.5 (f16 0x3800): y = q / 2 */
    memset(b, 0, sizeof b);
    lr_put_le16(b, 0x3800);
    for (j = 0; j < 32; j++) b[2 + j] = (unsigned char)(j - 16);
    lr_dequantize(LR_GGML_Q8_0, b, 1, y);
    CHECK(y[0] == -8.0 && y[31] == 7.5);
    /* Q4_1, d = 1, m = -2: element 0 = low nibble of byte 0, element 16 its
     * high nibble */
    memset(b, 0, sizeof b);
    lr_put_le16(b, 0x3c00);
    lr_put_le16(b + 2, 0xc000);
    b[4] = 0x93;
    lr_dequantize(LR_GGML_Q4_1, b, 1, y);
    CHECK(y[0] == 1.0 && y[16] == 7.0 && y[1] == -2.0);
    /* Q6_K, d = 1, scale[0] = 2, q = 32 + 3 at element 0: 6 */
    memset(b, 0, sizeof b);
    b[0] = 3;       /* ql low nibble of element 0 */
    b[128] = 2;     /* qh bits 0..1 of element 0: 2 -> q = 3 | 32 */
    b[192] = 2;     /* scale of sub-block 0 */
    lr_put_le16(b + 208, 0x3c00);
    lr_dequantize(LR_GGML_Q6_K, b, 1, y);
    CHECK(y[0] == 6.0 && y[1] == -64.0);
}

int main(void)
{
    RUN(test_type_table);
    RUN(test_known_blocks);
    RUN(test_dequantize_random_blocks);
    RUN(test_dequantize_first_values);
    RUN(test_dequantize_quantised_blocks);
    RUN(test_quantise);
    return h_finish("test_quant");
}
