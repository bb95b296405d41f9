/* cmd_generate.c - `llamaref generate`: text (or id) generation with the KV
 * cache and the documented sampler, streaming the output as it is made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/model/generate.h"
#include "llamaref/model/matmul.h"
#include "llamaref/tokenizer/tokenizer.h"

static const char head[] =
"usage: llamaref generate -m, --model PATH [--tokenizer PATH] -p, --prompt TEXT\n"
"                         [options]\n";
static const char foot[] =
"A BOS token is prepended to --prompt.  Stops at the config's\n"
"eos_token_id(s) and, with a Llama 3 tokenizer, at <|eot_id|>, <|eom_id|>\n"
"and <|end_of_text|>; with a llama2.c tokenizer at BOS (id 1), as llama2.c\n"
"does.  Timing goes to stderr.\n";

/* Each new token on stdout as it comes: its id, or its text (the
 * streaming decoder holds back incomplete UTF-8). */
typedef struct token_out {
    int print_ids;
    lr_stream_decoder sd;
    lr_buf text;
} token_out;

static int print_token(void *ctx, int id, int index, lr_error *err)
{
    token_out *o = ctx;
    if (o->print_ids) {
        printf("%s%d", index ? " " : "", id);
    } else {
        o->text.len = 0;
        if (lr_stream_decoder_push(&o->sd, id, &o->text, err)) return -1;
        fwrite(o->text.data, 1, o->text.len, stdout);
    }
    fflush(stdout);
    return 0;
}

