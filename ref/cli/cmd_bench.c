/* cmd_bench.c - `llamaref bench`: matmul GFLOP/s (reference and fast
 * kernels, 1 and 2 threads), memory-copy and read bandwidth, and prefill / decode
 * tokens per second on stories260K and on a random ~100M-parameter model,
 * with the weight-streaming bandwidth decoding achieves.  A benchmark, not
 * a test: numbers go to stdout, docs/performance.md records them.  The
 * measurements are bench.h's; this file picks the sizes and thread counts
 * and prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "llamaref/model/bench.h"
#include "llamaref/model/matmul.h"
#include "llamaref/model/model.h"

/* The decoder's speed on m at each thread count of [th0, th1], beside the
 * memory read bandwidth (lr_bench_read) measured at that thread count
 * right before. */
static int bench_model(const char *label, const lr_model *m, int prompt,
                       int gen, int th0, int th1)
{
    lr_bench_decode_result r;
    lr_error err;
    int th;
    for (th = th0; th <= th1; th++) {
        double rd;
        lr_threads_set(th);
        rd = lr_bench_read();
        printf("memory read bandwidth threads %d (sum of 256 MiB, read only): "
               "%.2f GB/s\n", th, rd);
        if (lr_bench_decode(m, prompt, gen, &r, &err)) {
            fprintf(stderr, "llamaref bench: %s\n", err.msg);
            return -1;
        }
        printf("%-22s threads %d  prefill %4d tok: %9.1f tok/s   decode %4d tok: "
               "%8.1f tok/s  weights %.2f GB/s (%.0f%% of read)\n",
               label, th, prompt, r.prefill_tps, gen, r.decode_tps, r.weights_gbs,
               rd > 0 ? 100.0 * r.weights_gbs / rd : 0.0);
    }
    return 0;
}

static const char head[] =
"usage: llamaref bench [--stories PATH] [--size N] [--quick]\n"
"                      [--decode-only] [--threads N]\n";
static const char foot[] = "Thread counts 1 and 2 need an OMP=1 build.\n";

int cmd_bench(int argc, char **argv)
{
    const char *stories = "../shared/assets/stories260K/stories260K.bin";
    int th, quick = 0, size = 1024, given = 0, rc = 0, only = 0, threads = 0;
    int max_th = lr_threads_openmp() ? 2 : 1; /* 1 and 2 with OpenMP */
    int th0 = 1, th1 = max_th;
    double copy;
    lr_config c;
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
    rc = 0;
    if (threads > max_th) {
        fprintf(stderr, "llamaref bench: --threads %d needs an OMP=1 build\n", threads);
        return 2;
    }
    if (threads) th0 = th1 = threads;
    /* a checkpoint asked for must load, before any timing */
    if (lr_model_load(stories, NULL, &m, &err)) {
        m = NULL;
        if (given) {
            fprintf(stderr, "llamaref bench: %s\n", err.msg);
            return 1;
        }
    }
    printf("llamaref bench: compute %s, fast matmul isa %s, OpenMP %s\n",
           LR_FLOAT_NAME, lr_matmul_isa(), max_th > 1 ? "on" : "off");
    if (only) {
        if (!m) {
            fprintf(stderr, "llamaref bench: --decode-only: %s\n", err.msg);
            return 1;
        }
        /* llama2.c's run -n 256: 256 one-token forwards at positions 0..255
         * (its prompt tokens too), timed from the second */
        rc = bench_model("checkpoint", m, 1, 255, th0, th1) ? 1 : 0;
        lr_model_free(m);
        return rc;
    }
    copy = lr_bench_copy();
    printf("memory copy bandwidth (memcpy 256 MiB, read+write): %.2f GB/s\n", copy);
    for (th = th0; th <= th1; th++) {
        int s = quick ? 256 : size, sr = quick ? 128 : 256;
        lr_threads_set(th);
        printf("matmul threads %d: reference [%d x %d] x [%d x %d]^T %7.2f GFLOP/s;"
               " fast [%d x %d] x [%d x %d]^T %7.2f GFLOP/s\n", th, sr, sr, sr, sr,
               lr_bench_matmul(0, sr, sr, sr, 2), s, s, s, s,
               lr_bench_matmul(1, s, s, s, quick ? 3 : 5));
        printf("matmul threads %d: fast decode-shaped [1 x 4096] x [4096 x 4096]^T "
               "%7.2f GFLOP/s\n", th, lr_bench_matmul(1, 1, 4096, 4096, quick ? 3 : 10));
    }
    if (m) {
        rc = bench_model("stories260K", m, 256, 256, th0, th1) ? 1 : 0;
        lr_model_free(m);
        m = NULL;
    } else {
        printf("stories260K: skipped (%s)\n", err.msg);
    }
    if (!quick) {
        lr_config_bench_100m(&c);
        if (lr_model_init_random(&c, 7, &m, &err)) {
            fprintf(stderr, "llamaref bench: %s\n", err.msg);
            return 1;
        }
        printf("random model: %.1fM parameters, %.0f MB of weights read per "
               "decoded token\n", lr_config_param_count(&c) * 1e-6,
               lr_weight_bytes_per_token(m) * 1e-6);
        if (bench_model("random 100M", m, 128, 32, th0, th1)) rc = 1;
        lr_model_free(m);
    }
    return rc;
}
