/* results.c - the results store: interned names, per (command, outcome) histograms created on
 * first use, counters, checks, per-device byte totals; recording and live totals.
 * Owns: every array of struct el_results (results_int.h). Uses: hist.h, results_timeline.c.
 * Recording allocates only when a name, series, device or second is seen for the first time. */
#include "results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results_int.h"

/* --- allocation ------------------------------------------------------------------------------ */

_Noreturn void el__rs_oom(const char *what)
{
    fprintf(stderr, "easload: fatal: out of memory (results: %s)\n", what);
    abort();
}

void el__rs_grow(void **arr, uint32_t *cap, uint32_t n, size_t size, const char *what)
{
    if (n < *cap)
        return;
    uint32_t ncap = *cap ? *cap * 2 : 8;
    while (ncap <= n)
        ncap *= 2;
    void *p = realloc(*arr, (size_t)ncap * size);
    if (p == NULL)
        el__rs_oom(what);
    memset((char *)p + (size_t)*cap * size, 0, (size_t)(ncap - *cap) * size);
    *arr = p;
    *cap = ncap;
}

/* --- names ----------------------------------------------------------------------------------- */

static uint32_t hash_name(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

/* Copies s into buf (EL__RS_NAME_MAX_BYTES): cut to fit, bytes that are not printable ASCII
 * become '_' (names are ASCII, so every writer prints them as they are). Returns the length. */
static size_t clean_name(const char *s, char *buf)
{
    size_t n = 0;
    for (; s[n] != '\0' && n < EL__RS_NAME_MAX_BYTES - 1; n++) {
        unsigned char c = (unsigned char)s[n];
        buf[n] = (c < 0x20 || c >= 0x7f) ? '_' : (char)c;
    }
    buf[n] = '\0';
    return n;
}

/* Slot of s in the open-addressing table: its own, or the empty one where it would go. */
static uint32_t find_slot(const struct el__rs_names *t, const char *s, size_t n)
{
    uint32_t mask = t->nslots - 1;
    uint32_t i = hash_name(s, n) & mask;
    for (;;) {
        uint32_t v = t->slots[i];
        if (v == 0)
            return i;
        const char *have = t->str[v - 1];
        if (strncmp(have, s, n) == 0 && have[n] == '\0')
            return i;
        i = (i + 1) & mask;
    }
}

static void rehash(struct el__rs_names *t)
{
    uint32_t nslots = t->nslots ? t->nslots * 2 : 64;
    uint32_t *slots = calloc(nslots, sizeof(*slots));
    if (slots == NULL)
        el__rs_oom("name table");
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    for (uint32_t k = 0; k < t->n; k++) {
        const char *s = t->str[k];
        t->slots[find_slot(t, s, strlen(s))] = k + 1;
    }
}

uint32_t el__rs_lookup(const struct el_results *r, const char *s)
{
    const struct el__rs_names *t = &r->names;
    if (t->nslots == 0)
        return EL__RS_NONE;
    char buf[EL__RS_NAME_MAX_BYTES];
    size_t n = clean_name(s, buf);
    uint32_t v = t->slots[find_slot(t, buf, n)];
    return v == 0 ? EL__RS_NONE : v - 1;
}

uint32_t el__rs_intern(struct el_results *r, const char *s)
{
    struct el__rs_names *t = &r->names;
    char buf[EL__RS_NAME_MAX_BYTES];
    size_t n = clean_name(s ? s : "", buf);
    if (t->nslots == 0 || 2 * (t->n + 1) >= t->nslots)
        rehash(t);
    uint32_t i = find_slot(t, buf, n);
    if (t->slots[i] != 0)
        return t->slots[i] - 1;
    if (t->n >= EL__RS_NAMES_MAX)
        return el__rs_lookup(r, "other"); /* interned first by el_results_new */
    el__rs_grow((void **)&t->str, &t->cap, t->n, sizeof(*t->str), "names");
    char *copy = malloc(n + 1);
    if (copy == NULL)
        el__rs_oom("name");
    memcpy(copy, buf, n + 1);
    t->str[t->n] = copy;
    t->slots[i] = t->n + 1;
    return t->n++;
}

bool el__rs_outcome_is_error(const char *outcome)
{
    static const char *const not_errors[] = {"ok", "canceled", "wipe"};
    for (size_t i = 0; i < sizeof(not_errors) / sizeof(not_errors[0]); i++)
        if (strcmp(outcome, not_errors[i]) == 0)
            return false;
    return true;
}

/* --- lifetime -------------------------------------------------------------------------------- */

int el_results_new(struct el_results **out, struct el_err *err)
{
    struct el_results *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "results: out of memory");
    r->hist_cfg = el_hist_config_default();
    r->timeline_cfg = el_hist_config_default();
    r->timeline_cfg.sig_figs = EL__RS_TIMELINE_SIG_FIGS;
    int rc = el_hist_new(&r->timeline_cfg, &r->timeline_scratch, err);
    if (rc < 0) {
        free(r);
        return rc;
    }
    r->timeline_throttled = true;
    /* Reserve "other" so a full name table always has somewhere to count. */
    el__rs_intern(r, "other");
    *out = r;
    return 0;
}

