/* read_files.c - the yardstick of `llamaref verify`'s speed (docs/verify.md,
 * "Streaming"): reads every byte of each FILE with fread in 1 MB pieces,
 * as verify does, and does nothing else with them (a byte sum, printed, so
 * the reads cannot be left out).  `cat A B > /dev/null` is not a yardstick
 * where /dev/null is not the null device (it is a regular file on some
 * build machines, and cat then writes both files into it).
 *   read_files FILE... */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    static unsigned char buf[1 << 20];
    unsigned long long total = 0, sum = 0;
    int i;
    if (argc < 2) {
        fprintf(stderr, "usage: read_files FILE...\n");
        return 2;
    }
    for (i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        size_t n;
        if (!f) {
            fprintf(stderr, "read_files: cannot open %s\n", argv[i]);
            return 1;
        }
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
            total += n;
            sum += buf[n - 1];
        }
        if (ferror(f)) {
            fprintf(stderr, "read_files: read error in %s\n", argv[i]);
            fclose(f);
            return 1;
        }
        fclose(f);
    }
    printf("%llu bytes read (last-byte sum %llu)\n", total, sum);
    return 0;
}
