/* main.c - entry point of ./llamaref: dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "llamaref/core/common.h"
#include "llamaref/core/par.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    int parallel; /* runs data-parallel under mpirun (docs/training.md,
                   * "Data-parallel training"); any other refuses ranks */
    const char *help;
} command;

static const command commands[] = {
    {"info", cmd_info, 0, "print a model's config, parameter count and memory"},
    {"generate", cmd_generate, 0, "generate text (or ids) with the KV cache and sampler"},
    {"dump", cmd_dump, 0, "forward pass on ids -> safetensors of logits / intermediates"},
    {"verify", cmd_verify, 0, "compare a backend's tensor dump with golden truth: first divergence"},
    {"bench", cmd_bench, 0, "matmul GFLOP/s, prefill/decode tok/s, memory bandwidth"},
    {"tokenize", cmd_tokenize, 0, "text on stdin -> token ids (detokenize, chat-template: see docs/tokenizer.md)"},
    {"detokenize", cmd_detokenize, 0, "token ids on stdin -> text"},
    {"chat-template", cmd_chat_template, 0, "render a Llama 3/3.1 chat prompt (text or ids)"},
    {"chrf", cmd_chrf, 0, "chrF / chrF++ of hypotheses against references (sacreBLEU 2.x)"},
    {"detox-score", cmd_detox_score, 0, "FL (chrF), J = mean(STA*SIM*FL) and best-candidate selection"},
    {"probe", cmd_probe, 1, "knowledge probe: few-shot answers, alias match, SliCK categories"},
    {"knowledge-report", cmd_knowledge_report, 0, "reliability, category shifts, refusals, answer diversity"},
    {"mixture", cmd_mixture, 0, "training mixtures: unknown facts + known facts or paraphrases"},
    {"eval", cmd_eval, 1, "MMLU / TruthfulQA MC1+MC2 (lm-evaluation-harness) and perplexity"},
    {"detox", cmd_detox, 1, "few-shot detoxification rewrites (SynthDetoxM-style), refusals flagged"},
    {"train", cmd_train, 1, "LoRA fine-tuning (PEFT adapter out; AdamW, HF schedules)"},
    {"merge", cmd_merge, 0, "fold a LoRA adapter into a HF checkpoint"},
    {"export-gguf", cmd_export_gguf, 0, "write a model as a llama GGUF (F32/F16/BF16/Q8_0) for llama.cpp"},
    {"bpe-train", cmd_bpe_train, 0, "train a byte-level BPE vocabulary (tiktoken file) on a corpus"},
    {"world", cmd_world, 0, "generate the synthetic fact world: facts, QA, benchmark, corpus"},
    {"experiment", cmd_experiment, 1, "the knowledge-injection experiment end to end: grid, report, charts"},
};

static void usage(FILE *f)
{
    size_t i;
    fprintf(f, "usage: llamaref <command> [options]   (compute type: %s)\n\n"
               "commands:\n", LR_FLOAT_NAME);
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nrun 'llamaref <command> --help' for a command's options\n");
}

/* One command; under mpirun any rank's failure ends the whole job
 * (lr_par_finish) after that rank has printed its message. */
static int run_command(const command *c, int argc, char **argv)
{
    lr_error err;
    if (lr_par_init(&argc, &argv, &err)) {
        fprintf(stderr, "llamaref %s: %s\n", c->name, err.msg);
        return 1;
    }
    if (lr_par_size() > 1 && !c->parallel) {
        if (lr_par_rank() == 0)
            fprintf(stderr, "llamaref %s: does not run data-parallel; start "
                    "it without mpirun (or with -np 1)\n", c->name);
        lr_par_finalize();
        return 2;
    }
    return lr_par_finish(c->run(argc - 1, argv + 1));
}

int main(int argc, char **argv)
{
    size_t i;
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            cli_cmd = commands[i].name;
            return run_command(&commands[i], argc, argv);
        }
    fprintf(stderr, "llamaref: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