void el_results_free(struct el_results *r)
{
    if (r == NULL)
        return;
    for (uint32_t i = 0; i < r->n_series; i++)
        el_hist_free(r->series[i].hist);
    free(r->series);
    for (uint32_t i = 0; i < r->names.n; i++)
        free(r->names.str[i]);
    free(r->names.str);
    free(r->names.slots);
    free(r->counters);
    free(r->checks);
    free(r->devices);
    free(r->device_slots);
    el__rs_timeline_free(r);
    free(r->thresholds);
    free(r->threshold_results);
    el_hist_free(r->timeline_scratch);
    free(r);
}

/* --- series, counters, checks, devices ------------------------------------------------------ */

struct el__rs_series *el__rs_series_get(struct el_results *r, enum el__rs_kind kind, uint32_t cmd,
                                        uint32_t outcome)
{
    for (uint32_t i = 0; i < r->n_series; i++) {
        struct el__rs_series *s = &r->series[i];
        if (s->kind == kind && s->cmd == cmd && s->outcome == outcome)
            return s;
    }
    /* Past the cap everything lands in the overflow series ("other", "other") or "other". */
    uint32_t other = el__rs_lookup(r, "other");
    uint32_t other_outcome = kind == EL__RS_VALUE ? EL__RS_NONE : other;
    if (r->n_series >= EL__RS_SERIES_MAX - 2 && (cmd != other || outcome != other_outcome))
        return el__rs_series_get(r, kind, other, other_outcome);
    el__rs_grow((void **)&r->series, &r->cap_series, r->n_series, sizeof(*r->series), "series");
    struct el__rs_series *s = &r->series[r->n_series];
    memset(s, 0, sizeof(*s));
    if (el_hist_new(&r->hist_cfg, &s->hist, NULL) < 0)
        el__rs_oom("histogram");
    s->kind = kind;
    s->cmd = cmd;
    s->outcome = outcome;
    s->error = kind == EL__RS_REQUEST && el__rs_outcome_is_error(el__rs_name(r, outcome));
    s->throttled = kind == EL__RS_REQUEST && strcmp(el__rs_name(r, outcome), "throttled") == 0;
    r->n_series++;
    return s;
}

struct el__rs_counter *el__rs_counter_get(struct el_results *r, uint32_t name)
{
    for (uint32_t i = 0; i < r->n_counters; i++)
        if (r->counters[i].name == name)
            return &r->counters[i];
    el__rs_grow((void **)&r->counters, &r->cap_counters, r->n_counters, sizeof(*r->counters),
                "counters");
    struct el__rs_counter *c = &r->counters[r->n_counters++];
    c->name = name;
    c->n = 0;
    return c;
}

