/* cmd_generate.c - `llamaref generate`: text (or id) generation with the KV
 * cache and the documented sampler, streaming the output as it is made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_ids.h"
#include "llamaref/adapter.h"
#include "llamaref/chat_template.h"
#include "llamaref/forward.h"
#include "llamaref/lora.h"
#include "llamaref/model.h"
#include "llamaref/sampler.h"
#include "llamaref/tokenizer.h"

#ifdef LR_OMP
#include <omp.h>
#endif

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref generate --model PATH [--tokenizer PATH] --prompt TEXT\n"
"                         [options]\n"
"  --model PATH        HF model directory or llama2.c checkpoint (.bin)\n"
"  --tokenizer PATH    tokenizer file or directory (default: the model\n"
"                      directory; required for llama2.c checkpoints)\n"
"  --prompt TEXT       the prompt (a BOS token is prepended)\n"
"  --prompt-ids IDS    the prompt as token ids (\"1 2 3\"; no tokenizer\n"
"                      needed; nothing is prepended)\n"
"  --chat              apply the chat template (a GGUF's own ChatML template,\n"
"                      else Llama 3.1 Instruct)\n"
"  --system TEXT       system message (with --chat)\n"
"  -n N                new tokens at most (default 256)\n"
"  --temperature T     0 = greedy (default 0)\n"
"  --top-k K           keep the K most likely tokens (0 = off, default)\n"
"  --top-p P           nucleus sampling (1 = off, default)\n"
"  --min-p M           drop tokens below M * p_max (0 = off, default)\n"
"  --seed S            sampler seed (default 42); see docs/sampling.md\n"
"  --ids               print generated token ids instead of text\n"
"  --no-stop           do not stop at end-of-sequence tokens\n"
"  --adapter DIR       PEFT LoRA adapter (adapter_config.json +\n"
"                      adapter_model.safetensors), merged into this\n"
"                      process's copy of the weights: W + s B A\n"
"  --keep-dtype        keep BF16/F16 weights as stored (half the memory;\n"
"                      adapted matrices become float)\n"
"  --threads N         OpenMP threads (OMP=1 builds)\n"
"Stops at the config's eos_token_id(s) and, with a Llama 3 tokenizer, at\n"
"<|eot_id|>, <|eom_id|> and <|end_of_text|>; with a llama2.c tokenizer at\n"
"BOS (id 1), as llama2.c does.  Timing goes to stderr.\n");
}

static void add_stop(int *stops, int *n, int id)
{
    int i;
    if (id < 0 || *n >= 16) return;
    for (i = 0; i < *n; i++)
        if (stops[i] == id) return;
    stops[(*n)++] = id;
}

int cmd_generate(int argc, char **argv)
{
    const char *model_path = NULL, *tok_path = NULL, *prompt = NULL;
    const char *system = NULL, *prompt_ids = NULL, *adapter = NULL;
    long n_new = 256, top_k = 0, seed = 42, threads = 0;
    double temperature = 0, top_p = 1, min_p = 0;
    int chat = 0, print_ids = 0, no_stop = 0, keep_dtype = 0;
    lr_load_options opt;
    lr_model *m = NULL;
    lr_tokenizer tok;
    int have_tok = 0, rc = 1, i, n_prompt = 0, *ids = NULL;
    int stops[16], n_stops = 0, generated = 0;
    lr_decoder dec;
    lr_sampler smp;
    lr_error err;
    lr_buf text = {0};
    lr_stream_decoder sd;
    double t0, t1, t2;

    memset(&dec, 0, sizeof dec);
    memset(&smp, 0, sizeof smp);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--model") && v) { model_path = v; i++; }
        else if (!strcmp(a, "--tokenizer") && v) { tok_path = v; i++; }
        else if (!strcmp(a, "--prompt") && v) { prompt = v; i++; }
        else if (!strcmp(a, "--prompt-ids") && v) { prompt_ids = v; i++; }
        else if (!strcmp(a, "--adapter") && v) { adapter = v; i++; }
        else if (!strcmp(a, "--system") && v) { system = v; i++; }
        else if (!strcmp(a, "--chat")) chat = 1;
        else if (!strcmp(a, "--ids")) print_ids = 1;
        else if (!strcmp(a, "--no-stop")) no_stop = 1;
        else if (!strcmp(a, "--keep-dtype")) keep_dtype = 1;
        else if (!strcmp(a, "-n")) { if (cli_int(a, v, 0, 1 << 24, &n_new)) return 2; i++; }
        else if (!strcmp(a, "--top-k")) { if (cli_int(a, v, 0, 1 << 30, &top_k)) return 2; i++; }
        else if (!strcmp(a, "--seed")) { if (cli_int(a, v, 0, 0x7fffffffL, &seed)) return 2; i++; }
        else if (!strcmp(a, "--threads")) { if (cli_int(a, v, 1, 4096, &threads)) return 2; i++; }
        else if (!strcmp(a, "--temperature")) { if (cli_double(a, v, &temperature)) return 2; i++; }
        else if (!strcmp(a, "--top-p")) { if (cli_double(a, v, &top_p)) return 2; i++; }
        else if (!strcmp(a, "--min-p")) { if (cli_double(a, v, &min_p)) return 2; i++; }
        else return cli_unknown("generate", a);
    }
    if (!model_path || (!prompt && !prompt_ids) || (prompt && prompt_ids)) {
        fprintf(stderr, "llamaref generate: --model and one of --prompt / "
                "--prompt-ids are required (see --help)\n");
        return 2;
    }
    if (chat && !prompt) {
        fprintf(stderr, "llamaref generate: --chat needs --prompt TEXT\n");
        return 2;
    }
#ifdef LR_OMP
    if (threads > 0) omp_set_num_threads((int)threads);
#else
    if (threads > 1)
        fprintf(stderr, "llamaref generate: built without OpenMP; "
                "--threads ignored\n");
#endif
    memset(&opt, 0, sizeof opt);
    opt.keep_dtype = keep_dtype;
    opt.use_mmap = keep_dtype;
    if (lr_model_load(model_path, &opt, &m, &err)) {
        fprintf(stderr, "llamaref generate: %s\n", err.msg);
        return 1;
    }
    if (adapter) {
        /* the same weights `llamaref merge` writes (in the compute type), so
         * --adapter and the merged checkpoint decode identically */
        lr_lora lo;
        int r;
        memset(&lo, 0, sizeof lo);
        r = lr_adapter_load(adapter, &m->config, &lo, &err) ||
            lr_lora_merge(m, &lo, &err);
        lr_lora_free(&lo);
        if (r) {
            fprintf(stderr, "llamaref generate: --adapter %s: %s\n", adapter,
                    err.msg);
            goto done;
        }
    }
    /* a tokenizer is needed for text in or text out */
    if (prompt || !print_ids) {
        const char *tp = tok_path ? tok_path : model_path;
        if (!tok_path && !lr_path_is_dir(model_path) && strcmp(m->format, "gguf")) {
            fprintf(stderr, "llamaref generate: --tokenizer PATH is needed "
                    "for a llama2.c checkpoint (or use --prompt-ids and "
                    "--ids)\n");
            goto done;
        }
        if (lr_tokenizer_load(tp, &tok, &err)) {
            fprintf(stderr, "llamaref generate: %s\n", err.msg);
            goto done;
        }
        have_tok = 1;
    }
    if (prompt_ids) {
        if (cli_ids("--prompt-ids", prompt_ids, &ids, &n_prompt)) goto done;
    } else {
        lr_tokens t = {0};
        lr_buf rendered = {0};
        int r;
        if (chat) {
            lr_chat_message msg[2];
            size_t n = 0;
            if (system) {
                msg[n].role = "system";
                msg[n].content = system;
                msg[n++].content_len = strlen(system);
            }
            msg[n].role = "user";
            msg[n].content = prompt;
            msg[n++].content_len = strlen(prompt);
            {
                /* a GGUF's own template when llamaref knows it (ChatML) */
                lr_chat_template kind = LR_CHAT_LLAMA31;
                char *dsys = NULL;
                if (tok.chat_template &&
                    lr_chat_template_detect(tok.chat_template, &kind, &dsys, &err))
                    kind = LR_CHAT_LLAMA31;
                r = kind == LR_CHAT_CHATML
                        ? lr_chat_render_chatml(msg, n, 1, dsys, &rendered, &err)
                        : lr_chat_render(kind, msg, n, 1, NULL, &rendered, &err);
                free(dsys);
            }
            r = r || lr_tokenizer_encode(&tok, rendered.data, rendered.len,
                                         LR_ENCODE_SPECIAL, &t, &err);
        } else {
            r = lr_tokenizer_encode(&tok, prompt, strlen(prompt),
                                    LR_ENCODE_BOS, &t, &err);
        }
        lr_buf_free(&rendered);
        if (r) {
            fprintf(stderr, "llamaref generate: %s\n", err.msg);
            lr_tokens_free(&t);
            goto done;
        }
        n_prompt = (int)t.n;
        ids = malloc(sizeof *ids * (t.n ? t.n : 1));
        for (i = 0; ids && i < n_prompt; i++) ids[i] = t.ids[i];
        lr_tokens_free(&t);
        if (!ids || !n_prompt) {
            fprintf(stderr, "llamaref generate: empty prompt\n");
            goto done;
        }
    }
    if (!no_stop) {
        for (i = 0; i < m->config.n_eos; i++)
            add_stop(stops, &n_stops, m->config.eos_token_ids[i]);
        if (have_tok && tok.format == LR_TOK_LLAMA2C) {
            add_stop(stops, &n_stops, 1);
        } else if (have_tok) {
            add_stop(stops, &n_stops, lr_tokenizer_special_id(&tok, "<|eot_id|>"));
            add_stop(stops, &n_stops, lr_tokenizer_special_id(&tok, "<|eom_id|>"));
            add_stop(stops, &n_stops, lr_tokenizer_special_id(&tok, "<|end_of_text|>"));
        }
    }
    if (lr_decoder_init(&dec, m, n_prompt + (int)n_new, 64, &err) ||
        lr_sampler_init(&smp, m->config.vocab_size, temperature, (int)top_k,
                        top_p, min_p, (uint64_t)seed, &err)) {
        fprintf(stderr, "llamaref generate: %s\n", err.msg);
        goto done;
    }
    if (have_tok) lr_stream_decoder_init(&sd, &tok);
    lr_decoder_reset(&dec, 0);
    t0 = cli_now();
    if (lr_decoder_feed(&dec, ids, n_prompt, NULL, &err)) {
        fprintf(stderr, "llamaref generate: %s\n", err.msg);
        goto done;
    }
    t1 = cli_now();
    while (generated < n_new) {
        int next = lr_sample(&smp, dec.logits), s, stop = 0;
        generated++;
        for (s = 0; s < n_stops; s++) stop |= next == stops[s];
        if (stop) break;
        if (print_ids) {
            printf("%s%d", generated > 1 ? " " : "", next);
        } else {
            text.len = 0;
            if (lr_stream_decoder_push(&sd, next, &text, &err)) {
                fprintf(stderr, "\nllamaref generate: %s\n", err.msg);
                goto done;
            }
            fwrite(text.data, 1, text.len, stdout);
        }
        fflush(stdout);
        if (generated == n_new) break;
        if (lr_decoder_feed(&dec, &next, 1, NULL, &err)) {
            fprintf(stderr, "\nllamaref generate: %s\n", err.msg);
            goto done;
        }
    }
    if (!print_ids) {
        text.len = 0;
        if (lr_stream_decoder_flush(&sd, &text, &err) == 0)
            fwrite(text.data, 1, text.len, stdout);
    }
    printf("\n");
    t2 = cli_now();
    fprintf(stderr, "prompt %d tokens: %.1f tok/s; generated %d tokens: "
            "%.1f tok/s\n", n_prompt, n_prompt / (t1 - t0 + 1e-12), generated,
            generated > 1 ? (generated - 1) / (t2 - t1 + 1e-12) : 0.0);
    rc = 0;
done:
    lr_buf_free(&text);
    lr_sampler_free(&smp);
    lr_decoder_free(&dec);
    free(ids);
    if (have_tok) lr_tokenizer_free(&tok);
    lr_model_free(m);
    return rc;
}
