/* cli_lm.h - the options that name a model, its tokenizer and an optional
 * LoRA adapter for the evaluation commands (probe, eval, detox), loading
 * them (lm.h) with the errors printed, and writing report files. */
#ifndef LLAMAREF_CLI_LM_H
#define LLAMAREF_CLI_LM_H

#include "llamaref/eval/lm.h"
#include "llamaref/core/report.h"

typedef lr_lm cli_lm; /* lm.h */

/* The cli_parse_doc table entries (cli.h) of --model, --tokenizer,
 * --adapter, --keep-dtype and --no-check-weights, into an lr_lm. */
#define CLI_LM_OPTS(lm)                                                      \
    CLI_OPT("--model", CLI_STR, &(lm).model_path),                          \
    CLI_OPT("--tokenizer", CLI_STR, &(lm).tok_path),                        \
    CLI_OPT("--adapter", CLI_STR, &(lm).adapter_path),                      \
    CLI_OPT("--keep-dtype", CLI_FLAG, &(lm).keep_dtype),                    \
    CLI_OPT("--no-check-weights", CLI_FLAG, &(lm).no_check_weights)
/* --facts FILE, repeatable (probe, mixture): a cli_parse_doc CLI_FN adding
 * to a cli_paths; more than 64 is refused. */
typedef struct cli_paths {
    const char *p[64];
    int n;
} cli_paths;
int cli_paths_opt(const char *opt, const char *val, void *dst);
/* lr_lm_load; prints "llamaref <cmd>: <error>" and returns -1 on
 * failure. */
int cli_lm_load(cli_lm *lm, const char *cmd);
#define cli_lm_free lr_lm_free
/* --template: auto, chat or plain; else a message and -1 (a usage error,
 * checked while parsing). */
int cli_template_arg(const char *cmd, const char *arg);
/* cli_template_arg as a cli_parse_doc CLI_FN: the value into *(const char **)dst. */
int cli_template_opt(const char *opt, const char *val, void *dst);
/* --template auto|chat|plain -> style (lr_lm_prompt_style, lm.h); says on
 * stderr which template is used and why. */
int cli_prompt_style(const char *cmd, const char *arg, const cli_lm *lm,
                     lr_prompt_style *out);

/* The context a command may use: --max-len (given) beyond the model's
 * max_position_embeddings is an error (message, -1); a default beyond it
 * is lowered to it. */
int cli_ctx_len(const char *cmd, const lr_model *m, long *max_len, int given);

/* Writes a whole file atomically; prints an error and returns -1. */
int cli_write(const char *cmd, const char *path, const char *data, size_t len);
/* "<base>.json", "<base>.md", "<base>-<name>.svg": paths next to an output
 * file (lr_report_path, report.h); static buffer per slot. */
const char *cli_report_path(const char *out, const char *suffix, int slot);

#endif
