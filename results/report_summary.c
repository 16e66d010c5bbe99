/* report_summary.c - the terminal report: the end-of-run table (one row per command: requests,
 * errors, late starts, p50/p90/p99/max, bytes; a throttling line when the server throttled) and,
 * for `easload report`, a header from the meta, outcome classes, value histograms, counters,
 * per-device bytes, checks and thresholds.
 * Owns: the scratch histogram of one call. Uses: results_int.h, hist.h, stdio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "results_int.h"

static void fmt_bytes(char *buf, size_t n, double b)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    size_t u = 0;
    while (b >= 1000.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        b /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%.0f %s", b, units[u]);
    else
        snprintf(buf, n, "%.1f %s", b, units[u]);
}

static double ms(int64_t us)
{
    return (double)us / 1000.0;
}

static void row(FILE *out, const char *name, const struct el__rs_stats *st, const struct el_hist *h)
{
    char in[32], outb[32];
    fmt_bytes(in, sizeof(in), (double)st->bytes_in);
    fmt_bytes(outb, sizeof(outb), (double)st->bytes_out);
    fprintf(out, "%-16s %10llu %8llu %6llu %9.2f %9.2f %9.2f %9.2f %10s %10s\n", name,
            (unsigned long long)st->requests, (unsigned long long)st->errors,
            (unsigned long long)st->late, ms(el_hist_value_at_percentile(h, 50.0)),
            ms(el_hist_value_at_percentile(h, 90.0)), ms(el_hist_value_at_percentile(h, 99.0)),
            ms(el_hist_max(h)), in, outb);
}

static struct el_hist *scratch(const struct el_results *r)
{
    struct el_hist *h = NULL;
    if (el_hist_new(&r->hist_cfg, &h, NULL) < 0)
        el__rs_oom("histogram");
    return h;
}

/* One line when the server throttled: share of requests, the waits' p50/p99, Retry-After. */
static void print_throttling(const struct el_results *r, FILE *out)
{
    struct el__rs_throttling t;
    if (!el__rs_throttling(r, &t))
        return;
    fprintf(out, "throttled %llu (%.2f%%), backoff ", (unsigned long long)t.throttled,
            t.requests ? (double)t.throttled / (double)t.requests * 100.0 : 0.0);
    if (t.backoff != NULL && el_hist_total(t.backoff) > 0)
        fprintf(out, "p50 %.2f ms / p99 %.2f ms", ms(el_hist_value_at_percentile(t.backoff, 50.0)),
                ms(el_hist_value_at_percentile(t.backoff, 99.0)));
    else
        fputs("none", out);
    fprintf(out, ", Retry-After honoured %llu of %llu waits\n", (unsigned long long)t.retry_after,
            (unsigned long long)t.waits);
}

void el_results_print_summary(const struct el_results *r, FILE *out)
{
    struct el_hist *h = scratch(r);
    struct el__rs_stats st;
    fprintf(out, "%-16s %10s %8s %6s %9s %9s %9s %9s %10s %10s\n", "command", "requests", "errors",
            "late", "p50 ms", "p90 ms", "p99 ms", "max ms", "bytes in", "bytes out");
    uint32_t n;
    uint32_t *ids = el__rs_sorted_names(r, EL__RS_COMMANDS, &n);
    for (uint32_t i = 0; i < n; i++) {
        el__rs_collect(r, ids[i], EL__RS_NONE, h, &st);
        row(out, el__rs_name(r, ids[i]), &st, h);
    }
    free(ids);
    el__rs_collect(r, EL__RS_NONE, EL__RS_NONE, h, &st);
    row(out, "total", &st, h);
    el_hist_free(h);
    print_throttling(r, out);
}

static void print_header(const struct el_results_meta *m, FILE *out)
{
    char start[64] = "?";
    time_t t = (time_t)(m->start_unix_us / 1000000);
    struct tm tm;
    if (gmtime_r(&t, &tm) != NULL)
        strftime(start, sizeof(start), "%Y-%m-%d %H:%M:%S UTC", &tm);
    fprintf(out, "scenario  %s%s%s%s\n", m->scenario ? m->scenario : "?",
            m->scenario_file ? " (" : "", m->scenario_file ? m->scenario_file : "",
            m->scenario_file ? ")" : "");
    fprintf(out, "target    %s\n", m->target ? m->target : "?");
    fprintf(out, "start     %s, duration %.1f s, %u devices", start,
            (double)(m->end_unix_us - m->start_unix_us) / 1e6, m->devices);
    if (m->shards > 1)
        fprintf(out, ", shard %u of %u", m->shard, m->shards);
    fprintf(out, ", easload %s\n\n", m->tool_version ? m->tool_version : "?");
}

