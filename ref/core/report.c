/* report.c - helpers of the report writers (report.h): file names, paths
 * beside an output, Markdown escaping, an MMLU-layout directory's
 * subjects.
 * Depends on: common.h. */
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

/* The subjects found so far (lr_list_dir's fn): names "<subject>_test.csv"
 * kept as "<subject>"; 1 (stop) when out of memory. */
typedef struct subject_list {
    char **v;
    int n;
} subject_list;

static int add_subject(void *ctx, const char *name)
{
    subject_list *s = ctx;
    size_t L = strlen(name);
    char **nv;
    if (L <= 9 || strcmp(name + L - 9, "_test.csv")) return 0;
    nv = realloc(s->v, (size_t)(s->n + 1) * sizeof *s->v);
    if (!nv) return 1;
    s->v = nv;
    if (!(nv[s->n] = lr_strndup(name, L - 9, NULL))) return 1;
    s->n++;
    return 0;
}

int lr_mmlu_list_subjects(const char *dir, char ***out, lr_error *err)
{
    char path[4200];
    subject_list s = {NULL, 0};
    int rc;
    *out = NULL;
    snprintf(path, sizeof path, "%s/test", dir);
    rc = lr_list_dir(path, add_subject, &s);
    if (rc == LR_DIR_OPEN_FAILED) return lr_fail(err, "cannot open the directory %s", path);
    if (rc != 0) {
        /* a partial list would drop subjects silently */
        if (rc == LR_DIR_READ_FAILED)
            lr_fail(err, "cannot read the directory %s: %s", path, strerror(errno));
        else
            lr_fail(err, "out of memory listing %s", path);
        while (s.n > 0) free(s.v[--s.n]);
        free(s.v);
        return -1;
    }
    if (s.n) qsort(s.v, (size_t)s.n, sizeof *s.v, cmp_str);
    *out = s.v;
    return s.n;
}
