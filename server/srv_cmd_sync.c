/* srv_cmd_sync.c - Sync ([MS-ASCMD] 2.2.1.21) for Email, Calendar, Contacts, Tasks and Notes:
 * per-device per-folder sync keys (each response key replaces the old; the previous key is
 * accepted once for a retry; any other key -> Status 3), key 0 primes a collection (Status 4 if
 * it also asks for changes or sends commands), the strict Collection child order, client
 * Add/Change/Delete/Fetch with Responses, GetChanges windowed by WindowSize (1-512, 0/>512 ->
 * 512) with MoreAvailable, Options/FilterType (SoftDelete for items that fall out of the filter)
 * and airsyncbase:BodyPreference; Wait/HeartbeatInterval bounds (14 + Limit), Status 15 past
 * 300 collections. The Sync cache (empty and Partial requests) and held Syncs are in
 * srv_cmd_sync_hold.c. --sync-replay (el_srv_config.sync_replay) leaves the state and key as they
 * were after each answer (srv_replay.c then sends the same bytes again while nothing changes).
 * Owns: per-request arrays only. Uses: srv_int.h. */
#include "srv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW_DEFAULT  100
#define COMMANDS_MAX    1024 /* client commands per collection */
#define COLLECTIONS_MAX 300

/* Rank of a Collection child in the spec's order (2.2.3.29.2); Options may repeat. */
static int child_rank(uint16_t tag)
{
    switch (tag) {
    case EL_AS_CLASS:
        return 0; /* 12.1 clients put it first */
    case EL_AS_SYNCKEY:
        return 1;
    case EL_AS_COLLECTIONID:
        return 2;
    case EL_AS_SUPPORTED:
        return 3;
    case EL_AS_DELETESASMOVES:
        return 4;
    case EL_AS_GETCHANGES:
        return 5;
    case EL_AS_WINDOWSIZE:
        return 6;
    case EL_AS_CONVERSATIONMODE:
        return 7;
    case EL_AS_OPTIONS:
        return 8;
    case EL_AS_COMMANDS:
        return 9;
    default:
        return -1;
    }
}

/* A Responses entry, written after the server's Commands. */
struct resp {
    uint16_t kind; /* EL_AS_ADD, EL_AS_CHANGE, EL_AS_DELETE, EL_AS_FETCH */
    uint16_t status;
    uint32_t item; /* Add (new item), Fetch: item index; UINT32_MAX = none */
    char client_id[65];
    char server_id[65];
};

/* A server change to send. */
struct chg {
    uint32_t seq;
    uint32_t idx;
    uint16_t kind; /* EL_AS_ADD, EL_AS_CHANGE, EL_AS_DELETE, EL_AS_SOFTDELETE */
};

static int chg_cmp(const void *a, const void *b)
{
    const struct chg *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ---- ApplicationData -> properties --------------------------------------------------------- */

struct appdata {
    const uint8_t *body; /* borrowed from the request */
    size_t body_len;
    unsigned body_type;
};

static void props_from_tree(const struct el__tree *t, uint32_t node, struct el__props *pb,
                            struct appdata *ad, unsigned depth)
{
    for (uint32_t c = t->n[node].child; c; c = t->n[c].next) {
        const struct el__node *n = &t->n[c];
        if (n->tag == EL_ASB_BODY) {
            uint32_t data = el__child(t, c, EL_ASB_DATA);
            if (data && t->n[data].has_text) {
                ad->body = t->n[data].text;
                ad->body_len = t->n[data].len;
            }
            ad->body_type = (unsigned)el__child_uint(t, c, EL_ASB_TYPE, 1, NULL);
            el__props_empty(pb, EL_ASB_BODY);
            continue;
        }
        if (n->child && depth < 8) {
            el__props_open(pb, n->tag);
            props_from_tree(t, c, pb, ad, depth + 1);
            el__props_close(pb);
        } else if (n->has_text) {
            if (n->opaque)
                el__props_opaque(pb, n->tag, n->text, n->len);
            else
                el__props_text(pb, n->tag, (const char *)n->text, n->len);
        } else {
            el__props_empty(pb, n->tag);
        }
    }
}

/* "20261123T184709Z" or "2026-11-23T18:47:09.000Z" -> ms; 0 if neither. */
static int64_t parse_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6 &&
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000;
}

