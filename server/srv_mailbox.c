/* srv_mailbox.c - the in-memory mailbox model: the fixed folder hierarchy, items with per-folder
 * sequence numbers (the change log: every change gives the item a new, unique seq; deletes leave
 * tombstones), item ids, and the property builder items are described with.
 * Owns: struct el__mailbox, its item arrays and each item's struct el__owned.
 * Uses: srv_int.h. Called with the state mutex held. */
#include "srv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct el__folder_def el__folder_defs[EL__NFOLDERS] = {
    {"Inbox", -1, 2, EL__CLS_EMAIL},         {"Drafts", -1, 3, EL__CLS_EMAIL},
    {"Deleted Items", -1, 4, EL__CLS_EMAIL}, {"Sent Items", -1, 5, EL__CLS_EMAIL},
    {"Outbox", -1, 6, EL__CLS_EMAIL},        {"Calendar", -1, 8, EL__CLS_CALENDAR},
    {"Contacts", -1, 9, EL__CLS_CONTACTS},   {"Tasks", -1, 7, EL__CLS_TASKS},
    {"Notes", -1, 10, EL__CLS_NOTES},        {"Projects", EL__F_INBOX, 12, EL__CLS_EMAIL},
    {"Archive", -1, 12, EL__CLS_EMAIL},
};

int el__folder_lookup(const struct el__mailbox *mb, const char *id, size_t len)
{
    if (len == 0 || len > 9 || id[0] < '1' || id[0] > '9')
        return -1;
    uint32_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (id[i] < '0' || id[i] > '9')
            return -1;
        n = n * 10 + (uint32_t)(id[i] - '0');
    }
    for (int i = 0; i < EL__FOLDERS_MAX; i++)
        if (mb->f[i].in_use && mb->f[i].id == n)
            return i;
    return -1;
}

void el__folder_sid(const struct el__mailbox *mb, int fi, char out[12])
{
    snprintf(out, 12, "%u", mb->f[fi].id);
}

int el__cls_of_type(unsigned type)
{
    switch (type) {
    case 12:
        return EL__CLS_EMAIL;
    case 13:
        return EL__CLS_CALENDAR;
    case 14:
        return EL__CLS_CONTACTS;
    case 15:
        return EL__CLS_TASKS;
    case 16: /* journal: kept with the notes */
    case 17:
        return EL__CLS_NOTES;
    default:
        return -1;
    }
}

const char *el__cls_name(int cls)
{
    static const char *names[] = {"Email", "Calendar", "Contacts", "Tasks", "Notes"};
    return cls >= 0 && cls <= EL__CLS_NOTES ? names[cls] : "Email";
}

/* ---- property builder ---------------------------------------------------------------------- */

void el__props_reset(struct el__props *pb)
{
    pb->n = 0;
    pb->slen = 0;
    pb->overflow = 0;
}

static struct el__prop *add(struct el__props *pb, uint16_t tag, int kind, const void *v, size_t len)
{
    if (pb->overflow || pb->n >= EL__PROPS_MAX || len > EL__PROPS_STR_MAX - pb->slen - 1) {
        pb->overflow = 1;
        return NULL;
    }
    struct el__prop *p = &pb->p[pb->n++];
    p->tag = tag;
    p->kind = (uint8_t)kind;
    p->vmask = 0;
    p->off = (uint32_t)pb->slen;
    p->len = (uint32_t)len;
    if (len)
        memcpy(pb->s + pb->slen, v, len);
    pb->s[pb->slen + len] = 0;
    pb->slen += len + 1;
    return p;
}

void el__props_text(struct el__props *pb, uint16_t tag, const char *s, size_t len)
{
    add(pb, tag, EL__P_TEXT, s, len);
}

void el__props_str(struct el__props *pb, uint16_t tag, const char *s)
{
    add(pb, tag, EL__P_TEXT, s, strlen(s));
}

