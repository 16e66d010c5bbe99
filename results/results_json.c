/* results_json.c - writes results.json (schema "easload.results/1", results/README.md): the
 * stored state (encoded histograms, counters, checks, devices, timeline) that merges exactly, and
 * beside it derived figures (percentiles, rates, per-device statistics, threshold verdicts) for
 * people and tools. Deterministic: names sorted, the same state gives the same bytes. Written to
 * a temporary file beside the target, then renamed (atomic).
 * Owns: the JSON tree and text of one call. Uses: jansson, hist.h, results_int.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "results_int.h"

#define JSON_MAX_BYTES ((size_t)1 << 31)

struct wctx {
    const struct el_results *r;
    struct el_hist *h;  /* owner: this call; r->hist_cfg, for merged views */
    struct el_hist *tl; /* owner: this call; r->timeline_cfg, for timeline encoding */
    struct el_buf enc;  /* owner: this call; one histogram's text */
    bool failed;        /* an allocation failed somewhere */
};

static void put(struct wctx *w, json_t *obj, const char *key, json_t *v)
{
    if (json_object_set_new(obj, key, v) < 0)
        w->failed = true;
}

static void push(struct wctx *w, json_t *arr, json_t *v)
{
    if (json_array_append_new(arr, v) < 0)
        w->failed = true;
}

