/* srv_http_req.c - the EAS endpoint on h2o: path, auth (Basic, Bearer, client certificate,
 * NTLM), OPTIONS, query forms, version, policy key and Content-Type checks, the throttling knobs
 * (451 redirect, 503 for concurrency and budget: srv_limits.h) and the fault draw
 * (srv_fault.h), then el_srv_handle() and the response (or a park, or a delay:
 * srv_http_fault.c).
 * Owns: nothing per request outside h2o's request pool; response bodies are built in the
 * worker's scratch buffer and copied into the pool by h2o_send_inline. Uses: srv.h, h2o. */
#include "srv_http_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define EL__SRV_ENDPOINT       "/Microsoft-Server-ActiveSync"
#define EL__SRV_VERSIONS       "2.5,12.0,12.1,14.0,14.1,16.0,16.1"
#define EL__SRV_SERVER_VERSION "15.1"
#define EL__SRV_WBXML          "application/vnd.ms-sync.wbxml"

struct eas_handler {
    h2o_handler_t super;
    struct el_srv_http *h; /* not owned */
};

struct el__srv_worker *el__srv_worker_of(h2o_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(struct el__srv_worker, ctx, req->conn->ctx);
}

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 413:
        return "Request Entity Too Large";
    case 415:
        return "Unsupported Media Type";
    case 449:
        return "Retry after sending a PROVISION command";
    case 451:
        return "Redirect";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 507:
        return "Insufficient Storage";
    default:
        return "Status";
    }
}

/* Adds a header whose name is given in display spelling; name and value are copied to the pool
 * (h2o stores pointers, and values may live in a stack struct el_srv_response). */
static void add_header(h2o_req_t *req, const char *name, const char *value)
{
    size_t n = strlen(name);
    char *lower = h2o_mem_alloc_pool(&req->pool, n + 1);
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    h2o_iovec_t v = h2o_strdup(&req->pool, value, strlen(value));
    h2o_iovec_t orig = h2o_strdup(&req->pool, name, n);
    h2o_add_header_by_str(&req->pool, &req->res.headers, lower, n, 1, orig.base, v.base, v.len);
}

static void count_status(struct el__srv_worker *w, int status)
{
    unsigned cls = (status >= 100 && status < 600) ? (unsigned)status / 100 : 0;
    atomic_fetch_add_explicit(&w->n_resp[cls], 1, memory_order_relaxed);
}

void el__srv_head(struct el__srv_worker *w, h2o_req_t *req, const struct el_srv_response *rs)
{
    int status = rs->http_status ? rs->http_status : 200;
    size_t len = rs->body ? rs->body->len : 0;
    req->res.status = status;
    req->res.reason = reason_of(status);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("ms-server-activesync"), 0,
                          "MS-Server-ActiveSync", H2O_STRLIT(EL__SRV_SERVER_VERSION));
    if (len > 0 || rs->content_type) {
        const char *ct = rs->content_type ? rs->content_type : EL__SRV_WBXML;
        h2o_iovec_t v = h2o_strdup(&req->pool, ct, strlen(ct));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, "Content-Type",
                       v.base, v.len);
    }
    for (unsigned i = 0; i < rs->nheaders && i < EL_SRV_MAX_HEADERS; i++)
        if (rs->hdr_name[i] && rs->hdr_value[i])
            add_header(req, rs->hdr_name[i], rs->hdr_value[i]);
    req->res.content_length = len;
    if (w->stopping)
        req->http1_is_persistent = 0;
    count_status(w, status);
}

void el__srv_send(struct el__srv_worker *w, h2o_req_t *req, const struct el_srv_response *rs)
{
    size_t len = rs->body ? rs->body->len : 0;
    el__srv_head(w, req, rs);
    h2o_send_inline(req, len ? (const char *)rs->body->data : "", len);
}

