/* par.h - data parallelism across processes: the one place that sees MPI.
 *
 * Built with `make MPI=1` (mpicc, -DLR_MPI) and started by an MPI launcher
 * (mpirun sets OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK), the program
 * runs as N ranks of MPI_COMM_WORLD; otherwise (the default build, or an
 * MPI build started without a launcher) it is one process: rank 0 of 1,
 * and every function below is the plain-C single-process case.  Only
 * rank 0 writes files.  Every rank must make the same collective calls in
 * the same order.
 *
 * Shards are contiguous and deterministic: of n items, rank r of N holds
 * [n r / N, n (r + 1) / N) (uneven when N does not divide n; empty when
 * n < N for some ranks), so the concatenation in rank order is the
 * original order. */
#ifndef LLAMAREF_PAR_H
#define LLAMAREF_PAR_H

#include <stddef.h>

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MPI_Init when built with MPI and launched by mpirun (else nothing);
 * 0, or -1 with err set. */
int lr_par_init(int *argc, char ***argv, lr_error *err);
/* MPI_Finalize after lr_par_init started MPI (else nothing). */
void lr_par_finalize(void);
int lr_par_rank(void);  /* 0 in one process */
int lr_par_size(void);  /* 1 in one process */
/* 1 when built with MPI (whether or not launched by mpirun). */
int lr_par_built_with_mpi(void);

/* This rank's shard [*i0, *i1) of n items; lr_par_shard_of: rank r's. */
void lr_par_shard(long n, long *i0, long *i1);
void lr_par_shard_of(long n, int rank, long *i0, long *i1);

/* The ordered reduction of gradient units (trainer.h): on rank 0,
 * acc[j] += u[j] for each unit u of rank 1, then of rank 2, ..., each
 * rank's units in their order (rank 0's own units are already in acc);
 * rank r > 0 sends its n_units units of len lr_floats (units[k * len]),
 * n_units = the size of its shard of n_items.  acc is meaningful on rank 0
 * only.  One process: nothing to do. */
int lr_par_fold(lr_float *acc, size_t len, const lr_float *units,
                long n_items, lr_error *err);

/* All ranks: buf holds n_items items of `each` bytes; on entry each rank
 * has filled its shard, on return every rank holds all of them (rank
 * order = item order).  One process: nothing to do. */
int lr_par_gather(void *buf, long n_items, size_t each, lr_error *err);

/* Rank 0 receives every rank's bytes [mine, mine + n) concatenated in
 * rank order: *all (malloc'd, free it) and *all_n; the other ranks get
 * *all = NULL, *all_n = 0.  One process: a copy of mine. */
int lr_par_gather_bytes(const void *mine, size_t n, char **all,
                        size_t *all_n, lr_error *err);

/* Rank 0's bytes [buf, buf + n) to every rank. */
int lr_par_bcast(void *buf, size_t n, lr_error *err);

/* Every rank waits here. */
int lr_par_barrier(lr_error *err);

/* Ends the whole job with exit status code (MPI_Abort on MPI_COMM_WORLD
 * when there is more than one rank; exit(code) otherwise).  The caller
 * has printed its message. */
void lr_par_abort(int code);
/* The end of a program's run with exit status rc: a failing rank
 * (rc != 0) of several flushes stdout and stderr and ends the whole job
 * (lr_par_abort: the other ranks would wait for it in their next
 * collective call); else lr_par_finalize.  Returns rc. */
int lr_par_finish(int rc);

#ifdef __cplusplus
}
#endif

#endif
