/* report_junit.c - junit.xml for CI: one testsuite for the run, one testcase per scenario check
 * (classname easload.checks) and per threshold (easload.thresholds); a failed one carries a
 * <failure> with the measured value and the limit. Written atomically.
 * Owns: the text of one call. Uses: results_int.h, stdio (open_memstream). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "results_int.h"

/* Writes s with the five XML specials escaped (names are ASCII; see results.c). */
static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&apos;", f);
            break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\t')
                fputc('?', f);
            else
                fputc(*s, f);
        }
    }
}

static void testcase(FILE *f, const char *classname, const char *name, const char *failure,
                     const char *detail)
{
    fputs("    <testcase classname=\"", f);
    xml_text(f, classname);
    fputs("\" name=\"", f);
    xml_text(f, name);
    fputs("\" time=\"0\"", f);
    if (failure == NULL) {
        fputs("/>\n", f);
        return;
    }
    fputs(">\n      <failure message=\"", f);
    xml_text(f, failure);
    fputs("\" type=\"", f);
    xml_text(f, classname);
    fputs("\">", f);
    xml_text(f, detail);
    fputs("</failure>\n    </testcase>\n", f);
}

int el_results_write_junit(const struct el_results *r, const struct el_results_meta *meta,
                           const char *path, struct el_err *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "%s: out of memory", path);

    struct el_threshold_result *res = calloc((size_t)r->n_thresholds + 1, sizeof(*res));
    if (res == NULL)
        el__rs_oom("junit");
    int failures = 0;
    for (uint32_t i = 0; i < r->n_thresholds; i++) {
        el_threshold_eval(r, &r->thresholds[i], &res[i]);
        failures += !res[i].passed;
    }
    for (uint32_t i = 0; i < r->n_checks; i++)
        failures += r->checks[i].failed > 0;
    unsigned tests = r->n_thresholds + r->n_checks;

    const char *scenario = meta && meta->scenario ? meta->scenario : "run";
    double duration_s = meta ? (double)(meta->end_unix_us - meta->start_unix_us) / 1e6 : 0.0;
    char stamp[32] = "1970-01-01T00:00:00";
    if (meta) {
        time_t t = (time_t)(meta->start_unix_us / 1000000);
        struct tm tm;
        if (gmtime_r(&t, &tm) != NULL)
            strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<testsuites name=\"easload\" tests=\"%u\" failures=\"%d\" errors=\"0\">\n", tests,
            failures);
    fputs("  <testsuite name=\"easload.", f);
    xml_text(f, scenario);
    fprintf(f,
            "\" tests=\"%u\" failures=\"%d\" errors=\"0\" skipped=\"0\" timestamp=\"%s\" "
            "time=\"%.3f\">\n",
            tests, failures, stamp, duration_s > 0 ? duration_s : 0.0);

    uint32_t n;
    uint32_t *ids = el__rs_sorted_names(r, EL__RS_CHECKS, &n);
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t k = 0; k < r->n_checks; k++) {
            const struct el__rs_check *c = &r->checks[k];
            if (c->name != ids[i])
                continue;
            char msg[160];
            snprintf(msg, sizeof(msg), "check failed %llu of %llu times",
                     (unsigned long long)c->failed, (unsigned long long)(c->passed + c->failed));
            testcase(f, "easload.checks", el__rs_name(r, c->name), c->failed ? msg : NULL, msg);
        }
    }
    free(ids);
    for (uint32_t i = 0; i < r->n_thresholds; i++)
        testcase(f, "easload.thresholds", r->thresholds[i].expr,
                 res[i].passed ? NULL : res[i].message, res[i].message);
    fputs("  </testsuite>\n</testsuites>\n", f);
    free(res);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(text);
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "%s: out of memory", path);
    }
    int rc = el__rs_write_atomic(path, text, len, err);
    free(text);
    return rc;
}
