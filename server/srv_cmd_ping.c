/* srv_cmd_ping.c - Ping ([MS-ASCMD] 2.2.1.13): HeartbeatInterval 60-3540 s (else Status 5 with
 * the bound), at most 300 folders (else Status 6 with MaxFolders; 300 is Exchange 2010's default
 * for the number of folders a Ping may watch), an unknown folder id -> Status 7 (hierarchy out of
 * date), changes already waiting -> Status 2 at once, else the request is held (rs->hold_seconds
 * and rs->watch) until a watched folder changes or the heartbeat ends. Interval and folders are
 * cached per device; a Ping without them uses the cache (Status 3 if there is none).
 * Owns: nothing (the watch belongs to srv_watch.c). Uses: srv_int.h. */
#include "srv_int.h"

#include <string.h>

#define HB_MIN      60
#define HB_MAX      3540
#define MAX_FOLDERS 300

uint16_t el__ping_changed(struct el_srv_state *st, struct el__user *u, const struct el__device *d,
                          uint16_t mask, int64_t now_ms)
{
    uint16_t changed = 0;
    if (d == NULL || u->mb == NULL)
        return 0;
    for (int i = 0; i < EL__FOLDERS_MAX; i++) {
        if (!(mask & (1u << i)) || d->f[i].key == 0 || !u->mb->f[i].in_use)
            continue;
        if (el__pending(st, &u->mb->f[i], u->mb->f[i].cls, &d->f[i], now_ms))
            changed |= (uint16_t)(1u << i);
    }
    return changed;
}

int el__ping_write(const struct el__mailbox *mb, struct el_buf *out, uint16_t changed,
                   struct el_err *err)
{
    struct el_wbxml_encoder e;
    el_wbxml_encoder_init(&e, out);
    el_wbxml_start(&e, EL_PING_PING);
    el_wbxml_uint(&e, EL_PING_STATUS, changed ? 2 : 1);
    if (changed) {
        el_wbxml_start(&e, EL_PING_FOLDERS);
        for (int i = 0; i < EL__FOLDERS_MAX; i++) {
            if (!(changed & (1u << i)))
                continue;
            char sid[12];
            el__folder_sid(mb, i, sid);
            el_wbxml_text(&e, EL_PING_FOLDER, sid);
        }
        el_wbxml_end(&e);
    }
    el_wbxml_end(&e);
    return el_wbxml_encoder_finish(&e, err);
}

static int status_with(struct el__ctx *c, unsigned status, uint16_t tag, unsigned long v)
{
    el__begin(c);
    el_wbxml_uint(&c->enc, EL_PING_STATUS, status);
    if (tag)
        el_wbxml_uint(&c->enc, tag, v);
    return el__finish(c);
}

int el__cmd_ping(struct el__ctx *c)
{
    const struct el__tree *t = &c->t;
    struct el__device *d = c->dev;
    unsigned interval = d->ping_interval;
    uint16_t mask = d->ping_mask;
    if (c->root) {
        int bad = 0;
        uint32_t hb = el__child(t, c->root, EL_PING_HEARTBEATINTERVAL);
        if (hb) {
            unsigned long v = el__child_uint(t, c->root, EL_PING_HEARTBEATINTERVAL, 0, &bad);
            if (bad) {
                el__reason(c, "Ping: HeartbeatInterval is not a number");
                return status_with(c, 4, 0, 0);
            }
            if (v < HB_MIN || v > HB_MAX) {
                el__reason(c, "Ping: HeartbeatInterval %lu out of %d-%d", v, HB_MIN, HB_MAX);
                return status_with(c, 5, EL_PING_HEARTBEATINTERVAL, v < HB_MIN ? HB_MIN : HB_MAX);
            }
            interval = (unsigned)v;
        }
        uint32_t folders = el__child(t, c->root, EL_PING_FOLDERS);
        if (folders) {
            unsigned n = 0;
            uint16_t m = 0;
            for (uint32_t k = t->n[folders].child; k; k = t->n[k].next)
                if (t->n[k].tag == EL_PING_FOLDER)
                    n++;
            if (n > MAX_FOLDERS) {
                el__reason(c, "Ping: %u folders, at most %d", n, MAX_FOLDERS);
                return status_with(c, 6, EL_PING_MAXFOLDERS, MAX_FOLDERS);
            }
            for (uint32_t k = t->n[folders].child; k; k = t->n[k].next) {
                if (t->n[k].tag != EL_PING_FOLDER)
                    continue;
                char id[72];
                el__child_text(t, k, EL_PING_ID, id, sizeof(id));
                int fi = el__folder_lookup(c->u->mb, id, strlen(id));
                if (fi < 0) {
                    el__reason(c, "Ping: unknown folder id \"%s\"", id);
                    return status_with(c, 7, 0, 0);
                }
                m |= (uint16_t)(1u << fi);
            }
            if (m == 0) {
                el__reason(c, "Ping: empty Folders");
                return status_with(c, 3, 0, 0);
            }
            mask = m;
        }
    }
    if (interval == 0 || mask == 0) {
        el__reason(c, "Ping: %s missing and not cached",
                   interval ? "Folders" : "HeartbeatInterval");
        return status_with(c, 3, 0, 0);
    }
    d->ping_interval = interval;
    d->ping_mask = mask;
    /* a new Ping ends the device's earlier one (it answers as if woken) */
    el__watch_replace(c->st, c->u, d->id);
    uint16_t changed = el__ping_changed(c->st, c->u, d, mask, (int64_t)c->rq->now_ms);
    if (changed) {
        struct el_err err;
        int rc = el__ping_write(c->u->mb, c->rs->body, changed, &err);
        return rc < 0 ? rc : 0;
    }
    struct el_srv_watch *w = el__watch_new(c->u, d->id, mask, c->rq->version);
    if (w == NULL)
        return EL_ENOMEM;
    c->rs->hold_seconds = interval;
    c->rs->watch = w;
    return 0;
}
