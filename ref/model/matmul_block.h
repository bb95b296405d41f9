/* matmul_block.h - the finishing of matmul.c's packed blocks, which
 * includes it once (after mm_args, finish and the kernels; internal to
 * ref/model, not installed), where the compiler has vector shuffles
 * (HAVE_SHUFFLE; else 0 and matmul.c finishes output by output):
 *   vpairsum, ptree8    one level of vsum's pairwise tree for two outputs
 *                       at once, and the AVX2 clone's 8-output tree
 *   finish_block        a block's 16 (or 24) outputs level by level, plus
 *                       their tails
 *   block_4x4p          the AVX-512 clone's whole packed 4 x 4 block in
 *                       registers, or a pass over part of its k
 *   pack_tail, pack_tail_x   the tails (in % LANES) as block_4x4p reads
 *                       them
 * Each output keeps the order documented in matmul.h (lanes over k
 * ascending, the tree, then the tail), the same bits as finish.
 * Depends on: matmul_internal.h (vec, pvec, LANES, vload, vmuladd). */
#ifndef LLAMAREF_MATMUL_BLOCK_H
#define LLAMAREF_MATMUL_BLOCK_H

#if HAVE_VEC && (defined(__clang__) || __GNUC__ >= 12)
#define HAVE_SHUFFLE 1
/* [a0+a1, a2+a3, ..., a14+a15, b0+b1, ..., b14+b15]: one level of the
 * pairwise tree of vsum for two outputs at once (the same additions). */
ALWAYS_INLINE vec vpairsum(vec a, vec b)
{
    vec e = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                    20, 22, 24, 26, 28, 30);
    vec o = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19,
                                    21, 23, 25, 27, 29, 31);
    return e + o;
}

#if HAVE_X86_DISPATCH && !defined(LR_DOUBLE)
#define HAVE_PIECE_TREE 1
/* [a0+a1, a2+a3, b0+b1, b2+b3, a4+a5, a6+a7, b4+b5, b6+b7]: pairs inside
 * each 16-byte half (one shuffle instruction per operand). */
ALWAYS_INLINE pvec phadd(pvec a, pvec b)
{
    return __builtin_shufflevector(a, b, 0, 2, 8, 10, 4, 6, 12, 14) +
           __builtin_shufflevector(a, b, 1, 3, 9, 11, 5, 7, 13, 15);
}

/* Lane i: the pairwise tree ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)) of piece h
 * of v[i], for 8 consecutive vecs v[0..7].  Two levels of phadd leave
 * [A0-3, B0-3, C0-3, D0-3, A4-7, B4-7, C4-7, D4-7] (A0-3: the first half
 * of v[0]'s tree) for v[0..3] and the same for v[4..7]; one exchange of
 * halves adds the two halves of each tree. */
ALWAYS_INLINE pvec ptree8(const vec *v, int h)
{
    const lr_float *a = (const lr_float *)(const void *)v + h * PL;
    const pvec z = phadd(phadd(pload(a), pload(a + LANES)),
                         phadd(pload(a + 2 * LANES), pload(a + 3 * LANES)));
    const pvec w = phadd(phadd(pload(a + 4 * LANES), pload(a + 5 * LANES)),
                         phadd(pload(a + 6 * LANES), pload(a + 7 * LANES)));
    return __builtin_shufflevector(z, w, 0, 1, 2, 3, 8, 9, 10, 11) +
           __builtin_shufflevector(z, w, 4, 5, 6, 7, 12, 13, 14, 15);
}
#else
#define HAVE_PIECE_TREE 0
#endif

/* Finishes the mr x NR block y[t:t+mr][o:o+NR] (all inside y; mr = MR or
 * MR2): lane j of the result is vsum(acc[j / NR][j % NR]), computed for 16
 * outputs (4 rows) together level by level, plus the tail elements k >= kv
 * in order (mr = 6: rows 0-3, then rows 2-5 again).
 * x86 == 2 (the AVX2 clone, float: two 8-lane pieces per vec): vsum is the
 * tree of lanes 0-7 plus the tree of lanes 8-15, so 8 outputs at a time
 * are ptree8 of their low pieces plus ptree8 of their high pieces, the
 * same additions. */
