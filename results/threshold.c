/* threshold.c - pass/fail expressions over a run's results: "sync.p99<800ms", "errors.rate<0.1%",
 * "throttled.count==0", "requests.count>=1000", "checks.failed==0". Parses them (errors name the
 * bad part) and measures them against a struct el_results without changing it.
 * Owns: nothing (the thresholds live in struct el_results). Uses: results_int.h, hist.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results_int.h"

static const struct {
    const char *suffix; /* longest first where one ends another */
    enum el_threshold_stat stat;
    double percentile; /* latency percentiles; < 0 otherwise */
} stats[] = {
    {"p99.9", EL_THRESHOLD_P999, 99.9},  {"p50", EL_THRESHOLD_P50, 50.0},
    {"p90", EL_THRESHOLD_P90, 90.0},     {"p99", EL_THRESHOLD_P99, 99.0},
    {"max", EL_THRESHOLD_MAX, -1},       {"mean", EL_THRESHOLD_MEAN, -1},
    {"count", EL_THRESHOLD_COUNT, -1},   {"rate", EL_THRESHOLD_RATE, -1},
    {"failed", EL_THRESHOLD_FAILED, -1},
};
#define NSTATS (sizeof(stats) / sizeof(stats[0]))

static const struct {
    const char *text;
    enum el_threshold_op op;
} ops[] = {
    {"<=", EL_THRESHOLD_LE}, {">=", EL_THRESHOLD_GE}, {"==", EL_THRESHOLD_EQ},
    {"!=", EL_THRESHOLD_NE}, {"<", EL_THRESHOLD_LT},  {">", EL_THRESHOLD_GT},
};

static const struct {
    const char *text;
    double us;
} time_units[] = {{"us", 1.0}, {"ms", 1e3}, {"s", 1e6}, {"m", 60e6}};

static bool is_latency(enum el_threshold_stat s)
{
    return s <= EL_THRESHOLD_MEAN;
}

static const char *stat_name(enum el_threshold_stat s)
{
    for (size_t i = 0; i < NSTATS; i++)
        if (stats[i].stat == s)
            return stats[i].suffix;
    return "?";
}

const char *el_threshold_op_name(enum el_threshold_op op)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (ops[i].op == op)
            return ops[i].text;
    return "?";
}

/* --- parsing -------------------------------------------------------------------------------- */

static int parse_metric(const char *expr, const char *m, size_t n, struct el_threshold *out,
                        struct el_err *err)
{
    for (size_t i = 0; i < NSTATS; i++) {
        size_t sl = strlen(stats[i].suffix);
        if (n < sl + 2 || m[n - sl - 1] != '.' || strncmp(m + n - sl, stats[i].suffix, sl) != 0)
            continue;
        size_t nl = n - sl - 1;
        if (nl >= sizeof(out->name))
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "threshold '%s': name '%.*s' too long",
                          expr, (int)nl, m);
        memcpy(out->name, m, nl);
        out->name[nl] = '\0';
        out->stat = stats[i].stat;
        bool checks = strcmp(out->name, "checks") == 0;
        if (checks != (out->stat == EL_THRESHOLD_FAILED))
            return EL_ERR(
                err, EL_EINVAL, EL_NO_OFFSET, "threshold '%s': '%.*s': %s", expr, (int)n, m,
                checks ? "checks has only .failed" : ".failed exists only as checks.failed");
        if (strcmp(out->name, "errors") == 0 && out->stat != EL_THRESHOLD_COUNT &&
            out->stat != EL_THRESHOLD_RATE)
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                          "threshold '%s': '%.*s': errors has only .count and .rate", expr, (int)n,
                          m);
        return 0;
    }
    return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                  "threshold '%s': metric '%.*s' is not NAME.STAT with STAT one of p50, p90, p99, "
                  "p99.9, max, mean, count, rate, failed",
                  expr, (int)n, m);
}

static int parse_value(const char *expr, const char *v, struct el_threshold *out,
                       struct el_err *err)
{
    const char *p = v;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.' && p > v) {
        p++;
        if (!isdigit((unsigned char)*p))
            p = v;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (p == v)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "threshold '%s': value '%s' does not start with a number", expr, v);
    char num[64];
    size_t nl = (size_t)(p - v);
    if (nl >= sizeof(num))
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "threshold '%s': number '%s' too long", expr,
                      v);
    memcpy(num, v, nl);
    num[nl] = '\0';
    double x = strtod(num, NULL);
    const char *unit = p;

    if (is_latency(out->stat)) {
        for (size_t i = 0; i < sizeof(time_units) / sizeof(time_units[0]); i++) {
            if (strcmp(unit, time_units[i].text) == 0) {
                out->limit = x * time_units[i].us;
                return 0;
            }
        }
        if (*unit == '\0')
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                          "threshold '%s': latency '%s' needs a unit (us, ms, s, m)", expr, v);
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "threshold '%s': unit '%s' is not a time unit (us, ms, s, m)", expr, unit);
    }
    if (out->stat == EL_THRESHOLD_RATE) {
        if (strcmp(unit, "%") == 0)
            x /= 100.0;
        else if (*unit != '\0')
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                          "threshold '%s': unit '%s' does not fit a rate (a fraction or N%%)", expr,
                          unit);
        if (x > 1.0)
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "threshold '%s': rate '%s' above 1 (100%%)",
                          expr, v);
        out->limit = x;
        return 0;
    }
    if (*unit != '\0')
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "threshold '%s': a .%s takes a plain number, not unit '%s'", expr,
                      stat_name(out->stat), unit);
    out->limit = x;
    return 0;
}

