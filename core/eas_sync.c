/* eas_sync.c - Sync, one collection per call: key "0" primes the folder (no GetChanges, no
 * options) and asks for a second round trip; later calls send GetChanges, WindowSize, Options
 * (FilterType, BodyPreference) and the client's own Add/Change/Delete commands in the spec's
 * child order. The answer updates the folder's key and item count, remembers one ServerId,
 * counts the server's changes, MoreAvailable, and the delivery stamps of pushed test mail
 * (Subject "easload-push:<unix_us>"); status 3 resets the folder to key "0".
 * Owns: nothing. Uses: eas_int.h. */
#include "eas_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define PUSH_PREFIX    "easload-push:"
#define WINDOW_DEFAULT 50
#define WINDOW_MAX     512

/* "20251123T184700Z": calendar and task times in the compact form. */
static void compact_time(time_t t, char out[20])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 20, "%Y%m%dT%H%M%SZ", &tm);
}

/* ApplicationData of an item the client creates or changes, by folder class. 0 or EL_EINVAL
 * (mail items can only be changed: marked read). */
static int app_data(struct el_eas_device *d, const struct el_eas_folder *f, int change,
                    uint32_t seq, struct el_wbxml_encoder *e, struct el_err *err)
{
    const char *cls = el__eas_folder_class(f->type);
    char subject[64], t1[20], t2[20];
    snprintf(subject, sizeof(subject), "easload %s %u", change ? "changed" : "item", (unsigned)seq);
    if (strcmp(cls, "Email") == 0) {
        if (!change)
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                          "device %s: Sync %s: a client cannot add mail items (use a calendar, "
                          "contacts or tasks folder)",
                          d->device_id, f->name);
        el_wbxml_start(e, EL_AS_APPLICATIONDATA);
        el_wbxml_text(e, EL_EMAIL_READ, "1");
        el_wbxml_end(e);
        return 0;
    }
    el_wbxml_start(e, EL_AS_APPLICATIONDATA);
    if (strcmp(cls, "Calendar") == 0) {
        /* UTC: the 172-byte TIME_ZONE_INFORMATION of all zeros, base64 */
        char tz[233];
        memset(tz, 'A', 228);
        memcpy(tz + 228, "AA==", 5);
        time_t start = time(NULL) / 3600 * 3600 + 86400 + (time_t)(seq % 240) * 3600;
        el_wbxml_text(e, EL_CAL_TIMEZONE, tz);
        el_wbxml_text(e, EL_CAL_ALLDAYEVENT, "0");
        el_wbxml_text(e, EL_CAL_BUSYSTATUS, "2");
        compact_time(time(NULL), t1);
        el_wbxml_text(e, EL_CAL_DTSTAMP, t1);
        compact_time(start + 1800, t2);
        el_wbxml_text(e, EL_CAL_ENDTIME, t2);
        el_wbxml_text(e, EL_CAL_SENSITIVITY, "0");
        el_wbxml_text(e, EL_CAL_SUBJECT, subject);
        compact_time(start, t1);
        el_wbxml_text(e, EL_CAL_STARTTIME, t1);
        el_wbxml_text(e, EL_CAL_MEETINGSTATUS, "0");
    } else if (strcmp(cls, "Contacts") == 0) {
        char mail[96];
        snprintf(mail, sizeof(mail), "contact%u@example.com", (unsigned)seq);
        el_wbxml_text(e, EL_CONTACTS_EMAIL1ADDRESS, mail);
        el_wbxml_text(e, EL_CONTACTS_FILEAS, subject);
        el_wbxml_text(e, EL_CONTACTS_FIRSTNAME, "easload");
        el_wbxml_text(e, EL_CONTACTS_LASTNAME, subject + 8);
    } else if (strcmp(cls, "Tasks") == 0) {
        el_wbxml_text(e, EL_TASKS_COMPLETE, "0");
        el_wbxml_text(e, EL_TASKS_IMPORTANCE, "1");
        el_wbxml_text(e, EL_TASKS_SUBJECT, subject);
    } else {
        el_wbxml_end(e);
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "device %s: Sync %s: client changes need a mail, calendar, contacts or "
                      "tasks folder",
                      d->device_id, f->name);
    }
    el_wbxml_end(e);
    return 0;
}

