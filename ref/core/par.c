/* par.c - data parallelism across processes (par.h): MPI behind LR_MPI,
 * the single-process case in plain C.
 * Depends on: common (lr_error); MPI when built with MPI=1. */
#include <limits.h>
#include <stdio.h> /* fflush (lr_par_finish) */
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/par.h"

#ifdef LR_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1, g_started = 0;

int lr_par_built_with_mpi(void)
{
#ifdef LR_MPI
    return 1;
#else
    return 0;
#endif
}

int lr_par_init(int *argc, char ***argv, lr_error *err)
{
#ifdef LR_MPI
    /* only under a launcher: a plain run of the MPI build stays one
     * process and needs no MPI runtime */
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") ||
        getenv("PMIX_RANK")) {
        if (MPI_Init(argc, argv) != MPI_SUCCESS)
            return lr_fail(err, "MPI_Init failed");
        g_started = 1;
        MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
        MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    }
#else
    (void)argc; (void)argv;
#endif
    (void)err;
    return 0;
}

void lr_par_finalize(void)
{
#ifdef LR_MPI
    if (g_started) MPI_Finalize();
#endif
    g_started = 0;
    g_rank = 0;
    g_size = 1;
}

int lr_par_rank(void) { return g_rank; }
int lr_par_size(void) { return g_size; }

void lr_par_shard_of(long n, int rank, long *i0, long *i1)
{
    /* n * r / N without overflow for any n a long holds */
    const long N = g_size, q = n / N, rem = n % N;
    *i0 = q * rank + rem * rank / N;
    *i1 = q * (rank + 1) + rem * (rank + 1) / N;
}

void lr_par_shard(long n, long *i0, long *i1)
{
    lr_par_shard_of(n, g_rank, i0, i1);
}

#ifdef LR_MPI
/* MPI counts are int: messages go in pieces of at most 1 GiB */
#define CHUNK ((size_t)1 << 30)

static int send_bytes(const void *p, size_t n, int to, lr_error *err)
{
    const char *c = (const char *)p;
    while (n > 0) {
        size_t k = n < CHUNK ? n : CHUNK;
        if (MPI_Send(c, (int)k, MPI_BYTE, to, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return lr_fail(err, "MPI_Send to rank %d failed", to);
        c += k; n -= k;
    }
    return 0;
}

static int recv_bytes(void *p, size_t n, int from, lr_error *err)
{
    char *c = (char *)p;
    while (n > 0) {
        size_t k = n < CHUNK ? n : CHUNK;
        if (MPI_Recv(c, (int)k, MPI_BYTE, from, 0, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return lr_fail(err, "MPI_Recv from rank %d failed", from);
        c += k; n -= k;
    }
    return 0;
}
#endif

int lr_par_fold(lr_float *acc, size_t len, const lr_float *units,
                long n_items, lr_error *err)
{
#ifdef LR_MPI
    long i0, i1, k;
    if (g_size == 1) return 0;
    if (g_rank == 0) {
        lr_float *tmp = lr_alloc(len, sizeof *tmp, "gradient unit", err);
        int r;
        size_t j;
        if (!tmp) return -1;
        for (r = 1; r < g_size; r++) {
            lr_par_shard_of(n_items, r, &i0, &i1);
            for (k = i0; k < i1; k++) {
                if (recv_bytes(tmp, len * sizeof *tmp, r, err)) {
                    free(tmp);
                    return -1;
                }
                for (j = 0; j < len; j++) acc[j] += tmp[j];
            }
        }
        free(tmp);
        return 0;
    }
    lr_par_shard(n_items, &i0, &i1);
    for (k = 0; k < i1 - i0; k++)
        if (send_bytes(units + (size_t)k * len, len * sizeof *units, 0, err))
            return -1;
    return 0;
#else
    (void)acc; (void)len; (void)units; (void)n_items; (void)err;
    return 0;
#endif
}

int lr_par_gather(void *buf, long n_items, size_t each, lr_error *err)
{
#ifdef LR_MPI
    int *counts, *displs, r, rc;
    long i0, i1;
    if (g_size == 1) return 0;
    if ((double)n_items * (double)each > (double)INT_MAX)
        return lr_fail(err, "MPI gather of %ld items of %lu bytes: too large",
                       n_items, (unsigned long)each);
    counts = malloc(sizeof *counts * (size_t)g_size);
    displs = malloc(sizeof *displs * (size_t)g_size);
    if (!counts || !displs) {
        free(counts); free(displs);
        return lr_fail(err, "out of memory");
    }
    for (r = 0; r < g_size; r++) {
        lr_par_shard_of(n_items, r, &i0, &i1);
        counts[r] = (int)((size_t)(i1 - i0) * each);
        displs[r] = (int)((size_t)i0 * each);
    }
    rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts,
                        displs, MPI_BYTE, MPI_COMM_WORLD);
    free(counts); free(displs);
    return rc == MPI_SUCCESS ? 0 : lr_fail(err, "MPI_Allgatherv failed");
#else
    (void)buf; (void)n_items; (void)each; (void)err;
    return 0;
#endif
}

int lr_par_gather_bytes(const void *mine, size_t n, char **all,
                        size_t *all_n, lr_error *err)
{
    char *out = NULL;
    size_t len = n;
    *all = NULL;
    *all_n = 0;
#ifdef LR_MPI
    if (g_size > 1 && g_rank > 0) {
        unsigned long long nn = n;
        return send_bytes(&nn, sizeof nn, 0, err) ||
               send_bytes(mine, n, 0, err) ? -1 : 0;
    }
#endif
    out = malloc(n ? n : 1);
    if (!out) return lr_fail(err, "out of memory (gathering %lu bytes)",
                             (unsigned long)n);
    if (n) memcpy(out, mine, n);
#ifdef LR_MPI
    {
        int r;
        for (r = 1; r < g_size; r++) {
            unsigned long long nn;
            char *grown;
            if (recv_bytes(&nn, sizeof nn, r, err)) { free(out); return -1; }
            if (!(grown = realloc(out, len + (size_t)nn + 1))) {
                free(out);
                return lr_fail(err, "out of memory (gathering from rank %d)", r);
            }
            out = grown;
            if (recv_bytes(out + len, (size_t)nn, r, err)) {
                free(out);
                return -1;
            }
            len += (size_t)nn;
        }
    }
#endif
    *all = out;
    *all_n = len;
    return 0;
}

int lr_par_bcast(void *buf, size_t n, lr_error *err)
{
#ifdef LR_MPI
    char *c = (char *)buf;
    if (g_size == 1) return 0;
    while (n > 0) {
        size_t k = n < CHUNK ? n : CHUNK;
        if (MPI_Bcast(c, (int)k, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return lr_fail(err, "MPI_Bcast failed");
        c += k; n -= k;
    }
    return 0;
#else
    (void)buf; (void)n; (void)err;
    return 0;
#endif
}

int lr_par_barrier(lr_error *err)
{
#ifdef LR_MPI
    if (g_size > 1 && MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS)
        return lr_fail(err, "MPI_Barrier failed");
#endif
    (void)err;
    return 0;
}

void lr_par_abort(int code)
{
#ifdef LR_MPI
    if (g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    exit(code);
}

int lr_par_finish(int rc)
{
    if (rc != 0 && g_size > 1) {
        fflush(stdout);
        fflush(stderr);
        lr_par_abort(rc);
    }
    lr_par_finalize();
    return rc;
}
