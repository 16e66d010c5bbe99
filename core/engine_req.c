/* engine_req.c - one command of a device from start to result: build (core/eas), send on the
 * device's own connection (core/http), classify and record every round trip (results), and the
 * phone-like handling of what the server drives: PROVISION -> Provision then retry (at most two
 * rounds), REDIRECT -> retry at the new URL, THROTTLED -> Retry-After (capped) or exponential
 * back-off with jitter then one retry, WIPE -> the device stops, Sync status 3 -> resync once.
 * Each wait is counted by kind (throttle.retry_after_honoured, throttle.backoff_exponential) and
 * its length recorded as the value histogram "backoff".
 * Also admin API calls (easload.deliver) and the request pool.
 * TLS failures are also counted by class ("tls.untrusted_root", core/tls.h).
 * Owns: the pool of requests (struct el__eng_req). Uses: engine_int.h, eas.h, http.h, results.h. */
#include "engine_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

#define BODY_MAX        (16u << 20)  /* request body cap */
#define BODY_KEEP       (256u << 10) /* a pooled body larger than this is released */
#define THROTTLE_CAP_US (60 * 1000000LL)
#define BACKOFF_BASE_US 1000000LL
#define PING_SLACK_S    30
#define PROV_ROUNDS_MAX 2
#define REDIRECTS_MAX   2
#define LATE_US         10000

const char *const el__eng_event_names[EL__EV_COUNT] = {"wipe", "provision", "throttled",
                                                       "redirect"};

/* ---- pool -------------------------------------------------------------------------------- */

struct el__eng_req *el__eng_req_get(struct el_engine *w)
{
    struct el__eng_req *rq = w->free_reqs;
    if (rq != NULL) {
        w->free_reqs = rq->next;
        w->nfree_reqs--;
    } else {
        rq = calloc(1, sizeof(*rq));
        if (rq == NULL)
            return NULL;
        el_buf_init(&rq->body, BODY_MAX);
        w->nreqs++;
    }
    struct el_buf body = rq->body;
    struct el_eas_call *prov = rq->prov;
    memset(rq, 0, sizeof(*rq));
    rq->body = body;
    rq->prov = prov;
    el_buf_reset(&rq->body);
    rq->event = -1;
    return rq;
}

void el__eng_req_put(struct el_engine *w, struct el__eng_req *rq)
{
    if (rq == NULL)
        return;
    free(rq->raw);
    rq->raw = NULL;
    curl_slist_free_all(rq->admin_headers);
    rq->admin_headers = NULL;
    if (w->nfree_reqs >= EL__ENG_POOL_KEEP) {
        el_buf_close(&rq->body);
        free(rq->prov);
        free(rq);
        w->nreqs--;
        return;
    }
    if (rq->body.cap > BODY_KEEP)
        el_buf_close(&rq->body);
    rq->next = w->free_reqs;
    w->free_reqs = rq;
    w->nfree_reqs++;
}

/* The parse state of a streamed answer: from the worker's pool (NULL: out of memory). */
static struct el_eas_stream *stream_get(struct el_engine *w)
{
    if (w->nfree_streams > 0)
        return w->free_streams[--w->nfree_streams];
    return el_eas_stream_new();
}

static void stream_put(struct el_engine *w, struct el_eas_stream *s)
{
    if (s == NULL)
        return;
    if (w->nfree_streams < EL__ENG_POOL_KEEP)
        w->free_streams[w->nfree_streams++] = s;
    else
        el_eas_stream_free(s);
}

const char *el__eng_req_str(struct el__eng_req *rq, const char *s, size_t len)
{
    if (rq->strs_len + len + 1 > sizeof(rq->strs))
        return NULL;
    char *p = rq->strs + rq->strs_len;
    memcpy(p, s, len);
    p[len] = '\0';
    rq->strs_len += len + 1;
    return p;
}

/* ---- sending ----------------------------------------------------------------------------- */

static void on_done(void *ctx, const struct el_http_result *r);
static void on_admin_done(void *ctx, const struct el_http_result *r);

/* Body sink of commands whose answers are read as they arrive (Sync, Search, ItemOperations):
 * a 200 answer's bytes go straight from curl's buffer to the decoder, no copy of the body. */
static int on_body_piece(void *ctx, long status, const void *p, size_t len)
{
    struct el__eng_dev *dev = ctx;
    struct el__eng_req *rq = dev->req;
    if (rq->stream == NULL) {
        if (status != 200 || (rq->stream = stream_get(dev->w)) == NULL)
            return 0; /* kept and read whole (el_eas_parse) */
        el_eas_stream_begin(rq->stream, &dev->eas, rq->in_prov ? rq->prov : &rq->call);
    }
    el_eas_stream_feed(rq->stream, p, len);
    return 1;
}

