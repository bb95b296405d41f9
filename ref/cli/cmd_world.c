/* cmd_world.c - `llamaref world`: generates the synthetic fact world
 * (entities, facts, QA pairs, few-shot facts, multiple-choice benchmark,
 * refusal examples, pretraining corpus) into a directory.  Generator and
 * its counts' options, ranges, help (lr_world_opt_find):
 * include/llamaref/papers/knowledge/world.h; files: docs/world.md. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "llamaref/papers/knowledge/world.h"

static void usage(FILE *out)
{
    /* the counts in --help's order; their lines from lr_world_opt_find */
    static const char *const counts[] = {
        "--people", "--max-mentions", "--zipf-offset", "--num-shots", "--bench-dev",
        "--bench-test", "--refusal-percent", "--valid-percent", "--exam-documents",
        "--exam-min-mentions"};
    lr_world_opts d;
    size_t k;
    lr_world_opts_default(&d);
    fprintf(out,
        "usage: llamaref world --out DIR [--seed S] [--people N] [--max-mentions N]\n"
        "                      [--zipf-offset N] [--num-shots N] [--bench-dev N]\n"
        "                      [--bench-test N] [--refusal-percent P]\n"
        "                      [--valid-percent P] [--exam-documents N]\n"
        "                      [--exam-min-mentions M] [--quiet]\n"
        "  --out DIR                 the world's directory (created)\n"
        "  --seed S                  the world's seed, an unsigned 64-bit integer\n"
        "                            (default %llu)\n", (unsigned long long)d.seed);
    for (k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        const lr_world_opt *t = lr_world_opt_find(counts[k]);
        fputs("  ", out);
        fprintf(out, t->help, (unsigned long)*(const uint32_t *)(const void *)
                                  ((const char *)&d + t->off));
        fputc('\n', out);
    }
    fputs("  --quiet                   no summary on stderr\n"
          "Writes a deterministic synthetic world (docs/world.md): entities.jsonl,\n"
          "facts.jsonl, qa.jsonl, shots.jsonl, refusals.jsonl, benchmark/{dev,test}/*.csv,\n"
          "corpus.txt, valid.txt, world.json.  A fact about the subject of popularity\n"
          "rank r is mentioned floor(max_mentions * r0^2 * j / (4 (r + r0)^2)) times,\n"
          "j in {3,4,5}, r0 = zipf offset.\n", out);
}

int cmd_world(int argc, char **argv)
{
    lr_world_opts o;
    const char *out_dir = NULL;
    lr_world w;
    lr_buf msg = {0};
    lr_error err;
    size_t bytes = 0;
    long v;
    int i, quiet = 0;
    lr_world_opts_default(&o);
    for (i = 1; i < argc; i++) {
        const char *a = cli_opt(argv[i]), *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--shots")) { /* a count here: the old spelling */
            fprintf(stderr, "llamaref world: warning: --shots is deprecated, use "
                    "--num-shots\n");
            a = "--num-shots";
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--out") && val) {
            out_dir = val;
            i++;
        } else if (!strcmp(a, "--seed")) {
            if (!val || lr_parse_u64(val, &o.seed)) { /* any unsigned 64-bit decimal */
                fprintf(stderr, "llamaref world: option --seed: '%s' is not an unsigned 64-bit integer\n",
                        val ? val : "");
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else {
            const lr_world_opt *t = lr_world_opt_find(a); /* a count */
            if (!t) return cli_bad_option("world", a, usage);
            if (cli_int(a, val, (long)t->lo, (long)t->hi, &v)) return 2;
            *(uint32_t *)(void *)((char *)&o + t->off) = (uint32_t)v;
            i++;
        }
    }
    if (!out_dir) {
        fprintf(stderr, "llamaref world: --out DIR is required (see --help)\n");
        return 2;
    }
    if (cli_prepare_out("world", out_dir, 1)) return 1;
    if (lr_world_build(&o, &w, &err) || lr_world_write(&w, out_dir, &bytes, &err)) {
        fprintf(stderr, "llamaref world: %s\n", err.msg);
        lr_world_free(&w);
        return 1;
    }
    if (lr_world_shortfalls(&o, &w, &msg)) { /* each line a warning */
        const char *p = msg.data, *nl;
        for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
            fprintf(stderr, "llamaref world: warning: %.*s\n", (int)(nl - p), p);
    }
    lr_buf_free(&msg);
    if (!quiet)
        fprintf(stderr, "world: seed %llu: %lu entities, %lu facts; corpus %lu bytes in %lu "
                "documents (%lu QA, %lu refusals); %lu bytes written to %s\n",
                (unsigned long long)o.seed, (unsigned long)w.n_entities, (unsigned long)w.n_facts,
                (unsigned long)w.corpus.len, (unsigned long)w.n_docs, (unsigned long)w.n_qa_docs,
                (unsigned long)w.n_refusals, (unsigned long)bytes, out_dir);
    lr_world_free(&w);
    return 0;
}
