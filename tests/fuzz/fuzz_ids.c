/* fuzz_ids.c - libFuzzer target: token-id lists given on the command line
 * (--ids, --prompt-ids: "1 2 3" or "1,2,3"), parsed by cli_ids of
 * ref/cli/cli_args.c; an accepted list is printed and parsed again. */
#include "cli.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    char *val = fz_copy(data, n, 1);
    int *ids = NULL, *ids2 = NULL, k = 0, k2 = 0, i;
    if (!val) return 0;
    if (cli_ids("--ids", val, &ids, &k) == 0) {
        char *buf = malloc((size_t)k * 13 + 1), *p = buf;
        if (!buf || k <= 0) abort();
        for (i = 0; i < k; i++) p += sprintf(p, i ? ",%d" : "%d", ids[i]);
        if (cli_ids("--ids", buf, &ids2, &k2) || k2 != k ||
            memcmp(ids, ids2, (size_t)k * sizeof *ids))
            abort();
        free(buf);
        free(ids2);
    }
    free(ids);
    free(val);
    return 0;
}