/* An answer of the HTTP side itself (no EAS body): logs one line naming device and command. */
static int reject(struct el__srv_worker *w, h2o_req_t *req, int status,
                  const struct el__srv_query *q, const char *why)
{
    atomic_fetch_add_explicit(&w->n_rejected, 1, memory_order_relaxed);
    el__srv_log(w->h, &w->lograte, w->id, EL__SRV_LOG_WARN, q ? q->device_id : NULL,
                "%.*s %s: %d %s", (int)(req->input.method.len < 16 ? req->input.method.len : 16),
                req->input.method.base, q && q->cmd_name[0] ? q->cmd_name : "-", status, why);
    struct el_srv_response rs;
    memset(&rs, 0, sizeof(rs));
    rs.http_status = status;
    if (status == 401) {
        if (w->ntlm) /* --ntlm: offered first, as IIS lists it */
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE,
                           "WWW-Authenticate", H2O_STRLIT("NTLM"));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE,
                       "WWW-Authenticate", H2O_STRLIT("Basic realm=\"easload\""));
    }
    if (status == 501 && !(q && q->cmd_name[0])) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, "Allow",
                       H2O_STRLIT("OPTIONS,POST"));
    }
    el__srv_send(w, req, &rs);
    return 0;
}

/* The request's user: from Authorization (Basic, or Bearer with --issue-tokens), else from the
 * connection's verified client certificate (--client-ca; *cert_unknown set when it names a user
 * the server does not have). NULL when neither names a known user. */
static const struct el_srv_user *authenticate(struct el__srv_worker *w, h2o_req_t *req,
                                              int *cert_unknown)
{
    *cert_unknown = 0;
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0) {
        char name[256];
        if (!el__srv_cert_user(w->h->certids, req, name, sizeof(name)))
            return NULL;
        const struct el_srv_user *u = el_srv_user_find(w->h->st, name);
        *cert_unknown = u == NULL;
        return u;
    }
    const h2o_iovec_t *v = &req->headers.entries[i].value;
    if (w->h->tokens && v->len > 7 && strncasecmp(v->base, "Bearer ", 7) == 0)
        return el__srv_tokens_auth(w->h->tokens, w->h->st, v->base, v->len); /* issue 7 */
    char buf[512];
    size_t ulen = 0, plen = 0;
    const char *pass = NULL;
    const struct el_srv_user *u = NULL;
    if (el__srv_basic_decode(v->base, v->len, buf, sizeof(buf), &ulen, &pass, &plen) == 0)
        u = el_srv_auth(w->h->st, buf, ulen, pass, plen);
    OPENSSL_cleanse(buf, sizeof(buf));
    return u;
}

/* The user of table index i (NTLM keeps indexes). */
static const struct el_srv_user *user_at(struct el_srv_state *st, uint32_t i)
{
    const char *name = i < el_srv_user_count(st) ? el_srv_user_name(st, i) : NULL;
    return name ? el_srv_user_find(st, name) : NULL;
}

/* The user an NTLM AUTHENTICATE names: as sent, else in lower case (Windows names are not case
 * sensitive; the server's are lower case). */
static const struct el_srv_user *ntlm_user(struct el_srv_state *st, const char *name)
{
    const struct el_srv_user *u = el_srv_user_find(st, name);
    if (u != NULL)
        return u;
    char low[256];
    size_t n = strlen(name);
    if (n >= sizeof(low))
        return NULL;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    return el_srv_user_find(st, low);
}

/* 401 with "WWW-Authenticate: NTLM <CHALLENGE_MESSAGE>" (the connection stays open). */
static int ntlm_challenge(struct el__srv_worker *w, h2o_req_t *req, const uint8_t challenge[8])
{
    uint8_t msg[512];
    long n = el_srv_ntlm_challenge(challenge, "EASLOAD", "EASLOAD-SERVE", msg, sizeof(msg));
    if (n < 0)
        return -1;
    size_t cap = 5 + 4 * (((size_t)n + 2) / 3) + 1;
    char *v = h2o_mem_alloc_pool(&req->pool, cap);
    memcpy(v, "NTLM ", 5);
    int len = EVP_EncodeBlock((unsigned char *)v + 5, msg, (int)n);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, "WWW-Authenticate", v,
                   5 + (size_t)len);
    struct el_srv_response rs;
    memset(&rs, 0, sizeof(rs));
    rs.http_status = 401;
    el__srv_send(w, req, &rs);
    return 0;
}

