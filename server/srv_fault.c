/* srv_fault.c - the fault SPEC parser, the set of active faults and the deterministic draw of
 * srv_fault.h (issue 8).
 * Owns: struct el_srv_faults (entries in a fixed array, counters). Uses: srv.h (command names),
 * core/error.h, core/buf.h. Thread safety: one mutex per set, held for a draw (a loop over at
 * most EL_SRV_FAULTS_MAX entries); no global state. */
#include "srv_fault.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "srv.h"

#define ALL_CMDS ((1u << EL_SRV_CMD_MAX) - 1u)

static const char *const kind_names[EL_SRV_FAULT_KINDS] = {
    "latency",  "http500",   "http503", "http507", "drop",     "cut",
    "truncate", "malformed", "trickle", "vanish",  "resetkey",
};

const char *el_srv_fault_kind_name(int kind)
{
    return kind >= 0 && kind < EL_SRV_FAULT_KINDS ? kind_names[kind] : NULL;
}

/* ---- parser ---------------------------------------------------------------------------------- */

/* Unsigned decimal at *p (at least one digit, at most max); advances *p. 0 or -1. */
static int parse_uint(const char **p, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max)
            return -1;
    }
    *p = s;
    *out = v;
    return 0;
}

/* A duration: N "ms" or N "s" (a bare N is refused: say the unit). Milliseconds out. */
static int parse_dur(const char **p, uint64_t max_ms, uint64_t *out_ms)
{
    uint64_t v;
    if (parse_uint(p, max_ms, &v) < 0)
        return -1;
    if (strncmp(*p, "ms", 2) == 0) {
        *p += 2;
    } else if (**p == 's') {
        *p += 1;
        if (v > max_ms / 1000)
            return -1;
        v *= 1000;
    } else {
        return -1;
    }
    *out_ms = v;
    return 0;
}

/* P '%' with up to 4 decimals -> parts per million. */
static int parse_percent(const char **p, uint32_t *ppm)
{
    uint64_t whole;
    if (parse_uint(p, 100, &whole) < 0)
        return -1;
    uint64_t frac = 0;
    int digits = 0;
    if (**p == '.') {
        (*p)++;
        while (**p >= '0' && **p <= '9') {
            if (++digits > 4)
                return -1;
            frac = frac * 10 + (uint64_t)(**p - '0');
            (*p)++;
        }
        if (digits == 0)
            return -1;
    }
    for (int i = digits; i < 4; i++)
        frac *= 10;
    if (**p != '%')
        return -1;
    (*p)++;
    uint64_t v = whole * 10000 + frac; /* 1/10000 of a percent = 1 ppm */
    if (v == 0 || v > 1000000)
        return -1;
    *ppm = (uint32_t)v;
    return 0;
}

#define FAIL(spec, pos, ...) EL_ERR(err, EL_EINVAL, (size_t)((pos) - (spec)), __VA_ARGS__)