void el__props_fmt(struct el__props *pb, uint16_t tag, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(buf))
        n = sizeof(buf) - 1;
    add(pb, tag, EL__P_TEXT, buf, (size_t)n);
}

void el__props_opaque(struct el__props *pb, uint16_t tag, const void *p, size_t len)
{
    add(pb, tag, EL__P_OPAQUE, p, len);
}

void el__props_empty(struct el__props *pb, uint16_t tag)
{
    add(pb, tag, EL__P_EMPTY, NULL, 0);
}

void el__props_open(struct el__props *pb, uint16_t tag)
{
    add(pb, tag, EL__P_OPEN, NULL, 0);
}

void el__props_close(struct el__props *pb)
{
    add(pb, 0, EL__P_CLOSE, NULL, 0);
}

void el__props_vmask(struct el__props *pb, uint8_t vmask)
{
    if (pb->n > 0 && !pb->overflow)
        pb->p[pb->n - 1].vmask = vmask;
}

const char *el__props_get(const struct el__props *pb, uint16_t tag, size_t *len)
{
    for (unsigned i = 0; i < pb->n; i++)
        if (pb->p[i].tag == tag && pb->p[i].kind == EL__P_TEXT) {
            if (len)
                *len = pb->p[i].len;
            return pb->s + pb->p[i].off;
        }
    return NULL;
}

/* ---- owned content ------------------------------------------------------------------------- */

size_t el__owned_bytes(const struct el__owned *o)
{
    if (o == NULL)
        return 0;
    return sizeof(*o) + o->nprops * sizeof(struct el__prop) + o->slen + o->body_len;
}

/* Copies pb (may be NULL) and body into one allocation. */
static struct el__owned *owned_new(const struct el__props *pb, const void *body, size_t body_len,
                                   int body_is_mime)
{
    unsigned np = pb ? pb->n : 0;
    size_t slen = pb ? pb->slen : 0;
    if (body_len > UINT32_MAX)
        return NULL;
    size_t size = sizeof(struct el__owned) + np * sizeof(struct el__prop) + slen + body_len;
    struct el__owned *o = malloc(size);
    if (o == NULL)
        return NULL;
    o->nprops = np;
    o->slen = (uint32_t)slen;
    o->body_len = (uint32_t)body_len;
    o->body_is_mime = (uint8_t)body_is_mime;
    o->props = (struct el__prop *)(void *)(o + 1);
    o->str = (char *)(o->props + np);
    o->body = (uint8_t *)o->str + slen;
    if (np)
        memcpy(o->props, pb->p, np * sizeof(struct el__prop));
    if (slen)
        memcpy(o->str, pb->s, slen);
    if (body_len)
        memcpy(o->body, body, body_len);
    return o;
}

/* ---- mailbox ------------------------------------------------------------------------------- */

struct el__mailbox *el__mailbox_get(struct el_srv_state *st, struct el__user *u)
{
    if (u->mb)
        return u->mb;
    struct el__mailbox *mb = calloc(1, sizeof(*mb));
    if (mb == NULL)
        return NULL;
    st->stats.mailbox_bytes += sizeof(*mb);
    u->mb = mb;
    if (el__mailbox_generate(st, u, mb) < 0) {
        el__mailbox_free(st, mb);
        u->mb = NULL;
        return NULL;
    }
    st->stats.mailboxes++;
    return mb;
}

void el__mailbox_free(struct el_srv_state *st, struct el__mailbox *mb)
{
    if (mb == NULL)
        return;
    for (int i = 0; i < EL__FOLDERS_MAX; i++) {
        struct el__folder *f = &mb->f[i];
        for (uint32_t j = 0; j < f->n; j++) {
            st->stats.mailbox_bytes -= el__owned_bytes(f->items[j].own);
            free(f->items[j].own);
        }
        st->stats.items -= f->live;
        st->stats.mailbox_bytes -= f->cap * sizeof(struct el__item);
        free(f->items);
    }
    st->stats.mailbox_bytes -= sizeof(*mb);
    free(mb);
}

