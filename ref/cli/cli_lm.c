/* cli_lm.c - model/tokenizer/adapter loading and report paths for the
 * evaluation commands; see cli_lm.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/core/report.h"

int cli_paths_opt(const char *opt, const char *val, void *dst)
{
    cli_paths *l = dst;
    if (l->n == 64) {
        fprintf(stderr, "llamaref %s: too many %s (64 at most)\n", cli_cmd, opt);
        return -1;
    }
    l->p[l->n++] = val;
    return 0;
}

int cli_lm_load(cli_lm *lm, const char *cmd)
{
    lr_error err;
    if (lr_lm_load(lm, &err)) {
        fprintf(stderr, "llamaref %s: %s\n", cmd, err.msg);
        return -1;
    }
    return 0;
}

int cli_template_arg(const char *cmd, const char *arg)
{
    if (!strcmp(arg, "auto") || !strcmp(arg, "chat") || !strcmp(arg, "plain")) return 0;
    fprintf(stderr, "llamaref %s: --template must be auto, chat or plain (got '%s')\n",
            cmd, arg);
    return -1;
}

int cli_template_opt(const char *opt, const char *val, void *dst)
{
    (void)opt;
    if (cli_template_arg(cli_cmd, val)) return -1;
    *(const char **)dst = val;
    return 0;
}

int cli_prompt_style(const char *cmd, const char *arg, const cli_lm *lm,
                     lr_prompt_style *out)
{
    lr_error err;
    const char *why;
    if (lr_lm_prompt_style(lm, arg, out, &why, &err)) {
        fprintf(stderr, "llamaref %s: %s\n", cmd, err.msg);
        return -1;
    }
    if (why)
        fprintf(stderr, "llamaref %s: template %s (auto: %s; --template "
                "chat|plain chooses)\n", cmd, lr_prompt_style_name(*out), why);
    else
        fprintf(stderr, "llamaref %s: template %s (--template)\n", cmd, arg);
    return 0;
}

int cli_ctx_len(const char *cmd, const lr_model *m, long *max_len, int given)
{
    long mp = m->config.max_position_embeddings;
    if (mp <= 0 || *max_len <= mp) return 0;
    if (given) {
        fprintf(stderr, "llamaref %s: --max-len %ld is beyond the model's "
                "context (max_position_embeddings %ld)\n", cmd, *max_len, mp);
        return -1;
    }
    *max_len = mp;
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

const char *cli_report_path(const char *out, const char *suffix, int slot)
{
    static char buf[8][4096];
    lr_report_path(buf[slot & 7], sizeof buf[0], out, suffix);
    return buf[slot & 7];
}
