/* report_html.c - report.html: one self-contained page (inline CSS and SVG, no script, no URL,
 * nothing fetched) with the summary table, checks and thresholds, and five plots: latency p50/p99
 * over time and latency percentiles per command (log axes), requests and errors per second,
 * outcome classes, bytes per device (linear axes with round ticks and grid lines). A run the
 * server throttled adds the share throttled per second and the back-off waits; a run with errors
 * adds faults by class per command. Short runs stay visible (points are marked up to 60 of them);
 * empty plots say "no data"; long x labels are tilted. Written atomically.
 * Owns: the text and scratch histograms of one call. Uses: results_int.h, stdio, math. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results_int.h"

/* Geometry of every plot: the data area is PLOT_W x PLOT_H, the margins hold ticks and legend. */
#define PLOT_W      540
#define PLOT_H      200
#define PAD_L       64
#define PAD_R       110
#define PAD_T       28
#define PAD_B       40
#define MARK_POINTS 60  /* a line of at most this many points also gets a dot per point */
#define CHAR_W      6.5 /* rough width of a character at font-size 11, for label layout */
#define LABEL_MAX   20  /* x labels longer than this are cut */
#define LEGEND_MAX  13  /* legend names longer than this are cut (the right margin's width) */
#define FAULTS_MAX  10  /* fault classes drawn; past it, the rest are summed as one */

/* The first five are the original palette (tests/e2e/test_report_html.sh looks for them). */
static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                     "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define NCOLORS (sizeof(colors) / sizeof(colors[0]))

/* A y axis: linear from 0 to hi in steps of step, or logarithmic from decade lo to decade hi. */
struct axis {
    bool log;
    double lo, hi, step;
};

/* Where an x axis label goes and how it is drawn. */
struct xlabels {
    double pad_b; /* bottom margin: tilted labels need more */
    bool tilt;
};

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

/* A label of at most max (<= LABEL_MAX) characters, escaped. */
static void html_label_max(FILE *f, const char *s, size_t max)
{
    char cut[LABEL_MAX + 4];
    if (strlen(s) > max) {
        memcpy(cut, s, max - 2);
        memcpy(cut + max - 2, "..", 3);
        s = cut;
    }
    html_text(f, s);
}

static void html_label(FILE *f, const char *s)
{
    html_label_max(f, s, LABEL_MAX);
}

/* A round step (1, 2 or 5 x 10^k) that cuts 0..max into about 5 parts. */
static double nice_step(double max)
{
    double raw = max / 5;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/* Fits a to the finite values of v (NAN = missing); a log axis ignores values <= 0. */
static void axis_fit(struct axis *a, const double *v, size_t n, bool log_scale)
{
    double max = 0, minpos = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        max = v[i] > max ? v[i] : max;
        if (v[i] > 0 && v[i] < minpos)
            minpos = v[i];
    }
    a->log = log_scale;
    if (log_scale) {
        if (!isfinite(minpos)) {
            a->lo = 1;
            a->hi = 10;
        } else {
            a->lo = pow(10, floor(log10(minpos)));
            a->hi = pow(10, ceil(log10(max)));
            if (a->hi <= a->lo)
                a->hi = a->lo * 10;
        }
        a->step = 0;
        return;
    }
    if (max <= 0)
        max = 1;
    a->lo = 0;
    a->step = nice_step(max);
    a->hi = ceil(max / a->step - 1e-9) * a->step;
}

/* The y pixel of value v, clamped to the plot area (a log axis puts v <= lo on the bottom). */
static double axis_y(const struct axis *a, double v)
{
    double frac;
    if (a->log)
        frac = v <= a->lo ? 0 : (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    else
        frac = v / a->hi;
    frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
    return PAD_T + PLOT_H - PLOT_H * frac;
}

static void tick_label(FILE *f, double v)
{
    if (fabs(v) >= 1 && fabs(v) < 1e9)
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%g", v);
}

/* Title, the svg element, grid lines and the y axis with its tick labels. */
static void frame(FILE *f, const char *id, const char *title, const char *yunit,
                  const struct axis *a, double pad_b)
{
    int height = PAD_T + PLOT_H + (int)pad_b;
    fprintf(f,
            "<h2>%s</h2>\n<svg id=\"%s\" class=\"plot\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-size=\"11\">\n",
            title, id, PAD_L + PLOT_W + PAD_R, height, PAD_L + PLOT_W + PAD_R, height);
    size_t nticks = a->log ? (size_t)lround(log10(a->hi / a->lo)) : (size_t)lround(a->hi / a->step);
    for (size_t i = 0; i <= nticks; i++) {
        double v = a->log ? a->lo * pow(10, (double)i) : a->step * (double)i;
        double y = axis_y(a, v);
        if (i > 0)
            fprintf(f,
                    "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                    "stroke=\"#e4e4e4\"/>\n",
                    PAD_L, y, PAD_L + PLOT_W, y);
        fprintf(f, "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", PAD_L - 5,
                y + 4);
        tick_label(f, v);
        fputs("</text>\n", f);
    }
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", PAD_L,
            PAD_T + PLOT_H, PAD_L + PLOT_W, PAD_T + PLOT_H);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", PAD_L, PAD_T,
            PAD_L, PAD_T + PLOT_H);
    fprintf(f, "<text class=\"unit\" x=\"4\" y=\"%d\">%s%s</text>\n", PAD_T - 12, yunit,
            a->log ? " (log scale)" : "");
}