/* NTLM (--ntlm, srv_ntlm.h): "Authorization: NTLM" with a NEGOTIATE gets 401 and a fresh
 * CHALLENGE for this connection; an AUTHENTICATE is verified against that challenge and the
 * connection (h2o's id, never reused) remembers its user; a request without Authorization on
 * an authenticated connection is that user's. Messages and hashes are never logged.
 * 1: answered (the caller returns); 0: go on, *user set when NTLM named the user. */
static int ntlm_step(struct el__srv_worker *w, h2o_req_t *req, const struct el__srv_query *q,
                     const struct el_srv_user **user)
{
    *user = NULL;
    uint64_t id = req->conn->id;
    uint64_t now = el__srv_mono_ms();
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0) {
        struct el_srv_ntlm_conn *c = el_srv_ntlm_conn_find(w->ntlm, id);
        if (c != NULL && c->state == EL_SRV_NTLM_AUTHENTICATED) {
            c->used_ms = now;
            *user = user_at(w->h->st, c->user);
        }
        return 0;
    }
    const h2o_iovec_t *v = &req->headers.entries[i].value;
    if (v->len < 5 || strncasecmp(v->base, "NTLM ", 5) != 0)
        return 0; /* Basic or Bearer: the usual path */
    uint8_t msg[EL_SRV_NTLM_MSG_MAX];
    long n = el__srv_base64_decode(v->base + 5, v->len - 5, msg, sizeof(msg));
    int type = n > 0 ? el_srv_ntlm_type(msg, (size_t)n) : 0;
    struct el_srv_ntlm_conn *c = el_srv_ntlm_conn_find(w->ntlm, id);
    int rc = 1;
    if (type == 1) {
        c = el_srv_ntlm_conn_get(w->ntlm, id);
        if (c == NULL) {
            reject(w, req, 503, q, "NTLM: too many connections in the handshake");
        } else {
            c->state = EL_SRV_NTLM_CHALLENGED;
            c->used_ms = now;
            if (RAND_bytes(c->challenge, sizeof(c->challenge)) != 1 ||
                ntlm_challenge(w, req, c->challenge) < 0) {
                el_srv_ntlm_conn_drop(w->ntlm, id);
                reject(w, req, 500, q, "NTLM: cannot make a challenge");
            }
        }
    } else if (type == 3 && c != NULL && c->state == EL_SRV_NTLM_CHALLENGED) {
        struct el_srv_ntlm_auth a;
        const struct el_srv_user *u = NULL;
        if (el_srv_ntlm_parse_auth(msg, (size_t)n, &a) == 0)
            u = ntlm_user(w->h->st, a.user);
        if (u != NULL && el_srv_ntlm_verify(&a, c->challenge, u->password)) {
            c->state = EL_SRV_NTLM_AUTHENTICATED;
            c->user = u->index;
            c->used_ms = now;
            *user = u;
            rc = 0;
        } else {
            el_srv_ntlm_conn_drop(w->ntlm, id);
            reject(w, req, 401, q, "bad NTLM credentials");
        }
    } else {
        if (c != NULL)
            el_srv_ntlm_conn_drop(w->ntlm, id);
        reject(w, req, 401, q,
               type == 3 ? "NTLM AUTHENTICATE without a challenge" : "malformed NTLM message");
    }
    OPENSSL_cleanse(msg, sizeof(msg));
    return rc;
}

static int header_value(h2o_req_t *req, const char *lname, size_t n, h2o_iovec_t *out)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, lname, n, -1);
    if (i < 0)
        return 0;
    *out = req->headers.entries[i].value;
    return 1;
}

