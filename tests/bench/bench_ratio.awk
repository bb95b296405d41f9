# bench_ratio.awk - `make bench`'s last lines: llamaref's fast matmul over
# OpenBLAS sgemm on the same N^3 product, per thread count, from the two
# programs' outputs of the same run (llamaref bench, then bench_sgemm).
/^matmul threads [0-9]+: reference/ {
    th = $3; sub(":", "", th)
    for (i = 1; i < NF; i++) if ($(i + 1) == "GFLOP/s") v = $i
    ours[th] = v   # the last GFLOP/s figure of the line: the fast kernel
}
/^OpenBLAS sgemm threads [0-9]+:/ {
    th = $4; sub(":", "", th)
    for (i = 1; i < NF; i++) if ($(i + 1) == "GFLOP/s;") { blas[th] = $i; break }
}
END {
    for (th = 1; th <= 2; th++)
        if ((th in ours) && (th in blas) && blas[th] > 0)
            printf "matmul ratio llamaref / OpenBLAS at %d thread(s): %.2f (%s vs %s GFLOP/s)\n",
                th, ours[th] / blas[th], ours[th], blas[th]
}