struct el__rs_check *el__rs_check_get(struct el_results *r, uint32_t name)
{
    for (uint32_t i = 0; i < r->n_checks; i++)
        if (r->checks[i].name == name)
            return &r->checks[i];
    el__rs_grow((void **)&r->checks, &r->cap_checks, r->n_checks, sizeof(*r->checks), "checks");
    struct el__rs_check *c = &r->checks[r->n_checks++];
    memset(c, 0, sizeof(*c));
    c->name = name;
    return c;
}

static uint32_t device_hash(uint32_t id)
{
    uint32_t h = id * 2654435761u;
    return h ^ (h >> 16);
}

static void device_rehash(struct el_results *r)
{
    uint32_t n = r->n_device_slots ? r->n_device_slots * 2 : 256;
    uint32_t *slots = calloc(n, sizeof(*slots));
    if (slots == NULL)
        el__rs_oom("device table");
    free(r->device_slots);
    r->device_slots = slots;
    r->n_device_slots = n;
    for (uint32_t k = 0; k < r->n_devices; k++) {
        uint32_t i = device_hash(r->devices[k].id) & (n - 1);
        while (slots[i] != 0)
            i = (i + 1) & (n - 1);
        slots[i] = k + 1;
    }
}

struct el__rs_device *el__rs_device_get(struct el_results *r, uint32_t id)
{
    if (r->n_device_slots == 0 || 2 * (r->n_devices + 1) >= r->n_device_slots)
        device_rehash(r);
    uint32_t mask = r->n_device_slots - 1;
    uint32_t i = device_hash(id) & mask;
    while (r->device_slots[i] != 0) {
        struct el__rs_device *d = &r->devices[r->device_slots[i] - 1];
        if (d->id == id)
            return d;
        i = (i + 1) & mask;
    }
    el__rs_grow((void **)&r->devices, &r->cap_devices, r->n_devices, sizeof(*r->devices),
                "devices");
    struct el__rs_device *d = &r->devices[r->n_devices];
    memset(d, 0, sizeof(*d));
    d->id = id;
    r->device_slots[i] = ++r->n_devices;
    return d;
}

/* --- recording ------------------------------------------------------------------------------- */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void el_results_record(struct el_results *r, const char *cmd, const char *outcome,
                       int64_t latency_us, uint64_t bytes_out, uint64_t bytes_in,
                       int64_t start_unix_us, int late)
{
    uint32_t c = el__rs_intern(r, cmd);
    uint32_t o = el__rs_intern(r, outcome);
    struct el__rs_series *s = el__rs_series_get(r, EL__RS_REQUEST, c, o);
    if (s == NULL)
        return;
    el_hist_record(s->hist, latency_us);
    s->bytes_in = sat_add(s->bytes_in, bytes_in);
    s->bytes_out = sat_add(s->bytes_out, bytes_out);
    if (late)
        s->late++;
    el__rs_timeline_record(r, start_unix_us, latency_us, s->error, s->throttled, bytes_out,
                           bytes_in);
}

void el_results_count(struct el_results *r, const char *counter, uint64_t n)
{
    struct el__rs_counter *c = el__rs_counter_get(r, el__rs_intern(r, counter));
    c->n = sat_add(c->n, n);
}

void el_results_record_value(struct el_results *r, const char *name, int64_t value_us)
{
    struct el__rs_series *s =
        el__rs_series_get(r, EL__RS_VALUE, el__rs_intern(r, name), EL__RS_NONE);
    if (s != NULL)
        el_hist_record(s->hist, value_us);
}

void el_results_check(struct el_results *r, const char *name, int passed)
{
    struct el__rs_check *c = el__rs_check_get(r, el__rs_intern(r, name));
    if (passed)
        c->passed++;
    else
        c->failed++;
}