/* Item fields a client's ApplicationData decides (date for filters, completion). */
static void item_from_props(struct el__item *it, int cls, const struct el__props *pb,
                            int64_t now_ms)
{
    const char *v;
    it->date_ms = now_ms;
    if (cls == EL__CLS_CALENDAR && (v = el__props_get(pb, EL_CAL_STARTTIME, NULL)) != NULL)
        it->date_ms = parse_date(v) ? parse_date(v) : now_ms;
    if (cls == EL__CLS_TASKS) {
        if ((v = el__props_get(pb, EL_TASKS_UTCDUEDATE, NULL)) != NULL && parse_date(v))
            it->date_ms = parse_date(v);
        v = el__props_get(pb, EL_TASKS_COMPLETE, NULL);
        if (v && v[0] == '1')
            it->flags |= EL__IF_COMPLETE;
        else
            it->flags &= (uint8_t)~EL__IF_COMPLETE;
    }
    if (cls == EL__CLS_CALENDAR) {
        it->flags &= (uint8_t)~EL__IF_RECUR;
        for (unsigned i = 0; i < pb->n; i++)
            if (pb->p[i].tag == EL_CAL_RECURRENCE)
                it->flags |= EL__IF_RECUR;
    }
}

/* ---- client commands ----------------------------------------------------------------------- */

struct coll {
    int fi;
    int cls;
    struct el__fstate *fs;
    struct resp *resp; /* owned */
    unsigned nresp;
    int deletes_as_moves;
    int retry; /* the request came with the previous key */
};

/* The item a retried request's Add created the first time, or -1. */
static long retried_add(struct el__ctx *c, struct coll *co, const char *client_id)
{
    uint64_t h = el__hash(client_id, strlen(client_id), 0xADD);
    const struct el__folder *f = &c->u->mb->f[co->fi];
    for (uint32_t i = 0; i < co->fs->nadds; i++)
        if (co->fs->adds[i].client_hash == h && co->fs->adds[i].item < f->n &&
            !(f->items[co->fs->adds[i].item].flags & EL__IF_DELETED))
            return (long)co->fs->adds[i].item;
    return -1;
}

/* Remembers this request's successful Adds for a retry of it. */
static int remember_adds(struct el__ctx *c, struct coll *co)
{
    struct el__fstate *fs = co->fs;
    unsigned n = 0;
    for (unsigned i = 0; i < co->nresp; i++)
        n += co->resp[i].kind == EL_AS_ADD && co->resp[i].status == 1;
    c->st->device_bytes -= fs->nadds * sizeof(struct el__addmap);
    free(fs->adds);
    fs->adds = NULL;
    fs->nadds = 0;
    if (n == 0)
        return 0;
    fs->adds = malloc(n * sizeof(*fs->adds));
    if (fs->adds == NULL)
        return EL_ENOMEM;
    for (unsigned i = 0; i < co->nresp; i++) {
        const struct resp *r = &co->resp[i];
        if (r->kind != EL_AS_ADD || r->status != 1)
            continue;
        fs->adds[fs->nadds].client_hash = el__hash(r->client_id, strlen(r->client_id), 0xADD);
        fs->adds[fs->nadds].item = r->item;
        fs->nadds++;
    }
    c->st->device_bytes += fs->nadds * sizeof(struct el__addmap);
    return 0;
}