int el_srv_fault_parse(const char *spec, struct el_srv_fault *out, struct el_err *err)
{
    memset(out, 0, sizeof(*out));
    out->kind = -1;
    if (spec == NULL || spec[0] == '\0')
        return EL_ERR(err, EL_EINVAL, 0, "fault: empty SPEC (e.g. sync:drop@5%%)");
    size_t slen = strnlen(spec, EL_SRV_FAULT_SPEC_MAX + 1);
    if (slen > EL_SRV_FAULT_SPEC_MAX)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "fault: SPEC longer than %d bytes",
                      EL_SRV_FAULT_SPEC_MAX);
    for (size_t i = 0; i < slen; i++)
        if ((unsigned char)spec[i] <= ' ' || (unsigned char)spec[i] >= 0x7F)
            return EL_ERR(err, EL_EINVAL, i, "fault '%.*s': byte %zu: blank or non-ASCII", (int)i,
                          spec, i);

    /* COMMANDS */
    const char *p = spec;
    const char *colon = strchr(p, ':');
    if (colon == NULL)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "fault '%s': expected COMMANDS:ACTION[@WHEN] (e.g. sync:drop@5%%)", spec);
    if ((size_t)(colon - p) == 3 && strncasecmp(p, "all", 3) == 0) {
        out->cmds = ALL_CMDS;
    } else {
        while (p < colon) {
            const char *e = p;
            while (e < colon && *e != '+')
                e++;
            int cmd = el_srv_cmd_lookup(p, (size_t)(e - p));
            if (cmd < 0)
                return FAIL(spec, p,
                            "fault '%s': byte %zu: unknown command '%.*s' (all, sync, "
                            "ping, foldersync, sendmail, ...)",
                            spec, (size_t)(p - spec), (int)(e - p), p);
            out->cmds |= 1u << cmd;
            p = e < colon ? e + 1 : e;
            if (e < colon && p == colon)
                return FAIL(spec, p, "fault '%s': byte %zu: command name missing after '+'", spec,
                            (size_t)(p - spec));
        }
        if (out->cmds == 0)
            return FAIL(spec, p, "fault '%s': no command before ':'", spec);
    }
    p = colon + 1;

    /* ACTION */
    const char *a = p;
    while (*p && *p != '=' && *p != '@')
        p++;
    size_t alen = (size_t)(p - a);
    for (int k = 0; k < EL_SRV_FAULT_KINDS; k++)
        if (strlen(kind_names[k]) == alen && strncasecmp(a, kind_names[k], alen) == 0)
            out->kind = k;
    if (out->kind < 0)
        return FAIL(spec, a,
                    "fault '%s': byte %zu: unknown action '%.*s' (latency=DUR, http500, "
                    "http503[=S], http507, drop, cut, truncate, malformed, trickle[=DUR], "
                    "vanish[=N], resetkey)",
                    spec, (size_t)(a - spec), (int)alen, a);
    int has_value = *p == '=';
    if (has_value)
        p++;
    const char *v = p;
    uint64_t n = 0;
    switch (out->kind) {
    case EL_SRV_FAULT_LATENCY:
        if (!has_value || parse_dur(&p, 600000, &n) < 0 || n == 0)
            return FAIL(spec, v,
                        "fault '%s': byte %zu: latency needs =DUR, 1ms-600s (2000ms, "
                        "2s)",
                        spec, (size_t)(v - spec));
        out->value = (unsigned)n;
        break;
    case EL_SRV_FAULT_TRICKLE:
        n = 200;
        if (has_value && (parse_dur(&p, 60000, &n) < 0 || n == 0))
            return FAIL(spec, v, "fault '%s': byte %zu: trickle=DUR, 1ms-60s between chunks", spec,
                        (size_t)(v - spec));
        out->value = (unsigned)n;
        break;
    case EL_SRV_FAULT_HTTP503:
        if (has_value && parse_uint(&p, 86400, &n) < 0)
            return FAIL(spec, v, "fault '%s': byte %zu: http503=SECONDS (Retry-After, 0-86400)",
                        spec, (size_t)(v - spec));
        out->value = (unsigned)n;
        break;
    case EL_SRV_FAULT_VANISH:
        n = 1;
        if (has_value && (parse_uint(&p, 1000, &n) < 0 || n == 0))
            return FAIL(spec, v, "fault '%s': byte %zu: vanish=N, 1-1000 items", spec,
                        (size_t)(v - spec));
        out->value = (unsigned)n;
        break;
    default:
        if (has_value)
            return FAIL(spec, v, "fault '%s': byte %zu: %s takes no value", spec,
                        (size_t)(v - spec), kind_names[out->kind]);
        break;
    }
    if (*p != '\0' && *p != '@')
        return FAIL(spec, p, "fault '%s': byte %zu: unexpected '%c' after the action", spec,
                    (size_t)(p - spec), *p);

    /* WHEN */
    out->when = EL_SRV_WHEN_ALWAYS;
    if (*p == '@') {
        p++;
        const char *w = p;
        if (strncasecmp(p, "every", 5) == 0) {
            p += 5;
            if (parse_uint(&p, UINT32_MAX, &out->every) < 0 || out->every == 0)
                return FAIL(spec, w, "fault '%s': byte %zu: everyN needs N >= 1", spec,
                            (size_t)(w - spec));
            out->when = EL_SRV_WHEN_EVERY;
        } else if (strchr(p, '%') != NULL) {
            if (parse_percent(&p, &out->ppm) < 0)
                return FAIL(spec, w,
                            "fault '%s': byte %zu: probability P%% with 0 < P <= 100 and at most 4 "
                            "decimals (5%%, 0.25%%)",
                            spec, (size_t)(w - spec));
            out->when = EL_SRV_WHEN_PROB;
            if (out->ppm == 1000000) { /* 100%: the same as no WHEN */
                out->when = EL_SRV_WHEN_ALWAYS;
                out->ppm = 0;
            }
        } else {
            const uint64_t max = 365ull * 86400 * 1000;
            if (parse_dur(&p, max, &out->from_ms) < 0 || *p != '-' ||
                (p++, parse_dur(&p, max, &out->to_ms) < 0) || out->to_ms <= out->from_ms)
                return FAIL(
                    spec, w,
                    "fault '%s': byte %zu: WHEN is P%%, everyN or a window FROM-TO (10s-30s, "
                    "500ms-2s) with TO > FROM",
                    spec, (size_t)(w - spec));
            out->when = EL_SRV_WHEN_WINDOW;
        }
        if (*p != '\0')
            return FAIL(spec, p, "fault '%s': byte %zu: unexpected '%c' after WHEN", spec,
                        (size_t)(p - spec), *p);
    }
    return 0;
}

