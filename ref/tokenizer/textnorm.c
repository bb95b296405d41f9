/* textnorm.c - lower-casing and white-space normalisation of answers and
 * aliases (see textnorm.h).  The lowercase table is generated into
 * lowercase_table.c; UTF-8 decoding and encoding come from unicode.c. */
#include <string.h>

#include "llamaref/tokenizer/textnorm.h"
#include "llamaref/tokenizer/unicode.h"

uint32_t lr_lower_cp(uint32_t cp)
{
    size_t lo = 0, hi = lr_lowercase_count;
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lr_lowercase_pairs[mid][0] == cp) return lr_lowercase_pairs[mid][1];
        if (lr_lowercase_pairs[mid][0] < cp) lo = mid + 1;
        else hi = mid;
    }
    return cp;
}

int lr_text_is_space(uint32_t cp)
{
    if (cp <= 0x20) return (cp >= 0x09 && cp <= 0x0D) ||
                           (cp >= 0x1C && cp <= 0x20);
    if (cp < 0x85) return 0;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Length of the maximal subpart of an ill-formed sequence at s[0..n): the
 * longest prefix that is the start of some well-formed sequence, or 1.
 * Each maximal subpart becomes one U+FFFD (Unicode 15 section 3.9, "U+FFFD
 * substitution of maximal subparts"; Python's errors="replace" does the
 * same). */
static size_t maximal_subpart(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len, k;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) len = 3;
    else if (c >= 0xF0 && c <= 0xF4) len = 4;
    else return 1;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    if (n < 2 || s[1] < lo || s[1] > hi) return 1;
    for (k = 2; k < len && k < n && s[k] >= 0x80 && s[k] <= 0xBF; k++)
        ;
    return k;
}

char *lr_text_normalize(const char *s, size_t len, size_t *out_len,
                        lr_error *err)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t pos = 0, n = 0, cap;
    int pending_space = 0;
    char *out;
    /* lower-casing changes a character's UTF-8 length by at most a factor
     * of 3 (U+FFFD for one byte); 3 * len + 1 always suffices */
    if (lr_size_mul(len, 3, &cap) || lr_size_add(cap, 1, &cap)) {
        lr_fail(err, "text of %lu bytes too long", (unsigned long)len);
        return NULL;
    }
    out = lr_alloc(cap, 1, "normalised text", err);
    if (!out) return NULL;
    while (pos < len) {
        uint32_t cp;
        int k = lr_utf8_decode(u + pos, len - pos, &cp);
        if (k == 0) {
            cp = 0xFFFD;
            k = (int)maximal_subpart(u + pos, len - pos);
        }
        pos += (size_t)k;
        if (lr_text_is_space(cp)) {
            pending_space = n > 0;
            continue;
        }
        if (pending_space) out[n++] = ' ';
        pending_space = 0;
        cp = lr_lower_cp(cp);
        if (cp == 0x2019 || cp == 0x02BC) cp = '\'';
        n += (size_t)lr_utf8_encode(cp, (unsigned char *)out + n);
    }
    out[n] = 0;
    if (out_len) *out_len = n;
    return out;
}
