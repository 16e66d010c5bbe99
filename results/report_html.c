/* report_html.c - report.html: one self-contained page (inline CSS and SVG, no script, nothing
 * fetched) with the summary table, checks and thresholds, and five plots: latency p50/p99 over
 * time, requests and errors per second, latency percentiles per command, outcome classes, bytes
 * per device. Written atomically.
 * Owns: the text and scratch histograms of one call. Uses: results_int.h, stdio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results_int.h"

#define W     720
#define H     260
#define PAD_L 60
#define PAD_B 30
#define PAD_T 30
#define PAD_R 120

static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"};

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

static double max_of(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > m)
            m = v[i];
    return m > 0 ? m : 1;
}

static void frame(FILE *f, const char *id, const char *title, const char *yunit, double ymax)
{
    fprintf(f,
            "<h2>%s</h2>\n<svg id=\"%s\" class=\"plot\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\">\n",
            title, id, W, H, W, H);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", PAD_L,
            H - PAD_B, W - PAD_R, H - PAD_B);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", PAD_L, PAD_T,
            PAD_L, H - PAD_B);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.4g</text>\n",
            PAD_L - 4, PAD_T + 4, ymax);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">0</text>\n", PAD_L - 4,
            H - PAD_B);
    fprintf(f, "<text x=\"4\" y=\"%d\" font-size=\"11\">%s</text>\n", PAD_T - 12, yunit);
}

/* Lines over n points; series k has values y[k * n + i]. */
static void line_plot(FILE *f, const char *id, const char *title, const char *xunit,
                      const char *yunit, const double *y, size_t n, const char *const *names,
                      size_t nseries)
{
    double ymax = max_of(y, n * nseries);
    frame(f, id, title, yunit, ymax);
    double pw = W - PAD_L - PAD_R, ph = H - PAD_T - PAD_B;
    for (size_t k = 0; k < nseries; k++) {
        fprintf(f,
                "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                "points=\"",
                colors[k % 5]);
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%.1f,%.1f ", PAD_L + (n > 1 ? pw * (double)i / (double)(n - 1) : 0),
                    PAD_T + ph - ph * y[k * n + i] / ymax);
        fputs("\"/>\n", f);
        fprintf(f, "<text x=\"%d\" y=\"%zu\" font-size=\"12\" fill=\"%s\">%s</text>\n",
                W - PAD_R + 8, PAD_T + 14 * k + 10, colors[k % 5], names[k]);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%zu %s</text>\n",
            W - PAD_R, H - 8, n ? n - 1 : 0, xunit);
    fputs("</svg>\n", f);
}

/* Bars: one group per label, nseries bars in it; value of series k at label i is v[i*nseries+k]. */
static void bar_plot(FILE *f, const char *id, const char *title, const char *yunit, const double *v,
                     const char *const *labels, size_t n, const char *const *series, size_t nseries)
{
    double ymax = max_of(v, n * nseries);
    frame(f, id, title, yunit, ymax);
    double pw = W - PAD_L - PAD_R, ph = H - PAD_T - PAD_B;
    double gw = n ? pw / (double)n : pw;
    double bw = gw * 0.8 / (double)nseries;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < nseries; k++) {
            double h = ph * v[i * nseries + k] / ymax;
            fprintf(f,
                    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"%s\"><title>",
                    PAD_L + gw * (double)i + gw * 0.1 + bw * (double)k, PAD_T + ph - h, bw, h,
                    colors[k % 5]);
            html_text(f, labels[i]);
            fprintf(f, " %s: %.6g</title></rect>\n", series[k], v[i * nseries + k]);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">",
                PAD_L + gw * ((double)i + 0.5), H - PAD_B + 14);
        html_text(f, labels[i]);
        fputs("</text>\n", f);
    }
    for (size_t k = 0; nseries > 1 && k < nseries; k++)
        fprintf(f, "<text x=\"%d\" y=\"%zu\" font-size=\"12\" fill=\"%s\">%s</text>\n",
                W - PAD_R + 8, PAD_T + 14 * k + 10, colors[k % 5], series[k]);
    fputs("</svg>\n", f);
}

static void timeline_plots(FILE *f, const struct el_results *r)
{
    /* One point per second of the run; past a week, one per recorded second. */
    size_t n = r->n_seconds;
    bool dense = true;
    if (r->n_seconds > 0) {
        int64_t span = r->seconds[r->n_seconds - 1].t - r->seconds[0].t + 1;
        dense = span <= 86400 * 7;
        if (dense)
            n = (size_t)span;
    }
    double *lat = calloc(2 * n + 1, sizeof(double));
    double *req = calloc(2 * n + 1, sizeof(double));
    struct el_hist *scratch = NULL;
    if (lat == NULL || req == NULL || el_hist_new(&r->timeline_cfg, &scratch, NULL) < 0)
        el__rs_oom("html");
    for (uint32_t i = 0; i < r->n_seconds; i++) {
        const struct el__rs_second *s = &r->seconds[i];
        size_t x = dense ? (size_t)(s->t - r->seconds[0].t) : i;
        el__rs_second_fill(s, scratch);
        lat[x] = (double)el_hist_value_at_percentile(scratch, 50.0) / 1000.0;
        lat[n + x] = (double)el_hist_value_at_percentile(scratch, 99.0) / 1000.0;
        req[x] = (double)s->requests;
        req[n + x] = (double)s->errors;
    }
    static const char *const lnames[] = {"p50", "p99"};
    static const char *const rnames[] = {"requests/s", "errors/s"};
    line_plot(f, "latency-over-time", "Latency percentiles over time", "s", "ms", lat, n, lnames,
              2);
    line_plot(f, "requests-over-time", "Requests and errors per second", "s", "per second", req, n,
              rnames, 2);
    el_hist_free(scratch);
    free(lat);
    free(req);
}

