/* test_safetensors.c - safetensors writer/reader round trips for every
 * dtype, stdio vs mmap, determinism, sharded sets, IEEE half/bfloat
 * conversion, and hostile files (each must fail with a message naming the
 * problem, never crash). */
#include "harness.h"
#include "llamaref/formats/safetensors.h"

static void write_bytes(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(d, 1, n, f);
    fclose(f);
}

/* A file with the given JSON header (exact bytes) and `data` zero bytes. */
static void write_raw_st(const char *path, const char *header, size_t data)
{
    size_t h = strlen(header);
    unsigned char *buf = calloc(8 + h + data + 1, 1);
    int i;
    for (i = 0; i < 8; i++) buf[i] = (unsigned char)(((uint64_t)h >> (8 * i)) & 0xff);
    memcpy(buf + 8, header, h);
    write_bytes(path, buf, 8 + h + data);
    free(buf);
}

static void test_half_conversions(void)
{
    /* exact, published bit patterns */
    CHECK_INT(lr_f32_to_f16(1.0f), 0x3c00);
    CHECK_INT(lr_f32_to_f16(65504.0f), 0x7bff);
    CHECK_INT(lr_f32_to_f16(65520.0f), 0x7c00);           /* rounds to inf */
    CHECK_INT(lr_f32_to_f16(5.9604644775390625e-08f), 0x0001); /* 2^-24 */
    CHECK_INT(lr_f32_to_f16(-2.0f), 0xc000);
    CHECK_INT(lr_f32_to_f16(0.333333343f), 0x3555);
    CHECK_INT(lr_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00); /* tie -> even */
    CHECK_INT(lr_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02); /* tie -> even */
    CHECK(lr_f16_to_f32(0x0001) == 5.9604644775390625e-08f);
    CHECK(lr_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(lr_f16_to_f32(0x3555) == 0.333251953125f);
    CHECK_INT(lr_f32_to_bf16(1.0f), 0x3f80);
    CHECK_INT(lr_f32_to_bf16(3.140625f), 0x4049);
    CHECK_INT(lr_f32_to_bf16(lr_f32_from_bits(0x3f808000u)), 0x3f80); /* tie -> even */
    CHECK_INT(lr_f32_to_bf16(lr_f32_from_bits(0x3f818000u)), 0x3f82); /* tie -> even */
    CHECK_INT(lr_f32_to_bf16(lr_f32_from_bits(0x3f808001u)), 0x3f81);
    CHECK(lr_bf16_to_f32(0x4049) == 3.140625f);
    {
        uint32_t i;
        int bad = 0;
        for (i = 0; i < 0x10000u; i++) { /* every finite half round-trips */
            if ((i & 0x7c00u) == 0x7c00u) continue;
            if (lr_f32_to_f16(lr_f16_to_f32((uint16_t)i)) != i) bad++;
        }
        CHECK_INT(bad, 0);
    }
}

static void test_round_trip_all_dtypes(void)
{
    lr_error err;
    lr_st_writer *w = lr_st_writer_new(&err);
    const char *path = h_tmp("st_all.safetensors");
    float f[6] = {1.5f, -2.25f, 3.0e-3f, 65504.0f, 0.0f, -0.0f};
    double d[3] = {1.0 / 3.0, -1e300, 5e-324};
    int64_t iv[4] = {-5, 0, 7, INT64_MAX};
    int64_t s23[2] = {2, 3}, s3[1] = {3}, s4[1] = {4}, s0[1] = {0}, sc[1];
    lr_st_file *st;
    int flags;
    CHECK(w != NULL);
    if (!w) return;
    CHECK_OK(lr_st_writer_add_f32(w, "f32", LR_F32, 2, s23, f, &err), &err);
    CHECK_OK(lr_st_writer_add_f32(w, "bf16", LR_BF16, 2, s23, f, &err), &err);
    CHECK_OK(lr_st_writer_add_f32(w, "f16", LR_F16, 2, s23, f, &err), &err);
    CHECK_OK(lr_st_writer_add_f64(w, "f64", LR_F64, 1, s3, d, &err), &err);
    CHECK_OK(lr_st_writer_add_i64(w, "i64", LR_I64, 1, s4, iv, &err), &err);
    CHECK_OK(lr_st_writer_add_i64(w, "i32", LR_I32, 1, s3, iv, &err), &err);
    CHECK_OK(lr_st_writer_add_i64(w, "u8", LR_U8, 1, s3, iv + 1, &err), &err);
    CHECK_OK(lr_st_writer_add_f32(w, "empty", LR_F32, 1, s0, f, &err), &err);
    CHECK_OK(lr_st_writer_add_f32(w, "scalar", LR_F32, 0, sc, f, &err), &err);
    CHECK_OK(lr_st_writer_meta(w, "format", "pt", &err), &err);
    CHECK_ERR(lr_st_writer_add_f32(w, "f32", LR_F32, 2, s23, f, &err), &err, "added twice");
    CHECK_OK(lr_st_writer_save(w, path, &err), &err);
    lr_st_writer_free(w);
    for (flags = 0; flags <= LR_ST_MMAP; flags += LR_ST_MMAP) {
        float g[6];
        double e[3];
        int64_t j[4];
        const lr_st_tensor *t;
        int i;
        if (lr_st_open(path, flags, &st, &err)) {
            CHECK_OK(-1, &err);
            return;
        }
        CHECK_INT(lr_st_count(st), 9);
        CHECK(lr_st_metadata(st) && !strcmp(lr_json_get(lr_st_metadata(st), "format")->str, "pt"));
        t = lr_st_find(st, "f32");
        CHECK(t && t->dtype == LR_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3);
        CHECK_OK(lr_st_read_f32(st, t, g, &err), &err);
        for (i = 0; i < 6; i++) CHECK(g[i] == f[i]);
        CHECK(lr_f32_to_bits(g[5]) == 0x80000000u); /* -0.0 kept */
        t = lr_st_find(st, "bf16");
        CHECK_OK(lr_st_read_f32(st, t, g, &err), &err);
        for (i = 0; i < 6; i++) CHECK(g[i] == lr_bf16_to_f32(lr_f32_to_bf16(f[i])));
        t = lr_st_find(st, "f16");
        CHECK_OK(lr_st_read_f32(st, t, g, &err), &err);
        for (i = 0; i < 6; i++) CHECK(g[i] == lr_f16_to_f32(lr_f32_to_f16(f[i])));
        t = lr_st_find(st, "f64");
        CHECK_OK(lr_st_read_f64(st, t, e, &err), &err);
        for (i = 0; i < 3; i++) CHECK(e[i] == d[i]);
        t = lr_st_find(st, "i64");
        CHECK_OK(lr_st_read_i64(st, t, j, &err), &err);
        for (i = 0; i < 4; i++) CHECK(j[i] == iv[i]);
        t = lr_st_find(st, "i32");
        CHECK_OK(lr_st_read_i64(st, t, j, &err), &err);
        CHECK(j[0] == -5 && j[1] == 0 && j[2] == 7);
        t = lr_st_find(st, "u8");
        CHECK_OK(lr_st_read_i64(st, t, j, &err), &err);
        CHECK(j[0] == 0 && j[1] == 7 && j[2] == 255);
        CHECK_ERR(lr_st_read_f32(st, t, g, &err), &err, "floating type was expected");
        t = lr_st_find(st, "empty");
        CHECK(t && t->nelem == 0 && t->nbytes == 0);
        t = lr_st_find(st, "scalar");
        CHECK(t && t->ndim == 0 && t->nelem == 1);
        CHECK(lr_st_find(st, "nope") == NULL);
        lr_st_close(st);
    }
}

static void test_writer_is_deterministic_and_aligned(void)
{
    lr_error err;
    const char *a = h_tmp("st_det_a.safetensors"), *b = h_tmp("st_det_b.safetensors");
    int64_t s1[1] = {1}, s3[1] = {3};
    float v[3] = {1, 2, 3};
    char *da, *db;
    size_t la, lb;
    int k;
    for (k = 0; k < 2; k++) {
        lr_st_writer *w = lr_st_writer_new(&err);
        /* insertion order differs, output must not */
        if (k == 0) {
            lr_st_writer_add_f32(w, "zeta", LR_F32, 1, s3, v, &err);
            lr_st_writer_add_f32(w, "alpha", LR_BF16, 1, s1, v, &err);
            lr_st_writer_meta(w, "b", "2", &err);
            lr_st_writer_meta(w, "a", "1", &err);
        } else {
            lr_st_writer_meta(w, "a", "1", &err);
            lr_st_writer_meta(w, "b", "2", &err);
            lr_st_writer_add_f32(w, "alpha", LR_BF16, 1, s1, v, &err);
            lr_st_writer_add_f32(w, "zeta", LR_F32, 1, s3, v, &err);
        }
        CHECK_OK(lr_st_writer_save(w, k ? b : a, &err), &err);
        lr_st_writer_free(w);
    }
    CHECK_OK(lr_read_file(a, &da, &la, &err), &err);
    CHECK_OK(lr_read_file(b, &db, &lb, &err), &err);
    CHECK(la == lb && memcmp(da, db, la) == 0);
    CHECK_INT(lr_le64((const unsigned char *)da) % 8, 0);
    CHECK(strstr(da + 8, "{\"__metadata__\":{\"a\":\"1\",\"b\":\"2\"},\"alpha\"") == da + 8);
    free(da);
    free(db);
}

static void test_hostile_files(void)
{
    lr_error err;
    lr_st_file *st = NULL;
    const char *p = h_tmp("st_bad.safetensors");
    unsigned char big[16] = {0xff, 0xff, 0, 0, 0, 0, 0, 0, '{', '}'};
    write_bytes(p, "abc", 3);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "too short");
    write_bytes(p, big, 10);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "larger than the file");
    write_raw_st(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "past the end of the data section");
    write_raw_st(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "overlaps");
    write_raw_st(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "end before begin");
    write_raw_st(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "but data_offsets span 8 bytes");
    write_raw_st(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
                    "\"data_offsets\":[0,8]}}", 8);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "overflows");
    write_raw_st(p, "{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "unknown dtype \"Q4\"");
    write_raw_st(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]", 8);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "(header):1:");
    write_raw_st(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "gap of 4");
    write_raw_st(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "trailing bytes");
    write_raw_st(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "appears twice");
    write_raw_st(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "shape[0]");
    write_raw_st(p, "{\"__metadata__\":{\"k\":1}}", 0);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "is not a string");
    write_raw_st(p, "[1,2]", 0);
    CHECK_ERR(lr_st_open(p, 0, &st, &err), &err, "not a JSON object");
    CHECK_ERR(lr_st_open(h_tmp("does-not-exist.safetensors"), 0, &st, &err), &err,
              "cannot open");
    CHECK(st == NULL);
    /* a valid file truncated at every length is rejected cleanly */
    {
        lr_st_writer *w = lr_st_writer_new(&err);
        int64_t s[1] = {5};
        float v[5] = {1, 2, 3, 4, 5};
        char *data;
        size_t len, cut;
        int rejected = 0;
        lr_st_writer_add_f32(w, "x", LR_F32, 1, s, v, &err);
        lr_st_writer_save(w, p, &err);
        lr_st_writer_free(w);
        lr_read_file(p, &data, &len, &err);
        for (cut = 0; cut < len; cut++) {
            write_bytes(p, data, cut);
            if (lr_st_open(p, 0, &st, &err) != 0) rejected++;
            else lr_st_close(st);
        }
        CHECK_INT(rejected, (long long)len);
        free(data);
    }
}

