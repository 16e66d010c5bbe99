/* srv_limits.c - per-user concurrency, token-bucket budgets and 451 redirects of srv_limits.h.
 * Owns: the per-user table and every redirect URL (malloc'd copies). Uses: core/error.h.
 * Thread safety: one mutex over everything; each call holds it for O(1) work. */
#include "srv_limits.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EAS_PATH "/Microsoft-Server-ActiveSync"

struct ustate {
    unsigned inflight;
    double tokens;    /* budget bucket */
    uint64_t last_ms; /* when tokens was computed; 0 = full, never used */
    char *redirect;   /* owned, NULL = none */
};

struct el_srv_limits {
    pthread_mutex_t mu;
    struct el_srv_limits_config cfg; /* cfg.redirect unused: all_redirect */
    char *all_redirect;              /* owned, NULL = none */
    uint32_t nusers;
    struct ustate *u; /* owned array */
    uint64_t counts[4];
};

static int check_cfg(const struct el_srv_limits_config *cfg, struct el_err *err)
{
    if (cfg->budget && (cfg->budget_window_s == 0 || cfg->budget_window_s > 86400))
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "budget window must be 1..86400 s");
    if (cfg->retry_after_s > 86400)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "retry_after must be 0..86400 s");
    return 0;
}

/* A checked copy of url with the EAS path added when it has none; NULL with err on failure. */
static char *url_copy(const char *url, struct el_err *err)
{
    size_t n = strlen(url);
    size_t skip = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
    if (skip == 0 || n == skip) {
        EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "redirect '%.80s': expected http://HOST[:PORT][/PATH]",
               url);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= ' ' || c >= 0x7F) {
            EL_ERR(err, EL_EINVAL, i, "redirect: byte %zu: blank, control or non-ASCII character",
                   i);
            return NULL;
        }
    }
    int add_path = strchr(url + skip, '/') == NULL;
    size_t len = n + (add_path ? sizeof(EAS_PATH) - 1 : 0);
    if (len >= EL_SRV_URL_MAX) {
        EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "redirect URL longer than %d bytes",
               EL_SRV_URL_MAX - 1);
        return NULL;
    }
    char *s = malloc(len + 1);
    if (s == NULL) {
        EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "redirect: out of memory");
        return NULL;
    }
    memcpy(s, url, n);
    if (add_path)
        memcpy(s + n, EAS_PATH, sizeof(EAS_PATH) - 1);
    s[len] = '\0';
    return s;
}

int el_srv_limits_new(uint32_t nusers, const struct el_srv_limits_config *cfg,
                      struct el_srv_limits **out, struct el_err *err)
{
    *out = NULL;
    int rc = check_cfg(cfg, err);
    if (rc < 0)
        return rc;
    struct el_srv_limits *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "limits: out of memory");
    l->u = calloc(nusers ? nusers : 1, sizeof(*l->u));
    if (l->u == NULL || pthread_mutex_init(&l->mu, NULL) != 0) {
        free(l->u);
        free(l);
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "limits: out of memory");
    }
    l->nusers = nusers;
    l->cfg = *cfg;
    l->cfg.redirect = NULL;
    if (cfg->redirect && cfg->redirect[0]) {
        l->all_redirect = url_copy(cfg->redirect, err);
        if (l->all_redirect == NULL) {
            el_srv_limits_free(l);
            return err ? err->code : EL_EINVAL;
        }
    }
    *out = l;
    return 0;
}

