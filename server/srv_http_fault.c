/* srv_http_fault.c - the HTTP side of fault injection and throttling (issue 8): the per-request
 * context that holds a concurrency slot until the answer leaves, delayed answers (latency), and
 * the answer faults: drop (close before answering), cut (close mid-body), truncate, malformed
 * and trickle (the body in chunks with pauses, through an h2o generator).
 * Owns: each struct el__srv_timed (malloc'd, freed in its timer's close callback); the stream
 * state of a cut or trickled answer and the per-request context live in h2o's request pool.
 * Uses: srv_fault.h (what to apply), srv_limits.h (slots), h2o, libuv.
 * Faults are off unless a --fault or POST /faults asked for them: with none, el__srv_send_rc is
 * el__srv_send after giving the slot back. */
#include "srv_http_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* A timer of the worker's loop: a delayed request (latency) or the pause of a trickle. */
struct el__srv_timed {
    uv_timer_t timer; /* embedded; freed in its close callback */
    struct el__srv_worker *w;
    struct el__srv_rctx *rc;           /* latency: NULL once the request is gone */
    struct el__srv_stream *s;          /* trickle: NULL once the stream is gone */
    struct el__srv_timed *prev, *next; /* the worker's list */
};

/* A cut or trickled answer, in req->pool. */
struct el__srv_stream {
    h2o_generator_t gen;
    struct el__srv_worker *w;
    h2o_req_t *req;
    uint8_t *body; /* in req->pool */
    size_t len, off, chunk;
    unsigned delay_ms;
    int cut;                     /* send half, then close the connection */
    struct el__srv_timed *timed; /* the pause before the next chunk, NULL if none */
};

static void on_timed_closed(uv_handle_t *handle)
{
    free(H2O_STRUCT_FROM_MEMBER(struct el__srv_timed, timer, handle));
}

static void on_timed(uv_timer_t *t);

static struct el__srv_timed *timed_new(struct el__srv_worker *w, unsigned ms)
{
    struct el__srv_timed *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->w = w;
    uv_timer_init(&w->loop, &t->timer);
    t->next = w->timed;
    if (w->timed)
        w->timed->prev = t;
    w->timed = t;
    uv_timer_start(&t->timer, on_timed, ms, 0);
    return t;
}

/* Unlinks and closes t (freed at the end of this loop turn). */
static void timed_end(struct el__srv_timed *t)
{
    struct el__srv_worker *w = t->w;
    if (t->prev)
        t->prev->next = t->next;
    else
        w->timed = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    uv_timer_stop(&t->timer);
    uv_close((uv_handle_t *)&t->timer, on_timed_closed);
}

/* ---- per-request context ------------------------------------------------------------------- */

void el__srv_rctx_release(struct el__srv_rctx *rc)
{
    if (rc == NULL || !rc->slot)
        return;
    rc->slot = 0;
    el_srv_limits_release(rc->h->limits, rc->user->index);
}

static void on_rctx_dispose(void *p)
{
    struct el__srv_rctx *rc = p;
    el__srv_rctx_release(rc);
    if (rc->timed) {
        rc->timed->rc = NULL;
        timed_end(rc->timed);
        rc->timed = NULL;
    }
}

struct el__srv_rctx *el__srv_rctx_new(struct el__srv_worker *w, h2o_req_t *req)
{
    struct el__srv_rctx *rc = h2o_mem_alloc_shared(&req->pool, sizeof(*rc), on_rctx_dispose);
    memset(rc, 0, sizeof(*rc));
    rc->h = w->h;
    rc->req = req;
    rc->fx.action = -1;
    return rc;
}

/* ---- latency --------------------------------------------------------------------------------- */

static void run_delayed(struct el__srv_worker *w, struct el__srv_rctx *rc)
{
    el_srv_faults_note(w->h->faults, EL_SRV_FAULT_LATENCY);
    el__srv_process(w, rc->req, rc);
}

void el__srv_delay(struct el__srv_worker *w, struct el__srv_rctx *rc)
{
    h2o_req_t *req = rc->req;
    struct el__srv_query *q = h2o_mem_alloc_pool(&req->pool, sizeof(*q));
    *q = *rc->q;
    rc->q = q;
    struct el__srv_timed *t = w->stopping ? NULL : timed_new(w, rc->fx.latency_ms);
    if (t == NULL) {
        run_delayed(w, rc); /* stopping, or no timer: answer now rather than never */
        return;
    }
    t->rc = rc;
    rc->timed = t;
}

/* ---- answer faults ------------------------------------------------------------------------- */

static void note_header(struct el__srv_worker *w, h2o_req_t *req, int kind)
{
    const char *name = el_srv_fault_kind_name(kind);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-easload-fault"), 0,
                          "X-Easload-Fault", name, strlen(name));
    el_srv_faults_note(w->h->faults, kind);
}

/* Closes both directions of req's connection under h2o: whatever h2o writes next fails and
 * h2o then closes the connection; the client sees the end of the stream. */
static void shut_socket(h2o_req_t *req)
{
    h2o_socket_t *sock =
        req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
    int fd = sock ? h2o_socket_get_fd(sock) : -1;
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    req->http1_is_persistent = 0;
}

