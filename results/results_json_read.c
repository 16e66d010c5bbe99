/* results_json_read.c - reads results.json back (a run's own, a shard's, an older schema
 * version's golden file) into a struct el_results and its meta. Reads only the stored state
 * (histograms, counters, checks, devices, timeline, threshold expressions) and recomputes every
 * derived figure; validates as it goes and refuses a malformed file with one line naming the file
 * and the JSON path ("run.json: commands.sync.outcomes.ok.histogram: bad histogram encoding ...").
 * Owns: the JSON tree of one call. Uses: jansson, hist.h, results_int.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "results_int.h"

struct rctx {
    const char *file;
    struct el_results *r;
    struct el_err *err;
    char path[512]; /* JSON path of the value being read */
};

static int fail(struct rctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct rctx *c, int code, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return EL_ERR(c->err, code, EL_NO_OFFSET, "%s: %s: %s", c->file, c->path[0] ? c->path : "$",
                  what);
}

/* Appends ".key" (or "[i]") to the path; returns the old length to restore with pop. */
static size_t push_key(struct rctx *c, const char *key)
{
    size_t n = strlen(c->path);
    snprintf(c->path + n, sizeof(c->path) - n, "%s%s", n ? "." : "", key);
    return n;
}

static size_t push_index(struct rctx *c, size_t i)
{
    size_t n = strlen(c->path);
    snprintf(c->path + n, sizeof(c->path) - n, "[%zu]", i);
    return n;
}

static void pop(struct rctx *c, size_t n)
{
    c->path[n] = '\0';
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

/* obj[key] of type; with the path pointing at it on failure. */
static int field(struct rctx *c, const json_t *obj, const char *key, json_type type, bool nullable,
                 json_t **out)
{
    json_t *v = json_object_get(obj, key);
    size_t n = push_key(c, key);
    int rc = 0;
    if (v == NULL)
        rc = fail(c, EL_EFORMAT, "missing field");
    else if (!(json_typeof(v) == type || (nullable && json_is_null(v))))
        rc = fail(c, EL_EFORMAT, "must be %s, not %s",
                  type == JSON_OBJECT   ? "an object"
                  : type == JSON_ARRAY  ? "an array"
                  : type == JSON_STRING ? "a string"
                                        : "an integer",
                  type_name(v));
    pop(c, n);
    *out = v;
    return rc;
}

static int uint_value(struct rctx *c, const json_t *v, uint64_t max, uint64_t *out)
{
    if (!json_is_integer(v))
        return fail(c, EL_EFORMAT, "must be an integer, not %s", type_name(v));
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x > max)
        return fail(c, EL_EFORMAT, "%lld out of range 0..%llu", (long long)x,
                    (unsigned long long)max);
    *out = (uint64_t)x;
    return 0;
}

static int uint_field(struct rctx *c, const json_t *obj, const char *key, uint64_t max,
                      uint64_t *out)
{
    json_t *v;
    int rc = field(c, obj, key, JSON_INTEGER, false, &v);
    if (rc < 0)
        return rc;
    size_t n = push_key(c, key);
    rc = uint_value(c, v, max, out);
    pop(c, n);
    return rc;
}

static int hist_config(struct rctx *c, const json_t *obj, struct el_hist_config *cfg)
{
    json_t *o;
    uint64_t lo, hi, sf;
    int rc = field(c, obj, "histogram_config", JSON_OBJECT, false, &o);
    if (rc < 0)
        return rc;
    size_t n = push_key(c, "histogram_config");
    if ((rc = uint_field(c, o, "lowest_us", INT64_MAX, &lo)) < 0 ||
        (rc = uint_field(c, o, "highest_us", INT64_MAX, &hi)) < 0 ||
        (rc = uint_field(c, o, "sig_figs", 5, &sf)) < 0)
        goto done;
    cfg->lowest_us = (int64_t)lo;
    cfg->highest_us = (int64_t)hi;
    cfg->sig_figs = (int)sf;
    struct el_err e;
    if (el_hist_size(cfg, NULL, NULL, &e) < 0)
        rc = fail(c, EL_EFORMAT, "%s", e.msg);
done:
    pop(c, n);
    return rc;
}