static int client_add(struct el__ctx *c, struct coll *co, uint32_t cmd, struct resp *r)
{
    const struct el__tree *t = &c->t;
    el__child_text(t, cmd, EL_AS_CLIENTID, r->client_id, sizeof(r->client_id));
    uint32_t app = el__child(t, cmd, EL_AS_APPLICATIONDATA);
    if (r->client_id[0] == 0 || app == 0) {
        r->status = 4;
        return 0;
    }
    if (co->cls == EL__CLS_EMAIL && !(c->rq->version >= 160 && co->fi == EL__F_DRAFTS)) {
        r->status = 6; /* mail is added by SendMail (and, from 16.0, to Drafts only) */
        return 0;
    }
    long again = co->retry ? retried_add(c, co, r->client_id) : -1;
    if (again < 0 && el__quota_full(c->st, c->u)) {
        r->status = 9; /* cannot complete: the mailbox is full */
        c->st->stats.quota_refused++;
        el__reason(c, "Sync: Add refused: mailbox at or over its quota of %llu bytes",
                   (unsigned long long)c->st->quota_bytes);
        return 0;
    }
    if (again >= 0) { /* added by the first try of this request: the same ServerId */
        if (el__fstate_set(c->st, co->fs, (uint32_t)again, 1) < 0)
            return EL_ENOMEM;
        el__item_id(r->server_id, co->fi, (uint32_t)again);
        r->item = (uint32_t)again;
        r->status = 1;
        return 0;
    }
    struct el__props *pb = &c->scratch;
    el__props_reset(pb);
    struct appdata ad = {0};
    props_from_tree(t, app, pb, &ad, 0);
    if (pb->overflow) {
        r->status = 6;
        return 0;
    }
    struct el__item tmpl;
    memset(&tmpl, 0, sizeof(tmpl));
    tmpl.flags = co->cls == EL__CLS_EMAIL ? EL__IF_READ : 0;
    item_from_props(&tmpl, co->cls, pb, (int64_t)c->rq->now_ms);
    long ii = el__item_add(c->st, c->u, co->fi, &tmpl, pb, ad.body, ad.body_len, ad.body_type == 4);
    if (ii < 0)
        return EL_ENOMEM;
    if (el__fstate_set(c->st, co->fs, (uint32_t)ii, 1) < 0)
        return EL_ENOMEM;
    el__item_id(r->server_id, co->fi, (uint32_t)ii);
    r->item = (uint32_t)ii;
    r->status = 1;
    return 0;
}

static int find_in(struct el__ctx *c, struct coll *co, const char *sid, uint32_t *ii)
{
    int fi;
    if (el__item_parse_id(c->u->mb, sid, &fi, ii) < 0 || fi != co->fi)
        return -1;
    return 0;
}

static int client_change(struct el__ctx *c, struct coll *co, uint32_t cmd, struct resp *r)
{
    const struct el__tree *t = &c->t;
    uint32_t ii;
    el__child_text(t, cmd, EL_AS_SERVERID, r->server_id, sizeof(r->server_id));
    uint32_t app = el__child(t, cmd, EL_AS_APPLICATIONDATA);
    if (find_in(c, co, r->server_id, &ii) < 0) {
        r->status = 8;
        return 0;
    }
    if (app == 0) {
        r->status = 4;
        return 0;
    }
    struct el__item *it = &c->u->mb->f[co->fi].items[ii];
    if (co->cls == EL__CLS_EMAIL) { /* mail: only flags change (Read, Flag) */
        uint32_t read = el__child(t, app, EL_EMAIL_READ);
        if (read)
            it->flags = el__child_flag(t, app, EL_EMAIL_READ, 0) ? it->flags | EL__IF_READ
                                                                 : it->flags & ~EL__IF_READ;
        uint32_t flag = el__child(t, app, EL_EMAIL_FLAG);
        if (flag) {
            unsigned long fs = el__child_uint(t, flag, EL_EMAIL_STATUS, 0, NULL);
            it->flags = fs == 2 ? it->flags | EL__IF_FLAGGED : it->flags & ~EL__IF_FLAGGED;
        }
        el__item_touch(c->st, c->u, co->fi, ii);
    } else {
        struct el__props *pb = &c->scratch;
        el__props_reset(pb);
        struct appdata ad = {0};
        props_from_tree(t, app, pb, &ad, 0);
        if (pb->overflow) {
            r->status = 6;
            return 0;
        }
        item_from_props(it, co->cls, pb, (int64_t)c->rq->now_ms);
        if (el__item_replace(c->st, c->u, co->fi, ii, pb, ad.body, ad.body_len, ad.body_type == 4) <
            0)
            return EL_ENOMEM;
    }
    r->item = ii;
    r->status = 1; /* success is not reported for Change */
    return 0;
}

