/* srv_http_int.h - private parts shared by the HTTP side's files (srv_http*.c,
 * srv_admin_http.c): the server and worker structs, parked long polls, the query parser and the
 * log line. The only place that includes h2o, wrapped so its headers' warnings stay out of -Werror.
 * Owns: nothing by itself; each struct says who owns its pointers. */
#ifndef EL_SRV_HTTP_INT_H
#define EL_SRV_HTTP_INT_H

#include <pthread.h>
#include <poll.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#ifdef __clang__
#pragma clang diagnostic ignored "-Wunused-function"
#pragma clang diagnostic ignored "-Wgnu-zero-variadic-macro-arguments"
#pragma clang diagnostic ignored "-Wstrict-prototypes"
#endif
#include <uv.h>
#include <openssl/ssl.h>
#include <h2o.h>
#pragma GCC diagnostic pop

#include "buf.h"
#include "error.h"
#include "srv.h"
#include "srv_http.h"
#include "srv_ntlm.h"

/* ---- request line: the two query forms ([MS-ASHTTP] 2.2.1.1.1), no h2o needed ------------- */

#define EL__SRV_FIELD_MAX 256 /* longest query value we keep (ItemId, CollectionId, ...) */

struct el__srv_query {
    int form;           /* 0 plain, 1 base64 */
    int cmd;            /* enum el_srv_cmd; -1 when missing or unknown */
    unsigned version;   /* base64 form only (x10); plain form: 0, the header says */
    int has_policy_key; /* base64 form only */
    uint32_t policy_key;
    unsigned locale;      /* base64 form LCID, 0 if absent */
    int save_in_sent;     /* SaveInSent=T or Options bit 0x01 */
    int accept_multipart; /* Options bit 0x02 */
    char cmd_name[32];    /* as sent, sanitized for logs ("" if none) */
    char device_id[33];   /* valid 1-32 alphanumerics once parsing succeeded */
    char device_type[65];
    char user[EL__SRV_FIELD_MAX + 1];
    char item_id[EL__SRV_FIELD_MAX + 1];
    char collection_id[EL__SRV_FIELD_MAX + 1];
    char long_id[EL__SRV_FIELD_MAX + 1];
    char attachment_name[EL__SRV_FIELD_MAX + 1];
    char occurrence[65];
};

/* Parses the query (the bytes after '?', not including it; may be empty). Returns 0, or the HTTP
 * status a server answers (400 malformed, 501 unknown command) with *why set to a static reason.
 * Even on failure, cmd_name and (if it was valid) device_id are filled for the log line. */
int el__srv_query_parse(const char *q, size_t len, struct el__srv_query *out, const char **why);

/* "14.1" -> 141; 0 if not a version number. */
unsigned el__srv_version_parse(const char *s, size_t len);
/* 1 if the server accepts requests in version v (x10): 121, 140, 141, 160, 161. */
int el__srv_version_accepted(unsigned v);
/* X-MS-PolicyKey value: decimal uint32. 0 ok, -1 malformed. */
int el__srv_policy_key_parse(const char *s, size_t len, uint32_t *out);
/* Authorization header value "Basic base64(user:pass)" decoded into buf (cap bytes). 0 with
 * user/pass pointing into buf, -1 if not Basic or malformed. The caller wipes buf. */
int el__srv_basic_decode(const char *v, size_t len, char *buf, size_t cap, size_t *ulen,
                         const char **pass, size_t *plen);
/* Content-Type check for a POST with a body: 0 acceptable for this command and version, 415
 * otherwise. (A body without Content-Type is the caller's 400, as Exchange answers.) */
int el__srv_content_type_check(int cmd, unsigned version, const char *ct, size_t len);
/* Base64 (standard alphabet, padding optional) -> bytes. Returns the length or -1. */
long el__srv_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/* ---- log lines: "+12.304 W w1 d<deviceid> http: ..." on stderr ---------------------------- */