/* Decodes the histogram text at obj.histogram into h (h's configuration must match). */
static int hist_field(struct rctx *c, const json_t *obj, struct el_hist *h)
{
    json_t *v;
    int rc = field(c, obj, "histogram", JSON_STRING, false, &v);
    if (rc < 0)
        return rc;
    size_t n = push_key(c, "histogram");
    struct el_err e;
    rc = el_hist_decode(h, json_string_value(v), json_string_length(v), &e);
    if (rc == EL_EINVAL)
        rc = fail(c, EL_EFORMAT, "histogram configuration differs from histogram_config");
    else if (rc < 0)
        rc = fail(c, EL_EFORMAT, "bad histogram encoding at offset %zu: %s", e.offset, e.msg);
    pop(c, n);
    return rc;
}

static int read_commands(struct rctx *c, const json_t *root)
{
    json_t *cmds;
    int rc = field(c, root, "commands", JSON_OBJECT, false, &cmds);
    if (rc < 0)
        return rc;
    size_t n0 = push_key(c, "commands");
    const char *cname;
    json_t *cobj;
    json_object_foreach(cmds, cname, cobj)
    {
        size_t n1 = push_key(c, cname);
        json_t *outs;
        if (!json_is_object(cobj))
            rc = fail(c, EL_EFORMAT, "must be an object, not %s", type_name(cobj));
        else
            rc = field(c, cobj, "outcomes", JSON_OBJECT, false, &outs);
        if (rc < 0)
            return rc;
        size_t n2 = push_key(c, "outcomes");
        const char *oname;
        json_t *o;
        json_object_foreach(outs, oname, o)
        {
            size_t n3 = push_key(c, oname);
            if (!json_is_object(o))
                return fail(c, EL_EFORMAT, "must be an object, not %s", type_name(o));
            struct el__rs_series *s = el__rs_series_get(
                c->r, EL__RS_REQUEST, el__rs_intern(c->r, cname), el__rs_intern(c->r, oname));
            uint64_t late, in, out;
            if ((rc = uint_field(c, o, "late", INT64_MAX, &late)) < 0 ||
                (rc = uint_field(c, o, "bytes_in", INT64_MAX, &in)) < 0 ||
                (rc = uint_field(c, o, "bytes_out", INT64_MAX, &out)) < 0)
                return rc;
            if (el_hist_total(s->hist) + el_hist_count_below(s->hist) +
                    el_hist_count_above(s->hist) >
                0)
                return fail(c, EL_EFORMAT, "outcome given twice");
            if ((rc = hist_field(c, o, s->hist)) < 0)
                return rc;
            s->late = late;
            s->bytes_in = in;
            s->bytes_out = out;
            pop(c, n3);
        }
        pop(c, n2);
        pop(c, n1);
    }
    pop(c, n0);
    return 0;
}

static int read_values(struct rctx *c, const json_t *root)
{
    json_t *vals;
    int rc = field(c, root, "values", JSON_OBJECT, false, &vals);
    if (rc < 0)
        return rc;
    size_t n0 = push_key(c, "values");
    const char *name;
    json_t *o;
    json_object_foreach(vals, name, o)
    {
        size_t n1 = push_key(c, name);
        if (!json_is_object(o))
            return fail(c, EL_EFORMAT, "must be an object, not %s", type_name(o));
        struct el__rs_series *s =
            el__rs_series_get(c->r, EL__RS_VALUE, el__rs_intern(c->r, name), EL__RS_NONE);
        if ((rc = hist_field(c, o, s->hist)) < 0)
            return rc;
        pop(c, n1);
    }
    pop(c, n0);
    return 0;
}