static int on_options(struct el__srv_worker *w, h2o_req_t *req)
{
    struct el_srv_response rs;
    memset(&rs, 0, sizeof(rs));
    rs.http_status = 200;
    rs.nheaders = 3;
    rs.hdr_name[0] = "Allow";
    rs.hdr_value[0] = "OPTIONS,POST";
    rs.hdr_name[1] = "MS-ASProtocolVersions";
    rs.hdr_value[1] = EL__SRV_VERSIONS;
    rs.hdr_name[2] = "MS-ASProtocolCommands";
    rs.hdr_value[2] = w->h->commands;
    el__srv_send(w, req, &rs);
    return 0;
}

static int on_post(struct el__srv_worker *w, h2o_req_t *req, const struct el_srv_user *user,
                   struct el__srv_query *q)
{
    unsigned version = q->version;
    int has_key = q->has_policy_key;
    uint32_t key = q->policy_key;
    h2o_iovec_t v;
    if (q->form == 0 || version == 0) {
        if (!header_value(req, H2O_STRLIT("ms-asprotocolversion"), &v))
            return reject(w, req, 400, q, "no MS-ASProtocolVersion");
        version = el__srv_version_parse(v.base, v.len);
    }
    if (!el__srv_version_accepted(version))
        return reject(w, req, 400, q, "unsupported protocol version");
    if (!has_key && header_value(req, H2O_STRLIT("x-ms-policykey"), &v)) {
        if (el__srv_policy_key_parse(v.base, v.len, &key) < 0)
            return reject(w, req, 400, q, "malformed X-MS-PolicyKey");
        has_key = 1;
    }
    size_t body_len = req->entity.base ? req->entity.len : 0;
    if (body_len > 0) {
        ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
        if (i < 0)
            return reject(w, req, 400, q, "body without Content-Type");
        const h2o_iovec_t *ct = &req->headers.entries[i].value;
        if (el__srv_content_type_check(q->cmd, version, ct->base, ct->len) != 0)
            return reject(w, req, 415, q, "wrong Content-Type");
    }

    struct el__srv_rctx *rc = el__srv_rctx_new(w, req);
    rc->user = user;
    rc->q = q;
    rc->version = version;
    rc->has_key = has_key;
    rc->key = key;

    /* issue 8: redirect, per-user concurrency and budget, then the faults drawn for it */
    struct el_srv_http *h = w->h;
    struct el_srv_admit ad;
    el_srv_limits_admit(h->limits, user->index, el__srv_mono_ms(), &ad);
    if (ad.http_status) {
        struct el_srv_response rs;
        memset(&rs, 0, sizeof(rs));
        rs.http_status = ad.http_status;
        if (ad.http_status == 451) {
            rs.hdr_name[rs.nheaders] = "X-MS-Location";
            rs.hdr_value[rs.nheaders++] = ad.location;
        } else {
            snprintf(rs.hdr_store, sizeof(rs.hdr_store), "%u", ad.retry_after_s);
            rs.hdr_name[rs.nheaders] = "Retry-After";
            rs.hdr_value[rs.nheaders++] = rs.hdr_store;
            rs.hdr_name[rs.nheaders] = "X-MS-ASThrottle";
            rs.hdr_value[rs.nheaders++] = ad.throttle;
            rs.hdr_name[rs.nheaders] = "X-Easload-Throttle";
            rs.hdr_value[rs.nheaders++] =
                ad.refusal == EL_SRV_REFUSED_BUDGET ? "budget" : "concurrency";
        }
        el__srv_send(w, req, &rs);
        return 0;
    }
    rc->slot = 1;
    if (el_srv_faults_count(h->faults) > 0)
        el_srv_faults_draw(h->faults, q->cmd, el__srv_mono_ms(), &rc->fx);
    else
        rc->fx.action = -1;
    if (rc->fx.latency_ms > 0) {
        el__srv_delay(w, rc);
        return 0;
    }
    el__srv_process(w, req, rc);
    return 0;
}