int cmd_generate(int argc, char **argv)
{
    const char *prompt = NULL, *system = NULL, *prompt_ids = NULL;
    const char *prompt_file = NULL;
    lr_buf file_text = {0};
    long n_new = 256, seed = 42, threads = 0, max_len = 0;
    lr_generate_options g = {0}; /* the sampler's settings: 0 but top_p 1 */
    int chat = 0, print_ids = 0, no_stop = 0;
    lr_lm lm;
    int rc = 1, n_prompt = 0, *ids = NULL;
    int stops[16], generated = 0;
    lr_error err;
    token_out out = {0};
    double prompt_s = 0, gen_s = 0;
    const cli_optdef opts[] = { /* in --help's order */
        CLI_LM_OPTS(lm), /* --adapter: merged, the weights `llamaref merge` writes */
        CLI_OPT("--prompt", CLI_STR, &prompt),
        CLI_OPT("--file", CLI_STR, &prompt_file),
        CLI_HN("--max-new-tokens", CLI_LONG, &n_new, 0, 1 << 24, "256"),
        CLI_HN("--max-len", CLI_LONG, &max_len, 1, 1 << 24,
               "the model's max_position_embeddings; prompt plus\n"
               "                            new tokens beyond it are refused"),
        CLI_HN("--temperature", CLI_DBL, &g.temperature, 0, 1e30, "0"),
        CLI_HN("--top-k", CLI_INT, &g.top_k, 0, 1 << 30, "0"),
        CLI_HN("--top-p", CLI_DBL_GT, &g.top_p, 0, 1, "1"),
        CLI_HN("--min-p", CLI_DBL, &g.min_p, 0, 1, "0"),
        CLI_H("--seed", CLI_SEED, &seed, "42; docs/sampling.md"),
        CLI_H("--prompt-ids", CLI_STR, &prompt_ids,
              "--prompt-ids IDS          the prompt as token ids (\"1 2 3\"; no tokenizer\n"
              "                            needed; nothing is prepended)"),
        CLI_H("--chat", CLI_FLAG, &chat,
              "--chat                    apply the chat template (a GGUF's own ChatML\n"
              "                            template, else Llama 3.1 Instruct)"),
        CLI_H("--system", CLI_STR, &system, "--system TEXT             system message (with --chat)"),
        CLI_H("--ids", CLI_FLAG, &print_ids,
              "--ids                     print generated token ids instead of text"),
        CLI_H("--no-stop", CLI_FLAG, &no_stop,
              "--no-stop                 do not stop at end-of-sequence tokens"),
        CLI_HN("--threads", CLI_LONG, &threads, 1, 4096,
               "-t, --threads N           OpenMP threads (OMP=1 builds)"),
    };

    memset(&lm, 0, sizeof lm);
    g.top_p = 1;
    if ((rc = cli_parse_doc("generate", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                            head, foot)) >= 0)
        return rc;
    rc = 1;
    if ((!!prompt + !!prompt_ids + !!prompt_file) > 1) {
        fprintf(stderr, "llamaref generate: --prompt, --file and --prompt-ids "
                "exclude each other\n");
        return 2;
    }
    if (!lm.model_path || (!!prompt + !!prompt_ids + !!prompt_file) != 1) {
        fprintf(stderr, "llamaref generate: --model and one of --prompt / "
                "--file / --prompt-ids are required (see --help)\n");
        return 2;
    }
    if (prompt_file) {
        if (lr_read_input(prompt_file, &file_text, &err)) {
            fprintf(stderr, "llamaref generate: %s\n", err.msg);
            lr_buf_free(&file_text);
            return 1;
        }
        prompt = file_text.data ? file_text.data : "";
    }
    if (chat && !prompt) {
        fprintf(stderr, "llamaref generate: --chat needs --prompt TEXT\n");
        return 2;
    }
    /* the id list before any work: a malformed one is a usage error */
    if (prompt_ids && cli_ids("--prompt-ids", prompt_ids, &ids, &n_prompt)) return 2;
    if (threads > 0) lr_threads_set((int)threads);
    if (threads > 1 && !lr_threads_openmp())
        fprintf(stderr, "llamaref generate: built without OpenMP; "
                "--threads ignored\n");
    /* a tokenizer is needed for text in or text out */
    lm.no_tokenizer = !prompt && print_ids;
    if (lr_lm_load(&lm, &err)) {
        /* ids in and out need no tokenizer: say so to a llama2.c user */
        fprintf(stderr, "llamaref generate: %s%s\n", err.msg,
                strstr(err.msg, "llama2.c checkpoint") ? " (or use --prompt-ids and --ids)"
                                                      : "");
        goto done;
    }
    if (cli_ctx_len("generate", lm.model, &max_len, 1)) { rc = 2; goto done; }
    if (!max_len) max_len = lm.model->config.max_position_embeddings;
    if (!prompt_ids && lr_lm_prompt_ids(&lm, prompt, chat, system, &ids, &n_prompt, &err)) {
        fprintf(stderr, "llamaref generate: %s\n", err.msg);
        goto done;
    }
    if ((long)n_prompt + n_new > max_len) {
        fprintf(stderr, "llamaref generate: the prompt (%d tokens) plus -n %ld "
                "new tokens exceed the context length %ld (%s); shorten the "
                "prompt or lower -n\n", n_prompt, n_new, max_len,
                max_len == lm.model->config.max_position_embeddings
                    ? "the model's max_position_embeddings" : "--max-len");
        goto done;
    }
    if (!no_stop) g.n_stops = lr_lm_stop_ids(&lm, stops, 16);
    if (lm.have_tok) lr_stream_decoder_init(&out.sd, &lm.tok);
    out.print_ids = print_ids;
    g.n_new = (int)n_new;
    g.seed = (uint64_t)seed;
    g.stops = stops;
    if ((rc = lr_generate_run(lm.model, ids, n_prompt, &g, print_token, &out, &generated,
                              &prompt_s, &gen_s, &err)) != 0) {
        fprintf(stderr, "%sllamaref generate: %s\n", rc == -2 ? "\n" : "", err.msg);
        rc = 1;
        goto done;
    }
    if (!print_ids) {
        out.text.len = 0;
        if (lr_stream_decoder_flush(&out.sd, &out.text, &err) == 0)
            fwrite(out.text.data, 1, out.text.len, stdout);
    }
    printf("\n");
    fprintf(stderr, "prompt %d tokens: %.1f tok/s; generated %d tokens: "
            "%.1f tok/s\n", n_prompt, n_prompt / (prompt_s + 1e-12), generated,
            generated > 1 ? (generated - 1) / (gen_s + 1e-12) : 0.0);
    rc = 0;
done:
    lr_buf_free(&out.text);
    free(ids);
    lr_buf_free(&file_text);
    lr_lm_free(&lm);
    return rc;
}
