/* matmul_avx2.h - the AVX2 clone's kernels of matmul.c, which includes it
 * once (after MR, MR2, NR and KP) under HAVE_X86_DISPATCH (internal to
 * ref/model, not installed).  AVX2 has sixteen 32-byte registers and a
 * 16-lane vector of floats fills two, so these kernels hold each lane
 * accumulator as two pieces (pvec) and run a block in passes over one
 * piece at a time: per lane, the same products and sums in the same order
 * as kernel_4x4, kernel_4x4p and kernel_1x4 in matmul.c (x * w and w * x
 * are the same product; a lane's sum is only split in time).
 *   pass_2x4, kernel_4x4_pieces    rows of x against rows of W
 *   pass_2x6, kernel_6x4p_pieces   packed 6 x 4 blocks (pack_rows)
 *   kernel_1x4_pieces              one row of x (leftover rows)
 * Depends on: matmul_internal.h (vec, pvec, PL, pload, pstore, pkeep). */
#ifndef LLAMAREF_MATMUL_AVX2_H
#define LLAMAREF_MATMUL_AVX2_H

/* One AVX2 pass (16 registers): piece q of acc[r][0..3] (at c) and of
 * acc[r + 1][0..3] (at d) over all of k, rows x0 and x1 of x against w[0..3]
 * (each advancing xs, ws values per LANES of k; q already added): 8
 * accumulators, each lane still summing its k in ascending order from its
 * start value, the same products and sums as kernel_4x4 / kernel_4x4p. */
ALWAYS_INLINE void pass_2x4(lr_float *c, lr_float *d, const lr_float *x0,
                            const lr_float *x1, int xs,
                            const lr_float *const w[NR], int ws, int nk)
{
    const lr_float *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
    pvec a0 = pload(c), a1 = pload(c + LANES);
    pvec a2 = pload(c + 2 * LANES), a3 = pload(c + 3 * LANES);
    pvec b0 = pload(d), b1 = pload(d + LANES);
    pvec b2 = pload(d + 2 * LANES), b3 = pload(d + 3 * LANES);
    int k;
    for (k = 0; k < nk; k += LANES) {
        const pvec u = pload(x0), v = pload(x1);
        pvec wv;
        wv = pload(w0); pkeep(wv); a0 = a0 + u * wv; b0 = b0 + v * wv;
        wv = pload(w1); pkeep(wv); a1 = a1 + u * wv; b1 = b1 + v * wv;
        wv = pload(w2); pkeep(wv); a2 = a2 + u * wv; b2 = b2 + v * wv;
        wv = pload(w3); pkeep(wv); a3 = a3 + u * wv; b3 = b3 + v * wv;
        x0 += xs; x1 += xs; w0 += ws; w1 += ws; w2 += ws; w3 += ws;
    }
    pstore(c, a0); pstore(c + LANES, a1);
    pstore(c + 2 * LANES, a2); pstore(c + 3 * LANES, a3);
    pstore(d, b0); pstore(d + LANES, b1);
    pstore(d + 2 * LANES, b2); pstore(d + 3 * LANES, b3);
}

/* One AVX2 pass of the packed 6 x 4 block (kernel_6x4p_pieces): the
 * piece at u (v = u + PL) of two W rows against the same piece of 6 rows
 * of x at t, t + PL, ..., t + 5 PL (advancing us and ts values per LANES
 * of k): 12 accumulators, a_i at c + i * as and b_i at d + i * as, each
 * lane summing its k in ascending order from its start value.  8 loads per
 * 12 products (pass_2x4: 6 per 8): fewer operations per product, where a
 * separate multiply and add per product fill Zen 3's 6-wide dispatch (96
 * against 80 GFLOP/s with operands in L1).  zero: the start values are
 * zero (a block's first chunk; c and d are only written), not loaded. */
ALWAYS_INLINE void pass_2x6(lr_float *c, lr_float *d, int as,
                            const lr_float *u, int us, const lr_float *t,
                            int ts, int nk, int zero)
{
    const pvec z = psplat(0);
    pvec a0 = zero ? z : pload(c), a1 = zero ? z : pload(c + as);
    pvec a2 = zero ? z : pload(c + 2 * as), a3 = zero ? z : pload(c + 3 * as);
    pvec a4 = zero ? z : pload(c + 4 * as), a5 = zero ? z : pload(c + 5 * as);
    pvec b0 = zero ? z : pload(d), b1 = zero ? z : pload(d + as);
    pvec b2 = zero ? z : pload(d + 2 * as), b3 = zero ? z : pload(d + 3 * as);
    pvec b4 = zero ? z : pload(d + 4 * as), b5 = zero ? z : pload(d + 5 * as);
    int k;
    for (k = 0; k < nk; k += LANES, u += us, t += ts) {
        const pvec uv = pload(u), vv = pload(u + PL);
        pvec tv;
        tv = pload(t); pkeep(tv); a0 = a0 + uv * tv; b0 = b0 + vv * tv;
        tv = pload(t + PL); pkeep(tv); a1 = a1 + uv * tv; b1 = b1 + vv * tv;
        tv = pload(t + 2 * PL); pkeep(tv);
        a2 = a2 + uv * tv; b2 = b2 + vv * tv;
        tv = pload(t + 3 * PL); pkeep(tv);
        a3 = a3 + uv * tv; b3 = b3 + vv * tv;
        tv = pload(t + 4 * PL); pkeep(tv);
        a4 = a4 + uv * tv; b4 = b4 + vv * tv;
        tv = pload(t + 5 * PL); pkeep(tv);
        a5 = a5 + uv * tv; b5 = b5 + vv * tv;
    }
    pstore(c, a0); pstore(c + as, a1); pstore(c + 2 * as, a2);
    pstore(c + 3 * as, a3); pstore(c + 4 * as, a4); pstore(c + 5 * as, a5);
    pstore(d, b0); pstore(d + as, b1); pstore(d + 2 * as, b2);
    pstore(d + 3 * as, b3); pstore(d + 4 * as, b4); pstore(d + 5 * as, b5);
}