static int client_delete(struct el__ctx *c, struct coll *co, uint32_t cmd, struct resp *r)
{
    uint32_t ii;
    el__child_text(&c->t, cmd, EL_AS_SERVERID, r->server_id, sizeof(r->server_id));
    if (find_in(c, co, r->server_id, &ii) < 0) {
        r->status = 8;
        return 0;
    }
    el__fstate_set(c->st, co->fs, ii, 0);
    if (co->deletes_as_moves && co->cls == EL__CLS_EMAIL && co->fi != EL__F_DELETED) {
        if (el__item_move(c->st, c->u, co->fi, ii, EL__F_DELETED) < 0)
            return EL_ENOMEM;
    } else {
        el__item_delete(c->st, c->u, co->fi, ii);
    }
    r->status = 1;
    return 0;
}

static int client_commands(struct el__ctx *c, struct coll *co, uint32_t cmds)
{
    const struct el__tree *t = &c->t;
    unsigned n = 0;
    for (uint32_t k = t->n[cmds].child; k; k = t->n[k].next)
        n++;
    if (n > COMMANDS_MAX)
        n = COMMANDS_MAX;
    co->resp = calloc(n ? n : 1, sizeof(*co->resp));
    if (co->resp == NULL)
        return EL_ENOMEM;
    unsigned i = 0;
    for (uint32_t k = t->n[cmds].child; k && i < n; k = t->n[k].next) {
        struct resp *r = &co->resp[i++];
        r->kind = t->n[k].tag;
        r->item = UINT32_MAX;
        int rc = 0;
        switch (r->kind) {
        case EL_AS_ADD:
            rc = client_add(c, co, k, r);
            break;
        case EL_AS_CHANGE:
            rc = client_change(c, co, k, r);
            break;
        case EL_AS_DELETE:
            rc = client_delete(c, co, k, r);
            break;
        case EL_AS_FETCH: {
            uint32_t ii;
            el__child_text(t, k, EL_AS_SERVERID, r->server_id, sizeof(r->server_id));
            r->status = find_in(c, co, r->server_id, &ii) < 0 ? 8 : 1;
            r->item = r->status == 1 ? ii : UINT32_MAX;
            break;
        }
        default:
            r->status = 4;
            break;
        }
        if (rc < 0)
            return rc;
    }
    co->nresp = i;
    return 0;
}

static void write_responses(struct el__ctx *c, struct coll *co, const struct el__bodypref *bp)
{
    struct el_wbxml_encoder *e = &c->enc;
    unsigned shown = 0;
    for (unsigned i = 0; i < co->nresp; i++) {
        struct resp *r = &co->resp[i];
        /* successful Change and Delete are not echoed ([MS-ASCMD] 2.2.3.24) */
        if ((r->kind == EL_AS_CHANGE || r->kind == EL_AS_DELETE) && r->status == 1)
            continue;
        if (r->kind != EL_AS_ADD && r->kind != EL_AS_CHANGE && r->kind != EL_AS_DELETE &&
            r->kind != EL_AS_FETCH)
            continue;
        if (shown++ == 0)
            el_wbxml_start(e, EL_AS_RESPONSES);
        el_wbxml_start(e, r->kind);
        if (r->kind == EL_AS_ADD) {
            el_wbxml_text(e, EL_AS_CLIENTID, r->client_id);
            if (r->status == 1)
                el_wbxml_text(e, EL_AS_SERVERID, r->server_id);
        } else {
            el_wbxml_text(e, EL_AS_SERVERID, r->server_id);
        }
        el_wbxml_uint(e, EL_AS_STATUS, r->status);
        if (r->kind == EL_AS_FETCH && r->item != UINT32_MAX) {
            el_wbxml_start(e, EL_AS_APPLICATIONDATA);
            el__item_render(c, co->fi, &c->u->mb->f[co->fi].items[r->item], bp);
            el_wbxml_end(e);
        }
        el_wbxml_end(e);
    }
    if (shown)
        el_wbxml_end(e);
}