static int read_counters_checks(struct rctx *c, const json_t *root)
{
    json_t *counters, *checks;
    int rc = field(c, root, "counters", JSON_OBJECT, false, &counters);
    if (rc < 0)
        return rc;
    size_t n0 = push_key(c, "counters");
    const char *name;
    json_t *v;
    json_object_foreach(counters, name, v)
    {
        uint64_t x;
        size_t n1 = push_key(c, name);
        if ((rc = uint_value(c, v, INT64_MAX, &x)) < 0)
            return rc;
        el_results_count(c->r, name, x);
        pop(c, n1);
    }
    pop(c, n0);
    if ((rc = field(c, root, "checks", JSON_OBJECT, false, &checks)) < 0)
        return rc;
    n0 = push_key(c, "checks");
    json_object_foreach(checks, name, v)
    {
        size_t n1 = push_key(c, name);
        if (!json_is_object(v))
            return fail(c, EL_EFORMAT, "must be an object, not %s", type_name(v));
        uint64_t passed, failed;
        if ((rc = uint_field(c, v, "passed", INT64_MAX, &passed)) < 0 ||
            (rc = uint_field(c, v, "failed", INT64_MAX, &failed)) < 0)
            return rc;
        struct el__rs_check *ck = el__rs_check_get(c->r, el__rs_intern(c->r, name));
        ck->passed += passed;
        ck->failed += failed;
        pop(c, n1);
    }
    pop(c, n0);
    return 0;
}

static int read_thresholds(struct rctx *c, const json_t *root)
{
    json_t *arr;
    int rc = field(c, root, "thresholds", JSON_ARRAY, false, &arr);
    if (rc < 0)
        return rc;
    size_t n0 = push_key(c, "thresholds");
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t)
    {
        size_t n1 = push_index(c, i);
        json_t *expr;
        if (!json_is_object(t))
            return fail(c, EL_EFORMAT, "must be an object, not %s", type_name(t));
        if ((rc = field(c, t, "expr", JSON_STRING, false, &expr)) < 0)
            return rc;
        size_t n2 = push_key(c, "expr");
        struct el_err e;
        if (el_results_threshold_add(c->r, json_string_value(expr), &e) < 0)
            return fail(c, EL_EFORMAT, "%s", e.msg);
        pop(c, n2);
        pop(c, n1);
    }
    pop(c, n0);
    return 0;
}

/* An array row of exactly n entries. */
static int row(struct rctx *c, const json_t *v, size_t n)
{
    if (!json_is_array(v))
        return fail(c, EL_EFORMAT, "must be an array, not %s", type_name(v));
    if (json_array_size(v) != n)
        return fail(c, EL_EFORMAT, "must have %zu entries, not %zu", n, json_array_size(v));
    return 0;
}

static int read_devices(struct rctx *c, const json_t *root)
{
    json_t *dev, *list;
    int rc = field(c, root, "device_bytes", JSON_OBJECT, false, &dev);
    if (rc < 0)
        return rc;
    size_t n0 = push_key(c, "device_bytes");
    if ((rc = field(c, dev, "list", JSON_ARRAY, false, &list)) < 0)
        return rc;
    size_t n1 = push_key(c, "list");
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        size_t n2 = push_index(c, i);
        uint64_t x[4];
        if ((rc = row(c, v, 4)) < 0)
            return rc;
        for (size_t k = 0; k < 4; k++) {
            size_t n3 = push_index(c, k);
            uint64_t max = (k == 0 || k == 3) ? UINT32_MAX : INT64_MAX;
            if ((rc = uint_value(c, json_array_get(v, k), max, &x[k])) < 0)
                return rc;
            pop(c, n3);
        }
        el_results_device_bytes(c->r, (uint32_t)x[0], x[1], x[2], (uint32_t)x[3]);
        pop(c, n2);
    }
    pop(c, n1);
    pop(c, n0);
    return 0;
}