static json_t *uint_json(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* A derived real, rounded to 3 decimals so the text stays short and stable. */
static json_t *real_json(double v)
{
    if (!isfinite(v))
        return json_null();
    return json_real(round(v * 1000.0) / 1000.0);
}

/* A meta string; bytes that are not printable ASCII become '?' if it is not valid UTF-8. */
static json_t *str_json(const char *s)
{
    if (s == NULL)
        return json_null();
    json_t *v = json_string(s);
    if (v != NULL)
        return v;
    char *copy = strdup(s);
    if (copy == NULL)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
    v = json_string(copy);
    free(copy);
    return v;
}

static json_t *cfg_json(struct wctx *w, const struct el_hist_config *c)
{
    json_t *o = json_object();
    put(w, o, "lowest_us", json_integer(c->lowest_us));
    put(w, o, "highest_us", json_integer(c->highest_us));
    put(w, o, "sig_figs", json_integer(c->sig_figs));
    return o;
}

static json_t *latency_json(struct wctx *w, const struct el_hist *h)
{
    static const struct {
        const char *key;
        double p;
    } pct[] = {{"p50", 50.0}, {"p90", 90.0}, {"p99", 99.0}, {"p99.9", 99.9}};
    json_t *o = json_object();
    put(w, o, "count", uint_json(el_hist_total(h)));
    put(w, o, "below", uint_json(el_hist_count_below(h)));
    put(w, o, "above", uint_json(el_hist_count_above(h)));
    put(w, o, "min", json_integer(el_hist_min(h)));
    for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
        put(w, o, pct[i].key, json_integer(el_hist_value_at_percentile(h, pct[i].p)));
    put(w, o, "max", json_integer(el_hist_max(h)));
    put(w, o, "mean", real_json(el_hist_mean(h)));
    return o;
}

static json_t *hist_text(struct wctx *w, const struct el_hist *h)
{
    el_buf_reset(&w->enc);
    if (el_hist_encode(h, &w->enc, NULL) < 0) {
        w->failed = true;
        return NULL;
    }
    return json_stringn((const char *)w->enc.data, w->enc.len);
}

static void put_stats(struct wctx *w, json_t *o, const struct el__rs_stats *st)
{
    put(w, o, "requests", uint_json(st->requests));
    put(w, o, "errors", uint_json(st->errors));
    put(w, o, "error_percent",
        real_json(st->requests ? (double)st->errors / (double)st->requests * 100.0 : 0.0));
    put(w, o, "late", uint_json(st->late));
    put(w, o, "bytes_in", uint_json(st->bytes_in));
    put(w, o, "bytes_out", uint_json(st->bytes_out));
}

static json_t *commands_json(struct wctx *w)
{
    const struct el_results *r = w->r;
    json_t *all = json_object();
    uint32_t nc, no;
    uint32_t *cmds = el__rs_sorted_names(r, EL__RS_COMMANDS, &nc);
    uint32_t *outs = el__rs_sorted_names(r, EL__RS_OUTCOMES, &no);
    for (uint32_t i = 0; i < nc; i++) {
        json_t *c = json_object();
        struct el__rs_stats st;
        el__rs_collect(r, cmds[i], EL__RS_NONE, w->h, &st);
        put_stats(w, c, &st);
        put(w, c, "latency_us", latency_json(w, w->h));
        json_t *outcomes = json_object();
        for (uint32_t k = 0; k < no; k++) {
            for (uint32_t s = 0; s < r->n_series; s++) {
                const struct el__rs_series *se = &r->series[s];
                if (se->kind != EL__RS_REQUEST || se->cmd != cmds[i] || se->outcome != outs[k])
                    continue;
                json_t *o = json_object();
                el__rs_collect(r, cmds[i], outs[k], NULL, &st);
                put(w, o, "requests", uint_json(st.requests));
                put(w, o, "error", json_boolean(se->error));
                put(w, o, "late", uint_json(se->late));
                put(w, o, "bytes_in", uint_json(se->bytes_in));
                put(w, o, "bytes_out", uint_json(se->bytes_out));
                put(w, o, "latency_us", latency_json(w, se->hist));
                put(w, o, "histogram", hist_text(w, se->hist));
                put(w, outcomes, el__rs_name(r, outs[k]), o);
            }
        }
        put(w, c, "outcomes", outcomes);
        put(w, all, el__rs_name(r, cmds[i]), c);
    }
    free(cmds);
    free(outs);
    return all;
}

static json_t *outcomes_json(struct wctx *w, uint64_t requests)
{
    const struct el_results *r = w->r;
    json_t *all = json_object();
    uint32_t n;
    uint32_t *ids = el__rs_sorted_names(r, EL__RS_OUTCOMES, &n);
    for (uint32_t i = 0; i < n; i++) {
        struct el__rs_stats st;
        el__rs_outcome_stats(r, ids[i], &st);
        json_t *o = json_object();
        put(w, o, "requests", uint_json(st.requests));
        put(w, o, "percent",
            real_json(requests ? (double)st.requests / (double)requests * 100.0 : 0.0));
        put(w, o, "error", json_boolean(el__rs_outcome_is_error(el__rs_name(r, ids[i]))));
        put(w, all, el__rs_name(r, ids[i]), o);
    }
    free(ids);
    return all;
}

static json_t *values_json(struct wctx *w)
{
    const struct el_results *r = w->r;
    json_t *all = json_object();
    uint32_t n;
    uint32_t *ids = el__rs_sorted_names(r, EL__RS_VALUES, &n);
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t s = 0; s < r->n_series; s++) {
            const struct el__rs_series *se = &r->series[s];
            if (se->kind != EL__RS_VALUE || se->cmd != ids[i])
                continue;
            json_t *o = json_object();
            put(w, o, "latency_us", latency_json(w, se->hist));
            put(w, o, "histogram", hist_text(w, se->hist));
            put(w, all, el__rs_name(r, ids[i]), o);
        }
    }
    free(ids);
    return all;
}

static json_t *counters_json(struct wctx *w)
{
    const struct el_results *r = w->r;
    json_t *all = json_object();
    uint32_t n;
    uint32_t *ids = el__rs_sorted_names(r, EL__RS_COUNTERS, &n);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < r->n_counters; k++)
            if (r->counters[k].name == ids[i])
                put(w, all, el__rs_name(r, ids[i]), uint_json(r->counters[k].n));
    free(ids);
    return all;
}

