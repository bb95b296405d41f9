/* svg.c - bar chart, line chart and heat map as SVG text; see svg.h.
 * Layout constants are in pixels; fonts are the generic "sans-serif". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "llamaref/core/svg.h"

#define FONT "font-family=\"sans-serif\""

static const char *const palette[] = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"
};

void lr_svg_escape(lr_buf *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': lr_buf_puts(out, "&amp;"); break;
        case '<': lr_buf_puts(out, "&lt;"); break;
        case '>': lr_buf_puts(out, "&gt;"); break;
        case '"': lr_buf_puts(out, "&quot;"); break;
        default: lr_buf_append(out, s, 1);
        }
    }
}

/* At most max code points of s (escaped), "..." appended when cut. */
static void short_label(lr_buf *o, const char *s, int max)
{
    const char *p = s;
    int n = 0;
    lr_buf tmp = {0};
    while (*p) {
        if (((unsigned char)*p & 0xC0) != 0x80) {
            if (n == max) break;
            n++;
        }
        p++;
    }
    lr_buf_append(&tmp, s, (size_t)(p - s));
    if (*p) lr_buf_puts(&tmp, "...");
    lr_svg_escape(o, tmp.data ? tmp.data : "");
    lr_buf_free(&tmp);
}

static void text(lr_buf *o, double x, double y, const char *anchor, int size,
                 const char *extra, const char *s)
{
    lr_buf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
                  "font-size=\"%d\" " FONT "%s%s>", x, y, anchor, size,
                  extra ? " " : "", extra ? extra : "");
    lr_svg_escape(o, s);
    lr_buf_puts(o, "</text>\n");
}

static void header(lr_buf *o, int w, int h, const char *title)
{
    lr_buf_printf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                  "height=\"%d\" viewBox=\"0 0 %d %d\">\n", w, h, w, h);
    lr_buf_printf(o, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", w, h);
    text(o, w / 2.0, 24, "middle", 16, "font-weight=\"bold\"", title);
}

/* A "nice" upper bound >= v: 1, 2, 2.5 or 5 times a power of ten. */
static double nice_ceil(double v)
{
    double p, m;
    if (!(v > 0)) return 1;
    p = pow(10, floor(log10(v)));
    m = v / p;
    if (m <= 1.0 + 1e-9) return p;
    if (m <= 2.0 + 1e-9) return 2 * p;
    if (m <= 2.5 + 1e-9) return 2.5 * p;
    if (m <= 5.0 + 1e-9) return 5 * p;
    return 10 * p;
}

static void fmt_num(char *b, size_t n, double v)
{
    if (fabs(v) >= 1000 || (v == floor(v) && fabs(v) < 1e15))
        snprintf(b, n, "%.0f", v);
    else if (fabs(v) >= 10)
        snprintf(b, n, "%.1f", v);
    else
        snprintf(b, n, "%.3g", v);
}

/* y axis with 5 ticks and grid lines over the plot area. */
static void y_axis(lr_buf *o, double x0, double y0, double w, double h,
                   double lo, double hi, const char *label)
{
    int i;
    char b[64];
    for (i = 0; i <= 5; i++) {
        double v = lo + (hi - lo) * i / 5.0, y = y0 + h - h * i / 5.0;
        lr_buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"#dddddd\"/>\n", x0, y, x0 + w, y);
        fmt_num(b, sizeof b, v);
        text(o, x0 - 6, y + 4, "end", 11, NULL, b);
    }
    lr_buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"black\"/>\n", x0, y0, x0, y0 + h);
    lr_buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"black\"/>\n", x0, y0 + h, x0 + w, y0 + h);
    lr_buf_printf(o, "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" "
                  "font-size=\"12\" " FONT " transform=\"rotate(-90 16 %.1f)\">",
                  y0 + h / 2, y0 + h / 2);
    lr_svg_escape(o, label);
    lr_buf_puts(o, "</text>\n");
}

static int finish(lr_buf *o, lr_error *err)
{
    lr_buf_puts(o, "</svg>\n");
    return o->oom ? lr_fail(err, "out of memory writing an SVG chart") : 0;
}

