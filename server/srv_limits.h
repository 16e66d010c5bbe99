/* srv_limits.h - the throttling knobs `easload serve` enforces before a request reaches the EAS
 * side (issue 8): concurrent requests per user (Exchange's EASMaxConcurrency; a held Ping or
 * Sync counts until it is answered), a per-user request budget per time window (a token bucket,
 * as Exchange 2013+), and 451 redirects (X-MS-Location) for one user or all.
 * Owns: struct el_srv_limits (per-user table, redirect URLs). Uses: core/error.h. No h2o, no
 * EAS: the HTTP side asks el_srv_limits_admit() for each POST and releases the slot when the
 * answer is sent or the request is gone. Thread-safe: one mutex; no global state. */
#ifndef EL_SRV_LIMITS_H
#define EL_SRV_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define EL_SRV_URL_MAX 256 /* redirect URLs, with the EAS path appended */

struct el_srv_limits_config {
    unsigned max_concurrency; /* per user, 0 = no limit */
    unsigned budget;          /* requests per budget_window_s per user, 0 = no budget */
    unsigned budget_window_s; /* >= 1 (default 60) */
    unsigned retry_after_s;   /* Retry-After of a concurrency 503 (default 5); a budget 503 says
                                 when the next token comes */
    const char *redirect;     /* --redirect URL for every user, NULL = none */
};

struct el_srv_limits;

/* Why a request is refused (enum order = /stats order). */
enum el_srv_refusal {
    EL_SRV_ADMITTED,
    EL_SRV_REFUSED_CONCURRENCY,
    EL_SRV_REFUSED_BUDGET,
    EL_SRV_REFUSED_REDIRECT,
};

struct el_srv_admit {
    int refusal;                   /* enum el_srv_refusal */
    int http_status;               /* 0 admitted (a slot is taken), 451 or 503 */
    unsigned retry_after_s;        /* 503 */
    const char *throttle;          /* X-MS-ASThrottle value (static), NULL for 451 */
    char location[EL_SRV_URL_MAX]; /* X-MS-Location (451) */
};

/* 0, or EL_EINVAL (bad redirect URL, zero window) / EL_ENOMEM with err saying which. */
int el_srv_limits_new(uint32_t nusers, const struct el_srv_limits_config *cfg,
                      struct el_srv_limits **out, struct el_err *err);
void el_srv_limits_free(struct el_srv_limits *l);

/* Decides on a request of user uidx at now_ms (monotonic): redirect first, then concurrency,
 * then the budget (a refused request takes no token and no slot). Admitted: a concurrency
 * slot is taken; give it back with el_srv_limits_release exactly once. */
void el_srv_limits_admit(struct el_srv_limits *l, uint32_t uidx, uint64_t now_ms,
                         struct el_srv_admit *out);
void el_srv_limits_release(struct el_srv_limits *l, uint32_t uidx);

/* Current knobs (redirect: the all-users URL copied into redirect_buf, "" if none). */
void el_srv_limits_get(struct el_srv_limits *l, struct el_srv_limits_config *out,
                       char *redirect_buf, size_t cap);
/* Changes the numeric knobs (cfg->redirect is ignored: see el_srv_limits_redirect). A changed
 * budget refills every bucket. 0 or EL_EINVAL. */
int el_srv_limits_set(struct el_srv_limits *l, const struct el_srv_limits_config *cfg,
                      struct el_err *err);
/* Redirects user uidx (or every user with uidx == UINT32_MAX) to url; NULL or "" clears it.
 * A URL without a path gets /Microsoft-Server-ActiveSync. 0 or EL_EINVAL (not http(s)://,
 * control characters, too long). Clearing "all" leaves per-user redirects alone. */
int el_srv_limits_redirect(struct el_srv_limits *l, uint32_t uidx, const char *url,
                           struct el_err *err);
/* Users with a redirect of their own, for GET /limits: calls fn for each. */
void el_srv_limits_each_redirect(struct el_srv_limits *l,
                                 void (*fn)(void *ctx, uint32_t uidx, const char *url), void *ctx);
/* Requests in flight of user uidx (for tests and /state). */
unsigned el_srv_limits_inflight(struct el_srv_limits *l, uint32_t uidx);
/* Parses a budget: "N/60s", "N/5m", "N/1h", or "N" (per 60 s); N = 0 turns it off. 0 or -1. */
int el_srv_limits_parse_budget(const char *s, unsigned *n, unsigned *window_s);
/* Refusals so far per enum el_srv_refusal (out[0] = admitted). */
void el_srv_limits_counts(struct el_srv_limits *l, uint64_t out[4]);

#endif