static void x_title(FILE *f, const char *text, double pad_b)
{
    if (text != NULL)
        fprintf(f, "<text class=\"unit\" x=\"%d\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n",
                PAD_L + PLOT_W / 2, PAD_T + PLOT_H + pad_b - 6, text);
}

static void no_data(FILE *f)
{
    fprintf(f,
            "<text class=\"nodata\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"14\" "
            "fill=\"#888\">no data</text>\n",
            PAD_L + PLOT_W / 2, PAD_T + PLOT_H / 2);
}

static void legend(FILE *f, const char *const *names, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        fprintf(f, "<text class=\"legend\" x=\"%d\" y=\"%zu\" font-size=\"12\" fill=\"%s\">",
                PAD_L + PLOT_W + 10, (size_t)PAD_T + 14 * k + 10, colors[k % NCOLORS]);
        html_label_max(f, names[k], LEGEND_MAX);
        fputs("</text>\n", f);
    }
}

/* Lines over n points at x = 0, 1, ... n - 1 seconds; series k has values y[k * n + i], NAN where
 * there is no value (the line breaks there). */
static void line_plot(FILE *f, const char *id, const char *title, const char *yunit, bool log_scale,
                      const double *y, size_t n, const char *const *names, size_t nseries,
                      const char *xtitle)
{
    struct axis a;
    axis_fit(&a, y, n * nseries, log_scale);
    frame(f, id, title, yunit, &a, PAD_B);
    double xmax = n > 1 ? (double)(n - 1) : 1;
    double xstep = xmax <= 5 ? 1 : ceil(nice_step(xmax * 5 / 8));
    for (double t = 0; t <= xmax + 1e-9; t += xstep) {
        double x = PAD_L + PLOT_W * t / xmax;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\"/>\n", x,
                PAD_T + PLOT_H, x, PAD_T + PLOT_H + 4);
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0f</text>\n",
                x, PAD_T + PLOT_H + 16, t);
    }
    for (size_t k = 0; k < nseries; k++) {
        const double *v = y + k * n;
        for (size_t i = 0; i < n;) {
            size_t end = i;
            while (end < n && isfinite(v[end]))
                end++;
            if (end - i >= 2) {
                fprintf(f,
                        "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" "
                        "stroke-width=\"1.5\" points=\"",
                        colors[k % NCOLORS]);
                for (size_t j = i; j < end; j++)
                    fprintf(f, "%.1f,%.1f ", PAD_L + PLOT_W * (double)j / xmax, axis_y(&a, v[j]));
                fputs("\"/>\n", f);
            }
            for (size_t j = i; j < end; j++)
                if (n <= MARK_POINTS || end - i == 1)
                    fprintf(f,
                            "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                            "fill=\"%s\"/>\n",
                            PAD_L + PLOT_W * (double)j / xmax, axis_y(&a, v[j]),
                            colors[k % NCOLORS]);
            i = end + 1;
        }
    }
    if (n == 0)
        no_data(f);
    legend(f, names, nseries);
    x_title(f, xtitle, PAD_B);
    fputs("</svg>\n", f);
}

/* Labels wider than their slot are tilted, and the bottom margin grows to hold them. */
static struct xlabels xlabels_fit(const char *const *labels, size_t n, double slot_w)
{
    size_t longest = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(labels[i]);
        longest = len > longest ? len : longest;
    }
    longest = longest > LABEL_MAX ? LABEL_MAX : longest;
    struct xlabels xl = {PAD_B, false};
    if ((double)longest * CHAR_W > slot_w - 4) {
        xl.tilt = true;
        xl.pad_b = 30 + (double)longest * CHAR_W * 0.5;
    }
    return xl;
}

