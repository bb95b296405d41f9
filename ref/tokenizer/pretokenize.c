/* pretokenize.c - the Llama 3 split regex as a hand-written matcher (see
 * pretokenize.h for the regex).  Each branch below is one alternative of the
 * regex, tried in the regex's order; the comments give the alternative.
 * Depends on: unicode (UTF-8 decoding and the \p{L} / \p{N} / \s classes). */
#include "llamaref/tokenizer/pretokenize.h"
#include "llamaref/tokenizer/unicode.h"

typedef struct uchar {
    uint32_t cp;  /* code point (the byte itself for LR_UC_INVALID) */
    int cls;      /* LR_UC_* */
    size_t len;   /* bytes */
} uchar;

/* Decodes the character at s[i] (i < n). */
static uchar char_at(const unsigned char *s, size_t n, size_t i)
{
    uchar c;
    if (s[i] < 0x80) {
        c.cp = s[i];
        c.len = 1;
        c.cls = lr_uc_class(c.cp);
        return c;
    }
    c.len = (size_t)lr_utf8_decode(s + i, n - i, &c.cp);
    if (c.len == 0) {
        c.cp = s[i];
        c.len = 1;
        c.cls = LR_UC_INVALID;
    } else {
        c.cls = lr_uc_class(c.cp);
    }
    return c;
}

static int is_crlf(uchar c)
{
    return c.cp == '\r' || c.cp == '\n';
}

/* [^\s\p{L}\p{N}]: other symbols, punctuation, controls, invalid bytes. */
static int is_other(uchar c)
{
    return c.cls == LR_UC_OTHER || c.cls == LR_UC_INVALID;
}

/* End of the run of letters starting at i. */
static size_t letters_end(const unsigned char *s, size_t n, size_t i)
{
    while (i < n) {
        uchar c = char_at(s, n, i);
        if (c.cls != LR_UC_LETTER) break;
        i += c.len;
    }
    return i;
}

/* Case-insensitive contraction letter after an apostrophe, under the simple
 * case folding that (?i) uses: s/S/U+017F LONG S, t, m, d (one letter),
 * re, ve, ll (two letters).  Returns the length in bytes, or 0. */
static size_t contraction(const unsigned char *s, size_t n, size_t i)
{
    int a, b;
    if (i >= n) return 0;
    if (s[i] == 0xC5 && i + 1 < n && s[i + 1] == 0xBF) return 2; /* U+017F */
    a = s[i] | 0x20;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 1;
    if (i + 1 >= n) return 0;
    b = s[i + 1] | 0x20;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        return 2;
    return 0;
}

size_t lr_pretokenize_next(const char *text, size_t n, size_t pos)
{
    const unsigned char *s = (const unsigned char *)text;
    uchar c0 = char_at(s, n, pos), c1;
    size_t i = pos + c0.len, j, last_nl, last_start;
    int have_nl;

    /* (?i:'s|'t|'re|'ve|'m|'ll|'d)  (ASCII apostrophe only) */
    if (c0.cp == '\'' && c0.cls == LR_UC_OTHER) {
        size_t k = contraction(s, n, i);
        if (k) return i + k;
    }
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (c0.cls == LR_UC_LETTER) return letters_end(s, n, i);
    if (c0.cls != LR_UC_NUMBER && !is_crlf(c0) && i < n) {
        c1 = char_at(s, n, i);
        if (c1.cls == LR_UC_LETTER) return letters_end(s, n, i + c1.len);
    }
    /* \p{N}{1,3} */
    if (c0.cls == LR_UC_NUMBER) {
        int k;
        for (k = 1; k < 3 && i < n; k++) {
            c1 = char_at(s, n, i);
            if (c1.cls != LR_UC_NUMBER) break;
            i += c1.len;
        }
        return i;
    }
    /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
    j = pos;
    if (c0.cp == ' ' && i < n && is_other(char_at(s, n, i))) j = i;
    if (is_other(char_at(s, n, j))) {
        while (j < n) {
            c1 = char_at(s, n, j);
            if (!is_other(c1)) break;
            j += c1.len;
        }
        while (j < n && (s[j] == '\r' || s[j] == '\n')) j++;
        return j;
    }
    /* Only whitespace is left: c0 is \s.  Scan the whole run. */
    have_nl = 0;
    last_nl = last_start = pos;
    j = pos;
    while (j < n) {
        c1 = char_at(s, n, j);
        if (c1.cls != LR_UC_SPACE) break;
        if (is_crlf(c1)) {
            have_nl = 1;
            last_nl = j;
        }
        last_start = j;
        j += c1.len;
    }
    /* \s*[\r\n]+ : the greedy \s* backs off to the last \r or \n of the run */
    if (have_nl) return last_nl + 1;
    /* \s+(?!\S) : the whole run at the end of the text, else all of it but
     * its last character (which a following word or symbol then takes) */
    if (j == n) return j;
    if (last_start > pos) return last_start;
    /* \s+ */
    return j;
}

