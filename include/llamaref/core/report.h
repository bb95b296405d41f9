/* report.h - small helpers shared by the writers of report files (the
 * evaluation runs, the experiment report, the knowledge and detox
 * reports): the file name of a path, paths next to an output file,
 * Markdown-safe text and the subjects of an MMLU-layout directory.
 * Depends on: common.h (lr_buf, lr_error). */
#ifndef LLAMAREF_REPORT_H
#define LLAMAREF_REPORT_H

#include <stddef.h>

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The file name part of path (after its last '/'); path itself when it
 * has none. */
const char *lr_basename(const char *path);

/* A path next to an output file: the output path without its extension
 * (the '.' of the file name, not of a directory; the first 4000 bytes at
 * most) followed by suffix, e.g. "out/eval.json" + "-mc.svg" ->
 * "out/eval-mc.svg".  Written to dst (cap bytes, NUL-terminated, truncated
 * to fit). */
void lr_report_path(char *dst, size_t cap, const char *out, const char *suffix);

/* Appends s as text safe in a Markdown table cell: '|' escaped as "\|",
 * CR and LF as spaces. */
void lr_md_escape(lr_buf *b, const char *s);

/* The subjects of an MMLU-layout directory: the <s> of every
 * DIR/test/<s>_test.csv, sorted by strcmp (for MMLU itself the
 * harness's order).  *out (each string and the array malloc'ed; free
 * them) gets the count returned; -1 when DIR/test cannot be opened or
 * read (a partial list would drop subjects silently) or out of memory,
 * the message naming the directory. */
int lr_mmlu_list_subjects(const char *dir, char ***out, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
