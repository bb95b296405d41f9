/* fuzz_tokenize_jsonl.c - libFuzzer target: the standard input of
 * `llamaref tokenize --jsonl` (one {"text": ...} object per line), through
 * cmd_tokenize of ref/cli/cmd_tokenize.c (included here) with a byte-level
 * tiktoken tokenizer; stdout goes to /dev/null. */
#include "cmd_tokenize.c"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    static const char *tokpath;
    char *argv[6];
    const char *in = fz_write("stdin.jsonl", data, n);
    if (!tokpath) {
        /* the byte-level tokenizer as a file */
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char text[256 * 12];
        size_t len = 0;
        int b;
        for (b = 0; b < 256; b++)
            len += (size_t)sprintf(text + len, "%c%c== %d\n", b64[b >> 2], b64[(b & 3) << 4], b);
        tokpath = fz_write("tokenizer.model", text, len);
        if (!tokpath || !freopen("/dev/null", "w", stdout)) abort();
    }
    if (!in || !freopen(in, "rb", stdin)) return 0;
    argv[0] = (char *)"tokenize"; argv[1] = (char *)"--tokenizer";
    argv[2] = (char *)tokpath; argv[3] = (char *)"--jsonl";
    argv[4] = (char *)(n && data[0] & 1 ? "--special" : "--bos"); argv[5] = NULL;
    (void)cmd_tokenize(5, argv);
    return 0;
}
