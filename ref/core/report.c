/* report.c - helpers of the report writers (report.h): file names, paths
 * beside an output, Markdown escaping, an MMLU-layout directory's
 * subjects.
 * Depends on: common.h. */
/* 64-bit directory offsets on 32-bit hosts: without it readdir fails
 * (EOVERFLOW) on file systems whose offsets do not fit 32 bits */
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/report.h"

const char *lr_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

void lr_report_path(char *dst, size_t cap, const char *out, const char *suffix)
{
    const char *base = lr_basename(out), *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - out) : strlen(out);
    if (!cap) return;
    if (n > 4000) n = 4000;
    if (n >= cap) n = cap - 1;
    memcpy(dst, out, n);
    snprintf(dst + n, cap - n, "%s", suffix);
}

void lr_md_escape(lr_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') lr_buf_puts(b, "\\|");
        else if (*s == '\n' || *s == '\r') lr_buf_puts(b, " ");
        else lr_buf_append(b, s, 1);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int lr_mmlu_list_subjects(const char *dir, char ***out, lr_error *err)
{
    char path[4200];
    DIR *d;
    struct dirent *e;
    char **v = NULL;
    int n = 0;
    *out = NULL;
    snprintf(path, sizeof path, "%s/test", dir);
    if (!(d = opendir(path))) return lr_fail(err, "cannot open the directory %s", path);
    for (;;) {
        size_t L;
        char **nv;
        errno = 0;
        if ((e = readdir(d)) == NULL) {
            if (errno != 0) { /* a partial list would drop subjects silently */
                lr_fail(err, "cannot read the directory %s: %s", path, strerror(errno));
                while (n > 0) free(v[--n]);
                free(v);
                closedir(d);
                return -1;
            }
            break;
        }
        L = strlen(e->d_name);
        if (L <= 9 || strcmp(e->d_name + L - 9, "_test.csv")) continue;
        nv = realloc(v, (size_t)(n + 1) * sizeof *v);
        if (!nv || !(nv[n] = lr_strndup(e->d_name, L - 9, NULL))) {
            if (nv) v = nv;
            while (n > 0) free(v[--n]);
            free(v);
            closedir(d);
            return lr_fail(err, "out of memory listing %s", path);
        }
        v = nv;
        n++;
    }
    closedir(d);
    if (n) qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    return n;
}