static void print_outcomes(const struct el_results *r, FILE *out)
{
    struct el__rs_stats all, st;
    el__rs_collect(r, EL__RS_NONE, EL__RS_NONE, NULL, &all);
    uint32_t n;
    uint32_t *ids = el__rs_sorted_names(r, EL__RS_OUTCOMES, &n);
    if (n > 0)
        fputs("\noutcomes ", out);
    for (uint32_t i = 0; i < n; i++) {
        el__rs_outcome_stats(r, ids[i], &st);
        fprintf(out, "%s%s %llu (%.2f%%)", i ? ", " : "", el__rs_name(r, ids[i]),
                (unsigned long long)st.requests,
                all.requests ? (double)st.requests / (double)all.requests * 100.0 : 0.0);
    }
    if (n > 0)
        fputc('\n', out);
    if (all.late > 0)
        fprintf(out, "late      %llu requests started later than intended (%.2f%%)\n",
                (unsigned long long)all.late,
                all.requests ? (double)all.late / (double)all.requests * 100.0 : 0.0);
    free(ids);
}

static void print_values_counters(const struct el_results *r, FILE *out)
{
    uint32_t n;
    uint32_t *ids = el__rs_sorted_names(r, EL__RS_VALUES, &n);
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t s = 0; s < r->n_series; s++) {
            const struct el__rs_series *se = &r->series[s];
            if (se->kind != EL__RS_VALUE || se->cmd != ids[i])
                continue;
            fprintf(out, "value     %s: %llu samples, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                    el__rs_name(r, ids[i]), (unsigned long long)el_hist_total(se->hist),
                    ms(el_hist_value_at_percentile(se->hist, 50.0)),
                    ms(el_hist_value_at_percentile(se->hist, 99.0)), ms(el_hist_max(se->hist)));
        }
    }
    free(ids);
    ids = el__rs_sorted_names(r, EL__RS_COUNTERS, &n);
    if (n > 0)
        fputs("counters  ", out);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < r->n_counters; k++)
            if (r->counters[k].name == ids[i])
                fprintf(out, "%s%s %llu", i ? ", " : "", el__rs_name(r, ids[i]),
                        (unsigned long long)r->counters[k].n);
    if (n > 0)
        fputc('\n', out);
    free(ids);
}

static void print_devices(const struct el_results *r, double duration_s, FILE *out)
{
    struct el__rs_device_stats ds;
    el__rs_device_stats(r, duration_s, &ds);
    if (ds.devices == 0)
        return;
    char mean[32], max[32], sync[32];
    fmt_bytes(mean, sizeof(mean), ds.total_mean);
    fmt_bytes(max, sizeof(max), (double)ds.total_max);
    fmt_bytes(sync, sizeof(sync), ds.bytes_per_sync);
    fprintf(out,
            "devices   %llu: bytes per device mean %s, max %s; per sync %s; "
            "%.2f MB per device per day\n",
            (unsigned long long)ds.devices, mean, max, sync, ds.mb_per_device_per_day);
}

static int print_verdicts(const struct el_results *r, FILE *out)
{
    int failed = 0;
    uint32_t n;
    uint32_t *ids = el__rs_sorted_names(r, EL__RS_CHECKS, &n);
    if (n > 0)
        fputs("\nchecks\n", out);
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t k = 0; k < r->n_checks; k++) {
            const struct el__rs_check *c = &r->checks[k];
            if (c->name != ids[i])
                continue;
            failed += c->failed > 0;
            fprintf(out, "  %s  %s: %llu passed, %llu failed\n", c->failed ? "FAIL" : "PASS",
                    el__rs_name(r, c->name), (unsigned long long)c->passed,
                    (unsigned long long)c->failed);
        }
    }
    free(ids);
    if (r->n_thresholds > 0)
        fputs("\nthresholds\n", out);
    for (uint32_t i = 0; i < r->n_thresholds; i++) {
        struct el_threshold_result res;
        el_threshold_eval(r, &r->thresholds[i], &res);
        failed += !res.passed;
        fprintf(out, "  %s  %-24s %s\n", res.passed ? "PASS" : "FAIL", r->thresholds[i].expr,
                res.message);
    }
    return failed;
}

void el_results_print_report(const struct el_results *r, const struct el_results_meta *meta,
                             FILE *out)
{
    double duration_s = 0;
    if (meta != NULL) {
        print_header(meta, out);
        duration_s = (double)(meta->end_unix_us - meta->start_unix_us) / 1e6;
    }
    el_results_print_summary(r, out);
    print_outcomes(r, out);
    print_values_counters(r, out);
    print_devices(r, duration_s, out);
    int failed = print_verdicts(r, out);
    if (failed)
        fprintf(out, "\nresult    FAIL (%d check%s or threshold%s failed)\n", failed,
                failed == 1 ? "" : "s", failed == 1 ? "" : "s");
    else
        fputs("\nresult    PASS\n", out);
}
