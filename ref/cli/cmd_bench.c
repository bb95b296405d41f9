/* cmd_bench.c - `llamaref bench`: matmul GFLOP/s (reference and fast
 * kernels, 1 and 2 threads), memory-copy and read bandwidth, and prefill / decode
 * tokens per second on stories260K and on a random ~100M-parameter model,
 * with the weight-streaming bandwidth decoding achieves.  A benchmark, not
 * a test: numbers go to stdout, docs/performance.md records them.  The
 * measurements and their order are bench.h's (lr_bench_report); this
 * file reads the options and prints the report's lines. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "llamaref/model/bench.h"
#include "llamaref/model/matmul.h"
#include "llamaref/model/model.h"

/* a report line: results on stdout, errors on stderr */
static void line(void *ctx, int is_error, const char *text)
{
    (void)ctx;
    if (is_error) fprintf(stderr, "llamaref bench: %s\n", text);
    else printf("%s\n", text);
}

static const char head[] =
"usage: llamaref bench [--stories PATH] [--size N] [--quick]\n"
"                      [--decode-only] [--threads N]\n";
static const char foot[] = "Thread counts 1 and 2 need an OMP=1 build.\n";

int cmd_bench(int argc, char **argv)
{
    const char *stories = "../shared/assets/stories260K/stories260K.bin";
    int quick = 0, size = 1024, given = 0, rc, only = 0, threads = 0;
    int max_th = lr_threads_openmp() ? 2 : 1; /* 1 and 2 with OpenMP */
    lr_bench_options o;
    lr_model *m = NULL;
    lr_error err;
    const cli_optdef opts[] = {
        {"--stories", CLI_STR, &stories, 0, 0, &given, NULL,
         "--stories PATH            llama2.c checkpoint timed for prefill/decode\n"
         "                            (default ../shared/assets/stories260K/\n"
         "                            stories260K.bin, skipped when missing; a\n"
         "                            given PATH must load)"},
        CLI_HN("--size", CLI_INT, &size, 16, 16384,
               "--size N                  fast matmul on [N, N] x [N, N]^T (default 1024)"),
        CLI_H("--quick", CLI_FLAG, &quick,
              "--quick                   small sizes only (seconds)"),
        CLI_H("--decode-only", CLI_FLAG, &only,
              "--decode-only             only decoding the checkpoint: 1 prompt token,\n"
              "                            then 255 greedy tokens (positions 1..255, as\n"
              "                            llama2.c's run -n 256 times), beside the\n"
              "                            memory read bandwidth"),
        CLI_HN("--threads", CLI_INT, &threads, 1, 2,
               "--threads N               only thread count N (1 or 2)"),
    };
    if ((rc = cli_parse_doc("bench", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                            head, foot)) >= 0)
        return rc;
    if (threads > max_th) {
        fprintf(stderr, "llamaref bench: --threads %d needs an OMP=1 build\n", threads);
        return 2;
    }
    /* a checkpoint asked for must load, before any timing */
    if (lr_model_load(stories, NULL, &m, &err)) {
        m = NULL;
        if (given) {
            fprintf(stderr, "llamaref bench: %s\n", err.msg);
            return 1;
        }
    }
    memset(&o, 0, sizeof o);
    o.model = m;
    o.no_model = err.msg;
    o.quick = quick;
    o.size = size;
    o.decode_only = only;
    o.th0 = threads ? threads : 1;
    o.th1 = threads ? threads : max_th;
    o.line = line;
    rc = lr_bench_report(&o) ? 1 : 0;
    lr_model_free(m);
    return rc;
}