static void stream_send_next(struct el__srv_stream *s)
{
    size_t n = s->len - s->off;
    if (n > s->chunk)
        n = s->chunk;
    h2o_iovec_t b = h2o_iovec_init(s->body + s->off, n);
    s->off += n;
    int last = s->off >= s->len;
    /* after a FINAL send h2o may dispose the request (and s with it) at once */
    h2o_send(s->req, &b, 1, last ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void on_stream_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    struct el__srv_stream *s = H2O_STRUCT_FROM_MEMBER(struct el__srv_stream, gen, g);
    if (s->cut) {
        /* the first half is on the wire: close, then end the response with nothing more */
        shut_socket(req);
        h2o_iovec_t none = h2o_iovec_init("", 0);
        h2o_send(req, &none, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    struct el__srv_timed *t = s->w->stopping ? NULL : timed_new(s->w, s->delay_ms);
    if (t == NULL) {
        s->chunk = s->len; /* the rest at once */
        stream_send_next(s);
        return;
    }
    t->s = s;
    s->timed = t;
}

static void on_stream_stop(h2o_generator_t *g, h2o_req_t *req)
{
    struct el__srv_stream *s = H2O_STRUCT_FROM_MEMBER(struct el__srv_stream, gen, g);
    (void)req;
    if (s->timed) {
        s->timed->s = NULL;
        timed_end(s->timed);
        s->timed = NULL;
    }
}

static void stream_start(struct el__srv_worker *w, h2o_req_t *req, const struct el_srv_response *rs,
                         int kind, unsigned delay_ms)
{
    size_t len = rs->body->len;
    struct el__srv_stream *s = h2o_mem_alloc_pool(&req->pool, sizeof(*s));
    memset(s, 0, sizeof(*s));
    s->gen.proceed = on_stream_proceed;
    s->gen.stop = on_stream_stop;
    s->w = w;
    s->req = req;
    s->body = h2o_mem_alloc_pool(&req->pool, len);
    memcpy(s->body, rs->body->data, len);
    s->len = len;
    s->delay_ms = delay_ms;
    if (kind == EL_SRV_FAULT_CUT) {
        s->cut = 1;
        s->chunk = len / 2;
    } else {
        s->chunk = (len + 19) / 20;
        if (s->chunk < 64)
            s->chunk = 64;
    }
    el__srv_head(w, req, rs);
    note_header(w, req, kind);
    if (kind == EL_SRV_FAULT_CUT)
        req->http1_is_persistent = 0;
    h2o_start_response(req, &s->gen);
    stream_send_next(s);
}

void el__srv_send_rc(struct el__srv_worker *w, h2o_req_t *req, const struct el_srv_response *rs,
                     struct el__srv_rctx *rc)
{
    el__srv_rctx_release(rc);
    int kind = rc ? rc->fx.action : -1;
    size_t len = rs->body ? rs->body->len : 0;
    switch (kind) {
    case EL_SRV_FAULT_DROP:
        /* the command ran; its answer is lost with the connection */
        el_srv_faults_note(w->h->faults, kind);
        shut_socket(req);
        el__srv_send(w, req, rs);
        return;
    case EL_SRV_FAULT_TRUNCATE:
        if (len < 2)
            break;
        el__srv_head(w, req, rs);
        note_header(w, req, kind);
        req->res.content_length = len / 2;
        h2o_send_inline(req, (const char *)rs->body->data, len / 2);
        return;
    case EL_SRV_FAULT_MALFORMED: {
        if (len < 2)
            break;
        uint8_t *b = h2o_mem_alloc_pool(&req->pool, len);
        memcpy(b, rs->body->data, len);
        b[0] ^= 0xFF;                          /* the WBXML version byte: never valid inverted */
        b[1 + rc->fx.rnd % (len - 1)] ^= 0xFF; /* and one more byte anywhere after it */
        el__srv_head(w, req, rs);
        note_header(w, req, kind);
        h2o_send_inline(req, (const char *)b, len);
        return;
    }
    case EL_SRV_FAULT_CUT:
    case EL_SRV_FAULT_TRICKLE:
        if (len < 2)
            break;
        stream_start(w, req, rs, kind, rc->fx.action_value);
        return;
    default:
        break;
    }
    el__srv_send(w, req, rs);
}

/* ---- timers -------------------------------------------------------------------------------- */

static void on_timed(uv_timer_t *timer)
{
    struct el__srv_timed *t = H2O_STRUCT_FROM_MEMBER(struct el__srv_timed, timer, timer);
    struct el__srv_worker *w = t->w;
    struct el__srv_rctx *rc = t->rc;
    struct el__srv_stream *s = t->s;
    timed_end(t);
    if (rc) {
        rc->timed = NULL;
        run_delayed(w, rc);
    } else if (s) {
        s->timed = NULL;
        stream_send_next(s);
    }
}

void el__srv_timed_finish_all(struct el__srv_worker *w)
{
    while (w->timed) {
        struct el__srv_timed *t = w->timed;
        struct el__srv_rctx *rc = t->rc;
        struct el__srv_stream *s = t->s;
        timed_end(t);
        if (rc) {
            rc->timed = NULL;
            run_delayed(w, rc);
        } else if (s) {
            s->timed = NULL;
            s->chunk = s->len;
            stream_send_next(s);
        }
    }
}
