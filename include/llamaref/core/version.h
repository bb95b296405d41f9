/* version.h - the version of the llamaref API and library.
 *
 * LR_VERSION_MAJOR changes when the ABI of an installed library changes
 * incompatibly (it is the shared library's soname: libllamaref.so.MAJOR);
 * MINOR when entry points are added; PATCH for fixes that keep both.  The
 * Makefile reads these three lines for the library file names and
 * llamaref.pc, so they stay the single source of the version.
 *
 * A DOUBLE=1 build (lr_float = double) is another ABI with the same version:
 * it is installed as libllamaref-double and llamaref-double.pc, whose
 * Cflags define LR_DOUBLE, and lr_float_size() tells a dynamic loader
 * (ctypes, dlopen) which of the two it has. */
#ifndef LLAMAREF_VERSION_H
#define LLAMAREF_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

#define LR_VERSION_MAJOR 0
#define LR_VERSION_MINOR 4
#define LR_VERSION_PATCH 0

/* MAJOR * 10000 + MINOR * 100 + PATCH, for #if comparisons. */
#define LR_VERSION_NUMBER \
    (LR_VERSION_MAJOR * 10000 + LR_VERSION_MINOR * 100 + LR_VERSION_PATCH)

/* The version of the library actually linked, "MAJOR.MINOR.PATCH" (a
 * static string; compare with the LR_VERSION_* the caller was compiled
 * against to detect a header / library mismatch). */
const char *lr_version(void);
/* The same as LR_VERSION_NUMBER, from the linked library. */
int lr_version_number(void);
/* sizeof(lr_float) in the linked library: 4 (float build) or 8 (DOUBLE=1). */
int lr_float_size(void);

#ifdef __cplusplus
}
#endif

#endif