ALWAYS_INLINE void finish_block(const mm_args *a, vec (*acc)[NR], int mr,
                                int t, int o, const lr_float *const wrow[NR],
                                int kv, int x86)
{
    lr_float out[MR2 * NR];
    int i, b, k, i0;
#if HAVE_PIECE_TREE
    if (x86 == 2) {
        const vec *v = &acc[0][0];
        for (i = 0; i < mr * NR; i += 8)
            pstore(out + i, ptree8(v + i, 0) + ptree8(v + i, 1));
    } else
#endif
    for (i0 = 0; i0 < mr; i0 += MR) {
        const int f = i0 + MR <= mr ? i0 : mr - MR; /* first row of 4 */
        const vec *v = &acc[f][0];
        vec p[8], q[4], r0, r1, s;
        (void)x86;
        for (i = 0; i < 8; i++) p[i] = vpairsum(v[2 * i], v[2 * i + 1]);
        for (i = 0; i < 4; i++) q[i] = vpairsum(p[2 * i], p[2 * i + 1]);
        r0 = vpairsum(q[0], q[1]);
        r1 = vpairsum(q[2], q[3]);
        s = vpairsum(r0, r1);
        memcpy(out + f * NR, &s, sizeof s);
    }
    for (i = 0; i < mr; i++) {
        const lr_float *xt = a->x + (size_t)(t + i) * a->in_dim;
        lr_float *yt = a->y + (size_t)(t + i) * a->out_dim + o;
        for (b = 0; b < NR; b++) {
            lr_float v = out[i * NR + b];
            for (k = kv; k < a->in_dim; k++) v += xt[k] * wrow[b][k];
            yt[b] = v;
        }
    }
}

/* The AVX-512 clone's whole packed MR x NR block y[t:t+4][o:o+4] in
 * registers, or a pass over part of its k (part: bit 1, start from the 16
 * accumulators in keep, else from zero; bit 2, finish, else store them in
 * keep; a lane's sum is only split in time, the same bits):
 * kernel_4x4p from zero accumulators, finish_block's tree
 * (lane j = vsum(acc[j / NR][j % NR])), then its tail in 16 lanes at once
 * (lane j adds x[t + j / NR][kv + k] * w[o + j % NR][kv + k], k
 * ascending: each output's sum in finish_block's order).  xt: x's tail,
 * 16 lanes per k (pack_tail_x); wt: W's, 4 values per k (pack_tail, read
 * as a vector from there and its first 4 repeated: a 4-value vector
 * widened went through the stack and stalled each k's load, three times
 * the rest of a block at in_dim 172); nt tail values.
 * (kernel_4x4p + finish_block kept acc in memory: zeroed, loaded, stored
 * and loaded again, a third of the kernel's time at in_dim 64; calling
 * kernel_4x4p on a local acc here still left more vectors on the stack,
 * so its loop is written out again, in named registers.) */