void el_srv_limits_free(struct el_srv_limits *l)
{
    if (l == NULL)
        return;
    for (uint32_t i = 0; i < l->nusers; i++)
        free(l->u[i].redirect);
    free(l->u);
    free(l->all_redirect);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* Refills u's bucket up to now_ms. */
static void refill(const struct el_srv_limits *l, struct ustate *u, uint64_t now_ms)
{
    double cap = (double)l->cfg.budget;
    if (u->last_ms == 0) {
        u->tokens = cap;
    } else if (now_ms > u->last_ms) {
        double rate = cap / ((double)l->cfg.budget_window_s * 1000.0); /* tokens per ms */
        u->tokens += (double)(now_ms - u->last_ms) * rate;
        if (u->tokens > cap)
            u->tokens = cap;
    }
    u->last_ms = now_ms ? now_ms : 1;
}

void el_srv_limits_admit(struct el_srv_limits *l, uint32_t uidx, uint64_t now_ms,
                         struct el_srv_admit *out)
{
    memset(out, 0, sizeof(*out));
    if (uidx >= l->nusers)
        return; /* not a user of this server: nothing to limit (cannot happen after auth) */
    pthread_mutex_lock(&l->mu);
    struct ustate *u = &l->u[uidx];
    const char *to = u->redirect ? u->redirect : l->all_redirect;
    if (to) {
        out->refusal = EL_SRV_REFUSED_REDIRECT;
        out->http_status = 451;
        snprintf(out->location, sizeof(out->location), "%s", to);
    } else if (l->cfg.max_concurrency && u->inflight >= l->cfg.max_concurrency) {
        out->refusal = EL_SRV_REFUSED_CONCURRENCY;
        out->http_status = 503;
        out->retry_after_s = l->cfg.retry_after_s;
        out->throttle = "OutOfBudgets";
    } else {
        if (l->cfg.budget) {
            refill(l, u, now_ms);
            if (u->tokens < 1.0) {
                double rate = (double)l->cfg.budget / ((double)l->cfg.budget_window_s * 1000.0);
                double wait_ms = (1.0 - u->tokens) / rate;
                unsigned s = (unsigned)(wait_ms / 1000.0);
                if ((double)s * 1000.0 < wait_ms)
                    s++;
                out->refusal = EL_SRV_REFUSED_BUDGET;
                out->http_status = 503;
                out->retry_after_s = s ? s : 1;
                out->throttle = "OutOfBudgets";
            } else {
                u->tokens -= 1.0;
            }
        }
        if (out->refusal == EL_SRV_ADMITTED)
            u->inflight++;
    }
    l->counts[out->refusal]++;
    pthread_mutex_unlock(&l->mu);
}

void el_srv_limits_release(struct el_srv_limits *l, uint32_t uidx)
{
    if (uidx >= l->nusers)
        return;
    pthread_mutex_lock(&l->mu);
    if (l->u[uidx].inflight > 0)
        l->u[uidx].inflight--;
    pthread_mutex_unlock(&l->mu);
}

void el_srv_limits_get(struct el_srv_limits *l, struct el_srv_limits_config *out,
                       char *redirect_buf, size_t cap)
{
    pthread_mutex_lock(&l->mu);
    *out = l->cfg;
    out->redirect = NULL;
    if (cap) {
        redirect_buf[0] = '\0';
        if (l->all_redirect) {
            snprintf(redirect_buf, cap, "%s", l->all_redirect);
            out->redirect = redirect_buf;
        }
    }
    pthread_mutex_unlock(&l->mu);
}

int el_srv_limits_set(struct el_srv_limits *l, const struct el_srv_limits_config *cfg,
                      struct el_err *err)
{
    int rc = check_cfg(cfg, err);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&l->mu);
    int refill_all = cfg->budget != l->cfg.budget || cfg->budget_window_s != l->cfg.budget_window_s;
    l->cfg.max_concurrency = cfg->max_concurrency;
    l->cfg.budget = cfg->budget;
    l->cfg.budget_window_s = cfg->budget_window_s;
    l->cfg.retry_after_s = cfg->retry_after_s;
    if (refill_all)
        for (uint32_t i = 0; i < l->nusers; i++)
            l->u[i].last_ms = 0;
    pthread_mutex_unlock(&l->mu);
    return 0;
}

int el_srv_limits_redirect(struct el_srv_limits *l, uint32_t uidx, const char *url,
                           struct el_err *err)
{
    if (uidx != UINT32_MAX && uidx >= l->nusers)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "redirect: no user %u", uidx);
    char *copy = NULL;
    if (url && url[0]) {
        copy = url_copy(url, err);
        if (copy == NULL)
            return err ? err->code : EL_EINVAL;
    }
    pthread_mutex_lock(&l->mu);
    char **slot = uidx == UINT32_MAX ? &l->all_redirect : &l->u[uidx].redirect;
    free(*slot);
    *slot = copy;
    pthread_mutex_unlock(&l->mu);
    return 0;
}

void el_srv_limits_each_redirect(struct el_srv_limits *l,
                                 void (*fn)(void *ctx, uint32_t uidx, const char *url), void *ctx)
{
    pthread_mutex_lock(&l->mu);
    for (uint32_t i = 0; i < l->nusers; i++)
        if (l->u[i].redirect)
            fn(ctx, i, l->u[i].redirect);
    pthread_mutex_unlock(&l->mu);
}

unsigned el_srv_limits_inflight(struct el_srv_limits *l, uint32_t uidx)
{
    if (uidx >= l->nusers)
        return 0;
    pthread_mutex_lock(&l->mu);
    unsigned n = l->u[uidx].inflight;
    pthread_mutex_unlock(&l->mu);
    return n;
}

void el_srv_limits_counts(struct el_srv_limits *l, uint64_t out[4])
{
    pthread_mutex_lock(&l->mu);
    memcpy(out, l->counts, sizeof(l->counts));
    pthread_mutex_unlock(&l->mu);
}

int el_srv_limits_parse_budget(const char *v, unsigned *n, unsigned *window_s)
{
    char *end;
    if (v[0] < '0' || v[0] > '9')
        return -1;
    unsigned long b = strtoul(v, &end, 10);
    if (b > 100000000ul)
        return -1;
    unsigned long w = 60;
    if (*end == '/') {
        const char *p = end + 1;
        if (p[0] < '0' || p[0] > '9')
            return -1;
        w = strtoul(p, &end, 10);
        if (w > 86400)
            return -1;
        if (*end == 's')
            end++;
        else if (*end == 'm')
            w *= 60, end++;
        else if (*end == 'h')
            w *= 3600, end++;
        if (w == 0 || w > 86400)
            return -1;
    }
    if (*end != '\0')
        return -1;
    *n = (unsigned)b;
    *window_s = (unsigned)w;
    return 0;
}
