/* cli.h - the subcommands of the llamaref command-line tool.  Each lives in
 * its own ref/cli/cmd_*.c and returns the process exit status (0 ok, 1
 * runtime error, 2 usage error).  Shared argument helpers are in
 * cli_args.c: one vocabulary of option spellings for every command
 * (docs/cli.md). */
#ifndef LLAMAREF_CLI_H
#define LLAMAREF_CLI_H

#include <stdio.h>

#include "llamaref/core/common.h"

int cmd_info(int argc, char **argv);
int cmd_generate(int argc, char **argv), cmd_dump(int argc, char **argv), cmd_bench(int argc, char **argv);
int cmd_chrf(int argc, char **argv);
int cmd_detox_score(int argc, char **argv);
int cmd_probe(int argc, char **argv), cmd_knowledge_report(int argc, char **argv), cmd_mixture(int argc, char **argv);
int cmd_eval(int argc, char **argv), cmd_detox(int argc, char **argv);
int cmd_train(int argc, char **argv), cmd_merge(int argc, char **argv);
int cmd_bpe_train(int argc, char **argv);
int cmd_world(int argc, char **argv);
int cmd_experiment(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_export_gguf(int argc, char **argv);
int cmd_tokenize(int argc, char **argv), cmd_detokenize(int argc, char **argv),
    cmd_chat_template(int argc, char **argv);

/* The running command's name ("probe"), set by main before dispatch; every
 * message of the helpers below starts "llamaref <cli_cmd>: ". */
extern const char *cli_cmd;

/* The canonical spelling of an option: the short and alternative names
 * people bring from llama.cpp and Hugging Face (-m, -p, -n, -c, -f, -s,
 * -t, --temp, --ctx-size, --n-predict, --learning-rate, --lora-alpha,
 * --num-train-epochs, ...) map to the one spelling every command accepts;
 * a deprecated spelling (--n-shots) maps too, with a warning on stderr.
 * Anything else is returned unchanged. */
const char *cli_opt(const char *arg);

/* Argument helpers: "--name value" options.  Each prints a message naming
 * the option and returns -1 on a missing or malformed value. */
int cli_int(const char *opt, const char *val, long lo, long hi, long *out);
/* A finite number (NaN and infinities refused) in a range: lo < v
 * (lo_open) or lo <= v, and v < hi (hi_open) or v <= hi. */
int cli_double_in(const char *opt, const char *val, double lo, int lo_open,
                  double hi, int hi_open, double *out);
/* A token-id list ("1 2 3" or "1,2,3") given to opt, as in
 * generate's, dump's and verify's --ids: parsed into a malloc'ed array;
 * prints a message naming opt and returns -1 on a malformed or empty list
 * or a value outside [-2^31, 2^31). */
int cli_ids(const char *opt, const char *val, int **ids, int *n);
/* Ends the argument loop on an option the command does not know: the
 * message says "needs a value" for one of the command's own options given
 * last without its value, else "unknown option" with the closest option
 * listed by usage ("did you mean --temperature?").  usage may be NULL (the
 * shared vocabulary is searched).  Returns 2. */
int cli_bad_option(const char *cmd, const char *arg, void (*usage)(FILE *));
/* A command's options as a table: cli_parse_doc reads argv[first..] with
 * it, every option through cli_opt, so that each command accepts, checks
 * and refuses its options the same way.  kind says what dst points to and how
 * the value is checked: CLI_STR (const char *), CLI_FLAG and CLI_UNFLAG
 * (int set to 1 or 0; no value), CLI_LONG (long) and CLI_INT (int) within
 * [lo, hi] (cli_int), CLI_DBL within [lo, hi] and CLI_DBL_GT within
 * (lo, hi] (cli_double_in), CLI_SEED (long: 0 .. 2^31-1, or -1 to draw
 * one, printed on stderr and stored so that whatever records the options
 * records it), CLI_FN (fn checks the value and stores it into dst; it
 * prints a message and returns -1 when the value is refused).  given, when not NULL, is set to 1 when the
 * option is seen. */
enum { CLI_STR = 1, CLI_FLAG, CLI_UNFLAG, CLI_LONG, CLI_INT, CLI_DBL,
       CLI_DBL_GT, CLI_SEED, CLI_FN };
typedef struct cli_optdef {
    const char *name;           /* canonical spelling ("--top-k") */
    int kind;
    void *dst;
    double lo, hi;
    int *given;
    int (*fn)(const char *opt, const char *val, void *dst);
    const char *help;           /* cli_parse_doc: see there */
} cli_optdef;
/* Parses argv[first..argc) with the n options of opts: -h / --help prints
 * head, each option's help line in table order and foot on stdout and
 * returns 0; an option outside the table, a string option without its
 * value or a refused value prints its message (the value parsers' above,
 * cli_bad_option's) and returns 2; else -1 (go on).  An option's help is
 * its whole line when it starts with '-' ("--ids  print token ids"; "  "
 * is put before it and a newline after); otherwise the option's shared
 * line (cli_help) with help, when not NULL, as the command's default; help
 * "" prints nothing (a second spelling documented on another option's
 * line).  CLI_OPT: an entry without help; CLI_H and CLI_HN: with a help. */
#define CLI_OPT(name, kind, dst) {name, kind, dst, 0, 0, NULL, NULL, NULL}
#define CLI_H(name, kind, dst, help) {name, kind, dst, 0, 0, NULL, NULL, help}
#define CLI_HN(name, kind, dst, lo, hi, help) {name, kind, dst, lo, hi, NULL, NULL, help}
int cli_parse_doc(const char *cmd, int argc, char **argv, int first,
                  const cli_optdef *opts, size_t n, const char *head, const char *foot);
/* Before any work: an output file's parent directories are created and
 * checked writable (is_dir: path itself is a directory to create).  Prints
 * "llamaref <cmd>: ..." and returns -1 when it cannot be written. */
int cli_prepare_out(const char *cmd, const char *path, int is_dir);
/* The --help line of a shared option (opt: its canonical spelling, e.g.
 * "--temperature"), the same text in every command, with the command's
 * default appended when def is not NULL.  Unknown opt: nothing printed. */
void cli_help(FILE *f, const char *opt, const char *def);
/* 1 when stderr is a terminal: progress lines use '\r' there and one line
 * per update otherwise (a log file). */
int cli_stderr_tty(void);
/* Wall-clock seconds for rates and ETAs: the library's one clock
 * (lr_clock_seconds, common.h), also usable as a function pointer. */
#define cli_now lr_clock_seconds
/* The probe's progress on stderr (cmd_probe.c; lr_probe_run_all's hook):
 * on a terminal one line rewritten in place, in a log file a line per 100
 * prompts; ctx not NULL: experiment's, indented, a line per 500. */
void cli_probe_progress(long done, long total, void *ctx);

/* A training run's output (cmd_train.c), for train and experiment: hooks
 * for lr_train_run that print the progress on stderr (*tty: stderr is a
 * terminal; it must outlive the run), and the summary line on stdout
 * after a run. */
struct lr_train_options;
struct lr_train_hooks;
struct lr_train_result;
void cli_train_hooks(struct lr_train_hooks *h, int *tty);
void cli_train_done(const struct lr_train_options *a,
                    const struct lr_train_result *res, int tty);

#endif
