/* report_timeline.c - timeline.csv: one row per second of the run (second, requests, errors,
 * p50_ms, p99_ms, bytes_in, bytes_out); p50/p99 come from the second's exact latency classes
 * (timeline configuration: within 1%). Quiet seconds inside the run are rows of zeros with empty
 * percentiles; a gap of an hour or more (merged runs far apart) is skipped, not filled.
 * Owns: the scratch histogram of one call. Uses: results_int.h, hist.h, stdio. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "results_int.h"

#define GAP_FILL_MAX_S 3600

static void print_row(FILE *f, int64_t second, const struct el__rs_second *s,
                      struct el_hist *scratch)
{
    if (s == NULL) {
        fprintf(f, "%lld,0,0,,,0,0\n", (long long)second);
        return;
    }
    fprintf(f, "%lld,%llu,%llu,", (long long)second, (unsigned long long)s->requests,
            (unsigned long long)s->errors);
    el__rs_second_fill(s, scratch);
    if (el_hist_total(scratch) > 0)
        fprintf(f, "%.3f,%.3f", (double)el_hist_value_at_percentile(scratch, 50.0) / 1000.0,
                (double)el_hist_value_at_percentile(scratch, 99.0) / 1000.0);
    else
        fputc(',', f);
    fprintf(f, ",%llu,%llu\n", (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out);
}

int el_results_write_timeline_csv(const struct el_results *r, const char *path, struct el_err *err)
{
    struct el_hist *scratch = NULL;
    int rc = el_hist_new(&r->timeline_cfg, &scratch, err);
    if (rc < 0)
        return rc;
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
        el_hist_free(scratch);
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s: path too long", path);
    }
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        el_hist_free(scratch);
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: %s", tmp, strerror(errno));
    }
    fputs("second,requests,errors,p50_ms,p99_ms,bytes_in,bytes_out\n", f);
    int64_t first = r->n_seconds ? r->seconds[0].t : 0;
    for (uint32_t i = 0; i < r->n_seconds; i++) {
        const struct el__rs_second *s = &r->seconds[i];
        if (i > 0) {
            int64_t prev = r->seconds[i - 1].t;
            if (s->t - prev <= GAP_FILL_MAX_S)
                for (int64_t t = prev + 1; t < s->t; t++)
                    print_row(f, t - first, NULL, scratch);
        }
        print_row(f, s->t - first, s, scratch);
    }
    el_hist_free(scratch);
    int bad = ferror(f) != 0;
    int saved = errno;
    if (fclose(f) != 0)
        bad = 1;
    if (bad) {
        unlink(tmp);
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: write error: %s", tmp, strerror(saved));
    }
    if (rename(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: rename: %s", path, strerror(saved));
    }
    return 0;
}
