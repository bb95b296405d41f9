/* cli_lm.h - loading a model, its tokenizer and an optional LoRA adapter
 * for the evaluation commands (probe, eval, detox), and writing their
 * JSON/Markdown/SVG report files. */
#ifndef LLAMAREF_CLI_LM_H
#define LLAMAREF_CLI_LM_H

#include "llamaref/model.h"
#include "llamaref/probe.h"
#include "llamaref/report.h"
#include "llamaref/tokenizer.h"

typedef struct cli_lm {
    const char *model_path, *tok_path, *adapter_path;
    int keep_dtype;
    int no_check_weights; /* --no-check-weights */
    lr_model *model;
    lr_tokenizer tok;
    int have_tok;
} cli_lm;

/* The first NaN or infinite weight of m: prints "llamaref <cmd>: <path>:
 * tensor <name> element <i> is <value>" and returns -1 (0 when every weight
 * is finite).  BF16/F16 weights are checked as stored. */
int cli_check_weights(const char *cmd, const lr_model *m);
/* The tokenizer fits the model: every token id below the model's
 * vocab_size, and the config's BOS/EOS ids inside the vocabulary; else a
 * message and -1.  tok may be NULL (only the config's ids checked). */
int cli_check_vocab(const char *cmd, const lr_model *m, const lr_tokenizer *tok);

/* Consumes --model, --tokenizer, --adapter, --keep-dtype,
 * --no-check-weights at argv[*i];
 * returns 1 when the option was one of them, 0 if not, -1 on a missing
 * value. */
int cli_lm_option(cli_lm *lm, int argc, char **argv, int *i);
/* Loads everything; prints "llamaref <cmd>: <error>" and returns -1 on
 * failure. */
int cli_lm_load(cli_lm *lm, const char *cmd);
void cli_lm_free(cli_lm *lm);
/* --template: auto, chat or plain; else a message and -1 (a usage error,
 * checked while parsing). */
int cli_template_arg(const char *cmd, const char *arg);
/* --template auto|chat|plain -> style (auto: plain for a model trained
 * without chat, i.e. a world model (world.json in its directory) or one
 * whose config.json has "llamaref_template": "plain"; else chatml when the
 * tokenizer's GGUF chat template is ChatML (SmolLM2), chat when the
 * tokenizer has <|eot_id|>, else plain; --template chat gives chatml for a
 * ChatML tokenizer).  Says on stderr which template is
 * used and why. */
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