/* ---- one collection ------------------------------------------------------------------------ */

static void coll_head(struct el__ctx *c, const char *key, const char *cid, unsigned status, int cls)
{
    struct el_wbxml_encoder *e = &c->enc;
    el_wbxml_start(e, EL_AS_COLLECTION);
    if (c->rq->version < 140 && cls >= 0)
        el_wbxml_text(e, EL_AS_CLASS, el__cls_name(cls));
    el_wbxml_text(e, EL_AS_SYNCKEY, key);
    el_wbxml_text(e, EL_AS_COLLECTIONID, cid);
    el_wbxml_uint(e, EL_AS_STATUS, status);
}

static void coll_error(struct el__ctx *c, const char *key, const char *cid, unsigned status,
                       int cls)
{
    coll_head(c, key, cid, status, cls);
    el_wbxml_end(&c->enc);
}

/* Options: FilterType and BodyPreference from the first Options that is not for SMS. */
uint32_t el__sync_pick_options(const struct el__tree *t, uint32_t coll)
{
    for (uint32_t k = t->n[coll].child; k; k = t->n[k].next) {
        if (t->n[k].tag != EL_AS_OPTIONS)
            continue;
        char cls[16];
        if (el__child_text(t, k, EL_AS_CLASS, cls, sizeof(cls)) && strcmp(cls, "SMS") == 0)
            continue;
        return k;
    }
    return 0;
}

/* Fault injection: up to n items the device holds in folder fi disappear on the server (newest
 * first), as a virus scanner's deletes; the changes below then report them as Delete. */
static void vanish(struct el__ctx *c, int fi, const struct el__fstate *fs, unsigned n)
{
    struct el__folder *f = &c->u->mb->f[fi];
    unsigned done = 0;
    for (uint32_t i = f->n; i > 0 && done < n; i--) {
        if ((f->items[i - 1].flags & EL__IF_DELETED) || !el__fstate_has(fs, i - 1))
            continue;
        el__item_delete(c->st, c->u, fi, i - 1);
        done++;
    }
    if (done) {
        c->st->stats.vanish_requests++;
        c->st->stats.vanished_items += done;
    }
}

