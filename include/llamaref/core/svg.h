/* svg.h - small self-contained SVG charts for the evaluation reports: a bar
 * chart, a line chart (optionally with a logarithmic x axis) and a heat map
 * (the SliCK category transition matrix).  Output is plain SVG 1.1 text
 * with inline attributes (no scripts, no external fonts or styles), so it
 * renders the same in browsers, rsvg-convert and Markdown viewers.  All
 * text is XML-escaped. */
#ifndef LLAMAREF_SVG_H
#define LLAMAREF_SVG_H

#include <stddef.h>

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Vertical bars, one per label, value printed above each bar.  y_max <= 0:
 * the largest value (at least 1e-12) rounded up to a nice number. */
int lr_svg_bar_chart(lr_buf *out, const char *title, const char *y_label,
                     const char *const *labels, const double *values,
                     size_t n, double y_max, lr_error *err);

/* n_series lines over the common x values xs[0..n_points); ys is
 * [n_series][n_points] row-major; NaN leaves a gap.  log_x: logarithmic x
 * axis (every x must be > 0).  y range [y_min, y_max] (equal: automatic). */
int lr_svg_line_chart(lr_buf *out, const char *title, const char *x_label,
                      const char *y_label, const char *const *series,
                      size_t n_series, const double *xs, const double *ys,
                      size_t n_points, int log_x, double y_min, double y_max,
                      lr_error *err);

/* A rows x cols grid coloured by value / v_max (white -> dark blue), each
 * cell labelled with cell_text[r * cols + c] (or the value with 3 decimals
 * when cell_text is NULL). */
int lr_svg_heatmap(lr_buf *out, const char *title, const char *row_title,
                   const char *col_title, const char *const *row_labels,
                   const char *const *col_labels, const double *values,
                   const char *const *cell_text, size_t rows, size_t cols,
                   lr_error *err);

/* Appends s with &, <, >, " escaped. */
void lr_svg_escape(lr_buf *out, const char *s);

#ifdef __cplusplus
}
#endif

#endif