#undef FAIL

/* Appends s to out[cap] at *o (stops at the cap; out stays NUL-terminated). */
static void app(char *out, size_t cap, size_t *o, const char *s)
{
    while (*s && *o + 1 < cap)
        out[(*o)++] = *s++;
    out[*o < cap ? *o : cap - 1] = '\0';
}

static void app_num(char *out, size_t cap, size_t *o, const char *prefix, unsigned long long v)
{
    char num[24];
    snprintf(num, sizeof(num), "%llu", v);
    app(out, cap, o, prefix);
    app(out, cap, o, num);
}

static void app_dur(char *out, size_t cap, size_t *o, uint64_t ms)
{
    if (ms % 1000 == 0) {
        app_num(out, cap, o, "", ms / 1000);
        app(out, cap, o, "s");
    } else {
        app_num(out, cap, o, "", ms);
        app(out, cap, o, "ms");
    }
}

char *el_srv_fault_format(const struct el_srv_fault *f, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return out;
    out[0] = '\0';
    if ((f->cmds & ALL_CMDS) == ALL_CMDS) {
        app(out, cap, &o, "all");
    } else {
        int first = 1;
        for (int c = 0; c < EL_SRV_CMD_MAX; c++) {
            const char *name = el_srv_cmd_name(c);
            if (!(f->cmds & (1u << c)) || name == NULL)
                continue;
            if (!first)
                app(out, cap, &o, "+");
            for (; *name && o + 1 < cap; name++)
                out[o++] = (char)(*name >= 'A' && *name <= 'Z' ? *name + 32 : *name);
            out[o] = '\0';
            first = 0;
        }
    }
    const char *name = el_srv_fault_kind_name(f->kind);
    app(out, cap, &o, ":");
    app(out, cap, &o, name ? name : "?");
    switch (f->kind) {
    case EL_SRV_FAULT_LATENCY:
    case EL_SRV_FAULT_TRICKLE:
        app(out, cap, &o, "=");
        app_dur(out, cap, &o, f->value);
        break;
    case EL_SRV_FAULT_HTTP503:
        if (f->value)
            app_num(out, cap, &o, "=", f->value);
        break;
    case EL_SRV_FAULT_VANISH:
        app_num(out, cap, &o, "=", f->value);
        break;
    default:
        break;
    }
    switch (f->when) {
    case EL_SRV_WHEN_PROB: {
        unsigned frac = f->ppm % 10000, digits = 4;
        while (frac && frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        app_num(out, cap, &o, "@", f->ppm / 10000);
        if (frac) {
            char dec[8];
            snprintf(dec, sizeof(dec), ".%0*u", (int)digits, frac % 10000);
            app(out, cap, &o, dec);
        }
        app(out, cap, &o, "%");
        break;
    }
    case EL_SRV_WHEN_EVERY:
        app_num(out, cap, &o, "@every", f->every);
        break;
    case EL_SRV_WHEN_WINDOW:
        app(out, cap, &o, "@");
        app_dur(out, cap, &o, f->from_ms);
        app(out, cap, &o, "-");
        app_dur(out, cap, &o, f->to_ms);
        break;
    default:
        break;
    }
    return out;
}

/* ---- the set --------------------------------------------------------------------------------- */

struct entry {
    struct el_srv_fault f;
    uint64_t added_ms;
    uint64_t salt; /* from the seed and the entry's serial number */
    uint64_t matched, fired;
};

struct el_srv_faults {
    pthread_mutex_t mu;
    uint64_t seed;
    uint64_t serial; /* entries ever added: salts never repeat after a clear */
    unsigned n;
    struct entry e[EL_SRV_FAULTS_MAX];
    uint64_t applied[EL_SRV_FAULT_KINDS];
};

static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

int el_srv_faults_new(uint64_t seed, struct el_srv_faults **out)
{
    *out = NULL;
    struct el_srv_faults *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return EL_ENOMEM;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return EL_ENOMEM;
    }
    s->seed = seed;
    *out = s;
    return 0;
}

