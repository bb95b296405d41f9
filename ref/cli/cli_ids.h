/* cli_ids.h - parsing token-id lists given on the command line
 * ("1 2 3" or "1,2,3"), shared by generate and dump. */
#ifndef LLAMAREF_CLI_IDS_H
#define LLAMAREF_CLI_IDS_H

/* Parses val into a malloc'ed array; prints a message naming opt and
 * returns -1 on a malformed or empty list or a value outside
 * [-2^31, 2^31). */
int cli_ids(const char *opt, const char *val, int **ids, int *n);

#endif
