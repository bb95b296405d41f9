// attention_check.cpp - llamaref as the oracle of another implementation's
// test: a toy "fast" attention (one pass over the keys with an online
// softmax, as flash-attention kernels do, in C++) checked against the
// reference lr_attention_forward on seeded random inputs: grouped-query
// heads, causal masking, a left-padded sequence and a KV-cache offset.
//
//   c++ attention_check.cpp $(pkg-config --cflags --libs llamaref) -o attention_check
//   ./attention_check          # exit 0 when every case matches
//   ./attention_check --bug    # the toy forgets the 1/sqrt(head_dim) scale:
//                              # the check must then fail (exit 1)
//
// The metric is the largest |fast - ref| over the largest |ref| of each
// case; the bound is 1e-5 for the float build, 1e-12 for double.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include <llamaref.h>

namespace {

// Toy kernel: for each query, one pass over the visible keys keeping the
// running max m, the running sum l of exp(s - m) and the output rescaled
// when m grows.  Same layouts as lr_attention_forward.
void fast_attention(std::vector<lr_float> &out, const std::vector<lr_float> &q,
                    const std::vector<lr_float> &k,
                    const std::vector<lr_float> &v,
                    const std::vector<unsigned char> &key_mask,
                    const lr_attn_shape &s, bool bug)
{
    const int H = s.n_heads, KV = s.n_kv_heads, hd = s.head_dim;
    const double scale = bug ? 1.0 : 1.0 / std::sqrt((double)hd);
    std::vector<double> acc(hd);
    for (int i = 0; i < s.Tq; i++)
        for (int h = 0; h < H; h++) {
            const int kvh = h / (H / KV);
            const lr_float *qi = &q[((size_t)i * H + h) * hd];
            double m = -INFINITY, l = 0;
            std::fill(acc.begin(), acc.end(), 0.0);
            for (int j = 0; j <= s.q_off + i; j++) {
                if (!key_mask.empty() && !key_mask[j]) continue;
                const lr_float *kj = &k[((size_t)j * KV + kvh) * hd];
                const lr_float *vj = &v[((size_t)j * KV + kvh) * hd];
                double sc = 0;
                for (int d = 0; d < hd; d++) sc += (double)qi[d] * kj[d];
                sc *= scale;
                const double m_new = sc > m ? sc : m;
                const double corr = std::exp(m - m_new), p = std::exp(sc - m_new);
                l = l * corr + p;
                for (int d = 0; d < hd; d++) acc[d] = acc[d] * corr + p * vj[d];
                m = m_new;
            }
            lr_float *o = &out[((size_t)i * H + h) * hd];
            for (int d = 0; d < hd; d++) o[d] = l > 0 ? (lr_float)(acc[d] / l) : 0;
        }
}

// Portable xorshift stream in [-1, 1): the inputs do not depend on libc.
struct rng {
    unsigned long long x;
    lr_float next()
    {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        return (lr_float)((double)(x >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
};

// One case: returns the relative error (and prints it).
double run_case(const char *name, int H, int KV, int hd, int Tq, int q_off,
                int n_pad, bool bug)
{
    lr_attn_shape s;
    s.n_heads = H; s.n_kv_heads = KV; s.head_dim = hd;
    s.Tq = Tq; s.q_off = q_off; s.Tk = q_off + Tq;
    rng r = {0x9E3779B97F4A7C15ULL ^ (unsigned long long)(H * 131 + Tq)};
    std::vector<lr_float> q((size_t)Tq * H * hd), k((size_t)s.Tk * KV * hd),
        v(k.size()), ref(q.size()), fast(q.size()), scratch((size_t)H * s.Tk);
    for (auto &x : q) x = 2 * r.next();
    for (auto &x : k) x = 2 * r.next();
    for (auto &x : v) x = r.next();
    std::vector<unsigned char> mask((size_t)s.Tk, 1);
    for (int j = 0; j < n_pad; j++) mask[j] = 0; // left padding
    lr_attention_forward(ref.data(), nullptr, nullptr, q.data(), k.data(),
                         v.data(), mask.data(), &s, scratch.data());
    fast_attention(fast, q, k, v, mask, s, bug);
    double md = 0, mx = 0;
    for (size_t i = 0; i < ref.size(); i++) {
        md = std::fmax(md, std::fabs((double)fast[i] - ref[i]));
        mx = std::fmax(mx, std::fabs((double)ref[i]));
    }
    const double rel = md / (mx > 0 ? mx : 1);
    std::printf("%-28s H=%d KV=%d hd=%d Tq=%d q_off=%d pad=%d: rel err %.3g\n",
                name, H, KV, hd, Tq, q_off, n_pad, rel);
    return rel;
}

} // namespace

int main(int argc, char **argv)
{
    const bool bug = argc > 1 && std::strcmp(argv[1], "--bug") == 0;
    const double tol = lr_float_size() == 8 ? 1e-12 : 1e-5;
    std::printf("llamaref %s, lr_float of %d bytes, bound %g\n", lr_version(),
                lr_float_size(), tol);
    if (LR_VERSION_MAJOR != lr_version_number() / 10000) {
        std::printf("header/library version mismatch\n");
        return 1;
    }
    int failed = 0;
    failed += !(run_case("multi-head", 4, 4, 16, 9, 0, 0, bug) <= tol);
    failed += !(run_case("grouped-query (GQA)", 8, 2, 32, 23, 0, 0, bug) <= tol);
    failed += !(run_case("multi-query, left padding", 6, 1, 8, 17, 0, 5, bug) <= tol);
    failed += !(run_case("KV-cache offset", 4, 2, 64, 3, 29, 0, bug) <= tol);
    std::printf("%s\n", failed ? "MISMATCH" : "OK: fast attention matches llamaref");
    return failed ? 1 : 0;
}