static int read_timeline(struct rctx *c, const json_t *root)
{
    json_t *tl, *rows;
    struct el_results *r = c->r;
    int rc = field(c, root, "timeline", JSON_OBJECT, false, &tl);
    if (rc < 0)
        return rc;
    size_t n0 = push_key(c, "timeline");
    struct el_hist_config cfg;
    if ((rc = hist_config(c, tl, &cfg)) < 0)
        return rc;
    struct el_hist *scratch = NULL;
    if ((rc = el_hist_new(&cfg, &scratch, c->err)) < 0)
        return rc;
    el_hist_free(r->timeline_scratch);
    r->timeline_scratch = scratch;
    r->timeline_cfg = cfg;
    if ((rc = uint_field(c, tl, "dropped", INT64_MAX, &r->timeline_dropped)) < 0 ||
        (rc = field(c, tl, "seconds", JSON_ARRAY, false, &rows)) < 0)
        return rc;
    /* Rows have a 7th column, "throttled", since it was added to schema 1; files written before
     * have 6 (and no per-second throttled counts: r->timeline_throttled is false). */
    json_t *cols = json_object_get(tl, "columns");
    r->timeline_throttled = json_array_size(cols) == 7 && json_is_string(json_array_get(cols, 6)) &&
                            strcmp(json_string_value(json_array_get(cols, 6)), "throttled") == 0;
    size_t ncols = r->timeline_throttled ? 7 : 6;
    size_t n1 = push_key(c, "seconds");
    size_t i;
    json_t *v;
    int64_t prev = INT64_MIN;
    json_array_foreach(rows, i, v)
    {
        size_t n2 = push_index(c, i);
        if ((rc = row(c, v, ncols)) < 0)
            return rc;
        json_t *t = json_array_get(v, 0);
        size_t n3 = push_index(c, 0);
        if (!json_is_integer(t))
            return fail(c, EL_EFORMAT, "must be an integer, not %s", type_name(t));
        if (json_integer_value(t) <= prev)
            return fail(c, EL_EFORMAT, "seconds must increase");
        prev = json_integer_value(t);
        pop(c, n3);
        struct el__rs_second *s = el__rs_second_get(r, prev);
        if (s == NULL)
            return fail(c, EL_EFORMAT, "more than %d seconds", EL__RS_SECONDS_MAX);
        uint64_t *dst[4] = {&s->requests, &s->errors, &s->bytes_in, &s->bytes_out};
        for (size_t k = 0; k < 4; k++) {
            n3 = push_index(c, k + 1);
            if ((rc = uint_value(c, json_array_get(v, k + 1), INT64_MAX, dst[k])) < 0)
                return rc;
            pop(c, n3);
        }
        json_t *text = json_array_get(v, 5);
        n3 = push_index(c, 5);
        if (!json_is_string(text))
            return fail(c, EL_EFORMAT, "must be a string, not %s", type_name(text));
        struct el_err e;
        rc = el_hist_decode(scratch, json_string_value(text), json_string_length(text), &e);
        if (rc == EL_EINVAL)
            return fail(c, EL_EFORMAT,
                        "histogram configuration differs from "
                        "timeline.histogram_config");
        if (rc < 0)
            return fail(c, EL_EFORMAT, "bad histogram encoding at offset %zu: %s", e.offset, e.msg);
        struct el_hist_iter it;
        el_hist_iter_init(&it, scratch);
        while (el_hist_iter_next(&it))
            el__rs_second_add(s, it.lowest_us, it.count);
        pop(c, n3);
        if (ncols == 7) {
            n3 = push_index(c, 6);
            if ((rc = uint_value(c, json_array_get(v, 6), s->errors, &s->throttled)) < 0)
                return rc;
            pop(c, n3);
        }
        pop(c, n2);
    }
    pop(c, n1);
    pop(c, n0);
    return 0;
}

static int read_meta(struct rctx *c, const json_t *root, struct el_results_meta *m)
{
    static const char *const strs[] = {"tool_version", "scenario", "scenario_file", "target"};
    const char **dst[] = {&m->tool_version, &m->scenario, &m->scenario_file, &m->target};
    int rc;
    for (size_t i = 0; i < 4; i++) {
        json_t *v;
        if ((rc = field(c, root, strs[i], JSON_STRING, true, &v)) < 0)
            return rc;
        *dst[i] = json_is_string(v) ? json_string_value(v) : NULL;
    }
    json_t *v;
    uint64_t x;
    for (int i = 0; i < 2; i++) {
        const char *key = i == 0 ? "start_unix_us" : "end_unix_us";
        if ((rc = field(c, root, key, JSON_INTEGER, false, &v)) < 0)
            return rc;
        *(i == 0 ? &m->start_unix_us : &m->end_unix_us) = json_integer_value(v);
    }
    if ((rc = uint_field(c, root, "devices", UINT32_MAX, &x)) < 0)
        return rc;
    m->devices = (uint32_t)x;
    if ((rc = uint_field(c, root, "shard", UINT32_MAX, &x)) < 0)
        return rc;
    m->shard = (uint32_t)x;
    if ((rc = uint_field(c, root, "shards", UINT32_MAX, &x)) < 0)
        return rc;
    m->shards = (uint32_t)x;
    return field(c, root, "config", JSON_OBJECT, true, &v);
}

