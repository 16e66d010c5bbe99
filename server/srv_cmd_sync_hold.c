/* srv_cmd_sync_hold.c - the parts of Sync that outlive one request: the per-device cache an
 * empty Sync (12.1+) repeats with the current keys, and holding a Sync with Wait or
 * HeartbeatInterval until a watched collection changes (el_srv_finish_hold replays it).
 * A Partial Sync is merged with the cache the same way.
 * Owns: the held request's copy (in the watch). Uses: srv_int.h, srv_cmd_sync.c's option pick. */
#include "srv_int.h"

#include <stdlib.h>
#include <string.h>

/* Remembers a collection's options so an empty Sync can repeat them. */
void el__sync_cache_collection(struct el__ctx *c, uint32_t node)
{
    const struct el__tree *t = &c->t;
    char cid[72];
    el__child_text(t, node, EL_AS_COLLECTIONID, cid, sizeof(cid));
    int fi = el__folder_lookup(c->u->mb, cid, strlen(cid));
    if (fi < 0)
        return;
    struct el__fstate *fs = &c->dev->f[fi];
    struct el__bodypref bp;
    el__bodypref_parse(t, el__sync_pick_options(t, node), &bp);
    unsigned long w = el__child_uint(t, node, EL_AS_WINDOWSIZE, 0, NULL);
    fs->cache_type = (uint8_t)bp.type;
    fs->cache_trunc = bp.trunc > UINT32_MAX ? UINT32_MAX : (uint32_t)bp.trunc;
    fs->cache_window = (uint16_t)(w > EL__SYNC_WINDOW_MAX ? EL__SYNC_WINDOW_MAX : w);
    c->dev->sync_mask |= (uint16_t)(1u << fi);
}

/* Writes node and its subtree again. */
static void copy_node(struct el_wbxml_encoder *e, const struct el__tree *t, uint32_t node,
                      unsigned depth)
{
    const struct el__node *n = &t->n[node];
    el_wbxml_start(e, n->tag);
    if (n->has_text && n->opaque)
        el_wbxml_opaque(e, n->text, n->len);
    else if (n->has_text && memchr(n->text, 0, n->len) == NULL)
        el_wbxml_str(e, (const char *)n->text, n->len);
    for (uint32_t k = n->child; k && depth < 32; k = t->n[k].next)
        copy_node(e, t, k, depth + 1);
    el_wbxml_end(e);
}

/* Builds a Sync request from the cache (current keys, remembered options) into c->synth and
 * parses it as if it had been sent. With partial (the root of a request with Partial), the
 * collections it lists come first and replace their cached versions. 0, 1 if there is nothing
 * to sync, or EL_ENOMEM. */