ALWAYS_INLINE void block_4x4p(const mm_args *a, const lr_float *xp,
                              const lr_float *wp, int nk, const lr_float *xt,
                              const lr_float *wt, int nt, int t, int o,
                              lr_float *keep, int part)
{
    vec a00 = vzero(), a01 = vzero(), a02 = vzero(), a03 = vzero();
    vec a10 = vzero(), a11 = vzero(), a12 = vzero(), a13 = vzero();
    vec a20 = vzero(), a21 = vzero(), a22 = vzero(), a23 = vzero();
    vec a30 = vzero(), a31 = vzero(), a32 = vzero(), a33 = vzero();
    vec s;
    int k, i;
    if (part & 1) {
        a00 = vload(keep); a01 = vload(keep + LANES);
        a02 = vload(keep + 2 * LANES); a03 = vload(keep + 3 * LANES);
        a10 = vload(keep + 4 * LANES); a11 = vload(keep + 5 * LANES);
        a12 = vload(keep + 6 * LANES); a13 = vload(keep + 7 * LANES);
        a20 = vload(keep + 8 * LANES); a21 = vload(keep + 9 * LANES);
        a22 = vload(keep + 10 * LANES); a23 = vload(keep + 11 * LANES);
        a30 = vload(keep + 12 * LANES); a31 = vload(keep + 13 * LANES);
        a32 = vload(keep + 14 * LANES); a33 = vload(keep + 15 * LANES);
    }
    for (k = 0; k < nk; k += LANES, xp += MR * LANES, wp += NR * LANES) {
        vec w0 = vload(wp), w1 = vload(wp + LANES);
        vec w2 = vload(wp + 2 * LANES), w3 = vload(wp + 3 * LANES);
        vec x;
        x = vload(xp);
        a00 = vmuladd(a00, x, w0); a01 = vmuladd(a01, x, w1);
        a02 = vmuladd(a02, x, w2); a03 = vmuladd(a03, x, w3);
        x = vload(xp + LANES);
        a10 = vmuladd(a10, x, w0); a11 = vmuladd(a11, x, w1);
        a12 = vmuladd(a12, x, w2); a13 = vmuladd(a13, x, w3);
        x = vload(xp + 2 * LANES);
        a20 = vmuladd(a20, x, w0); a21 = vmuladd(a21, x, w1);
        a22 = vmuladd(a22, x, w2); a23 = vmuladd(a23, x, w3);
        x = vload(xp + 3 * LANES);
        a30 = vmuladd(a30, x, w0); a31 = vmuladd(a31, x, w1);
        a32 = vmuladd(a32, x, w2); a33 = vmuladd(a33, x, w3);
    }
    if (!(part & 2)) {
        memcpy(keep, &a00, sizeof a00); memcpy(keep + LANES, &a01, sizeof a01);
        memcpy(keep + 2 * LANES, &a02, sizeof a02);
        memcpy(keep + 3 * LANES, &a03, sizeof a03);
        memcpy(keep + 4 * LANES, &a10, sizeof a10);
        memcpy(keep + 5 * LANES, &a11, sizeof a11);
        memcpy(keep + 6 * LANES, &a12, sizeof a12);
        memcpy(keep + 7 * LANES, &a13, sizeof a13);
        memcpy(keep + 8 * LANES, &a20, sizeof a20);
        memcpy(keep + 9 * LANES, &a21, sizeof a21);
        memcpy(keep + 10 * LANES, &a22, sizeof a22);
        memcpy(keep + 11 * LANES, &a23, sizeof a23);
        memcpy(keep + 12 * LANES, &a30, sizeof a30);
        memcpy(keep + 13 * LANES, &a31, sizeof a31);
        memcpy(keep + 14 * LANES, &a32, sizeof a32);
        memcpy(keep + 15 * LANES, &a33, sizeof a33);
        return;
    }
    /* finish_block's levels with v[0..15] = a00, a01, ..., a33 */
    s = vpairsum(vpairsum(vpairsum(vpairsum(a00, a01), vpairsum(a02, a03)),
                          vpairsum(vpairsum(a10, a11), vpairsum(a12, a13))),
                 vpairsum(vpairsum(vpairsum(a20, a21), vpairsum(a22, a23)),
                          vpairsum(vpairsum(a30, a31), vpairsum(a32, a33))));
    for (k = 0; k < nt; k++) {
        const vec wv = vload(wt + 4 * k); /* lanes 4-15 unused */
        s = s + vload(xt + LANES * k) *
                    __builtin_shufflevector(wv, wv, 0, 1, 2, 3, 0, 1, 2, 3, 0,
                                            1, 2, 3, 0, 1, 2, 3);
    }
    for (i = 0; i < MR; i++)
        memcpy(a->y + (size_t)(t + i) * a->out_dim + o,
               (const lr_float *)(const void *)&s + i * NR,
               sizeof(lr_float) * NR);
}

/* dst[4 k + r] = rows[r][k] for r < 4, k < nt: a block's tail of W,
 * packed for block_4x4p (which reads 16 values from each 4 k: the buffer
 * has room after it). */
ALWAYS_INLINE void pack_tail(lr_float *dst, const lr_float *const rows[4],
                             int nt)
{
    int k, r;
    for (k = 0; k < nt; k++)
        for (r = 0; r < 4; r++) dst[4 * k + r] = rows[r][k];
}

/* dst[16 k + 4 r + b] = rows[r][k] for b < 4: x's tail as block_4x4p's
 * lanes use it (lane j, row j / 4). */
ALWAYS_INLINE void pack_tail_x(lr_float *dst, const lr_float *const rows[4],
                               int nt)
{
    int k, r, b;
    for (k = 0; k < nt; k++)
        for (r = 0; r < 4; r++)
            for (b = 0; b < 4; b++) dst[LANES * k + 4 * r + b] = rows[r][k];
}
#else
#define HAVE_SHUFFLE 0
#endif

#endif