void el_srv_faults_free(struct el_srv_faults *s)
{
    if (s == NULL)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int el_srv_faults_add(struct el_srv_faults *s, const struct el_srv_fault *f, uint64_t now_ms,
                      struct el_err *err)
{
    pthread_mutex_lock(&s->mu);
    if (s->n == EL_SRV_FAULTS_MAX) {
        pthread_mutex_unlock(&s->mu);
        return EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET, "fault: at most %d faults at once",
                      EL_SRV_FAULTS_MAX);
    }
    struct entry *e = &s->e[s->n++];
    memset(e, 0, sizeof(*e));
    e->f = *f;
    e->added_ms = now_ms;
    e->salt = mix64(s->seed ^ mix64(++s->serial));
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void el_srv_faults_clear(struct el_srv_faults *s)
{
    pthread_mutex_lock(&s->mu);
    s->n = 0;
    pthread_mutex_unlock(&s->mu);
}

unsigned el_srv_faults_count(struct el_srv_faults *s)
{
    pthread_mutex_lock(&s->mu);
    unsigned n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void el_srv_faults_draw(struct el_srv_faults *s, int cmd, uint64_t now_ms, struct el_srv_fx *fx)
{
    memset(fx, 0, sizeof(*fx));
    fx->action = -1;
    if (cmd < 0 || cmd >= EL_SRV_CMD_MAX)
        return;
    pthread_mutex_lock(&s->mu);
    for (unsigned i = 0; i < s->n; i++) {
        struct entry *e = &s->e[i];
        if (!(e->f.cmds & (1u << cmd)))
            continue;
        uint64_t n = ++e->matched;
        uint64_t r = mix64(e->salt ^ n);
        int fire = 0;
        switch (e->f.when) {
        case EL_SRV_WHEN_PROB:
            fire = r % 1000000u < e->f.ppm;
            break;
        case EL_SRV_WHEN_EVERY:
            fire = n % e->f.every == 0;
            break;
        case EL_SRV_WHEN_WINDOW: {
            uint64_t t = now_ms >= e->added_ms ? now_ms - e->added_ms : 0;
            fire = t >= e->f.from_ms && t < e->f.to_ms;
            break;
        }
        default:
            fire = 1;
            break;
        }
        if (!fire)
            continue;
        e->fired++;
        switch (e->f.kind) {
        case EL_SRV_FAULT_LATENCY:
            fx->latency_ms += e->f.value;
            if (fx->latency_ms > 600000)
                fx->latency_ms = 600000;
            break;
        case EL_SRV_FAULT_VANISH:
            if (e->f.value > fx->vanish)
                fx->vanish = e->f.value;
            break;
        case EL_SRV_FAULT_RESETKEY:
            fx->resetkey = 1;
            break;
        default:
            if (fx->action < 0) {
                fx->action = e->f.kind;
                fx->action_value = e->f.value;
                fx->rnd = mix64(r);
            }
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

void el_srv_faults_note(struct el_srv_faults *s, int kind)
{
    if (kind < 0 || kind >= EL_SRV_FAULT_KINDS)
        return;
    pthread_mutex_lock(&s->mu);
    s->applied[kind]++;
    pthread_mutex_unlock(&s->mu);
}

void el_srv_faults_counts(struct el_srv_faults *s, uint64_t out[EL_SRV_FAULT_KINDS])
{
    pthread_mutex_lock(&s->mu);
    memcpy(out, s->applied, sizeof(s->applied));
    pthread_mutex_unlock(&s->mu);
}

int el_srv_faults_json(struct el_srv_faults *s, struct el_buf *out)
{
    pthread_mutex_lock(&s->mu);
    int rc = el_buf_putc(out, '[');
    for (unsigned i = 0; i < s->n && rc == 0; i++) {
        char spec[EL_SRV_FAULT_SPEC_MAX + 32], line[EL_SRV_FAULT_SPEC_MAX + 128];
        el_srv_fault_format(&s->e[i].f, spec, sizeof(spec));
        /* a formatted SPEC has no quote or backslash (the parser refuses neither, but
         * format only writes names, digits and punctuation from a fixed set) */
        int n = snprintf(line, sizeof(line), "%s{\"spec\":\"%s\",\"matched\":%llu,\"fired\":%llu}",
                         i ? "," : "", spec, (unsigned long long)s->e[i].matched,
                         (unsigned long long)s->e[i].fired);
        if (n < 0 || (size_t)n >= sizeof(line))
            rc = EL_ELIMIT;
        else
            rc = el_buf_append(out, line, (size_t)n);
    }
    if (rc == 0)
        rc = el_buf_putc(out, ']');
    pthread_mutex_unlock(&s->mu);
    return rc;
}