static void command_plot(FILE *f, const struct el_results *r)
{
    uint32_t n;
    uint32_t *ids = el__rs_sorted_names(r, EL__RS_COMMANDS, &n);
    double *v = calloc((size_t)n * 4 + 1, sizeof(double));
    const char **labels = calloc((size_t)n + 1, sizeof(*labels));
    struct el_hist *h = NULL;
    if (v == NULL || labels == NULL || el_hist_new(&r->hist_cfg, &h, NULL) < 0)
        el__rs_oom("html");
    static const double pct[] = {50.0, 90.0, 99.0, 99.9};
    for (uint32_t i = 0; i < n; i++) {
        el__rs_collect(r, ids[i], EL__RS_NONE, h, NULL);
        labels[i] = el__rs_name(r, ids[i]);
        for (size_t k = 0; k < 4; k++)
            v[i * 4 + k] = (double)el_hist_value_at_percentile(h, pct[k]) / 1000.0;
    }
    static const char *const series[] = {"p50", "p90", "p99", "p99.9"};
    bar_plot(f, "latency-per-command", "Latency distribution per command", "ms", v, labels, n,
             series, 4);
    el_hist_free(h);
    free(labels);
    free(v);
    free(ids);
}

static void outcome_plot(FILE *f, const struct el_results *r)
{
    uint32_t n;
    uint32_t *ids = el__rs_sorted_names(r, EL__RS_OUTCOMES, &n);
    double *v = calloc((size_t)n + 1, sizeof(double));
    const char **labels = calloc((size_t)n + 1, sizeof(*labels));
    if (v == NULL || labels == NULL)
        el__rs_oom("html");
    for (uint32_t i = 0; i < n; i++) {
        struct el__rs_stats st;
        el__rs_outcome_stats(r, ids[i], &st);
        v[i] = (double)st.requests;
        labels[i] = el__rs_name(r, ids[i]);
    }
    static const char *const series[] = {"requests"};
    bar_plot(f, "outcomes", "Outcome classes", "requests", v, labels, n, series, 1);
    free(labels);
    free(v);
    free(ids);
}

/* Devices binned by total bytes (in + out) into 10 equal ranges between the least and the most. */
static void device_plot(FILE *f, const struct el_results *r)
{
    enum {
        BINS = 10
    };
    double v[BINS] = {0};
    char text[BINS][32];
    const char *labels[BINS];
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint32_t i = 0; i < r->n_devices; i++) {
        uint64_t t = r->devices[i].bytes_in + r->devices[i].bytes_out;
        lo = t < lo ? t : lo;
        hi = t > hi ? t : hi;
    }
    if (r->n_devices == 0)
        lo = 0;
    double width = hi > lo ? (double)(hi - lo) / BINS : 1.0;
    for (uint32_t i = 0; i < r->n_devices; i++) {
        uint64_t t = r->devices[i].bytes_in + r->devices[i].bytes_out;
        size_t b = (size_t)((double)(t - lo) / width);
        v[b >= BINS ? BINS - 1 : b]++;
    }
    for (size_t b = 0; b < BINS; b++) {
        snprintf(text[b], sizeof(text[b]), "%.4g MB", ((double)lo + width * (double)(b + 1)) / 1e6);
        labels[b] = text[b];
    }
    static const char *const series[] = {"devices"};
    bar_plot(f, "bytes-per-device", "Bytes per device (devices per range, upper bound shown)",
             "devices", v, labels, BINS, series, 1);
}

int el_results_write_html(const struct el_results *r, const struct el_results_meta *meta,
                          const char *path, struct el_err *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "%s: out of memory", path);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>easload "
          "report: ",
          f);
    html_text(f, meta && meta->scenario ? meta->scenario : "run");
    fputs("</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
          "pre{background:#f6f6f6;padding:1em;overflow-x:auto}"
          "svg.plot{border:1px solid #ddd;background:#fff}</style>\n</head><body>\n"
          "<h1>easload report</h1>\n<pre>",
          f);
    /* The terminal report, escaped, is the page's table. */
    char *plain = NULL;
    size_t plain_len = 0;
    FILE *p = open_memstream(&plain, &plain_len);
    if (p == NULL) {
        fclose(f);
        free(text);
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "%s: out of memory", path);
    }
    el_results_print_report(r, meta, p);
    fclose(p);
    html_text(f, plain ? plain : "");
    free(plain);
    fputs("</pre>\n", f);
    timeline_plots(f, r);
    command_plot(f, r);
    outcome_plot(f, r);
    device_plot(f, r);
    fputs("</body></html>\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(text);
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "%s: out of memory", path);
    }
    int rc = el__rs_write_atomic(path, text, len, err);
    free(text);
    return rc;
}