/* The AVX2 clone's packed block, MR2 = 6 rows of x against NR = 4 rows of
 * W (where kernel_4x4p does 4 x 4), in passes of 6 rows x 2 columns x one
 * 32-byte piece (pass_2x6).  The operands are piece-major (pack_rows): x
 * with x86 == 2, piece q of every k step of the 6 rows side by side; W
 * with x86 == 3, the same for rows 0-1 and then for rows 2-3, so each pass
 * reads two contiguous streams.  The passes run over KP values of k at a
 * time, the chunk's operands in L1 or L2; the first chunk's start from
 * zero, so acc is written, never read (the caller need not zero it). */
ALWAYS_INLINE void kernel_6x4p_pieces(vec acc[MR2][NR], const lr_float *xp,
                                      const lr_float *wp, int nk)
{
    const int np = LANES / PL;                    /* pieces per vec */
    const size_t qs = (size_t)nk / np * MR2;      /* x per piece */
    const size_t ws = (size_t)nk / np * 2;        /* W per piece, 2 rows */
    /* chunks of at most KP, as even as LANES allows (short passes cost) */
    const int nc = (nk + KP - 1) / KP;
    const int kc = (nk / nc + LANES - 1) / LANES * LANES;
    int q, b, k0;
    for (k0 = 0; k0 < nk; k0 += kc) {
        const int n = nk - k0 < kc ? nk - k0 : kc;
        const size_t at = (size_t)k0 / np;        /* k steps done * PL */
        for (q = 0; q < np; q++)
            for (b = 0; b < NR; b += 2) {
                lr_float *c = (lr_float *)(void *)&acc[0][b] + q * PL;
                const lr_float *u = wp + (b / 2 * np + q) * ws + at * 2;
                const lr_float *t = xp + q * qs + at * MR2;
                /* the first chunk starts from zero (acc is not read) */
                if (k0 == 0)
                    pass_2x6(c, c + LANES, NR * LANES, u, 2 * PL, t,
                             MR2 * PL, n, 1);
                else
                    pass_2x6(c, c + LANES, NR * LANES, u, 2 * PL, t,
                             MR2 * PL, n, 0);
            }
    }
}

/* kernel_4x4 for AVX2 (rows longer than XP): passes of 2 rows x 4
 * columns x one piece. */
ALWAYS_INLINE void kernel_4x4_pieces(vec acc[MR][NR],
                                     const lr_float *const xs[MR],
                                     const lr_float *const ws[NR], int nk)
{
    int q, r, b;
    for (q = 0; q < LANES; q += PL)
        for (r = 0; r < MR; r += 2) {
            lr_float *c = (lr_float *)(void *)&acc[r][0] + q;
            const lr_float *w[NR];
            for (b = 0; b < NR; b++) w[b] = ws[b] + q;
            pass_2x4(c, c + NR * LANES, xs[r] + q, xs[r + 1] + q, LANES, w,
                     LANES, nk);
        }
}

/* kernel_1x4 for AVX2: two pieces of the 4 accumulators at a time (8
 * registers); the same products and sums, the same prefetches. */
ALWAYS_INLINE void kernel_1x4_pieces(vec acc[NR], const lr_float *xs,
                                     const lr_float *const ws[NR], int nk,
                                     const lr_float *pf)
{
    int q, k;
    for (q = 0; q < LANES; q += 2 * PL) {
        lr_float *c = (lr_float *)(void *)acc + q;
        pvec a0 = pload(c), a1 = pload(c + LANES);
        pvec a2 = pload(c + 2 * LANES), a3 = pload(c + 3 * LANES);
        pvec b0 = pload(c + PL), b1 = pload(c + LANES + PL);
        pvec b2 = pload(c + 2 * LANES + PL), b3 = pload(c + 3 * LANES + PL);
        for (k = q; k < nk; k += LANES) {
            const pvec u = pload(xs + k), v = pload(xs + k + PL);
            if (pf) {
                const char *p = (const char *)(pf + (size_t)NR * (k - q));
                __builtin_prefetch(p);
                __builtin_prefetch(p + 64);
                __builtin_prefetch(p + 128);
                __builtin_prefetch(p + 192);
            }
            a0 = a0 + u * pload(ws[0] + k); b0 = b0 + v * pload(ws[0] + k + PL);
            a1 = a1 + u * pload(ws[1] + k); b1 = b1 + v * pload(ws[1] + k + PL);
            a2 = a2 + u * pload(ws[2] + k); b2 = b2 + v * pload(ws[2] + k + PL);
            a3 = a3 + u * pload(ws[3] + k); b3 = b3 + v * pload(ws[3] + k + PL);
        }
        pstore(c, a0); pstore(c + LANES, a1);
        pstore(c + 2 * LANES, a2); pstore(c + 3 * LANES, a3);
        pstore(c + PL, b0); pstore(c + LANES + PL, b1);
        pstore(c + 2 * LANES + PL, b2); pstore(c + 3 * LANES + PL, b3);
    }
}

#endif