int el_threshold_parse(const char *expr, struct el_threshold *out, struct el_err *err)
{
    struct el_threshold t;
    memset(&t, 0, sizeof(t));
    size_t n = 0;
    for (const char *p = expr; *p; p++) {
        if (isspace((unsigned char)*p))
            continue;
        if (n + 1 >= sizeof(t.expr))
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                          "threshold '%.40s...': longer than %d "
                          "characters",
                          expr, EL_THRESHOLD_EXPR_MAX - 1);
        t.expr[n++] = *p;
    }
    t.expr[n] = '\0';
    if (n == 0)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "threshold: empty expression");
    size_t at = strcspn(t.expr, "<>=!");
    if (t.expr[at] == '\0')
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "threshold '%s': no operator (<, <=, >, >=, ==, !=)", t.expr);
    size_t oplen = 0;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        size_t l = strlen(ops[i].text);
        if (strncmp(t.expr + at, ops[i].text, l) == 0) {
            t.op = ops[i].op;
            oplen = l;
            break;
        }
    }
    if (oplen == 0)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "threshold '%s': operator '%.2s' is not one of <, <=, >, >=, ==, !=", t.expr,
                      t.expr + at);
    if (at == 0)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "threshold '%s': no metric before '%s'", t.expr,
                      el_threshold_op_name(t.op));
    const char *value = t.expr + at + oplen;
    if (strchr("<>=!", *value) != NULL && *value != '\0')
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "threshold '%s': operator '%s%c' is not one of <, <=, >, >=, ==, !=", t.expr,
                      el_threshold_op_name(t.op), *value);
    if (*value == '\0')
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "threshold '%s': no value after '%s'", t.expr,
                      el_threshold_op_name(t.op));
    int rc = parse_metric(t.expr, t.expr, at, &t, err);
    if (rc < 0)
        return rc;
    rc = parse_value(t.expr, value, &t, err);
    if (rc < 0)
        return rc;
    *out = t;
    return 0;
}

/* --- evaluation ----------------------------------------------------------------------------- */

static bool has_series(const struct el_results *r, enum el__rs_kind kind, bool by_outcome,
                       uint32_t id)
{
    for (uint32_t i = 0; i < r->n_series; i++) {
        const struct el__rs_series *s = &r->series[i];
        if (s->kind == kind && (by_outcome ? s->outcome : s->cmd) == id)
            return true;
    }
    return false;
}

static bool compare(double v, enum el_threshold_op op, double limit)
{
    switch (op) {
    case EL_THRESHOLD_LT:
        return v < limit;
    case EL_THRESHOLD_LE:
        return v <= limit;
    case EL_THRESHOLD_GT:
        return v > limit;
    case EL_THRESHOLD_GE:
        return v >= limit;
    case EL_THRESHOLD_EQ:
        return v == limit;
    case EL_THRESHOLD_NE:
        return v != limit;
    }
    return false;
}

void el_threshold_format(const struct el_threshold *t, double value, char *buf, size_t n)
{
    if (is_latency(t->stat)) {
        if (value < 1000.0)
            snprintf(buf, n, "%.0f us", value);
        else
            snprintf(buf, n, "%.6g ms", value / 1000.0);
    } else if (t->stat == EL_THRESHOLD_RATE) {
        snprintf(buf, n, "%.6g%%", value * 100.0);
    } else {
        snprintf(buf, n, "%.15g", value);
    }
}

/* The histogram and request totals a latency or count metric of t->name refers to. Returns
 * false if the name has no histogram (a counter, or unknown). */
static bool metric_hist(const struct el_results *r, const struct el_threshold *t, struct el_hist *h,
                        uint64_t *count)
{
    struct el__rs_stats st;
    if (strcmp(t->name, "requests") == 0) {
        el__rs_collect(r, EL__RS_NONE, EL__RS_NONE, h, &st);
        *count = st.requests;
        return true;
    }
    uint32_t id = el__rs_lookup(r, t->name);
    if (id == EL__RS_NONE)
        return false;
    if (has_series(r, EL__RS_REQUEST, false, id)) {
        el__rs_collect(r, id, EL__RS_NONE, h, &st);
        *count = st.requests;
        return true;
    }
    if (has_series(r, EL__RS_REQUEST, true, id)) {
        el__rs_collect(r, EL__RS_NONE, id, h, &st);
        *count = st.requests;
        return true;
    }
    for (uint32_t i = 0; i < r->n_series; i++) {
        const struct el__rs_series *s = &r->series[i];
        if (s->kind == EL__RS_VALUE && s->cmd == id) {
            el_hist_reset(h);
            (void)el_hist_merge(h, s->hist, NULL);
            *count = el_hist_total(h) + el_hist_count_below(h) + el_hist_count_above(h);
            return true;
        }
    }
    return false;
}