/* ---- GPT-2's split regex (llama.cpp "gpt-2"; the second pass of "smollm")
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * Contractions are case-sensitive; the optional prefix is one ASCII space. */

/* End of the run of characters of class cls (or, for LR_UC_OTHER, of
 * "other" characters) starting at i. */
static size_t class_end(const unsigned char *s, size_t n, size_t i, int cls)
{
    while (i < n) {
        uchar c = char_at(s, n, i);
        if (cls == LR_UC_OTHER ? !is_other(c) : c.cls != cls) break;
        i += c.len;
    }
    return i;
}

size_t lr_pretokenize_gpt2_next(const char *text, size_t n, size_t pos)
{
    const unsigned char *s = (const unsigned char *)text;
    uchar c0 = char_at(s, n, pos), c1;
    size_t i = pos + c0.len, j, last_start;
    /* 's|'t|'re|'ve|'m|'ll|'d */
    if (c0.cp == '\'' && i < n) {
        if (s[i] == 's' || s[i] == 't' || s[i] == 'm' || s[i] == 'd') return i + 1;
        if (i + 1 < n && ((s[i] == 'r' && s[i + 1] == 'e') || (s[i] == 'v' && s[i + 1] == 'e') ||
                          (s[i] == 'l' && s[i + 1] == 'l')))
            return i + 2;
    }
    /*  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+ */
    if (c0.cls == LR_UC_LETTER || c0.cls == LR_UC_NUMBER)
        return class_end(s, n, i, c0.cls);
    if (is_other(c0)) return class_end(s, n, i, LR_UC_OTHER);
    if (c0.cp == ' ' && i < n) {
        c1 = char_at(s, n, i);
        if (c1.cls == LR_UC_LETTER || c1.cls == LR_UC_NUMBER)
            return class_end(s, n, i + c1.len, c1.cls);
        if (is_other(c1)) return class_end(s, n, i + c1.len, LR_UC_OTHER);
    }
    /* c0 is whitespace: \s+(?!\S) takes the run at the end of the text, or
     * all of it but the last character; a single character is \s+ */
    j = last_start = pos;
    while (j < n) {
        c1 = char_at(s, n, j);
        if (c1.cls != LR_UC_SPACE) break;
        last_start = j;
        j += c1.len;
    }
    if (j == n) return j;
    if (last_start > pos) return last_start;
    return j;
}

/* SmolLM ("smollm" in llama.cpp, HF Digits(individual_digits) then
 * ByteLevel): every \p{N} character is a piece of its own; the text between
 * them is split by the GPT-2 regex, which never sees past a digit. */
size_t lr_pretokenize_smollm_next(const char *text, size_t n, size_t pos)
{
    const unsigned char *s = (const unsigned char *)text;
    uchar c0 = char_at(s, n, pos);
    size_t seg = pos;
    if (c0.cls == LR_UC_NUMBER) return pos + c0.len;
    while (seg < n) { /* the segment ends at the next number */
        uchar c = char_at(s, n, seg);
        if (c.cls == LR_UC_NUMBER) break;
        seg += c.len;
    }
    return lr_pretokenize_gpt2_next(text, seg, pos);
}