static int ensure_conn(struct el__eng_dev *dev, struct el_err *err)
{
    if (dev->conn != NULL)
        return 0;
    int rc = el_http_conn_new(dev->w->http, dev->index, &dev->conn, err);
    if (rc < 0)
        return rc;
    /* the device judges certificates like its phone (security level, wildcards) */
    struct el_http_tls_policy tp;
    el_eas_profile_tls_policy(dev->eas.profile, &tp);
    el_http_conn_set_tls_policy(dev->conn, &tp);
    /* issue 7: the user's client certificate, NTLM credentials */
    const struct el_engine_config *c = dev->w->cfg;
    const struct el_engine_user *u = &c->users[dev->index % c->nusers];
    if (c->client_cert_dir[0]) {
        char cert[1100], key[1100];
        snprintf(cert, sizeof(cert), "%s/%s/cert.pem", c->client_cert_dir, u->name);
        snprintf(key, sizeof(key), "%s/%s/key.pem", c->client_cert_dir, u->name);
        el_http_conn_set_client_cert(dev->conn, cert, key);
    }
    if (c->auth == EL_ENGINE_AUTH_NTLM)
        el_http_conn_set_ntlm(dev->conn, u->name, u->password);
    return 0;
}

static int send_call(struct el__eng_dev *dev, struct el_eas_call *call, struct el_err *err)
{
    struct el_engine *w = dev->w;
    struct el__eng_req *rq = dev->req;
    int rc = ensure_conn(dev, err);
    if (rc < 0)
        return rc;
    el_buf_reset(&rq->body);
    const char *method = "POST";
    rc = el_eas_build(&dev->eas, call, &rq->body, w->url, sizeof(w->url), &method, err);
    if (rc < 0)
        return rc;
    long timeout_ms = (long)(w->cfg->timeout_us / 1000);
    /* answers read as they arrive (Sync: 560-700 KB for 50 items with bodies) come in 64 KB
     * reads instead of 16 KB: a quarter of the recv calls and loop turns, and the buffer is
     * curl's only copy of the bytes, held while the transfer runs (bench/engine.sh sync) */
    long recv_buffer = el_eas_streams(call->cmd) ? 65536 : 0;
    if (call->cmd == EL_EAS_PING) {
        unsigned hb = call->in.heartbeat_s ? call->in.heartbeat_s : dev->eas.profile->heartbeat_s;
        timeout_ms = (long)(hb + PING_SLACK_S) * 1000;
        recv_buffer = 1024; /* held for minutes by every idle device: its answer is tiny */
    }
    struct el_http_req hr = {
        .method = method,
        .url = w->url,
        .headers = el_eas_headers(&dev->eas, call),
        .body = rq->body.data,
        .body_len = rq->body.len,
        .timeout_ms = timeout_ms,
        .recv_buffer_bytes = recv_buffer,
        .long_poll = call->cmd == EL_EAS_PING,
        .sink = el_eas_streams(call->cmd) ? on_body_piece : NULL,
        .sink_ctx = dev,
    };
    rq->sent_us = el__eng_now_us(w);
    rc = el_http_start(dev->conn, &hr, on_done, dev, err);
    if (rc < 0)
        return rc;
    dev->state = EL__DEV_HTTP;
    return 0;
}

/* The command is over: hand the result to the coroutine. */
static void finish(struct el__eng_dev *dev)
{
    struct el__eng_req *rq = dev->req;
    rq->latency_us = el__eng_now_us(dev->w) - rq->first_us;
    dev->state = EL__DEV_RUNNING;
    el_engine_resume(dev, 0);
}

/* A send that failed without a request: the result says why (network class). */
static void fail_now(struct el__eng_dev *dev, struct el_eas_call *call, const struct el_err *e)
{
    call->out.cls = EL_EAS_CLASS_NETWORK;
    snprintf(call->out.detail, sizeof(call->out.detail), "%.*s", (int)sizeof(call->out.detail) - 1,
             e->msg);
    finish(dev);
}