/* Bars: one group per label, nseries bars in it; value of series k at label i is v[i*nseries+k]. */
static void bar_plot(FILE *f, const char *id, const char *title, const char *yunit, bool log_scale,
                     const double *v, const char *const *labels, size_t n,
                     const char *const *series, size_t nseries, const char *xtitle)
{
    struct axis a;
    axis_fit(&a, v, n * nseries, log_scale);
    double gw = n ? (double)PLOT_W / (double)n : PLOT_W;
    struct xlabels xl = xlabels_fit(labels, n, gw);
    frame(f, id, title, yunit, &a, xl.pad_b);
    double bw = gw * 0.8 / (double)nseries;
    bw = bw > 48 ? 48 : bw;
    double group_w = bw * (double)nseries;
    for (size_t i = 0; i < n; i++) {
        double x0 = PAD_L + gw * ((double)i + 0.5) - group_w / 2;
        for (size_t k = 0; k < nseries; k++) {
            double val = v[i * nseries + k];
            double top = axis_y(&a, val);
            fprintf(f,
                    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"%s\"><title>",
                    x0 + bw * (double)k, top, bw, PAD_T + PLOT_H - top, colors[k % NCOLORS]);
            html_text(f, labels[i]);
            fputc(' ', f);
            html_text(f, series[k]);
            fprintf(f, ": %.6g</title></rect>\n", val);
        }
        double lx = PAD_L + gw * ((double)i + 0.5), ly = PAD_T + PLOT_H + 15;
        if (xl.tilt) /* hanging down to the right from its bar group */
            fprintf(f,
                    "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
                    "transform=\"rotate(30 %.1f %.1f)\">",
                    lx - 4, ly - 4, lx - 4, ly - 4);
        else
            fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", lx,
                    ly);
        html_label(f, labels[i]);
        fputs("</text>\n", f);
    }
    if (n == 0)
        no_data(f);
    if (nseries > 1 || strcmp(series[0], yunit) != 0) /* one series named as its unit: none */
        legend(f, series, nseries);
    x_title(f, xtitle, xl.pad_b);
    fputs("</svg>\n", f);
}

/* Points of the per-second plots: one per second of the run; past a week (*dense false), one
 * per recorded second. */
static size_t timeline_points(const struct el_results *r, bool *dense)
{
    *dense = true;
    if (r->n_seconds == 0)
        return 0;
    int64_t span = r->seconds[r->n_seconds - 1].t - r->seconds[0].t + 1;
    *dense = span <= 86400 * 7;
    return *dense ? (size_t)span : r->n_seconds;
}

/* The point of recorded second i. */
static size_t timeline_x(const struct el_results *r, uint32_t i, bool dense)
{
    return dense ? (size_t)(r->seconds[i].t - r->seconds[0].t) : i;
}

static const char *timeline_xtitle(bool dense)
{
    return dense ? "seconds since start" : "recorded seconds (idle ones left out)";
}

static void timeline_plots(FILE *f, const struct el_results *r)
{
    bool dense;
    size_t n = timeline_points(r, &dense);
    double *lat = calloc(2 * n + 1, sizeof(double));
    double *req = calloc(2 * n + 1, sizeof(double));
    struct el_hist *scratch = NULL;
    if (lat == NULL || req == NULL || el_hist_new(&r->timeline_cfg, &scratch, NULL) < 0)
        el__rs_oom("html");
    for (size_t i = 0; i < 2 * n; i++)
        lat[i] = NAN; /* a second without latencies has no point */
    for (uint32_t i = 0; i < r->n_seconds; i++) {
        const struct el__rs_second *s = &r->seconds[i];
        size_t x = timeline_x(r, i, dense);
        el__rs_second_fill(s, scratch);
        if (el_hist_total(scratch) > 0) {
            lat[x] = (double)el_hist_value_at_percentile(scratch, 50.0) / 1000.0;
            lat[n + x] = (double)el_hist_value_at_percentile(scratch, 99.0) / 1000.0;
        }
        req[x] = (double)s->requests;
        req[n + x] = (double)s->errors;
    }
    static const char *const lnames[] = {"p50", "p99"};
    static const char *const rnames[] = {"requests/s", "errors/s"};
    const char *xtitle = timeline_xtitle(dense);
    line_plot(f, "latency-over-time", "Latency percentiles over time", "ms", true, lat, n, lnames,
              2, xtitle);
    line_plot(f, "requests-over-time", "Requests and errors per second", "per second", false, req,
              n, rnames, 2, xtitle);
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
    bar_plot(f, "latency-per-command", "Latency distribution per command", "ms", true, v, labels, n,
             series, 4, NULL);
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
    bar_plot(f, "outcomes", "Outcome classes", "requests", false, v, labels, n, series, 1, NULL);
    free(labels);
    free(v);
    free(ids);
}