/* A fault that answers with an HTTP error instead of running the command. */
static void fault_status(struct el__srv_worker *w, h2o_req_t *req, struct el__srv_rctx *rc)
{
    struct el_srv_response rs;
    memset(&rs, 0, sizeof(rs));
    int kind = rc->fx.action;
    rs.http_status = kind == EL_SRV_FAULT_HTTP500 ? 500 : kind == EL_SRV_FAULT_HTTP503 ? 503 : 507;
    if (kind == EL_SRV_FAULT_HTTP503 && rc->fx.action_value) {
        snprintf(rs.hdr_store, sizeof(rs.hdr_store), "%u", rc->fx.action_value);
        rs.hdr_name[rs.nheaders] = "Retry-After";
        rs.hdr_value[rs.nheaders++] = rs.hdr_store;
    }
    rs.hdr_name[rs.nheaders] = "X-Easload-Fault";
    rs.hdr_value[rs.nheaders++] = el_srv_fault_kind_name(kind);
    el_srv_faults_note(w->h->faults, kind);
    el__srv_rctx_release(rc);
    el__srv_send(w, req, &rs);
}

void el__srv_process(struct el__srv_worker *w, h2o_req_t *req, struct el__srv_rctx *rc)
{
    const struct el__srv_query *q = rc->q;
    if (rc->fx.action == EL_SRV_FAULT_HTTP500 || rc->fx.action == EL_SRV_FAULT_HTTP503 ||
        rc->fx.action == EL_SRV_FAULT_HTTP507) {
        fault_status(w, req, rc);
        return;
    }
    size_t body_len = req->entity.base ? req->entity.len : 0;
    struct el_srv_request rq;
    memset(&rq, 0, sizeof(rq));
    rq.cmd = q->cmd;
    rq.user = rc->user;
    rq.device_id = q->device_id;
    rq.device_type = q->device_type;
    rq.version = rc->version;
    rq.has_policy_key = rc->has_key;
    rq.policy_key = rc->key;
    rq.body = body_len ? (const uint8_t *)req->entity.base : NULL;
    rq.body_len = body_len;
    rq.item_id = q->item_id[0] ? q->item_id : NULL;
    rq.collection_id = q->collection_id[0] ? q->collection_id : NULL;
    rq.save_in_sent = q->save_in_sent;
    rq.attachment_name = q->attachment_name[0] ? q->attachment_name : NULL;
    rq.now_ms = el__srv_wall_ms();
    rq.fault_vanish = rc->fx.vanish;
    rq.fault_resetkey = rc->fx.resetkey;

    struct el_srv_response rs;
    memset(&rs, 0, sizeof(rs));
    rs.http_status = 200;
    el_buf_reset(&w->scratch);
    rs.body = &w->scratch;
    int ret = el_srv_handle(w->h->st, &rq, &rs);
    if (ret < 0) {
        if (rs.hold_seconds && rs.watch) {
            struct el_srv_watch *watch = rs.watch;
            el_srv_finish_hold(w->h->st, watch, 1, &rs);
            el__srv_hold_forget(w->h, watch);
        }
        el__srv_log(w->h, &w->lograte, w->id, EL__SRV_LOG_ERROR, q->device_id,
                    "POST %s: 500 server failure: %s", q->cmd_name, el_strerror(ret));
        memset(&rs, 0, sizeof(rs));
        rs.http_status = 500;
        el__srv_rctx_release(rc);
        el__srv_send(w, req, &rs);
        return;
    }
    if (rs.log_reason != NULL)
        el__srv_log(w->h, &w->lograte, w->id, EL__SRV_LOG_WARN, q->device_id, "POST %s: %d %s",
                    q->cmd_name, rs.http_status, rs.log_reason);
    if (rs.hold_seconds > 0 && rs.watch != NULL) {
        el__srv_hold_start(w, req, q, rc->version, &rs, rc);
        return;
    }
    el__srv_send_rc(w, req, &rs, rc);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct el__srv_worker *w = el__srv_worker_of(req);
    (void)self;
    atomic_fetch_add_explicit(&w->n_req, 1, memory_order_relaxed);

    size_t plen = req->input.query_at != SIZE_MAX ? req->input.query_at : req->input.path.len;
    const char *query =
        req->input.query_at != SIZE_MAX ? req->input.path.base + req->input.query_at + 1 : NULL;
    size_t qlen = query ? req->input.path.len - req->input.query_at - 1 : 0;
    struct el__srv_query q;
    const char *why = "";
    int qstatus = el__srv_query_parse(query ? query : "", qlen, &q, &why);

    if (plen != sizeof(EL__SRV_ENDPOINT) - 1 ||
        memcmp(req->input.path.base, EL__SRV_ENDPOINT, plen) != 0)
        return reject(w, req, 404, &q, "not an EAS path");
    int cert_unknown = 0;
    const struct el_srv_user *user = NULL;
    if (w->ntlm && ntlm_step(w, req, &q, &user))
        return 0;
    if (user == NULL)
        user = authenticate(w, req, &cert_unknown);
    if (user == NULL && cert_unknown)
        return reject(w, req, 403, &q, "the client certificate names no user of this server");
    if (user == NULL) {
        int has = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1) >= 0;
        return reject(w, req, 401, &q, has ? "bad credentials" : "no credentials");
    }
    if (h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("OPTIONS")))
        return on_options(w, req);
    if (!h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("POST"))) {
        q.cmd_name[0] = '\0';
        return reject(w, req, 501, &q, "method not supported");
    }
    if (qstatus != 0)
        return reject(w, req, qstatus, &q, why);
    return on_post(w, req, user, &q);
}