int el__eng_req_start(struct el__eng_dev *dev, struct el_err *err)
{
    struct el_engine *w = dev->w;
    struct el__eng_req *rq = dev->req;
    int64_t now = el__eng_now_us(w);
    rq->intended_us = dev->intended_us;
    dev->intended_us = 0;
    rq->first_us = rq->intended_us > 0 && rq->intended_us < now ? rq->intended_us : now;
    rq->late = rq->intended_us > 0 && now - rq->intended_us > LATE_US;
    if (w->stopping || dev->wiped)
        return 2; /* a wiped device has stopped, like a phone that was erased */
    int rc = send_call(dev, &rq->call, err);
    if (rc == EL_EINVAL)
        return rc; /* the script's arguments: a script error */
    if (rc < 0) {
        rq->call.out.cls = EL_EAS_CLASS_NETWORK;
        snprintf(rq->call.out.detail, sizeof(rq->call.out.detail), "%.*s",
                 (int)sizeof(rq->call.out.detail) - 1, err->msg);
        return 1;
    }
    return 0;
}

void el__eng_req_cancel(struct el__eng_dev *dev)
{
    struct el_http_conn *c = dev->conn;
    dev->conn = NULL;
    el_http_conn_free(c); /* runs on_done with EL_ECANCELED first */
}

/* ---- recording --------------------------------------------------------------------------- */

