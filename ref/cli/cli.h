/* cli.h - the subcommands of the llamaref command-line tool.  Each lives in
 * its own ref/cli/cmd_*.c and returns the process exit status (0 ok, 1 error,
 * 2 usage).  Shared argument helpers are in cli_args.c. */
#ifndef LLAMAREF_CLI_H
#define LLAMAREF_CLI_H

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
int cmd_export_gguf(int argc, char **argv);
int cmd_tokenize(int argc, char **argv), cmd_detokenize(int argc, char **argv),
    cmd_chat_template(int argc, char **argv);

/* Argument helpers: "--name value" options.  Each prints a message naming
 * the option and returns -1 on a missing or malformed value. */
int cli_int(const char *opt, const char *val, long lo, long hi, long *out);
int cli_double(const char *opt, const char *val, double *out);
/* Exits the argument loop on an unknown option with a clear message. */
int cli_unknown(const char *cmd, const char *arg);
/* Wall-clock seconds from an arbitrary origin (monotonic where the
 * platform has it; else processor time), for rates and ETAs: processor
 * time would count every OpenMP thread. */
double cli_now(void);

#endif
