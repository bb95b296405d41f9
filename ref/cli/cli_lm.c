/* cli_lm.c - model/tokenizer/adapter loading and report paths for the
 * evaluation commands; see cli_lm.h. */
/* 64-bit directory offsets on 32-bit hosts: without it readdir fails
 * (EOVERFLOW) on file systems whose offsets do not fit 32 bits */
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_lm.h"
#include "llamaref/adapter.h"
#include "llamaref/lora.h"

int cli_lm_option(cli_lm *lm, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    const char **dst = NULL;
    if (!strcmp(a, "--keep-dtype")) { lm->keep_dtype = 1; return 1; }
    if (!strcmp(a, "--model")) dst = &lm->model_path;
    else if (!strcmp(a, "--tokenizer")) dst = &lm->tok_path;
    else if (!strcmp(a, "--adapter")) dst = &lm->adapter_path;
    else return 0;
    if (!v) {
        fprintf(stderr, "llamaref: option %s needs a value\n", a);
        return -1;
    }
    *dst = v;
    (*i)++;
    return 1;
}

int cli_lm_load(cli_lm *lm, const char *cmd)
{
    lr_load_options opt;
    lr_error err;
    const char *tp;
    if (!lm->model_path) {
        fprintf(stderr, "llamaref %s: --model PATH is required\n", cmd);
        return -1;
    }
    memset(&opt, 0, sizeof opt);
    opt.keep_dtype = lm->keep_dtype;
    opt.use_mmap = lm->keep_dtype;
    if (lr_model_load(lm->model_path, &opt, &lm->model, &err)) {
        fprintf(stderr, "llamaref %s: %s\n", cmd, err.msg);
        return -1;
    }
    if (lm->adapter_path) {
        /* W' = W + s B A for every adapted linear (lora.h): the same function
         * as PEFT's unmerged forward up to rounding */
        lr_lora lo;
        int r;
        memset(&lo, 0, sizeof lo);
        r = lr_adapter_load(lm->adapter_path, &lm->model->config, &lo, &err) ||
            lr_lora_merge(lm->model, &lo, &err);
        lr_lora_free(&lo);
        if (r) {
            fprintf(stderr, "llamaref %s: --adapter %s: %s\n", cmd,
                    lm->adapter_path, err.msg);
            return -1;
        }
    }
    tp = lm->tok_path ? lm->tok_path : lm->model_path;
    if (!lm->tok_path && !lr_path_is_dir(lm->model_path) && strcmp(lm->model->format, "gguf")) {
        fprintf(stderr, "llamaref %s: --tokenizer PATH is needed for a "
                "llama2.c checkpoint\n", cmd);
        return -1;
    }
    if (lr_tokenizer_load(tp, &lm->tok, &err)) {
        fprintf(stderr, "llamaref %s: %s\n", cmd, err.msg);
        return -1;
    }
    lm->have_tok = 1;
    if ((size_t)lm->model->config.vocab_size < lm->tok.vocab_size)
        fprintf(stderr, "llamaref %s: warning: tokenizer has %lu tokens, the "
                "model %d\n", cmd, (unsigned long)lm->tok.vocab_size,
                lm->model->config.vocab_size);
    return 0;
}

void cli_lm_free(cli_lm *lm)
{
    if (lm->have_tok) lr_tokenizer_free(&lm->tok);
    lr_model_free(lm->model);
    lm->model = NULL;
    lm->have_tok = 0;
}

int cli_prompt_style(const char *cmd, const char *arg, const cli_lm *lm,
                     lr_prompt_style *out)
{
    if (!arg || !strcmp(arg, "auto")) {
        *out = lm->have_tok && lr_tokenizer_special_id(&lm->tok, "<|eot_id|>") >= 0
                   ? LR_PROMPT_CHAT : LR_PROMPT_PLAIN;
    } else if (!strcmp(arg, "chat")) {
        if (!lm->have_tok || lr_tokenizer_special_id(&lm->tok, "<|eot_id|>") < 0) {
            fprintf(stderr, "llamaref %s: --template chat needs a Llama 3 "
                    "tokenizer (with <|eot_id|>)\n", cmd);
            return -1;
        }
        *out = LR_PROMPT_CHAT;
    } else if (!strcmp(arg, "plain")) {
        *out = LR_PROMPT_PLAIN;
    } else {
        fprintf(stderr, "llamaref %s: --template must be auto, chat or plain\n", cmd);
        return -1;
    }
    return 0;
}

int cli_write(const char *cmd, const char *path, const char *data, size_t len)
{
    lr_error err;
    if (lr_write_file_atomic(path, data, len, &err)) {
        fprintf(stderr, "llamaref %s: %s\n", cmd, err.msg);
        return -1;
    }
    return 0;
}

const char *cli_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

void cli_md_escape(lr_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') lr_buf_puts(b, "\\|");
        else if (*s == '\n' || *s == '\r') lr_buf_puts(b, " ");
        else lr_buf_append(b, s, 1);
    }
}

const char *cli_report_path(const char *out, const char *suffix, int slot)
{
    static char buf[8][4096];
    char *p = buf[slot & 7];
    const char *base = cli_basename(out), *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - out) : strlen(out);
    if (n > 4000) n = 4000;
    memcpy(p, out, n);
    snprintf(p + n, 4096 - n, "%s", suffix);
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int cli_mmlu_subjects(const char *cmd, const char *dir, char ***out)
{
    char path[4200];
    DIR *d;
    struct dirent *e;
    char **v = NULL;
    int n = 0;
    *out = NULL;
    snprintf(path, sizeof path, "%s/test", dir);
    if (!(d = opendir(path))) {
        fprintf(stderr, "llamaref %s: cannot open the directory %s\n", cmd, path);
        return -1;
    }
    for (;;) {
        size_t L;
        char **nv;
        errno = 0;
        if ((e = readdir(d)) == NULL) {
            if (errno != 0) { /* a partial list would drop subjects silently */
                fprintf(stderr, "llamaref %s: cannot read the directory %s: %s\n",
                        cmd, path, strerror(errno));
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
            fprintf(stderr, "llamaref %s: out of memory listing %s\n", cmd, path);
            return -1;
        }
        v = nv;
        n++;
    }
    closedir(d);
    if (n) qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    return n;
}