static int sync_collection(struct el__ctx *c, uint32_t node, unsigned *budget)
{
    const struct el__tree *t = &c->t;
    struct el_wbxml_encoder *e = &c->enc;
    char key[72] = "", cid[72] = "";
    int last = -1, order_ok = 1;
    c->sync_colls++;
    for (uint32_t k = t->n[node].child; k; k = t->n[k].next) {
        int r = child_rank(t->n[k].tag);
        if (r < 0 || r < last || (r == last && r != 8))
            order_ok = 0;
        last = r;
    }
    int has_key = el__child_text(t, node, EL_AS_SYNCKEY, key, sizeof(key)) != NULL;
    el__child_text(t, node, EL_AS_COLLECTIONID, cid, sizeof(cid));
    if (!order_ok || !has_key || cid[0] == 0) {
        el__reason(c, "Sync: collection %s: %s", cid,
                   order_ok ? "SyncKey or CollectionId missing" : "children out of order");
        coll_error(c, key[0] ? key : "0", cid, 4, -1);
        return 0;
    }
    struct coll co = {0};
    co.fi = el__folder_lookup(c->u->mb, cid, strlen(cid));
    if (co.fi < 0) {
        el__reason(c, "Sync: unknown CollectionId %s", cid);
        coll_error(c, key, cid, 12, -1);
        return 0;
    }
    co.cls = c->u->mb->f[co.fi].cls;
    co.fs = &c->dev->f[co.fi];
    co.deletes_as_moves = el__child_flag(t, node, EL_AS_DELETESASMOVES, 1);
    struct el__fstate *fs = co.fs;
    uint32_t options = el__sync_pick_options(t, node);
    struct el__bodypref bp;
    el__bodypref_parse(t, options, &bp);
    unsigned long filter = el__child_uint(t, options, EL_AS_FILTERTYPE, 0, NULL);
    if (filter > 8)
        filter = 0;
    uint32_t cmds = el__child(t, node, EL_AS_COMMANDS);
    uint32_t gc = el__child(t, node, EL_AS_GETCHANGES);
    char *end;
    unsigned long k = strtoul(key, &end, 10);
    int numeric = key[0] >= '0' && key[0] <= '9' && *end == 0 && k <= UINT32_MAX;

    if (numeric && k == 0) {
        if ((gc && el__child_flag(t, node, EL_AS_GETCHANGES, 0)) || cmds) {
            el__reason(c, "Sync: collection %s: SyncKey 0 with %s", cid,
                       cmds ? "Commands" : "GetChanges");
            coll_error(c, "0", cid, 4, co.cls);
            return 0;
        }
        el__fstate_reset(c->st, fs, el__new_key(c->st));
        fs->filter = (uint8_t)filter;
        char nk[16];
        snprintf(nk, sizeof(nk), "%u", fs->key);
        coll_error(c, nk, cid, 1, co.cls);
        return 0;
    }
    if (!numeric || fs->key == 0 || (k != fs->key && !(k == fs->prev_key && fs->prev_ok))) {
        el__reason(c, "Sync: collection %s: SyncKey %s is not current", cid, key);
        coll_error(c, "0", cid, 3, co.cls);
        return 0;
    }
    if (c->rq->fault_resetkey) {
        /* fault injection: the sync state expired; the device must start again from key 0 */
        fs->key = el__new_key(c->st);
        fs->prev_ok = 0;
        c->st->stats.keys_reset++;
        el__reason(c, "Sync: collection %s: fault resetkey: SyncKey %s forgotten", cid, key);
        coll_error(c, "0", cid, 3, co.cls);
        return 0;
    }
    if (c->rq->fault_vanish)
        vanish(c, co.fi, fs, c->rq->fault_vanish);
    int rc;
    if (k == fs->key) {
        rc = el__fstate_commit(c->st, fs, 1);
    } else {
        el__fstate_rollback(c->st, fs);
        rc = el__fstate_commit(c->st, fs, 0);
        co.retry = 1;
    }
    if (rc < 0)
        return rc;
    fs->filter = (uint8_t)filter;

    if (cmds) {
        rc = client_commands(c, &co, cmds);
        if (rc < 0) {
            free(co.resp);
            return rc;
        }
    }
    rc = remember_adds(c, &co);
    if (rc < 0) {
        free(co.resp);
        return rc;
    }
    int getchanges = el__child_flag(t, node, EL_AS_GETCHANGES, 1);
    unsigned long window = el__child_uint(t, node, EL_AS_WINDOWSIZE, WINDOW_DEFAULT, NULL);
    if (window == 0 || window > EL__SYNC_WINDOW_MAX)
        window = EL__SYNC_WINDOW_MAX;
    if (window > *budget)
        window = *budget;

    struct el__folder *f = &c->u->mb->f[co.fi];
    struct chg *ch = NULL;
    uint32_t nch = 0;
    if (getchanges) {
        ch = malloc((f->n ? f->n : 1) * sizeof(*ch));
        if (ch == NULL) {
            free(co.resp);
            return EL_ENOMEM;
        }
        int64_t now = (int64_t)c->rq->now_ms;
        /* items this request's own Add/Change touched are not sent back to it */
        uint8_t *own = calloc(f->n / 8 + 1, 1);
        if (own == NULL) {
            free(ch);
            free(co.resp);
            return EL_ENOMEM;
        }
        for (unsigned r = 0; r < co.nresp; r++)
            if ((co.resp[r].kind == EL_AS_ADD || co.resp[r].kind == EL_AS_CHANGE) &&
                co.resp[r].status == 1 && co.resp[r].item < f->n)
                own[co.resp[r].item / 8] |= (uint8_t)(1u << (co.resp[r].item % 8));
        for (uint32_t i = 0; i < f->n; i++) {
            const struct el__item *it = &f->items[i];
            if ((own[i / 8] >> (i % 8)) & 1)
                continue;
            int have = el__fstate_has(fs, i);
            int alive = !(it->flags & EL__IF_DELETED);
            int live = alive && el__filter_ok(c->st, co.cls, it, fs->filter, now);
            uint16_t kind = 0;
            if (live && !have)
                kind = EL_AS_ADD;
            else if (live && it->seq > fs->cursor)
                kind = EL_AS_CHANGE;
            else if (!live && have)
                kind = alive ? EL_AS_SOFTDELETE : EL_AS_DELETE;
            if (kind) {
                ch[nch].seq = it->seq;
                ch[nch].idx = i;
                ch[nch].kind = kind;
                nch++;
            }
        }
        free(own);
        qsort(ch, nch, sizeof(*ch), chg_cmp);
    }
    uint32_t nsend = nch < window ? nch : (uint32_t)window;
    *budget -= nsend;

    char nk[16];
    /* --sync-replay: the answer carries the request's key and the state goes back to it below,
     * so the same request gets the same window again (bench/engine.sh) */
    int replay = c->st->sync_replay && !co.retry;
    uint32_t new_key = replay ? (uint32_t)k : el__new_key(c->st);
    snprintf(nk, sizeof(nk), "%u", new_key);
    coll_head(c, nk, cid, 1, co.cls);
    if (nch > nsend)
        el_wbxml_empty(e, EL_AS_MOREAVAILABLE);
    if (nsend) {
        el_wbxml_start(e, EL_AS_COMMANDS);
        char sid[24];
        for (uint32_t i = 0; i < nsend; i++) {
            const struct el__item *it = &f->items[ch[i].idx];
            el__item_id(sid, co.fi, ch[i].idx);
            el_wbxml_start(e, ch[i].kind);
            el_wbxml_text(e, EL_AS_SERVERID, sid);
            if (ch[i].kind == EL_AS_ADD || ch[i].kind == EL_AS_CHANGE) {
                el_wbxml_start(e, EL_AS_APPLICATIONDATA);
                el__item_render(c, co.fi, it, &bp);
                el_wbxml_end(e);
                rc = el__fstate_set(c->st, fs, ch[i].idx, 1);
            } else {
                rc = el__fstate_set(c->st, fs, ch[i].idx, 0);
            }
            el_wbxml_end(e);
            if (rc < 0)
                break;
        }
        el_wbxml_end(e);
    }
    write_responses(c, &co, &bp);
    el_wbxml_end(e);

    /* the new state: everything up to the last change sent (or all of it) is known */
    if (getchanges) {
        if (nsend == nch)
            fs->cursor = f->seq;
        else if (nsend && ch[nsend - 1].seq > fs->cursor)
            fs->cursor = ch[nsend - 1].seq;
    }
    /* (without GetChanges the cursor stays, so the client's own edits come back as Changes
     * on its next Sync: harmless, and rare; see NOTES-eas.md) */
    fs->key = new_key;
    if (replay) {
        el__fstate_rollback(c->st, fs); /* the state committed above, at key k */
        if (!cmds && !c->rq->fault_vanish)
            c->sync_replayed++; /* nothing changed: srv_replay.c may keep the answer */
    }
    free(ch);
    free(co.resp);
    return rc < 0 ? rc : 0;
}