/* Responses h2o makes itself (413 for a body over --max-body, 400 for broken HTTP) go through
 * the host's fallback path: add our header and log them like our own rejections. */
static void on_fallback_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    struct el__srv_worker *w = el__srv_worker_of(req);
    (void)self;
    struct el__srv_query q;
    const char *why = "";
    const char *query = "";
    size_t qlen = 0;
    if (req->input.query_at != SIZE_MAX && req->input.path.base) {
        query = req->input.path.base + req->input.query_at + 1;
        qlen = req->input.path.len - req->input.query_at - 1;
    }
    el__srv_query_parse(query, qlen, &q, &why);
    atomic_fetch_add_explicit(&w->n_req, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->n_rejected, 1, memory_order_relaxed);
    count_status(w, req->res.status);
    el__srv_log(w->h, &w->lograte, w->id, EL__SRV_LOG_WARN, q.device_id, "%.*s %s: %d %s",
                (int)(req->input.method.len < 16 ? req->input.method.len : 16),
                req->input.method.base ? req->input.method.base : "",
                q.cmd_name[0] ? q.cmd_name : "-", req->res.status,
                req->res.reason ? req->res.reason : "");
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("ms-server-activesync"), 0,
                          "MS-Server-ActiveSync", H2O_STRLIT(EL__SRV_SERVER_VERSION));
    h2o_setup_next_ostream(req, slot);
}

int el__srv_eas_register(struct el_srv_http *h, h2o_pathconf_t *path)
{
    h2o_filter_t *f = h2o_create_filter(&h->host->fallback_path, sizeof(*f));
    f->on_setup_ostream = on_fallback_ostream;

    struct eas_handler *eh = (struct eas_handler *)h2o_create_handler(path, sizeof(*eh));
    eh->super.on_req = on_req;
    eh->h = h;
    /* MS-ASProtocolCommands from the command table */
    size_t o = 0;
    h->commands[0] = '\0';
    for (int c = 0; c < EL_SRV_CMD_MAX; c++) {
        const char *name = el_srv_cmd_name(c);
        if (name == NULL)
            continue;
        int n = snprintf(h->commands + o, sizeof(h->commands) - o, "%s%s", o ? "," : "", name);
        if (n < 0 || (size_t)n >= sizeof(h->commands) - o)
            return EL_ELIMIT;
        o += (size_t)n;
    }
    return 0;
}
