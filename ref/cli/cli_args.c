/* cli_args.c - small, strict parsers for command-line option values, and
 * the clock the progress lines use. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"

int cli_int(const char *opt, const char *val, long lo, long hi, long *out)
{
    char *end;
    long v;
    if (!val) {
        fprintf(stderr, "llamaref: option %s needs a value\n", opt);
        return -1;
    }
    errno = 0;
    v = strtol(val, &end, 10);
    if (errno || end == val || *end || v < lo || v > hi) {
        fprintf(stderr, "llamaref: option %s: '%s' is not an integer in [%ld, %ld]\n",
                opt, val, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_double(const char *opt, const char *val, double *out)
{
    char *end;
    double v;
    if (!val) {
        fprintf(stderr, "llamaref: option %s needs a value\n", opt);
        return -1;
    }
    errno = 0;
    v = strtod(val, &end);
    if (errno || end == val || *end || v != v) {
        fprintf(stderr, "llamaref: option %s: '%s' is not a number\n", opt, val);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_unknown(const char *cmd, const char *arg)
{
    fprintf(stderr, "llamaref %s: unknown option '%s' (see --help)\n", cmd, arg);
    return 2;
}

double cli_now(void)
{
#if defined(CLOCK_MONOTONIC)
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#else
    return (double)clock() / CLOCKS_PER_SEC;
#endif
}