static struct el__item *slot(struct el_srv_state *st, struct el__folder *f)
{
    if (f->n == f->cap) {
        uint32_t cap = f->cap ? f->cap * 2 : 16;
        struct el__item *it = realloc(f->items, cap * sizeof(*it));
        if (it == NULL)
            return NULL;
        st->stats.mailbox_bytes += (cap - f->cap) * sizeof(*it);
        f->items = it;
        f->cap = cap;
    }
    return &f->items[f->n];
}

long el__item_add(struct el_srv_state *st, struct el__user *u, int fi, const struct el__item *tmpl,
                  const struct el__props *pb, const void *body, size_t body_len, int body_is_mime)
{
    struct el__folder *f = &u->mb->f[fi];
    struct el__item *it = slot(st, f);
    if (it == NULL)
        return -1;
    *it = *tmpl;
    it->own = NULL;
    if (pb || body_len) {
        it->own = owned_new(pb, body, body_len, body_is_mime);
        if (it->own == NULL)
            return -1;
        it->gen = 0;
        st->stats.mailbox_bytes += el__owned_bytes(it->own);
    }
    it->cls = u->mb->f[fi].cls;
    it->flags &= (uint8_t)~EL__IF_DELETED;
    it->seq = ++f->seq;
    f->n++;
    f->live++;
    st->stats.items++;
    el__watch_notify(st, u, fi);
    return (long)(f->n - 1);
}

void el__item_touch(struct el_srv_state *st, struct el__user *u, int fi, uint32_t ii)
{
    struct el__folder *f = &u->mb->f[fi];
    f->items[ii].seq = ++f->seq;
    el__watch_notify(st, u, fi);
}

void el__item_delete(struct el_srv_state *st, struct el__user *u, int fi, uint32_t ii)
{
    struct el__folder *f = &u->mb->f[fi];
    struct el__item *it = &f->items[ii];
    if (it->flags & EL__IF_DELETED)
        return;
    it->flags |= EL__IF_DELETED;
    st->stats.mailbox_bytes -= el__owned_bytes(it->own);
    free(it->own);
    it->own = NULL;
    it->seq = ++f->seq;
    f->live--;
    st->stats.items--;
    el__watch_notify(st, u, fi);
}

long el__item_move(struct el_srv_state *st, struct el__user *u, int fi, uint32_t ii, int dst)
{
    struct el__folder *f = &u->mb->f[fi];
    struct el__item copy = f->items[ii];
    struct el__folder *d = &u->mb->f[dst];
    struct el__item *it = slot(st, d);
    if (it == NULL)
        return -1;
    /* the content moves with the item: take the owned block over, tombstone the source */
    f->items[ii].own = NULL;
    f->items[ii].flags |= EL__IF_DELETED;
    f->items[ii].seq = ++f->seq;
    f->live--;
    *it = copy;
    it->seq = ++d->seq;
    d->n++;
    d->live++;
    el__watch_notify(st, u, fi);
    el__watch_notify(st, u, dst);
    return (long)(d->n - 1);
}

int el__item_replace(struct el_srv_state *st, struct el__user *u, int fi, uint32_t ii,
                     const struct el__props *pb, const void *body, size_t body_len,
                     int body_is_mime)
{
    struct el__item *it = &u->mb->f[fi].items[ii];
    struct el__owned *old = it->own;
    struct el_buf gen;
    el_buf_init(&gen, (size_t)64 << 20);
    if (body == NULL && old) {
        body = old->body;
        body_len = old->body_len;
        body_is_mime = old->body_is_mime;
    } else if (body == NULL) {
        /* generated content: keep its text as the owned body */
        el__item_text(st, u, fi, it, &gen, SIZE_MAX);
        body = gen.data;
        body_len = gen.len;
        body_is_mime = 0;
    }
    struct el__owned *o = owned_new(pb, body, body_len, body_is_mime);
    el_buf_close(&gen);
    if (o == NULL)
        return EL_ENOMEM;
    st->stats.mailbox_bytes -= el__owned_bytes(old);
    free(old);
    it->own = o;
    it->gen = 0;
    st->stats.mailbox_bytes += el__owned_bytes(o);
    el__item_touch(st, u, fi, ii);
    return 0;
}