int el__cmd_sync(struct el__ctx *c)
{
    const struct el__tree *t = &c->t;
    struct el_wbxml_encoder *e = &c->enc;
    /* a new Sync ends the device's parked Ping or Sync */
    el__watch_replace(c->st, c->u, c->dev->id);
    if (c->root && el__child(t, c->root, EL_AS_PARTIAL) && c->dev->sync_mask) {
        /* Partial (12.1+): the listed collections plus the cached others */
        int rc = el__sync_from_cache(c, c->root);
        if (rc < 0)
            return rc;
    } else if (c->root == 0) {
        /* empty Sync (12.1+): repeat the last one with the current keys */
        int rc = el__sync_from_cache(c, 0);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            el__reason(c, "Sync: empty request and no cached Sync");
            el__begin(c);
            el_wbxml_uint(e, EL_AS_STATUS, 13);
            return el__finish(c);
        }
    }
    uint32_t colls = el__child(t, c->root, EL_AS_COLLECTIONS);
    uint32_t wait = el__child(t, c->root, EL_AS_WAIT);
    uint32_t hb = el__child(t, c->root, EL_AS_HEARTBEATINTERVAL);
    if (colls == 0 || (wait && hb)) {
        el__reason(c, "Sync: %s", colls ? "both Wait and HeartbeatInterval" : "no Collections");
        el__begin(c);
        el_wbxml_uint(e, EL_AS_STATUS, 4);
        return el__finish(c);
    }
    unsigned hold_s = 0;
    if (wait || hb) {
        int bad = 0;
        unsigned long v =
            el__child_uint(t, c->root, wait ? EL_AS_WAIT : EL_AS_HEARTBEATINTERVAL, 0, &bad);
        unsigned long lo = wait ? 1 : 60, hi = wait ? 59 : 3540;
        if (bad || v < lo || v > hi) {
            el__reason(c, "Sync: %s %lu out of %lu-%lu", wait ? "Wait" : "HeartbeatInterval", v, lo,
                       hi);
            el__begin(c);
            el_wbxml_uint(e, EL_AS_STATUS, 14);
            el_wbxml_uint(e, EL_AS_LIMIT, v < lo ? lo : hi);
            return el__finish(c);
        }
        hold_s = (unsigned)(wait ? v * 60 : v);
    }
    unsigned ncoll = 0;
    for (uint32_t k = t->n[colls].child; k; k = t->n[k].next)
        ncoll++;
    if (ncoll > COLLECTIONS_MAX) {
        el__begin(c);
        el_wbxml_uint(e, EL_AS_STATUS, 15);
        el_wbxml_uint(e, EL_AS_LIMIT, COLLECTIONS_MAX);
        return el__finish(c);
    }
    /* the cache an empty Sync repeats */
    c->dev->sync_mask = 0;
    c->dev->sync_hb = hold_s;
    for (uint32_t k = t->n[colls].child; k; k = t->n[k].next)
        if (t->n[k].tag == EL_AS_COLLECTION)
            el__sync_cache_collection(c, k);
    uint16_t mask;
    if (hold_s && !c->replay && el__sync_holdable(c, colls, &mask))
        return el__sync_hold(c, mask, hold_s);

    unsigned long top = el__child_uint(t, c->root, EL_AS_WINDOWSIZE, 0, NULL);
    unsigned budget =
        top == 0 || top > EL__SYNC_WINDOW_MAX
            ? (el__child(t, c->root, EL_AS_WINDOWSIZE) ? EL__SYNC_WINDOW_MAX : UINT32_MAX)
            : (unsigned)top;
    el__begin(c);
    el_wbxml_start(e, EL_AS_COLLECTIONS);
    for (uint32_t k = t->n[colls].child; k; k = t->n[k].next) {
        if (t->n[k].tag != EL_AS_COLLECTION)
            continue;
        int rc = sync_collection(c, k, &budget);
        if (rc < 0)
            return rc;
    }
    return el__finish(c);
}