/* Devices binned by total bytes (in + out) into up to 10 equal ranges between the least and the
 * most; each range is labelled with its upper bound, in one unit for the whole axis. */
static void device_plot(FILE *f, const struct el_results *r)
{
    enum {
        BINS = 10
    };
    double v[BINS] = {0};
    char text[BINS][24];
    const char *labels[BINS];
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint32_t i = 0; i < r->n_devices; i++) {
        uint64_t t = r->devices[i].bytes_in + r->devices[i].bytes_out;
        lo = t < lo ? t : lo;
        hi = t > hi ? t : hi;
    }
    size_t bins = r->n_devices == 0 ? 0 : hi == lo ? 1 : BINS;
    double width = hi > lo ? (double)(hi - lo) / BINS : 1.0;
    for (uint32_t i = 0; i < r->n_devices; i++) {
        uint64_t t = r->devices[i].bytes_in + r->devices[i].bytes_out;
        size_t b = (size_t)((double)(t - lo) / width);
        v[b >= bins ? bins - 1 : b]++;
    }
    static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB"};
    size_t u = 0;
    double div = 1;
    while (u < 4 && (double)hi >= div * 1000) {
        div *= 1000;
        u++;
    }
    /* enough digits that neighbouring bounds differ: 3, or more for narrow ranges */
    int digits = 3;
    if (bins > 1)
        digits = (int)ceil(log10((double)hi / width)) + 1;
    digits = digits < 3 ? 3 : digits > 6 ? 6 : digits;
    for (size_t b = 0; b < bins; b++) {
        double upper = bins == 1 ? (double)hi : (double)lo + width * (double)(b + 1);
        snprintf(text[b], sizeof(text[b]), "%.*g", digits, upper / div);
        labels[b] = text[b];
    }
    char xtitle[64];
    snprintf(xtitle, sizeof(xtitle), "%s in + out per device (upper bound of each range)",
             units[u]);
    static const char *const series[] = {"devices"};
    bar_plot(f, "bytes-per-device", "Bytes per device", "devices", false, v, labels, bins, series,
             1, xtitle);
}

/* Throttling, shown when the server throttled the run: the counts in a line of text, the share
 * of requests throttled per second (a file written before the timeline counted them says so),
 * and the back-off waits' percentiles. */
static void throttling_plots(FILE *f, const struct el_results *r)
{
    struct el__rs_throttling t;
    if (!el__rs_throttling(r, &t))
        return;
    fprintf(f,
            "<h2>Throttling</h2>\n<p class=\"throttling\">throttled %llu of %llu requests "
            "(%.2f%%); HTTP 503: %llu, HTTP 451: %llu, EAS status 177: %llu; waits before a "
            "retry: %llu (Retry-After honoured %llu, exponential back-off %llu)</p>\n",
            (unsigned long long)t.throttled, (unsigned long long)t.requests,
            t.requests ? (double)t.throttled / (double)t.requests * 100.0 : 0.0,
            (unsigned long long)t.http_503, (unsigned long long)t.http_451,
            (unsigned long long)t.status_177, (unsigned long long)t.waits,
            (unsigned long long)t.retry_after, (unsigned long long)t.exponential);
    if (r->timeline_throttled) {
        bool dense;
        size_t n = timeline_points(r, &dense);
        double *share = calloc(n + 1, sizeof(double));
        if (share == NULL)
            el__rs_oom("html");
        for (size_t i = 0; i < n; i++)
            share[i] = NAN; /* a second without requests has no share */
        for (uint32_t i = 0; i < r->n_seconds; i++) {
            const struct el__rs_second *s = &r->seconds[i];
            if (s->requests > 0)
                share[timeline_x(r, i, dense)] = (double)s->throttled / (double)s->requests * 100.0;
        }
        static const char *const names[] = {"throttled"};
        line_plot(f, "throttling", "Share of requests throttled per second", "% of requests", false,
                  share, n, names, 1, timeline_xtitle(dense));
        free(share);
    } else {
        fputs("<p>This results file has no per-second throttled counts (written before the "
              "timeline kept them).</p>\n",
              f);
    }
    if (t.backoff == NULL || el_hist_total(t.backoff) == 0)
        return;
    static const double pct[] = {50.0, 90.0, 99.0};
    double v[4];
    for (size_t k = 0; k < 3; k++)
        v[k] = (double)el_hist_value_at_percentile(t.backoff, pct[k]) / 1000.0;
    v[3] = (double)el_hist_max(t.backoff) / 1000.0;
    char label[48];
    snprintf(label, sizeof(label), "%llu waits", (unsigned long long)el_hist_total(t.backoff));
    const char *labels[] = {label};
    static const char *const series[] = {"p50", "p90", "p99", "max"};
    bar_plot(f, "backoff", "Time spent backing off before a retry", "ms", false, v, labels, 1,
             series, 4, NULL);
}