int lr_svg_bar_chart(lr_buf *o, const char *title, const char *y_label,
                     const char *const *labels, const double *values,
                     size_t n, double y_max, lr_error *err)
{
    double x0 = 110, y0 = 44, h = 260, slot, w;
    int W, H = 44 + 260 + 130;
    size_t i;
    char b[64];
    if (n == 0) return lr_fail(err, "bar chart '%s' has no bars", title);
    slot = n <= 8 ? 70 : n <= 24 ? 36 : 18;
    w = slot * (double)n;
    W = (int)(x0 + w + 30);
    if (W < 400) W = 400;
    if (y_max <= 0) {
        double m = 1e-12;
        for (i = 0; i < n; i++)
            if (values[i] > m) m = values[i];
        y_max = nice_ceil(m);
    }
    header(o, W, H, title);
    y_axis(o, x0, y0, w, h, 0, y_max, y_label);
    for (i = 0; i < n; i++) {
        double v = values[i] != values[i] ? 0 : values[i];
        double bh = h * (v < 0 ? 0 : v > y_max ? 1 : v / y_max);
        double x = x0 + slot * (double)i + slot * 0.15;
        double lx = x0 + slot * ((double)i + 0.5), ly = y0 + h + 14;
        lr_buf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\" fill=\"%s\"/>\n", x, y0 + h - bh,
                      slot * 0.7, bh, palette[0]);
        if (n <= 24) {
            if (v == floor(v) && fabs(v) < 1e15) snprintf(b, sizeof b, "%.0f", v);
            else snprintf(b, sizeof b, "%.3f", v);
            text(o, lx, y0 + h - bh - 4, "middle", 10, NULL, b);
        }
        lr_buf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                      "font-size=\"10\" " FONT
                      " transform=\"rotate(-40 %.1f %.1f)\">", lx, ly, lx, ly);
        short_label(o, labels[i], 24);
        lr_buf_puts(o, "</text>\n");
    }
    return finish(o, err);
}

int lr_svg_line_chart(lr_buf *o, const char *title, const char *x_label,
                      const char *y_label, const char *const *series,
                      size_t n_series, const double *xs, const double *ys,
                      size_t n_points, int log_x, double y_min, double y_max,
                      lr_error *err)
{
    double x0 = 70, y0 = 44, w = 460, h = 260, xmin, xmax;
    int W = 560 + 160, H = 370;
    size_t s, i;
    char b[64];
    if (n_points == 0) return lr_fail(err, "line chart '%s' has no points", title);
    for (i = 0; i < n_points; i++)
        if (log_x && !(xs[i] > 0))
            return lr_fail(err, "line chart '%s': x = %g on a log axis", title, xs[i]);
    xmin = xmax = log_x ? log10(xs[0]) : xs[0];
    for (i = 1; i < n_points; i++) {
        double x = log_x ? log10(xs[i]) : xs[i];
        if (x < xmin) xmin = x;
        if (x > xmax) xmax = x;
    }
    if (xmax == xmin) { xmin -= 1; xmax += 1; }
    if (y_min == y_max) {
        int any = 0;
        for (i = 0; i < n_series * n_points; i++) {
            if (ys[i] != ys[i]) continue;
            if (!any || ys[i] < y_min) y_min = ys[i];
            if (!any || ys[i] > y_max) y_max = ys[i];
            any = 1;
        }
        if (!any) { y_min = 0; y_max = 1; }
        y_min = y_min >= 0 ? 0 : -nice_ceil(-y_min);
        y_max = nice_ceil(y_max);
        if (y_max <= y_min) y_max = y_min + 1;
    }
    header(o, W, H, title);
    y_axis(o, x0, y0, w, h, y_min, y_max, y_label);
    /* x ticks at the data points */
    for (i = 0; i < n_points; i++) {
        double x = log_x ? log10(xs[i]) : xs[i];
        double px = x0 + w * (x - xmin) / (xmax - xmin);
        fmt_num(b, sizeof b, xs[i]);
        lr_buf_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"black\"/>\n", px, y0 + h, px, y0 + h + 4);
        text(o, px, y0 + h + 16, "middle", 11, NULL, b);
    }
    text(o, x0 + w / 2, y0 + h + 36, "middle", 12, NULL, x_label);
    for (s = 0; s < n_series; s++) {
        const char *col = palette[s % 10];
        int pen = 0;
        lr_buf_puts(o, "<path fill=\"none\" stroke-width=\"2\" stroke=\"");
        lr_buf_puts(o, col);
        lr_buf_puts(o, "\" d=\"");
        for (i = 0; i < n_points; i++) {
            double y = ys[s * n_points + i], x = log_x ? log10(xs[i]) : xs[i];
            if (y != y) { pen = 0; continue; }
            lr_buf_printf(o, "%s%.1f %.1f ", pen ? "L" : "M",
                          x0 + w * (x - xmin) / (xmax - xmin),
                          y0 + h - h * (y - y_min) / (y_max - y_min));
            pen = 1;
        }
        lr_buf_puts(o, "\"/>\n");
        for (i = 0; i < n_points; i++) {
            double y = ys[s * n_points + i], x = log_x ? log10(xs[i]) : xs[i];
            if (y != y) continue;
            lr_buf_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" "
                          "fill=\"%s\"/>\n", x0 + w * (x - xmin) / (xmax - xmin),
                          y0 + h - h * (y - y_min) / (y_max - y_min), col);
        }
        /* legend */
        lr_buf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"4\" "
                      "fill=\"%s\"/>\n", x0 + w + 20, y0 + 10 + 20.0 * (double)s, col);
        text(o, x0 + w + 40, y0 + 16 + 20.0 * (double)s, "start", 11, NULL,
             series[s]);
    }
    return finish(o, err);
}