static void lower_name(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

static void record(struct el__eng_dev *dev, const struct el_eas_call *call,
                   const struct el_http_result *r, int64_t now)
{
    struct el_engine *w = dev->w;
    struct el__eng_req *rq = dev->req;
    int64_t from = rq->sent_us;
    int late = 0;
    if (rq->round_trips == 0 && rq->intended_us > 0 && rq->intended_us < from) {
        from = rq->intended_us;
        late = rq->late;
    }
    rq->round_trips++;
    if (rq->round_trips == 1 && w->cfg->nstages > 0) {
        /* beside the latency from the intended start, the service time alone (what a tool
         * with coordinated omission would report), as wrk2 keeps its uncorrected histogram */
        el_results_record_value(w->res, "uncorrected", now - rq->sent_us);
    }
    char name[40];
    const char *cmd = el_eas_cmd_name(call->cmd);
    if (call->cmd == EL_EAS_RAW && call->in.raw_cmd)
        cmd = call->in.raw_cmd;
    lower_name(cmd, name, sizeof(name));
    el_results_record(w->res, name, el_eas_class_name(call->out.cls), now - from, r->bytes_out,
                      r->bytes_in, el__eng_unix_us(w, rq->sent_us), late);
    if (w->prog_lat)
        w->prog_lat[el__eng_prog_bucket(now - from)]++;
    char counter[64];
    if (r->status != 0 && r->status != 200) {
        snprintf(counter, sizeof(counter), "http.%ld", r->status);
        el_results_count(w->res, counter, 1);
    }
    if (call->out.cls == EL_EAS_CLASS_EAS_STATUS || call->out.cls == EL_EAS_CLASS_PROVISION) {
        if (call->out.status > 0) {
            snprintf(counter, sizeof(counter), "eas.%s.status.%d", name, call->out.status);
            el_results_count(w->res, counter, 1);
        }
    }
    if (call->out.cls == EL_EAS_CLASS_TLS) {
        /* which certificate or handshake failure: "tls.untrusted_root", ... */
        int tc = el_tls_classify(r);
        if (tc == EL_TLS_OK)
            tc = EL_TLS_HANDSHAKE_FAILED;
        el_results_count(w->res, el_tls_class_counter(tc), 1);
    }
    if (r->new_connection) {
        el_results_count(w->res, "connections.opened", 1);
        if (dev->requests > 0)
            el_results_count(w->res, "connections.reopened", 1);
    }
    dev->requests++;
    dev->bytes_in += r->bytes_in;
    dev->bytes_out += r->bytes_out;
    rq->bytes_in += r->bytes_in;
    rq->bytes_out += r->bytes_out;
    if (call->cmd == EL_EAS_SYNC) {
        dev->syncs++;
        int64_t now_unix = el__eng_unix_us(w, now);
        for (unsigned i = 0; i < call->out.npushed && i < 8; i++) {
            int64_t d = now_unix - call->out.pushed_unix_us[i];
            el_results_record_value(w->res, "push", d > 0 ? d : 1);
        }
    }
    if (call->out.cls != EL_EAS_CLASS_OK && call->out.cls != EL_EAS_CLASS_CANCELED)
        el__eng_log(w, dev->index, EL_LOG_DEBUG, "eas", "%s: %s %s", name,
                    el_eas_class_name(call->out.cls), call->out.detail);
}

/* ---- completion -------------------------------------------------------------------------- */

static uint64_t rng_next(struct el__eng_dev *dev)
{
    uint64_t x = dev->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    dev->rng = x;
    return x;
}

/* The wait before a throttled call is retried; *honoured says Retry-After set it. */
static int64_t throttle_delay(struct el__eng_dev *dev, const struct el_eas_call *call,
                              int *honoured)
{
    struct el__eng_req *rq = dev->req;
    int64_t d;
    *honoured = call->out.retry_after_s > 0 && dev->eas.profile->honours_retry_after;
    if (*honoured) {
        d = (int64_t)call->out.retry_after_s * 1000000;
    } else {
        double jitter = 0.5 + (double)(rng_next(dev) >> 11) / (double)(1ull << 53);
        d = (int64_t)((double)(BACKOFF_BASE_US << (rq->throttle_retries - 1)) * jitter);
    }
    return d > THROTTLE_CAP_US ? THROTTLE_CAP_US : d;
}

/* Post-processing of a finished call: the phone-like reactions. Returns 1 when another round
 * trip was started (or a wait), 0 when the command is over. */
static int react(struct el__eng_dev *dev, struct el_eas_call *call)
{
    struct el_engine *w = dev->w;
    struct el__eng_req *rq = dev->req;
    struct el_err err = {0};
    if (dev->eas.wiped && !dev->wiped) {
        dev->wiped = 1;
        rq->event = EL__EV_WIPE;
        el_results_count(w->res, "devices.wiped", 1);
        el__eng_log(w, dev->index, EL_LOG_DEBUG, "eas",
                    "remote wipe acknowledged: the device "
                    "stops");
        return 0;
    }
    if (w->stopping)
        return 0;
    switch (call->out.cls) {
    case EL_EAS_CLASS_PROVISION:
        if (dev->handlers & (1u << EL__EV_PROVISION)) {
            rq->event = EL__EV_PROVISION;
            return 0;
        }
        if (call->cmd == EL_EAS_PROVISION || rq->prov_rounds >= PROV_ROUNDS_MAX)
            return 0;
        if (rq->prov == NULL) {
            rq->prov = malloc(sizeof(*rq->prov));
            if (rq->prov == NULL)
                return 0;
        }
        memset(rq->prov, 0, sizeof(*rq->prov));
        rq->prov->cmd = EL_EAS_PROVISION;
        rq->prov_rounds++;
        rq->in_prov = 1;
        el_results_count(w->res, "reprovisions", 1);
        if (send_call(dev, rq->prov, &err) < 0) {
            rq->in_prov = 0;
            return 0;
        }
        return 1;
    case EL_EAS_CLASS_REDIRECT:
        if (dev->handlers & (1u << EL__EV_REDIRECT))
            rq->event = EL__EV_REDIRECT;
        if (rq->redirects >= REDIRECTS_MAX)
            return 0;
        rq->redirects++;
        el_results_count(w->res, "redirects", 1);
        call->step = 0;
        return send_call(dev, call, &err) == 0;
    case EL_EAS_CLASS_THROTTLED: {
        if (dev->handlers & (1u << EL__EV_THROTTLED)) {
            rq->event = EL__EV_THROTTLED;
            return 0;
        }
        if (rq->throttle_retries >= 1)
            return 0;
        rq->throttle_retries++;
        int honoured;
        int64_t d = throttle_delay(dev, call, &honoured);
        int64_t now = el__eng_now_us(w);
        if (now + d >= w->end_us)
            return 0;
        el_results_count(w->res, "throttle.waits", 1);
        el_results_count(
            w->res, honoured ? "throttle.retry_after_honoured" : "throttle.backoff_exponential", 1);
        rq->backoff_from_us = now;
        el__eng_dev_sleep(dev, EL__TK_BACKOFF, d);
        return 1;
    }
    case EL_EAS_CLASS_EAS_STATUS:
        if (call->cmd == EL_EAS_SYNC && call->out.status == 3 && rq->resyncs < 1) {
            rq->resyncs++;
            el_results_count(w->res, "resyncs", 1);
            call->step = 0;
            return send_call(dev, call, &err) == 0;
        }
        return 0;
    default:
        return 0;
    }
}

static void on_done(void *ctx, const struct el_http_result *r)
{
    struct el__eng_dev *dev = ctx;
    struct el_engine *w = dev->w;
    struct el__eng_req *rq = dev->req;
    struct el_eas_call *call = rq->in_prov ? rq->prov : &rq->call;
    int64_t now = el__eng_now_us(w);
    dev->state = EL__DEV_RUNNING;
    int more;
    if (rq->stream != NULL) {
        more = el_eas_parse_stream(rq->stream, r);
        stream_put(w, rq->stream);
        rq->stream = NULL;
    } else {
        more = el_eas_parse(&dev->eas, call, r);
    }
    if (r->rc == EL_ECANCELED)
        call->out.cls = EL_EAS_CLASS_CANCELED;
    record(dev, call, r, now);
    if (call->out.cls == EL_EAS_CLASS_CANCELED) {
        if (rq->in_prov) {
            rq->in_prov = 0;
            rq->call.out.cls = EL_EAS_CLASS_CANCELED;
        }
        finish(dev);
        return;
    }
    struct el_err err = {0};
    if (more && !w->hard_stop) {
        if (send_call(dev, call, &err) == 0)
            return;
        fail_now(dev, rq->in_prov ? &rq->call : call, &err);
        return;
    }
    if (rq->in_prov) {
        rq->in_prov = 0;
        if (call->out.cls == EL_EAS_CLASS_OK && !dev->eas.wiped && !w->stopping) {
            rq->call.step = 0;
            if (send_call(dev, &rq->call, &err) == 0)
                return;
            fail_now(dev, &rq->call, &err);
            return;
        }
        /* reprovisioning failed or wiped the device: that is the command's outcome */
        rq->call.out.cls = dev->eas.wiped ? EL_EAS_CLASS_WIPE : EL_EAS_CLASS_PROVISION;
        snprintf(rq->call.out.detail, sizeof(rq->call.out.detail), "reprovisioning: %.24s %.*s",
                 el_eas_class_name(call->out.cls), (int)sizeof(rq->call.out.detail) - 42,
                 call->out.detail);
        call = &rq->call;
    }
    if (react(dev, call))
        return;
    finish(dev);
}

void el__eng_req_retry(struct el__eng_dev *dev)
{
    struct el__eng_req *rq = dev->req;
    struct el_eas_call *call = rq->in_prov ? rq->prov : &rq->call;
    dev->state = EL__DEV_RUNNING;
    /* the wait is over (or cut short by the stop): the time it took; the sleep's wake-up time
     * is not the intended start of the script's next command */
    dev->intended_us = 0;
    if (rq->backoff_from_us > 0) {
        int64_t waited = el__eng_now_us(dev->w) - rq->backoff_from_us;
        el_results_record_value(dev->w->res, "backoff", waited > 0 ? waited : 1);
        rq->backoff_from_us = 0;
    }
    if (dev->w->stopping) {
        finish(dev);
        return;
    }
    struct el_err err = {0};
    call->step = 0;
    if (send_call(dev, call, &err) < 0)
        fail_now(dev, &rq->call, &err);
}

/* ---- admin API --------------------------------------------------------------------------- */

int el__eng_admin_start(struct el__eng_dev *dev, const char *path, const char *json,
                        struct el_err *err)
{
    struct el_engine *w = dev->w;
    struct el__eng_req *rq = dev->req;
    rq->admin = 1;
    rq->first_us = el__eng_now_us(w);
    if (w->cfg->admin_url[0] == '\0')
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "easload admin calls need the server's admin URL (--admin URL)");
    if (w->stopping)
        return 2;
    int rc = ensure_conn(dev, err);
    if (rc < 0)
        return rc;
    snprintf(w->url, sizeof(w->url), "%s%s", w->cfg->admin_url, path);
    el_buf_reset(&rq->body);
    rc = el_buf_append(&rq->body, json, strlen(json));
    if (rc < 0)
        return EL_ERR(err, rc, EL_NO_OFFSET, "admin request body too large");
    rq->admin_headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (rq->admin_headers == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "out of memory");
    struct el_http_req hr = {
        .method = "POST",
        .url = w->url,
        .headers = rq->admin_headers,
        .body = rq->body.data,
        .body_len = rq->body.len,
        .timeout_ms = 30000,
    };
    rc = el_http_start(dev->conn, &hr, on_admin_done, dev, err);
    if (rc < 0)
        return rc;
    dev->state = EL__DEV_HTTP;
    return 0;
}

static void on_admin_done(void *ctx, const struct el_http_result *r)
{
    struct el__eng_dev *dev = ctx;
    struct el__eng_req *rq = dev->req;
    rq->admin_rc = r->rc;
    rq->admin_status = r->status;
    size_t n = r->body_len < sizeof(rq->admin_body) - 1 ? r->body_len : sizeof(rq->admin_body) - 1;
    if (n > 0)
        memcpy(rq->admin_body, r->body, n);
    rq->admin_body[n] = '\0';
    el_results_count(dev->w->res, r->status == 200 ? "admin.ok" : "admin.failed", 1);
    finish(dev);
}