void el_results_device_bytes(struct el_results *r, uint32_t device, uint64_t bytes_in,
                             uint64_t bytes_out, uint32_t syncs)
{
    struct el__rs_device *d = el__rs_device_get(r, device);
    d->bytes_in = sat_add(d->bytes_in, bytes_in);
    d->bytes_out = sat_add(d->bytes_out, bytes_out);
    d->syncs = d->syncs > UINT32_MAX - syncs ? UINT32_MAX : d->syncs + syncs;
}

void el_results_totals(const struct el_results *r, uint64_t *requests, uint64_t *errors,
                       int64_t *p99_us)
{
    struct el__rs_stats st = {0};
    int64_t p99 = 0;
    struct el_hist *h = NULL;
    if (el_hist_new(&r->hist_cfg, &h, NULL) < 0)
        el__rs_oom("histogram");
    el__rs_collect(r, EL__RS_NONE, EL__RS_NONE, h, &st);
    p99 = el_hist_value_at_percentile(h, 99.0);
    el_hist_free(h);
    if (requests)
        *requests = st.requests;
    if (errors)
        *errors = st.errors;
    if (p99_us)
        *p99_us = p99;
}

/* --- sorted views for the writers ------------------------------------------------------------ */

struct sort_ctx {
    const struct el_results *r;
};

static int cmp_ids(const void *a, const void *b, void *arg)
{
    const struct sort_ctx *ctx = arg;
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    return strcmp(el__rs_name(ctx->r, x), el__rs_name(ctx->r, y));
}

static void add_unique(uint32_t *ids, uint32_t *n, uint32_t id)
{
    for (uint32_t i = 0; i < *n; i++)
        if (ids[i] == id)
            return;
    ids[(*n)++] = id;
}

uint32_t *el__rs_sorted_names(const struct el_results *r, int which, uint32_t *n)
{
    uint32_t cap = r->n_series + r->n_counters + r->n_checks + 1;
    uint32_t *ids = malloc(cap * sizeof(*ids));
    if (ids == NULL)
        el__rs_oom("sort");
    *n = 0;
    for (uint32_t i = 0; which <= EL__RS_VALUES && i < r->n_series; i++) {
        const struct el__rs_series *s = &r->series[i];
        if (which == EL__RS_COMMANDS && s->kind == EL__RS_REQUEST)
            add_unique(ids, n, s->cmd);
        else if (which == EL__RS_OUTCOMES && s->kind == EL__RS_REQUEST)
            add_unique(ids, n, s->outcome);
        else if (which == EL__RS_VALUES && s->kind == EL__RS_VALUE)
            add_unique(ids, n, s->cmd);
    }
    for (uint32_t i = 0; which == EL__RS_COUNTERS && i < r->n_counters; i++)
        ids[(*n)++] = r->counters[i].name;
    for (uint32_t i = 0; which == EL__RS_CHECKS && i < r->n_checks; i++)
        ids[(*n)++] = r->checks[i].name;
    struct sort_ctx ctx = {r};
    qsort_r(ids, *n, sizeof(*ids), cmp_ids, &ctx);
    return ids;
}

static int cmp_devices(const void *a, const void *b, void *arg)
{
    const struct el_results *r = arg;
    uint32_t x = r->devices[*(const uint32_t *)a].id;
    uint32_t y = r->devices[*(const uint32_t *)b].id;
    return x < y ? -1 : x > y;
}

uint32_t *el__rs_sorted_devices(const struct el_results *r)
{
    uint32_t *idx = malloc(((size_t)r->n_devices + 1) * sizeof(*idx));
    if (idx == NULL)
        el__rs_oom("sort");
    for (uint32_t i = 0; i < r->n_devices; i++)
        idx[i] = i;
    qsort_r(idx, r->n_devices, sizeof(*idx), cmp_devices, (void *)r);
    return idx;
}
