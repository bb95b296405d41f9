/* unicode.c - UTF-8 decoding and encoding (Unicode Table 3-7 well-formed
 * sequences).  The character class tables are in unicode_tables.c. */
#include "llamaref/tokenizer/unicode.h"

/* Allowed range of the second byte for a given lead byte, and the total
 * length; 0 length means the byte cannot lead a sequence. */
static int utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return 2;
    if (c < 0xF0) {
        if (c == 0xE0) *lo = 0xA0;
        if (c == 0xED) *hi = 0x9F; /* no surrogates */
        return 3;
    }
    if (c < 0xF5) {
        if (c == 0xF0) *lo = 0x90;
        if (c == 0xF4) *hi = 0x8F; /* nothing above U+10FFFF */
        return 4;
    }
    return 0;
}

int lr_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char lo, hi;
    int len, i;
    uint32_t v;
    if (n == 0) return 0;
    len = utf8_lead(s[0], &lo, &hi);
    if (len == 0 || (size_t)len > n) return 0;
    if (len == 1) {
        *cp = s[0];
        return 1;
    }
    if (s[1] < lo || s[1] > hi) return 0;
    v = s[0] & (0x7F >> len);
    for (i = 1; i < len; i++) {
        if (i > 1 && (s[i] < 0x80 || s[i] > 0xBF)) return 0;
        v = (v << 6) | (uint32_t)(s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

size_t lr_utf8_incomplete_tail(const unsigned char *s, size_t n)
{
    size_t k;
    /* A lead byte at most 3 bytes before the end, followed by valid
     * continuation bytes up to the end, but fewer than its length. */
    for (k = 1; k <= 3 && k <= n; k++) {
        const unsigned char *p = s + n - k;
        unsigned char lo, hi;
        int len = utf8_lead(p[0], &lo, &hi);
        size_t i;
        if (len == 0 && p[0] >= 0x80 && p[0] <= 0xBF) continue; /* continuation */
        if (len <= 1 || (size_t)len <= k) return 0;
        for (i = 1; i < k; i++) {
            unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
            if (p[i] < l || p[i] > h) return 0;
        }
        return k;
    }
    return 0;
}

int lr_utf8_encode(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}