/* The bars of faults_plot: cls[0..ncls) are the fault classes, commonest first. */
static void faults_bars(FILE *f, const struct el_results *r, const uint32_t *cmds, uint32_t ncmd,
                        const uint32_t *cls, uint32_t ncls)
{
    size_t nser = ncls > FAULTS_MAX ? FAULTS_MAX : ncls;
    double *v = calloc((size_t)ncmd * nser + 1, sizeof(double));
    const char **labels = calloc((size_t)ncmd + 1, sizeof(*labels));
    const char **series = calloc(nser, sizeof(*series));
    if (v == NULL || labels == NULL || series == NULL)
        el__rs_oom("html");
    for (size_t k = 0; k < nser; k++)
        series[k] = el__rs_name(r, cls[k]);
    if (ncls > FAULTS_MAX)
        series[nser - 1] = "other classes";
    size_t n = 0;
    for (uint32_t i = 0; i < ncmd; i++) {
        double *row = v + n * nser;
        bool any = false;
        for (uint32_t k = 0; k < ncls; k++) {
            struct el__rs_stats st;
            el__rs_collect(r, cmds[i], cls[k], NULL, &st);
            row[k < nser ? k : nser - 1] += (double)st.requests;
            any = any || st.requests > 0;
        }
        if (any) /* else the row, all zeros, is taken by the next command */
            labels[n++] = el__rs_name(r, cmds[i]);
    }
    bar_plot(f, "faults-by-class", "Faults by class per command", "requests", false, v, labels, n,
             series, nser, NULL);
    free(series);
    free(labels);
    free(v);
}

/* Faults by class, shown when any request failed: per command, the requests of each outcome
 * that counts as an error, the FAULTS_MAX - 1 commonest classes apart and the rest summed. */
static void faults_plot(FILE *f, const struct el_results *r)
{
    uint32_t ncmd, nout;
    uint32_t *cmds = el__rs_sorted_names(r, EL__RS_COMMANDS, &ncmd);
    uint32_t *outs = el__rs_sorted_names(r, EL__RS_OUTCOMES, &nout);
    uint64_t *tot = calloc((size_t)nout + 1, sizeof(*tot));
    uint32_t *cls = calloc((size_t)nout + 1, sizeof(*cls)); /* fault classes, commonest first */
    if (tot == NULL || cls == NULL)
        el__rs_oom("html");
    uint32_t ncls = 0;
    for (uint32_t k = 0; k < nout; k++) {
        if (!el__rs_outcome_is_error(el__rs_name(r, outs[k])))
            continue;
        struct el__rs_stats st;
        el__rs_outcome_stats(r, outs[k], &st);
        if (st.requests == 0)
            continue;
        /* insertion by count, stable: equal counts stay in name order */
        uint32_t j = ncls++;
        for (; j > 0 && tot[j - 1] < st.requests; j--) {
            tot[j] = tot[j - 1];
            cls[j] = cls[j - 1];
        }
        tot[j] = st.requests;
        cls[j] = outs[k];
    }
    if (ncls > 0)
        faults_bars(f, r, cmds, ncmd, cls, ncls);
    free(cls);
    free(tot);
    free(outs);
    free(cmds);
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
          "svg.plot{border:1px solid #ddd;background:#fff;font-family:sans-serif}"
          "svg .tick,svg .unit{fill:#333}</style>\n</head><body>\n"
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
    throttling_plots(f, r);
    faults_plot(f, r);
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