void el__item_id(char out[24], int fi, uint32_t ii)
{
    snprintf(out, 24, "%d:%u", fi + 1, ii + 1);
}

int el__item_parse_id(const struct el__mailbox *mb, const char *sid, int *fi, uint32_t *ii)
{
    const char *colon = strchr(sid, ':');
    if (colon == NULL)
        return -1;
    int f = el__folder_lookup(mb, sid, (size_t)(colon - sid));
    if (f < 0)
        return -1;
    const char *p = colon + 1;
    if (*p < '1' || *p > '9')
        return -1;
    unsigned long n = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (unsigned long)(*p - '0');
        if (n > UINT32_MAX)
            return -1;
    }
    if (*p != 0 || n == 0 || n > mb->f[f].n)
        return -1;
    if (mb->f[f].items[n - 1].flags & EL__IF_DELETED)
        return -1;
    *fi = f;
    *ii = (uint32_t)(n - 1);
    return 0;
}

int el__item_parse_longid(const struct el__mailbox *mb, const char *lid, int *fi, uint32_t *ii)
{
    if (lid[0] != 'L')
        return -1;
    return el__item_parse_id(mb, lid + 1, fi, ii);
}

void el__item_longid(char out[24], int fi, uint32_t ii)
{
    snprintf(out, 24, "L%d:%u", fi + 1, ii + 1);
}

uint64_t el__mailbox_size(const struct el__mailbox *mb)
{
    uint64_t n = 0;
    for (int i = 0; i < EL__FOLDERS_MAX; i++) {
        const struct el__folder *f = &mb->f[i];
        if (!f->in_use)
            continue;
        for (uint32_t j = 0; j < f->n; j++) {
            const struct el__item *it = &f->items[j];
            if (it->flags & EL__IF_DELETED)
                continue;
            n += it->own ? el__owned_bytes(it->own)
                         : (uint64_t)it->body_bytes + EL__GEN_ITEM_OVERHEAD;
        }
    }
    return n;
}

int el__quota_full(const struct el_srv_state *st, const struct el__user *u)
{
    return st->quota_bytes && u->mb && el__mailbox_size(u->mb) >= st->quota_bytes;
}

void el__props_mail(struct el__props *pb, const char *to, const char *cc, const char *from,
                    const char *subject, const char *date, const char *display_to)
{
    el__props_reset(pb);
    el__props_str(pb, EL_EMAIL_TO, to);
    if (cc && cc[0])
        el__props_str(pb, EL_EMAIL_CC, cc);
    el__props_str(pb, EL_EMAIL_FROM, from);
    el__props_str(pb, EL_EMAIL_SUBJECT, subject);
    el__props_str(pb, EL_EMAIL_DATERECEIVED, date);
    el__props_str(pb, EL_EMAIL_DISPLAYTO, display_to);
    el__props_str(pb, EL_EMAIL_THREADTOPIC, subject);
    el__props_str(pb, EL_EMAIL_IMPORTANCE, "1");
    el__props_str(pb, EL_EMAIL_READ, "0");
    el__props_empty(pb, EL_ASB_BODY);
    el__props_str(pb, EL_EMAIL_MESSAGECLASS, "IPM.Note");
    el__props_str(pb, EL_EMAIL_INTERNETCPID, "65001");
    el__props_empty(pb, EL_EMAIL_FLAG);
    el__props_str(pb, EL_EMAIL_CONTENTCLASS, "urn:content-classes:message");
    el__props_str(pb, EL_ASB_NATIVEBODYTYPE, "1");
}