static void test_sharded_set(void)
{
    lr_error err;
    char dir[4096], p1[4200], p2[4200], idx[4200];
    int64_t s2[1] = {2};
    float a[2] = {1, 2}, b[2] = {3, 4}, g[2];
    lr_st_writer *w;
    lr_st_set *set;
    lr_st_file *file;
    const lr_st_tensor *t;
    const char *index =
        "{\"metadata\": {\"total_size\": 16}, \"weight_map\": {"
        "\"a\": \"model-00001-of-00002.safetensors\", "
        "\"b\": \"model-00002-of-00002.safetensors\"}}";
    strcpy(dir, h_tmp("shards"));
    lr_make_dirs(dir);
    sprintf(p1, "%s/model-00001-of-00002.safetensors", dir);
    sprintf(p2, "%s/model-00002-of-00002.safetensors", dir);
    sprintf(idx, "%s/model.safetensors.index.json", dir);
    remove(h_tmp("shards/model.safetensors"));
    w = lr_st_writer_new(&err);
    lr_st_writer_add_f32(w, "a", LR_F32, 1, s2, a, &err);
    CHECK_OK(lr_st_writer_save(w, p1, &err), &err);
    lr_st_writer_free(w);
    w = lr_st_writer_new(&err);
    lr_st_writer_add_f32(w, "b", LR_F32, 1, s2, b, &err);
    CHECK_OK(lr_st_writer_save(w, p2, &err), &err);
    lr_st_writer_free(w);
    write_bytes(idx, index, strlen(index));
    CHECK_OK(lr_st_set_open(dir, 0, &set, &err), &err);
    if (!set) return;
    CHECK_INT(lr_st_set_count(set), 2);
    t = lr_st_set_find(set, "b", &file);
    CHECK(t != NULL);
    if (t) {
        CHECK_OK(lr_st_read_f32(file, t, g, &err), &err);
        CHECK(g[0] == 3 && g[1] == 4);
    }
    lr_st_set_close(set);
    /* the index names a tensor no shard has */
    {
        const char *bad = "{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\", "
                          "\"b\": \"model-00002-of-00002.safetensors\", "
                          "\"c\": \"model-00002-of-00002.safetensors\"}}";
        write_bytes(idx, bad, strlen(bad));
        CHECK_ERR(lr_st_set_open(idx, 0, &set, &err), &err, "'c' listed in weight_map is in no shard");
        bad = "{\"weight_map\": {\"a\": \"model-00002-of-00002.safetensors\", "
              "\"b\": \"model-00001-of-00002.safetensors\"}}";
        write_bytes(idx, bad, strlen(bad));
        CHECK_ERR(lr_st_set_open(idx, 0, &set, &err), &err,
                  "'a' is in model-00001-of-00002.safetensors, weight_map says");
        bad = "{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\", "
              "\"b\": \"model-00001-of-00002.safetensors\"}}";
        write_bytes(idx, bad, strlen(bad));
        CHECK_ERR(lr_st_set_open(idx, 0, &set, &err), &err, "in no shard");
        bad = "{\"weight_map\": {\"a\": \"../etc/passwd\"}}";
        write_bytes(idx, bad, strlen(bad));
        CHECK_ERR(lr_st_set_open(idx, 0, &set, &err), &err, "plain file name");
        bad = "{\"weight_map\": {\"a\": \"missing.safetensors\"}}";
        write_bytes(idx, bad, strlen(bad));
        CHECK_ERR(lr_st_set_open(idx, 0, &set, &err), &err, "cannot open");
    }
}

int main(void)
{
    RUN(test_half_conversions);
    RUN(test_round_trip_all_dtypes);
    RUN(test_writer_is_deterministic_and_aligned);
    RUN(test_hostile_files);
    RUN(test_sharded_set);
    return h_finish("safetensors");
}