static json_t *checks_json(struct wctx *w, int *failed)
{
    const struct el_results *r = w->r;
    json_t *all = json_object();
    uint32_t n;
    uint32_t *ids = el__rs_sorted_names(r, EL__RS_CHECKS, &n);
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t k = 0; k < r->n_checks; k++) {
            const struct el__rs_check *c = &r->checks[k];
            if (c->name != ids[i])
                continue;
            json_t *o = json_object();
            put(w, o, "passed", uint_json(c->passed));
            put(w, o, "failed", uint_json(c->failed));
            put(w, o, "ok", json_boolean(c->failed == 0));
            if (c->failed)
                (*failed)++;
            put(w, all, el__rs_name(r, ids[i]), o);
        }
    }
    free(ids);
    return all;
}

static json_t *thresholds_json(struct wctx *w, int *failed)
{
    const struct el_results *r = w->r;
    json_t *all = json_array();
    for (uint32_t i = 0; i < r->n_thresholds; i++) {
        const struct el_threshold *t = &r->thresholds[i];
        struct el_threshold_result res;
        el_threshold_eval(r, t, &res);
        if (!res.passed)
            (*failed)++;
        json_t *o = json_object();
        put(w, o, "expr", json_string(t->expr));
        put(w, o, "passed", json_boolean(res.passed));
        put(w, o, "value", res.has_value ? real_json(res.value) : json_null());
        put(w, o, "limit", real_json(t->limit));
        put(w, o, "message", json_string(res.message));
        push(w, all, o);
    }
    return all;
}

static json_t *mean_max_json(struct wctx *w, double mean, uint64_t max)
{
    json_t *o = json_object();
    put(w, o, "mean", real_json(mean));
    put(w, o, "max", uint_json(max));
    return o;
}

static json_t *devices_json(struct wctx *w, double duration_s)
{
    const struct el_results *r = w->r;
    struct el__rs_device_stats ds;
    el__rs_device_stats(r, duration_s, &ds);
    json_t *o = json_object();
    put(w, o, "devices", uint_json(ds.devices));
    put(w, o, "syncs", uint_json(ds.syncs));
    put(w, o, "bytes_in", mean_max_json(w, ds.in_mean, ds.in_max));
    put(w, o, "bytes_out", mean_max_json(w, ds.out_mean, ds.out_max));
    put(w, o, "bytes", mean_max_json(w, ds.total_mean, ds.total_max));
    put(w, o, "bytes_per_sync", real_json(ds.bytes_per_sync));
    put(w, o, "mb_per_device_per_day", real_json(ds.mb_per_device_per_day));
    put(w, o, "columns", json_pack("[ssss]", "device", "bytes_in", "bytes_out", "syncs"));
    json_t *list = json_array();
    uint32_t *idx = el__rs_sorted_devices(r);
    for (uint32_t i = 0; i < r->n_devices; i++) {
        const struct el__rs_device *d = &r->devices[idx[i]];
        json_t *row = json_array();
        push(w, row, json_integer(d->id));
        push(w, row, uint_json(d->bytes_in));
        push(w, row, uint_json(d->bytes_out));
        push(w, row, json_integer(d->syncs));
        push(w, list, row);
    }
    free(idx);
    put(w, o, "list", list);
    return o;
}

static json_t *timeline_json(struct wctx *w)
{
    const struct el_results *r = w->r;
    json_t *o = json_object();
    put(w, o, "histogram_config", cfg_json(w, &r->timeline_cfg));
    put(w, o, "dropped", uint_json(r->timeline_dropped));
    json_t *cols =
        json_pack("[ssssss]", "unix_s", "requests", "errors", "bytes_in", "bytes_out", "latency");
    if (r->timeline_throttled)
        push(w, cols, json_string("throttled"));
    put(w, o, "columns", cols);
    json_t *rows = json_array();
    for (uint32_t i = 0; i < r->n_seconds; i++) {
        const struct el__rs_second *s = &r->seconds[i];
        el__rs_second_fill(s, w->tl);
        json_t *row = json_array();
        push(w, row, json_integer(s->t));
        push(w, row, uint_json(s->requests));
        push(w, row, uint_json(s->errors));
        push(w, row, uint_json(s->bytes_in));
        push(w, row, uint_json(s->bytes_out));
        push(w, row, hist_text(w, w->tl));
        if (r->timeline_throttled)
            push(w, row, uint_json(s->throttled));
        push(w, rows, row);
    }
    put(w, o, "seconds", rows);
    return o;
}