static double measure(const struct el_results *r, const struct el_threshold *t, struct el_hist *h,
                      bool *has_value)
{
    *has_value = true;
    struct el__rs_stats all;
    el__rs_collect(r, EL__RS_NONE, EL__RS_NONE, NULL, &all);
    if (t->stat == EL_THRESHOLD_FAILED) {
        uint64_t failed = 0;
        for (uint32_t i = 0; i < r->n_checks; i++)
            failed += r->checks[i].failed;
        return (double)failed;
    }
    if (strcmp(t->name, "errors") == 0) {
        if (t->stat == EL_THRESHOLD_COUNT)
            return (double)all.errors;
        return all.requests ? (double)all.errors / (double)all.requests : 0.0;
    }
    uint64_t count = 0;
    bool hist = metric_hist(r, t, h, &count);
    if (!hist) {
        /* A counter, or a name nothing recorded: its count (0 if unknown). */
        uint32_t id = el__rs_lookup(r, t->name);
        for (uint32_t i = 0; id != EL__RS_NONE && i < r->n_counters; i++)
            if (r->counters[i].name == id)
                count = r->counters[i].n;
    }
    if (t->stat == EL_THRESHOLD_COUNT)
        return (double)count;
    if (t->stat == EL_THRESHOLD_RATE)
        return all.requests ? (double)count / (double)all.requests : 0.0;
    if (!hist || el_hist_total(h) == 0) {
        *has_value = false;
        return 0.0;
    }
    for (size_t i = 0; i < NSTATS; i++)
        if (stats[i].stat == t->stat && stats[i].percentile >= 0)
            return (double)el_hist_value_at_percentile(h, stats[i].percentile);
    if (t->stat == EL_THRESHOLD_MAX)
        return (double)el_hist_max(h);
    return el_hist_mean(h);
}

void el_threshold_eval(const struct el_results *r, const struct el_threshold *t,
                       struct el_threshold_result *out)
{
    struct el_hist *h = NULL;
    if (el_hist_new(&r->hist_cfg, &h, NULL) < 0)
        el__rs_oom("histogram");
    memset(out, 0, sizeof(*out));
    out->value = measure(r, t, h, &out->has_value);
    el_hist_free(h);
    char have[48], limit[48];
    el_threshold_format(t, t->limit, limit, sizeof(limit));
    if (!out->has_value) {
        out->passed = false;
        snprintf(out->message, sizeof(out->message), "%s.%s: no samples (limit %s %s)", t->name,
                 stat_name(t->stat), el_threshold_op_name(t->op), limit);
        return;
    }
    out->passed = compare(out->value, t->op, t->limit);
    el_threshold_format(t, out->value, have, sizeof(have));
    snprintf(out->message, sizeof(out->message), "%s.%s = %s, %s %s %s", t->name,
             stat_name(t->stat), have, out->passed ? "limit" : "not", el_threshold_op_name(t->op),
             limit);
}

/* --- the store's thresholds ------------------------------------------------------------------- */

int el_results_threshold_add(struct el_results *r, const char *expr, struct el_err *err)
{
    struct el_threshold t;
    int rc = el_threshold_parse(expr, &t, err);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < r->n_thresholds; i++)
        if (strcmp(r->thresholds[i].expr, t.expr) == 0)
            return 0;
    if (r->n_thresholds >= EL__RS_THRESHOLDS_MAX)
        return EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET, "threshold '%s': more than %d thresholds",
                      t.expr, EL__RS_THRESHOLDS_MAX);
    uint32_t cap = r->cap_thresholds;
    el__rs_grow((void **)&r->thresholds, &cap, r->n_thresholds, sizeof(*r->thresholds),
                "thresholds");
    cap = r->cap_thresholds;
    el__rs_grow((void **)&r->threshold_results, &cap, r->n_thresholds,
                sizeof(*r->threshold_results), "thresholds");
    r->cap_thresholds = cap;
    r->thresholds[r->n_thresholds] = t;
    memset(&r->threshold_results[r->n_thresholds], 0, sizeof(*r->threshold_results));
    r->n_thresholds++;
    return 0;
}

int el_results_evaluate(struct el_results *r)
{
    int failed = 0;
    for (uint32_t i = 0; i < r->n_thresholds; i++) {
        el_threshold_eval(r, &r->thresholds[i], &r->threshold_results[i]);
        if (!r->threshold_results[i].passed)
            failed++;
    }
    for (uint32_t i = 0; i < r->n_checks; i++)
        if (r->checks[i].failed > 0)
            failed++;
    return failed;
}