int lr_svg_heatmap(lr_buf *o, const char *title, const char *row_title,
                   const char *col_title, const char *const *row_labels,
                   const char *const *col_labels, const double *values,
                   const char *const *cell_text, size_t rows, size_t cols,
                   lr_error *err)
{
    double x0 = 130, y0 = 80, cell = 78, vmax = 0;
    int W, H;
    size_t r, c;
    char b[64];
    if (!rows || !cols) return lr_fail(err, "heat map '%s' is empty", title);
    W = (int)(x0 + cell * (double)cols + 30);
    H = (int)(y0 + cell * (double)rows + 40);
    for (r = 0; r < rows * cols; r++)
        if (values[r] > vmax) vmax = values[r];
    header(o, W, H, title);
    text(o, x0 + cell * (double)cols / 2, 48, "middle", 12, NULL, col_title);
    lr_buf_printf(o, "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" "
                  "font-size=\"12\" " FONT " transform=\"rotate(-90 18 %.1f)\">",
                  y0 + cell * (double)rows / 2, y0 + cell * (double)rows / 2);
    lr_svg_escape(o, row_title);
    lr_buf_puts(o, "</text>\n");
    for (c = 0; c < cols; c++)
        text(o, x0 + cell * ((double)c + 0.5), y0 - 8, "middle", 12, NULL,
             col_labels[c]);
    for (r = 0; r < rows; r++) {
        text(o, x0 - 8, y0 + cell * ((double)r + 0.5) + 4, "end", 12, NULL,
             row_labels[r]);
        for (c = 0; c < cols; c++) {
            double v = values[r * cols + c], t = vmax > 0 ? v / vmax : 0;
            int red, green, blue;
            if (!(t >= 0)) t = 0;
            if (t > 1) t = 1;
            /* white (255,255,255) -> dark blue (8,48,107) */
            red = (int)(255 + (8 - 255) * t + 0.5);
            green = (int)(255 + (48 - 255) * t + 0.5);
            blue = (int)(255 + (107 - 255) * t + 0.5);
            lr_buf_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                          "height=\"%.1f\" fill=\"#%02x%02x%02x\" "
                          "stroke=\"#999999\"/>\n", x0 + cell * (double)c,
                          y0 + cell * (double)r, cell, cell, red, green, blue);
            if (cell_text) {
                snprintf(b, sizeof b, "%s", cell_text[r * cols + c]);
            } else {
                snprintf(b, sizeof b, "%.3f", v);
            }
            text(o, x0 + cell * ((double)c + 0.5), y0 + cell * ((double)r + 0.5) + 4,
                 "middle", 12, t > 0.5 ? "fill=\"white\"" : NULL, b);
        }
    }
    return finish(o, err);
}