static json_t *iso_time(int64_t unix_us)
{
    time_t t = (time_t)(unix_us / 1000000);
    int64_t frac = unix_us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        t--;
    }
    struct tm tm;
    char buf[64], out[80];
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return json_null();
    snprintf(out, sizeof(out), "%s.%06lldZ", buf, (long long)frac);
    return json_string(out);
}

/* --- text: indented objects, arrays of scalars on one line (timeline rows, device rows) ---- */

static bool all_scalars(const json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_object(v) || json_is_array(v))
            return false;
    }
    return true;
}

static int emit(struct el_buf *b, const char *s, size_t n)
{
    return el_buf_append(b, s, n);
}

static int emit_indent(struct el_buf *b, int depth)
{
    int rc = emit(b, "\n", 1);
    for (int i = 0; rc == 0 && i < depth; i++)
        rc = emit(b, "  ", 2);
    return rc;
}

static int emit_scalar(struct el_buf *b, const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (s == NULL)
        return EL_ENOMEM;
    int rc = emit(b, s, strlen(s));
    free(s);
    return rc;
}

static int emit_value(struct el_buf *b, const json_t *v, int depth)
{
    int rc = 0;
    if (json_is_object(v)) {
        if (json_object_size(v) == 0)
            return emit(b, "{}", 2);
        rc = emit(b, "{", 1);
        const char *key;
        json_t *item;
        bool first = true;
        void *iter = json_object_iter((json_t *)v);
        for (; rc == 0 && iter; iter = json_object_iter_next((json_t *)v, iter)) {
            key = json_object_iter_key(iter);
            item = json_object_iter_value(iter);
            if (!first)
                rc = emit(b, ",", 1);
            first = false;
            json_t *k = json_string(key);
            if (k == NULL)
                return EL_ENOMEM;
            if (rc == 0)
                rc = emit_indent(b, depth + 1);
            if (rc == 0)
                rc = emit_scalar(b, k);
            json_decref(k);
            if (rc == 0)
                rc = emit(b, ": ", 2);
            if (rc == 0)
                rc = emit_value(b, item, depth + 1);
        }
        if (rc == 0)
            rc = emit_indent(b, depth);
        return rc ? rc : emit(b, "}", 1);
    }
    if (json_is_array(v)) {
        if (json_array_size(v) == 0)
            return emit(b, "[]", 2);
        bool flat = all_scalars(v);
        rc = emit(b, "[", 1);
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (rc == 0 && i > 0)
                rc = emit(b, flat ? ", " : ",", flat ? 2 : 1);
            if (rc == 0 && !flat)
                rc = emit_indent(b, depth + 1);
            if (rc == 0)
                rc = emit_value(b, item, depth + 1);
        }
        if (rc == 0 && !flat)
            rc = emit_indent(b, depth);
        return rc ? rc : emit(b, "]", 1);
    }
    return emit_scalar(b, v);
}

int el__rs_write_atomic(const char *path, const void *p, size_t n, struct el_err *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL)
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: %s", tmp, strerror(errno));
    int bad = n > 0 && fwrite(p, 1, n, f) != n;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        bad = 1;
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

/* --- the document ----------------------------------------------------------------------------- */