/* Makes m own its strings (they pointed into the JSON tree): strdup'd, released by
 * el_results_meta_clear. */
static int copy_meta(struct el_results_meta *m, const json_t *root, struct el_err *err)
{
    const char **strs[] = {&m->tool_version, &m->scenario, &m->scenario_file, &m->target};
    const char *from[4];
    for (size_t i = 0; i < 4; i++) {
        from[i] = *strs[i];
        *strs[i] = NULL;
    }
    m->config_json = NULL;
    for (size_t i = 0; i < 4; i++) {
        if (from[i] != NULL && (*strs[i] = strdup(from[i])) == NULL)
            return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "results.json: out of memory");
    }
    json_t *config = json_object_get(root, "config");
    if (json_is_object(config)) {
        m->config_json = json_dumps(config, JSON_COMPACT | JSON_REAL_PRECISION(17));
        if (m->config_json == NULL)
            return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "results.json: out of memory");
    }
    return 0;
}

void el_results_meta_clear(struct el_results_meta *m)
{
    free((char *)m->tool_version);
    free((char *)m->scenario);
    free((char *)m->scenario_file);
    free((char *)m->target);
    free((char *)m->config_json);
    memset(m, 0, sizeof(*m));
}

int el_results_read_json(const char *path, struct el_results **out,
                         struct el_results_meta *meta_out, struct el_err *err)
{
    struct rctx c = {.file = path, .err = err};
    struct el_results_meta meta;
    memset(&meta, 0, sizeof(meta));
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        if (je.line < 0)
            return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: %s", path, je.text);
        return EL_ERR(err, EL_EFORMAT, (size_t)je.position, "%s: line %d column %d: %s", path,
                      je.line, je.column, je.text);
    }
    int rc = 0;
    if (!json_is_object(root)) {
        rc = fail(&c, EL_EFORMAT, "must be an object, not %s", type_name(root));
        goto fail;
    }
    json_t *schema;
    if ((rc = field(&c, root, "schema", JSON_STRING, false, &schema)) < 0)
        goto fail;
    if (strcmp(json_string_value(schema), EL_RESULTS_SCHEMA) != 0) {
        size_t n = push_key(&c, "schema");
        rc = fail(&c, EL_EFORMAT, "unsupported schema '%s' (this easload reads '%s')",
                  json_string_value(schema), EL_RESULTS_SCHEMA);
        pop(&c, n);
        goto fail;
    }
    if ((rc = el_results_new(&c.r, err)) < 0)
        goto fail;
    if ((rc = read_meta(&c, root, &meta)) < 0 || (rc = hist_config(&c, root, &c.r->hist_cfg)) < 0)
        goto fail;
    if ((rc = read_commands(&c, root)) < 0 || (rc = read_values(&c, root)) < 0 ||
        (rc = read_counters_checks(&c, root)) < 0 || (rc = read_thresholds(&c, root)) < 0 ||
        (rc = read_devices(&c, root)) < 0 || (rc = read_timeline(&c, root)) < 0)
        goto fail;
    if (meta_out != NULL) {
        if ((rc = copy_meta(&meta, root, err)) < 0) {
            el_results_meta_clear(&meta);
            goto fail;
        }
        *meta_out = meta;
    }
    json_decref(root);
    *out = c.r;
    return 0;
fail:
    el_results_free(c.r);
    json_decref(root);
    return rc;
}