static int commands(struct el_eas_device *d, struct el_eas_call *c, struct el_eas_folder *f,
                    struct el_wbxml_encoder *e, struct el_err *err)
{
    const char *item = c->in.item != NULL ? c->in.item : f->last_item;
    if ((c->in.changes > 0 || c->in.deletes > 0) && item[0] == '\0')
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "device %s: Sync %s: no item known to change or delete (sync it first)",
                      d->device_id, f->name);
    if (c->in.changes > 1 || c->in.deletes > 1 || (c->in.changes && c->in.deletes))
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "device %s: Sync %s: one change or one delete per call (one known item)",
                      d->device_id, f->name);
    if (c->in.adds > 100)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %s: Sync: at most 100 adds per call",
                      d->device_id);
    el_wbxml_start(e, EL_AS_COMMANDS);
    for (unsigned i = 0; i < c->in.adds; i++) {
        char cid[16];
        uint32_t seq = ++d->client_id_seq;
        snprintf(cid, sizeof(cid), "%u", (unsigned)seq);
        el_wbxml_start(e, EL_AS_ADD);
        el_wbxml_text(e, EL_AS_CLIENTID, cid);
        int rc = app_data(d, f, 0, seq, e, err);
        if (rc < 0)
            return rc;
        el_wbxml_end(e);
    }
    if (c->in.changes) {
        el_wbxml_start(e, EL_AS_CHANGE);
        el_wbxml_text(e, EL_AS_SERVERID, item);
        int rc = app_data(d, f, 1, ++d->client_id_seq, e, err);
        if (rc < 0)
            return rc;
        el_wbxml_end(e);
    }
    if (c->in.deletes) {
        el_wbxml_start(e, EL_AS_DELETE);
        el_wbxml_text(e, EL_AS_SERVERID, item);
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    return 0;
}

int el__eas_sync_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                       struct el_err *err)
{
    struct el_eas_folder *f = el__eas_folder_arg(d, c->in.folder, 2, "Sync", err);
    if (f == NULL)
        return EL_EINVAL;
    int key0 = strcmp(f->sync_key, "0") == 0;
    struct el_wbxml_encoder *e = &rq->enc;
    el_wbxml_encoder_init(e, rq->body);
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_start(e, EL_AS_COLLECTIONS);
    el_wbxml_start(e, EL_AS_COLLECTION);
    if (d->version <= 121) /* 12.1 clients name the class first */
        el_wbxml_text(e, EL_AS_CLASS, el__eas_folder_class(f->type));
    el_wbxml_text(e, EL_AS_SYNCKEY, f->sync_key);
    el_wbxml_text(e, EL_AS_COLLECTIONID, f->id);
    if (!key0) {
        unsigned window = c->in.window ? c->in.window : WINDOW_DEFAULT;
        el_wbxml_empty(e, EL_AS_GETCHANGES);
        el_wbxml_uint(e, EL_AS_WINDOWSIZE, window > WINDOW_MAX ? WINDOW_MAX : window);
        el_wbxml_start(e, EL_AS_OPTIONS);
        if (c->in.filter >= 0 && c->in.filter <= 8 && f->type != 9 && f->type != 14)
            el_wbxml_uint(e, EL_AS_FILTERTYPE, (unsigned long)c->in.filter);
        el_wbxml_start(e, EL_ASB_BODYPREFERENCE);
        el_wbxml_uint(e, EL_ASB_TYPE, c->in.body_type > 0 ? (unsigned long)c->in.body_type : 1);
        if (c->in.truncate)
            el_wbxml_uint(e, EL_ASB_TRUNCATIONSIZE, c->in.truncate);
        el_wbxml_end(e);
        el_wbxml_end(e);
        if (c->in.adds || c->in.changes || c->in.deletes) {
            int rc = commands(d, c, f, e, err);
            if (rc < 0)
                return rc;
        }
    }
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    return el_wbxml_encoder_finish(e, err);
}

void el__eas_sync_begin(struct el__eas_px *px)
{
    struct el__eas_sync_px *s = &px->u.sync;
    s->f = el__eas_folder_arg(px->d, px->c->in.folder, 2, "Sync", NULL);
    s->was_zero = s->f != NULL && strcmp(s->f->sync_key, "0") == 0;
}

/* Subject "easload-push:<unix_us>" of a pushed test mail: its delivery time. */
static void push_stamp(struct el__eas_tally *t, const struct el_wbxml_ev *ev)
{
    size_t n = sizeof(PUSH_PREFIX) - 1;
    if (ev->len <= n || memcmp(ev->data, PUSH_PREFIX, n) != 0 || t->npushed >= 8)
        return;
    int64_t v = 0;
    size_t i = n;
    for (; i < ev->len && i < n + 19 && ev->data[i] >= '0' && ev->data[i] <= '9'; i++)
        v = v * 10 + (ev->data[i] - '0');
    if (i > n)
        t->pushed_unix_us[t->npushed++] = v;
}

/* The tags el__eas_sync_event reads: a 50-item window is ~3,500 events, of which the decoder
 * returns ~200 (bench/engine.sh sync); the items' other elements are checked, not returned. */
const uint64_t el__eas_sync_want[EL_WBXML_PAGE_COUNT] = {
    [EL_PAGE_AIRSYNC] = EL_WBXML_WANT(EL_AS_ADD) | EL_WBXML_WANT(EL_AS_CHANGE) |
                        EL_WBXML_WANT(EL_AS_DELETE) | EL_WBXML_WANT(EL_AS_SOFTDELETE) |
                        EL_WBXML_WANT(EL_AS_MOREAVAILABLE) | EL_WBXML_WANT(EL_AS_STATUS) |
                        EL_WBXML_WANT(EL_AS_SYNCKEY) | EL_WBXML_WANT(EL_AS_SERVERID),
    [EL_PAGE_EMAIL] = EL_WBXML_WANT(EL_EMAIL_SUBJECT),
};

