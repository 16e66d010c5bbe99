/* srv_replay.c - --sync-replay's answer cache (bench/engine.sh sync). Under --sync-replay a
 * Sync answers its window and leaves the state as it was, so the same request gets the same
 * bytes until something changes; rendering a 50-item window with full bodies costs the server
 * ~0.8 ms, which made the benchmark measure the server's pace instead of the client's CPU.
 * A device keeps the last such answer with its request and the state generation (st->gen)
 * it was made at; the same request (bytes, protocol version, policy key) at the same
 * generation gets those bytes again. Every other request bumps the generation (el_srv_handle,
 * el__state_changed), so no answer outlives a change of any mailbox or device.
 * Owns: each device's el__replay (freed with the device). Uses: srv_int.h. */
#include "srv_int.h"

#include <stdlib.h>
#include <string.h>

struct el__replay {
    uint64_t gen;
    unsigned version;
    uint32_t policy_key;
    size_t req_len;
    size_t body_len;
    uint8_t data[]; /* the request's bytes, then the answer's */
};

static struct el__device *device_of(struct el_srv_state *st, const struct el_srv_request *rq)
{
    struct el__user *u = el__user_of(st, rq->user);
    return u && rq->device_id ? el__device_find(u, rq->device_id) : NULL;
}

int el__replay_answer(struct el_srv_state *st, const struct el_srv_request *rq,
                      struct el_srv_response *rs)
{
    if (!st->sync_replay || rq->cmd != EL_SRV_SYNC || rq->fault_vanish || rq->fault_resetkey)
        return 0;
    struct el__device *d = device_of(st, rq);
    const struct el__replay *r = d ? d->replay : NULL;
    if (r == NULL || r->gen != st->gen || r->version != rq->version ||
        r->policy_key != rq->policy_key || r->req_len != rq->body_len ||
        memcmp(r->data, rq->body, rq->body_len) != 0)
        return 0;
    if (el_buf_append(rs->body, r->data + r->req_len, r->body_len) < 0)
        return 0; /* rendered as usual */
    rs->http_status = 200;
    rs->log_reason = NULL;
    st->stats.requests[EL_SRV_SYNC]++;
    st->stats.replay_hits++;
    return 1;
}

void el__replay_keep(struct el_srv_state *st, const struct el_srv_request *rq,
                     const struct el_srv_response *rs, size_t start)
{
    struct el__device *d = device_of(st, rq);
    if (d == NULL || rs->http_status != 200 || rs->nheaders != 0 || rs->content_type != NULL ||
        rs->hold_seconds != 0 || rs->watch != NULL || rs->body->len <= start)
        return;
    size_t body_len = rs->body->len - start;
    struct el__replay *r = realloc(d->replay, sizeof(*r) + rq->body_len + body_len);
    if (r == NULL) {
        el__replay_drop(d);
        return;
    }
    r->gen = st->gen;
    r->version = rq->version;
    r->policy_key = rq->policy_key;
    r->req_len = rq->body_len;
    r->body_len = body_len;
    if (rq->body_len > 0)
        memcpy(r->data, rq->body, rq->body_len);
    memcpy(r->data + rq->body_len, rs->body->data + start, body_len);
    d->replay = r;
}

void el__replay_drop(struct el__device *d)
{
    free(d->replay);
    d->replay = NULL;
}