enum {
    EL__SRV_LOG_ERROR = 'E',
    EL__SRV_LOG_WARN = 'W',
    EL__SRV_LOG_INFO = 'I'
};

struct el__srv_lograte {
    uint64_t window_ms; /* start of the current one-second window */
    unsigned lines;     /* lines printed in it */
    uint64_t dropped;   /* lines suppressed since the last printed summary */
};

/* One line; device may be NULL ("-"). rate may be NULL (never suppressed); otherwise at most
 * EL__SRV_LOG_PER_SEC lines per second are printed and the rest summarised. */
#define EL__SRV_LOG_PER_SEC 20
void el__srv_log(const struct el_srv_http *h, struct el__srv_lograte *rate, unsigned worker,
                 int level, const char *device, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* ---- server, workers, parked long polls --------------------------------------------------- */

struct el__srv_worker;
struct el__srv_timed;

/* Per POST, in the request's pool (h2o_mem_alloc_shared; its dispose callback gives the
 * concurrency slot back if the answer never went out, and cancels a pending delay). */
struct el__srv_rctx {
    struct el_srv_http *h;
    h2o_req_t *req;
    const struct el_srv_user *user;
    const struct el__srv_query *q; /* on_req's stack; copied into the pool before a delay */
    unsigned version;
    int has_key;
    uint32_t key;
    int slot;                    /* holds a concurrency slot of user->index */
    struct el_srv_fx fx;         /* faults drawn for this request */
    struct el__srv_timed *timed; /* pending latency, NULL if none */
};

/* A parked long poll. malloc'd by the worker when el_srv_handle asks for a hold; freed in the
 * close callback of its timer. The h2o request's pool holds a guard pointing here, so either
 * side may end first. */
struct el__srv_hold {
    uv_timer_t timer;                 /* the heartbeat; embedded, hold freed in its close cb */
    struct el__srv_worker *w;         /* owner worker (read from the wake thread: never changes) */
    h2o_req_t *req;                   /* borrowed; NULL once the request is gone or answered */
    struct el__srv_hold_guard *guard; /* in req->pool; NULL once detached */
    struct el_srv_watch *watch;       /* EAS side's; NULL once el_srv_finish_hold ran */
    struct el__srv_hold *prev, *next; /* worker's list of open holds */
    int fd;                           /* the client socket, polled for POLLRDHUP */
    int cmd;
    unsigned version;
    int queued; /* in the wake queue (guarded by w->wake_mu) */
    char device_id[33];
    struct el__srv_rctx *rc; /* the request's context (in req->pool; valid while req is) */
};

struct el__srv_listener {
    uv_tcp_t tcp; /* embedded; owner: the worker (or the admin thread) */
    h2o_accept_ctx_t actx;
    int fd;                   /* our socket, SO_REUSEPORT; uv_tcp_open takes it over */
    int kind;                 /* 0 plain, 1 TLS, 2 admin */
    struct el__srv_worker *w; /* back pointer */
};

struct el__srv_worker {
    struct el_srv_http *h; /* the server (not owned) */
    unsigned id;           /* 1..N; the admin thread is 0 */
    int is_admin;
    pthread_t thread;
    int thread_started;
    uv_loop_t loop;
    h2o_context_t ctx;
    int ctx_inited;
    uv_async_t async; /* stop requests and queued wake-ups */
    uv_timer_t sweep; /* once a second: departed clients of parked polls */
    uv_timer_t grace; /* at stop: bound on how long connections may linger */
    struct el__srv_listener lis[2];
    unsigned nlis;
    atomic_int stop_requested;
    int stopping; /* loop thread only */
    int ctx_disposed;
    int forced;            /* stop gave up waiting for connections */
    struct el_buf scratch; /* response bodies, reused by every request */
    struct el__srv_lograte lograte;
    struct el_srv_ntlm_conns *ntlm; /* owned; NTLM-authenticated connections (issue 7), NULL
                                       without --ntlm */
    /* parked polls (loop thread only) */
    struct el__srv_hold *holds;
    struct el__srv_hold **sweep_arr; /* owned; grows to the most holds seen */
    size_t sweep_cap;
    struct pollfd pfd[256];
    /* delayed answers and trickled bodies (loop thread only): srv_http_fault.c */
    struct el__srv_timed *timed;
    /* wake queue: written by any thread under wake_mu, drained on the loop */
    pthread_mutex_t wake_mu;
    struct el__srv_hold **wakeq; /* owned */
    size_t wakeq_len, wakeq_cap;
    struct el__srv_hold **wake_spare; /* owned; swapped with wakeq while draining */
    size_t wake_spare_cap;
    /* counters: written by the loop thread, read by the admin thread */
    atomic_uint_fast64_t n_conn, n_conn_open, n_req, n_resp[6], n_rejected;
    atomic_uint_fast64_t n_hold, n_hold_open, n_hold_woken, n_hold_expired, n_hold_gone;
};

struct el_srv_http {
    struct el_srv_http_config cfg; /* copy; strings borrowed from the caller */
    struct el_srv_state *st;       /* borrowed */
    uint64_t start_ms;             /* monotonic, for log lines */
    h2o_globalconf_t conf;         /* EAS listeners; read-only once threads run */
    h2o_globalconf_t admin_conf;
    h2o_hostconf_t *host, *admin_host; /* owned by their conf */
    SSL_CTX *ssl_ctx;                  /* owned; NULL without --tls-listen */
    struct el__srv_tokens *tokens;     /* owned; bearer tokens (issue 7), NULL without
                                          --issue-tokens */
    struct el__srv_certids *certids;   /* owned; client certificate -> user (issue 7), NULL
                                          without --client-ca */
    struct el__srv_worker *workers;    /* owned array of cfg.workers */
    struct el__srv_worker admin;       /* used when cfg.admin is set */
    int has_admin;
    char url[3][80];    /* plain, TLS, admin; "" if none */
    char commands[512]; /* MS-ASProtocolCommands value, from el_srv_cmd_name */
    atomic_uint_fast64_t n_admin;
    struct el_srv_limits *limits; /* owned: throttling knobs (issue 8) */
    struct el_srv_faults *faults; /* owned: active faults (issue 8) */
    int running, stopped;
    /* Watches woken before they had an owner (fired between el_srv_handle returning and the
     * park): kept here until the park finds them. owner_mu also serialises every read and write
     * of a watch's owner tag, so a wake-up is never lost between the two. */
    pthread_mutex_t owner_mu;
    struct el_srv_watch **orphans; /* owned array */
    size_t norphans, orphans_cap;
    /* Issue 9: descriptors left for connections once everything else is open (RLIMIT_NOFILE
     * minus the fds open at start; 0 = no limit), and the time of the last "descriptor limit"
     * line (one per 10 s for the whole process). */
    uint64_t conn_room;
    atomic_uint_fast64_t fdlimit_log_ms;
};

/* srv_tokens.c (issue 7): bearer tokens issued at start, one per user, written as CSV. */
struct el__srv_tokens;
int el__srv_tokens_issue(struct el_srv_state *st, const char *file, struct el__srv_tokens **out,
                         struct el_err *err);
/* The user whose token an Authorization value "Bearer <token>" carries; NULL otherwise. */
const struct el_srv_user *el__srv_tokens_auth(const struct el__srv_tokens *t,
                                              struct el_srv_state *st, const char *v, size_t len);
void el__srv_tokens_free(struct el__srv_tokens *t);

/* srv_http_cert.c (issue 7): the user a connection's verified client certificate names (the
 * local part of its first email SAN, else its CN), recorded at the handshake. */
struct el__srv_certids;
/* Installs the handshake callback on ctx (its app data). 0 or EL_ENOMEM. */
int el__srv_certids_new(SSL_CTX *ctx, struct el__srv_certids **out, struct el_err *err);
void el__srv_certids_free(struct el__srv_certids *ids);
/* 1 with the name in user when req's connection presented a verified certificate naming one;
 * 0 otherwise (plain HTTP, no certificate, no name). */
int el__srv_cert_user(struct el__srv_certids *ids, h2o_req_t *req, char *user, size_t cap);

/* srv_autodiscover.c (issue 7): registers the Autodiscover POX paths on the EAS host; call
 * before the "/" path (h2o takes the first registered path that matches). */
int el__srv_autodiscover_register(struct el_srv_http *h, h2o_hostconf_t *host);
/* srv_http_req.c: registers the EAS endpoint handler on the EAS host. */
int el__srv_eas_register(struct el_srv_http *h, h2o_pathconf_t *path);
/* Sends rs as the response of req (status, headers, Content-Length, body copied to the pool). */
void el__srv_send(struct el__srv_worker *w, h2o_req_t *req, const struct el_srv_response *rs);
/* Sets status, reason and headers of rs on req (counts the status class); the caller sends the
 * body. */
void el__srv_head(struct el__srv_worker *w, h2o_req_t *req, const struct el_srv_response *rs);
/* Runs an admitted POST (after its delay, if any): the EAS side, then the answer or a park. */
void el__srv_process(struct el__srv_worker *w, h2o_req_t *req, struct el__srv_rctx *rc);

/* srv_http_fault.c: per-request context, delays and the faults applied to answers. */
/* The context of a POST, in req's pool. Never NULL (h2o aborts on pool exhaustion). */
struct el__srv_rctx *el__srv_rctx_new(struct el__srv_worker *w, h2o_req_t *req);
/* Gives the concurrency slot back (idempotent). */
void el__srv_rctx_release(struct el__srv_rctx *rc);
/* Delays el__srv_process by rc->fx.latency_ms (copies rc->q into the pool first). */
void el__srv_delay(struct el__srv_worker *w, struct el__srv_rctx *rc);
/* Sends rs as the answer of rc's request: releases the slot, then applies the answer fault
 * drawn for it (drop, cut, truncate, malformed, trickle), if any. rc may be NULL. */
void el__srv_send_rc(struct el__srv_worker *w, h2o_req_t *req, const struct el_srv_response *rs,
                     struct el__srv_rctx *rc);
/* At stop: answers pending delays now and sends what is left of trickled bodies at once. */
void el__srv_timed_finish_all(struct el__srv_worker *w);
/* The worker that owns the loop req runs on. */
struct el__srv_worker *el__srv_worker_of(h2o_req_t *req);

/* srv_http_hold.c */
/* Parks req: rs came back from el_srv_handle with hold_seconds and watch set. */
void el__srv_hold_start(struct el__srv_worker *w, h2o_req_t *req, const struct el__srv_query *q,
                        unsigned version, struct el_srv_response *rs, struct el__srv_rctx *rc);
/* A watch that will never be parked (el_srv_finish_hold ran at once): drop its orphan entry. */
void el__srv_hold_forget(struct el_srv_http *h, struct el_srv_watch *watch);
/* el_srv_set_wake callback (any thread). */
void el__srv_hold_wake(void *ctx, struct el_srv_watch *watch);
/* Loop thread: answer queued wake-ups; sweep departed clients; at stop: answer all. */
void el__srv_hold_drain(struct el__srv_worker *w);
void el__srv_hold_sweep(struct el__srv_worker *w);
void el__srv_hold_finish_all(struct el__srv_worker *w);

/* srv_admin_http.c: registers the admin API handler on the admin host. */
int el__srv_admin_register(struct el_srv_http *h, h2o_pathconf_t *path);

/* Milliseconds on a monotonic clock and on the wall clock. */
uint64_t el__srv_mono_ms(void);
uint64_t el__srv_wall_ms(void);

#endif
