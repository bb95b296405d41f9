/* fuzz_util.h - what the libFuzzer targets in tests/fuzz/ share: scratch
 * files (one directory per process), splitting one input into several
 * files, and a small byte-level tokenizer.  Each target includes it once. */
#ifndef LLAMAREF_FUZZ_UTIL_H
#define LLAMAREF_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llamaref/tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

/* Where scratch files go: /dev/shm when there is one (memory: the targets
 * that read files write one per execution), else /tmp. */
static const char *fz_tmpdir(void)
{
    return lr_path_is_dir("/dev/shm") ? "/dev/shm" : "/tmp";
}

/* The scratch directory, and the names written in it (removed at exit). */
static char fz_dir[64];
static char fz_names[16][64];
static int fz_n_names;

static void fz_cleanup(void)
{
    char p[160];
    int i;
    for (i = fz_n_names - 1; i >= 0; i--) {
        snprintf(p, sizeof p, "%s/%s", fz_dir, fz_names[i]);
        remove(p);
        rmdir(p); /* a directory a target made */
    }
    rmdir(fz_dir);
}

/* Path of `name` in this process's scratch directory (created once). */
static const char *fz_path(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ & 3];
    int i;
    if (!fz_dir[0]) {
        snprintf(fz_dir, sizeof fz_dir, "%s/lrfuzz_%ld", fz_tmpdir(), (long)getpid());
        lr_make_dir(fz_dir);
        atexit(fz_cleanup);
    }
    for (i = 0; i < fz_n_names && strcmp(fz_names[i], name); i++) {}
    if (i == fz_n_names && i < 16 && *name && strlen(name) < 64)
        strcpy(fz_names[fz_n_names++], name);
    snprintf(p, 256, "%s/%s", fz_dir, name);
    return p;
}

/* Writes data to the scratch file `name`; returns its path or NULL. */
static const char *fz_write(const char *name, const void *data, size_t n)
{
    const char *p = fz_path(name);
    FILE *f = fopen(p, "wb");
    if (!f) return NULL;
    if (n && fwrite(data, 1, n, f) != n) { fclose(f); return NULL; }
    if (fclose(f)) return NULL;
    return p;
}

/* A malloc'ed copy of exactly n bytes (ASan sees a read past the end);
 * with nul = 1 one more byte, 0. */
static char *fz_copy(const unsigned char *data, size_t n, int nul)
{
    char *c = malloc(n + (size_t)nul ? n + (size_t)nul : 1);
    if (!c) return NULL;
    if (n) memcpy(c, data, n);
    if (nul) c[n] = 0;
    return c;
}

/* Splits data at the separator line "\n====\n" into at most max parts
 * (the last part keeps any further separators).  Returns the count. */
#define FZ_SEP "\n====\n"
static size_t fz_split(const unsigned char *data, size_t n, size_t max,
                       const unsigned char **part, size_t *len)
{
    size_t k = 0, start = 0, i;
    const size_t sl = sizeof FZ_SEP - 1;
    for (i = 0; k + 1 < max && i + sl <= n; i++)
        if (!memcmp(data + i, FZ_SEP, sl)) {
            part[k] = data + start; len[k] = i - start; k++;
            start = i + sl;
            i = start - 1;
        }
    part[k] = data + start; len[k] = n - start;
    return k + 1;
}

/* A byte-level tiktoken tokenizer (the 256 bytes as ranks 0..255, then the
 * Llama 3 special tokens from id 256), built once. */
static const lr_tokenizer *fz_byte_tokenizer(void)
{
    static lr_tokenizer tok;
    static int ready;
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!ready) {
        char text[256 * 12];
        size_t len = 0;
        int b;
        lr_error err;
        for (b = 0; b < 256; b++)
            len += (size_t)sprintf(text + len, "%c%c== %d\n", b64[b >> 2],
                                   b64[(b & 3) << 4], b);
        if (lr_tokenizer_load_buffer(text, len, "bytes", &tok, &err)) {
            fprintf(stderr, "fuzz: byte tokenizer: %s\n", err.msg);
            abort();
        }
        ready = 1;
    }
    return &tok;
}

#endif