static json_t *build(struct wctx *w, const struct el_results_meta *m, struct el_err *err, int *rc)
{
    const struct el_results *r = w->r;
    json_t *root = json_object();
    if (root == NULL) {
        *rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "results.json: out of memory");
        return NULL;
    }
    put(w, root, "schema", json_string(EL_RESULTS_SCHEMA));
    put(w, root, "tool_version", str_json(m->tool_version));
    put(w, root, "scenario", str_json(m->scenario));
    put(w, root, "scenario_file", str_json(m->scenario_file));
    put(w, root, "target", str_json(m->target));
    put(w, root, "start_unix_us", json_integer(m->start_unix_us));
    put(w, root, "end_unix_us", json_integer(m->end_unix_us));
    put(w, root, "start", iso_time(m->start_unix_us));
    put(w, root, "end", iso_time(m->end_unix_us));
    double duration_s = (double)(m->end_unix_us - m->start_unix_us) / 1e6;
    put(w, root, "duration_s", real_json(duration_s));
    put(w, root, "devices", json_integer(m->devices));
    put(w, root, "shard", json_integer(m->shard));
    put(w, root, "shards", json_integer(m->shards));
    json_t *config = json_null();
    if (m->config_json != NULL) {
        json_error_t je;
        json_decref(config);
        config = json_loads(m->config_json, JSON_REJECT_DUPLICATES, &je);
        if (config == NULL || !json_is_object(config)) {
            json_decref(config);
            json_decref(root);
            *rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                         "results.json: the configuration is not a JSON object: %s",
                         config ? "not an object" : je.text);
            return NULL;
        }
    }
    put(w, root, "config", config);
    put(w, root, "histogram_config", cfg_json(w, &r->hist_cfg));

    int failed = 0;
    json_t *checks = checks_json(w, &failed);
    json_t *thresholds = thresholds_json(w, &failed);
    put(w, root, "passed", json_boolean(failed == 0));
    put(w, root, "failed", json_integer(failed));

    struct el__rs_stats st;
    el__rs_collect(r, EL__RS_NONE, EL__RS_NONE, w->h, &st);
    json_t *totals = json_object();
    put_stats(w, totals, &st);
    put(w, totals, "latency_us", latency_json(w, w->h));
    put(w, root, "totals", totals);
    put(w, root, "commands", commands_json(w));
    put(w, root, "outcomes", outcomes_json(w, st.requests));
    put(w, root, "values", values_json(w));
    put(w, root, "counters", counters_json(w));
    put(w, root, "checks", checks);
    put(w, root, "thresholds", thresholds);
    put(w, root, "device_bytes", devices_json(w, duration_s));
    put(w, root, "timeline", timeline_json(w));
    return root;
}

int el_results_write_json(const struct el_results *r, const struct el_results_meta *meta,
                          const char *path, struct el_err *err)
{
    struct wctx w = {.r = r};
    struct el_buf out;
    json_t *root = NULL;
    int rc = 0;
    el_buf_init(&w.enc, JSON_MAX_BYTES);
    el_buf_init(&out, JSON_MAX_BYTES);
    rc = el_hist_new(&r->hist_cfg, &w.h, err);
    if (rc == 0)
        rc = el_hist_new(&r->timeline_cfg, &w.tl, err);
    if (rc < 0)
        goto fail;
    root = build(&w, meta, err, &rc);
    if (root == NULL)
        goto fail;
    if (w.failed) {
        rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "%s: out of memory building the JSON", path);
        goto fail;
    }
    rc = emit_value(&out, root, 0);
    if (rc == 0)
        rc = emit(&out, "\n", 1);
    if (rc < 0) {
        rc = EL_ERR(err, rc, EL_NO_OFFSET, "%s: %s formatting the JSON", path, el_strerror(rc));
        goto fail;
    }
    rc = el__rs_write_atomic(path, out.data, out.len, err);
fail:
    json_decref(root);
    el_buf_close(&out);
    el_buf_close(&w.enc);
    el_hist_free(w.tl);
    el_hist_free(w.h);
    return rc;
}