/* Every event the decoder returns of a Sync answer (el__eas_sync_want): tags first, the
 * ancestors only for the few tags that matter. */
void el__eas_sync_event(struct el__eas_px *px, const struct el_wbxml_ev *ev)
{
    struct el__eas_sync_px *s = &px->u.sync;
    struct el__eas_tally *t = &px->tally;
    if (ev->type == EL_WBXML_EV_START) {
        switch (ev->tag) {
        case EL_AS_ADD:
        case EL_AS_CHANGE:
        case EL_AS_DELETE:
        case EL_AS_SOFTDELETE:
            if (el__eas_up(px, ev, 1) != EL_AS_COMMANDS)
                return;
            if (ev->tag == EL_AS_ADD)
                t->added++;
            else if (ev->tag == EL_AS_CHANGE)
                t->changed++;
            else
                t->deleted++;
            return;
        case EL_AS_MOREAVAILABLE:
            if (el__eas_up(px, ev, 1) == EL_AS_COLLECTION)
                t->more = 1;
            return;
        default:
            return;
        }
    }
    if (ev->type != EL_WBXML_EV_STR && ev->type != EL_WBXML_EV_OPAQUE)
        return;
    uint16_t parent, grand;
    switch (ev->tag) {
    case EL_AS_STATUS:
        parent = el__eas_up(px, ev, 1);
        if (parent == EL_AS_SYNC)
            s->top_status = (int)el__eas_num(ev);
        else if (parent == EL_AS_COLLECTION)
            s->coll_status = (int)el__eas_num(ev);
        break;
    case EL_AS_SYNCKEY:
        if (el__eas_up(px, ev, 1) == EL_AS_COLLECTION)
            el__eas_copy(s->key, sizeof(s->key), ev);
        break;
    case EL_AS_SERVERID:
        parent = el__eas_up(px, ev, 1);
        grand = el__eas_up(px, ev, 2);
        if (grand == EL_AS_COMMANDS && parent == EL_AS_ADD) {
            el__eas_copy(s->last, sizeof(s->last), ev);
            s->items_delta++;
        } else if (grand == EL_AS_COMMANDS &&
                   (parent == EL_AS_DELETE || parent == EL_AS_SOFTDELETE)) {
            s->items_delta--;
            if (s->f != NULL && ev->len == strlen(s->f->last_item) &&
                memcmp(ev->data, s->f->last_item, ev->len) == 0)
                s->deleted_last = 1;
        } else if (grand == EL_AS_RESPONSES && parent == EL_AS_ADD) {
            el__eas_copy(s->last, sizeof(s->last), ev); /* our own item, now on the server */
            s->items_delta++;
        }
        break;
    case EL_EMAIL_SUBJECT:
        if (el__eas_up(px, ev, 2) == EL_AS_ADD && el__eas_up(px, ev, 3) == EL_AS_COMMANDS)
            push_stamp(t, ev);
        break;
    default:
        break;
    }
}

int el__eas_sync_finish(struct el__eas_px *px)
{
    struct el__eas_sync_px *s = &px->u.sync;
    struct el_eas_call *c = px->c;
    struct el_eas_folder *f = s->f;
    if (s->top_status > 1 || (s->top_status == 1 && s->coll_status == 0)) {
        el__eas_set_status(c, s->top_status);
        return 0;
    }
    if (s->coll_status <= 0) {
        c->out.cls = EL_EAS_CLASS_MALFORMED;
        snprintf(c->out.detail, sizeof(c->out.detail), "Sync response without a Status");
        return 0;
    }
    el__eas_set_status(c, s->coll_status);
    if (f == NULL)
        return 0;
    if (s->coll_status == 3) { /* invalid key: the folder starts over */
        memcpy(f->sync_key, "0", 2);
        f->items = 0;
        f->last_item[0] = '\0';
        return 0;
    }
    if (s->coll_status != 1)
        return 0;
    if (s->key[0] != '\0')
        el__eas_strlcpy(f->sync_key, s->key, sizeof(f->sync_key));
    if (!s->was_zero && c->in.deletes > 0) { /* our Delete went through */
        s->items_delta--;
        s->deleted_last = 1;
    }
    long items = (long)f->items + s->items_delta;
    f->items = items < 0 ? 0 : (uint32_t)items;
    if (s->deleted_last)
        f->last_item[0] = '\0';
    if (s->last[0] != '\0')
        el__eas_strlcpy(f->last_item, s->last, sizeof(f->last_item));
    if (s->was_zero && c->step == 0 && strcmp(f->sync_key, "0") != 0) {
        c->step = 1; /* primed: now fetch the items */
        return 1;
    }
    return 0;
}