int el__sync_from_cache(struct el__ctx *c, uint32_t partial)
{
    struct el__device *d = c->dev;
    const struct el__tree *t = &c->t;
    struct el_wbxml_encoder e;
    int n = 0;
    uint16_t listed = 0;
    el_buf_reset(&c->synth);
    el_wbxml_encoder_init(&e, &c->synth);
    el_wbxml_start(&e, EL_AS_SYNC);
    el_wbxml_start(&e, EL_AS_COLLECTIONS);
    uint32_t colls = partial ? el__child(t, partial, EL_AS_COLLECTIONS) : 0;
    for (uint32_t k = colls ? t->n[colls].child : 0; k; k = t->n[k].next) {
        char cid[72];
        el__child_text(t, k, EL_AS_COLLECTIONID, cid, sizeof(cid));
        int fi = el__folder_lookup(c->u->mb, cid, strlen(cid));
        if (fi >= 0)
            listed |= (uint16_t)(1u << fi);
        copy_node(&e, t, k, 0);
        n++;
    }
    for (int i = 0; i < EL__FOLDERS_MAX; i++) {
        const struct el__fstate *fs = &d->f[i];
        if (!(d->sync_mask & (1u << i)) || fs->key == 0 || !c->u->mb->f[i].in_use ||
            (listed & (1u << i)))
            continue;
        char sid[12];
        el__folder_sid(c->u->mb, i, sid);
        n++;
        el_wbxml_start(&e, EL_AS_COLLECTION);
        el_wbxml_uint(&e, EL_AS_SYNCKEY, fs->key);
        el_wbxml_text(&e, EL_AS_COLLECTIONID, sid);
        if (fs->cache_window)
            el_wbxml_uint(&e, EL_AS_WINDOWSIZE, fs->cache_window);
        el_wbxml_start(&e, EL_AS_OPTIONS);
        el_wbxml_uint(&e, EL_AS_FILTERTYPE, fs->filter);
        if (fs->cache_type) {
            el_wbxml_start(&e, EL_ASB_BODYPREFERENCE);
            el_wbxml_uint(&e, EL_ASB_TYPE, fs->cache_type);
            if (fs->cache_trunc)
                el_wbxml_uint(&e, EL_ASB_TRUNCATIONSIZE, fs->cache_trunc);
            el_wbxml_end(&e);
        }
        el_wbxml_end(&e);
        el_wbxml_end(&e);
    }
    el_wbxml_end(&e);
    uint32_t wait = el__child(t, partial, EL_AS_WAIT);
    uint32_t hb = el__child(t, partial, EL_AS_HEARTBEATINTERVAL);
    uint32_t win = el__child(t, partial, EL_AS_WINDOWSIZE);
    if (wait || hb) /* the request's own, else the cached one */
        copy_node(&e, t, wait ? wait : hb, 0);
    else if (d->sync_hb && c->rq->version >= 140)
        el_wbxml_uint(&e, EL_AS_HEARTBEATINTERVAL, d->sync_hb);
    else if (d->sync_hb)
        el_wbxml_uint(&e, EL_AS_WAIT, d->sync_hb / 60);
    if (win)
        copy_node(&e, t, win, 0);
    el_wbxml_end(&e);
    if (n == 0)
        return 1;
    if (el_wbxml_encoder_finish(&e, NULL) < 0)
        return EL_ENOMEM;
    int rc = el__tree_parse(&c->t, c->synth.data, c->synth.len, NULL);
    if (rc < 0)
        return EL_ENOMEM;
    c->root = el__tree_root(&c->t);
    return 0;
}

/* May the Sync wait? Only if every collection is current, asks for changes, sends no commands
 * and has nothing pending. Fills the folders to watch. */
int el__sync_holdable(struct el__ctx *c, uint32_t colls, uint16_t *mask)
{
    const struct el__tree *t = &c->t;
    *mask = 0;
    for (uint32_t k = t->n[colls].child; k; k = t->n[k].next) {
        if (t->n[k].tag != EL_AS_COLLECTION)
            continue;
        char key[72], cid[72];
        el__child_text(t, k, EL_AS_SYNCKEY, key, sizeof(key));
        el__child_text(t, k, EL_AS_COLLECTIONID, cid, sizeof(cid));
        int fi = el__folder_lookup(c->u->mb, cid, strlen(cid));
        if (fi < 0 || el__child(t, k, EL_AS_COMMANDS) || !el__child_flag(t, k, EL_AS_GETCHANGES, 1))
            return 0;
        struct el__fstate probe = c->dev->f[fi];
        char *end;
        unsigned long kv = strtoul(key, &end, 10);
        if (probe.key == 0 || *end != 0 || key[0] == 0 || kv != probe.key)
            return 0;
        unsigned long filter =
            el__child_uint(t, el__sync_pick_options(t, k), EL_AS_FILTERTYPE, 0, NULL);
        probe.filter = (uint8_t)(filter > 8 ? 0 : filter);
        if (el__pending(c->st, &c->u->mb->f[fi], c->u->mb->f[fi].cls, &probe,
                        (int64_t)c->rq->now_ms))
            return 0;
        *mask |= (uint16_t)(1u << fi);
    }
    return *mask != 0;
}

int el__sync_hold(struct el__ctx *c, uint16_t mask, unsigned seconds)
{
    const uint8_t *body = c->synth.len ? c->synth.data : c->rq->body;
    size_t len = c->synth.len ? c->synth.len : c->rq->body_len;
    struct el_srv_watch *w = el__watch_new(c->u, c->dev->id, mask, c->rq->version);
    if (w == NULL)
        return EL_ENOMEM;
    w->is_sync = 1;
    w->policy_key = c->rq->policy_key;
    w->body = malloc(len ? len : 1);
    if (w->body == NULL) {
        el__watch_unlink(w);
        free(w);
        return EL_ENOMEM;
    }
    memcpy(w->body, body, len);
    w->body_len = len;
    c->rs->hold_seconds = seconds;
    c->rs->watch = w;
    return 0;
}
