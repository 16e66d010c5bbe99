/* srv_cmd_compose.c - SendMail, SmartReply, SmartForward: the 14.0+ ComposeMail form (ClientId,
 * SaveInSentItems, Source, ReplaceMime, Mime as OPAQUE or text) and the <= 12.1 raw-MIME form
 * (SaveInSent, ItemId, CollectionId from the query). The RFC 822 To/Cc/Bcc headers name the
 * recipients; each local one gets the mail in the Inbox (waking their Ping); SaveInSentItems puts
 * a copy in Sent Items. Statuses: 118 ClientId already used by this device, 119 no recipient,
 * 150 source item not found, 107 no MIME. Success: HTTP 200 with an empty body.
 * Owns: nothing. Uses: srv_int.h. */
#include "srv_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR_MAX 4096

struct mime_hdrs {
    char to[HDR_MAX], cc[HDR_MAX], bcc[HDR_MAX];
    char subject[512];
};

/* Copies one header's value (continuation lines unfolded) into out. */
static void get_header(const uint8_t *m, size_t len, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name), o = 0;
    out[0] = 0;
    size_t i = 0;
    while (i < len) {
        size_t eol = i;
        while (eol < len && m[eol] != '\n')
            eol++;
        size_t lend = eol > i && m[eol - 1] == '\r' ? eol - 1 : eol;
        if (lend == i)
            return; /* blank line: end of the header block */
        if (lend - i > nl && m[i + nl] == ':' && strncasecmp((const char *)m + i, name, nl) == 0) {
            size_t p = i + nl + 1;
            for (;;) {
                while (p < lend && (m[p] == ' ' || m[p] == '\t'))
                    p++;
                if (o && o + 1 < size)
                    out[o++] = ' ';
                while (p < lend && o + 1 < size)
                    out[o++] = (char)m[p++];
                /* continuation lines start with a blank */
                size_t nx = eol + 1;
                if (nx < len && (m[nx] == ' ' || m[nx] == '\t')) {
                    eol = nx;
                    while (eol < len && m[eol] != '\n')
                        eol++;
                    lend = eol > nx && m[eol - 1] == '\r' ? eol - 1 : eol;
                    p = nx;
                    continue;
                }
                break;
            }
            out[o] = 0;
            return;
        }
        i = eol + 1;
    }
}

/* Next address of a header list: "Name" <a@b>, a@b, Name <a@b>; quoted commas allowed. */
static const char *next_addr(const char *p, char *out, size_t size)
{
    while (*p == ' ' || *p == ',' || *p == ';' || *p == '\t')
        p++;
    if (*p == 0)
        return NULL;
    const char *start = p;
    int q = 0;
    while (*p && (q || (*p != ',' && *p != ';'))) {
        if (*p == '"')
            q = !q;
        p++;
    }
    const char *end = p;
    const char *lt = memchr(start, '<', (size_t)(end - start));
    const char *a = start, *b = end;
    if (lt) {
        const char *gt = memchr(lt, '>', (size_t)(end - lt));
        a = lt + 1;
        b = gt ? gt : end;
    }
    while (a < b && isspace((unsigned char)*a))
        a++;
    while (b > a && isspace((unsigned char)b[-1]))
        b--;
    size_t n = (size_t)(b - a) < size - 1 ? (size_t)(b - a) : size - 1;
    memcpy(out, a, n);
    out[n] = 0;
    return p;
}

static int sent_before(const struct el__device *d, uint64_t h)
{
    unsigned n = d->ncid < EL__CID_RING ? d->ncid : EL__CID_RING;
    for (unsigned i = 0; i < n; i++)
        if (d->cid[i] == h)
            return 1;
    return 0;
}

static int fail(struct el__ctx *c, unsigned status)
{
    if (c->rq->version < 140) {
        c->rs->http_status = status == 150 || status == 107 ? 400 : 500;
        return 0;
    }
    el__begin(c);
    el_wbxml_uint(&c->enc, EL_CM_STATUS, status);
    return el__finish(c);
}

/* Stores one copy of the message in folder fi of user u. */
static int store_copy(struct el__ctx *c, struct el__user *u, int fi, const struct mime_hdrs *h,
                      const uint8_t *mime, size_t len, int read)
{
    struct el__props *pb = &c->scratch;
    char date[32], from[160], me[96];
    int64_t now = c->rq->now_ms ? (int64_t)c->rq->now_ms : c->st->base_ms;
    el__fmt_date(date, now);
    snprintf(me, sizeof(me), "%s %s", c->u->first, c->u->last);
    snprintf(from, sizeof(from), "\"%s\" <%s>", me, c->u->pub.email);
    /* the server rewrites From */
    el__props_mail(pb, h->to, h->cc, from, h->subject, date, h->to);
    struct el__item tmpl;
    memset(&tmpl, 0, sizeof(tmpl));
    tmpl.date_ms = now;
    tmpl.flags = read ? EL__IF_READ : 0;
    if (el__mailbox_get(c->st, u) == NULL)
        return EL_ENOMEM;
    return el__item_add(c->st, u, fi, &tmpl, pb, mime, len, 1) < 0 ? EL_ENOMEM : 0;
}

enum compose_kind {
    SEND,
    REPLY,
    FORWARD
};

static int compose(struct el__ctx *c, enum compose_kind kind)
{
    const struct el__tree *t = &c->t;
    const struct el_srv_request *rq = c->rq;
    const uint8_t *mime;
    size_t mlen;
    char cid[128] = "", item[72] = "", folder[72] = "", lid[72] = "";
    int save, replace_mime = 0;
    if (rq->version < 140) {
        mime = rq->body;
        mlen = rq->body_len;
        save = rq->save_in_sent;
        if (rq->item_id)
            snprintf(item, sizeof(item), "%s", rq->item_id);
        if (rq->collection_id)
            snprintf(folder, sizeof(folder), "%s", rq->collection_id);
    } else {
        uint32_t mn = el__child(t, c->root, EL_CM_MIME);
        if (mn == 0 || !t->n[mn].has_text) {
            el__reason(c, "%s without Mime", c->row->name);
            return fail(c, 107);
        }
        mime = t->n[mn].text;
        mlen = t->n[mn].len;
        el__child_text(t, c->root, EL_CM_CLIENTID, cid, sizeof(cid));
        save = el__child(t, c->root, EL_CM_SAVEINSENTITEMS) != 0;
        replace_mime = el__child(t, c->root, EL_CM_REPLACEMIME) != 0;
        uint32_t src = el__child(t, c->root, EL_CM_SOURCE);
        el__child_text(t, src, EL_CM_ITEMID, item, sizeof(item));
        el__child_text(t, src, EL_CM_FOLDERID, folder, sizeof(folder));
        el__child_text(t, src, EL_CM_LONGID, lid, sizeof(lid));
        if (cid[0] == 0) {
            el__reason(c, "%s without ClientId", c->row->name);
            return fail(c, 103);
        }
    }
    uint64_t h = el__hash(cid, strlen(cid), 0x5EED);
    if (cid[0] && sent_before(c->dev, h)) {
        el__reason(c, "%s: ClientId %s was sent before", c->row->name, cid);
        return fail(c, 118);
    }
    /* the source of a reply or forward */
    int sfi = -1;
    uint32_t sii = 0;
    if (kind != SEND) {
        int ok = lid[0] ? el__item_parse_longid(c->u->mb, lid, &sfi, &sii)
                        : el__item_parse_id(c->u->mb, item, &sfi, &sii);
        if (ok < 0 || (folder[0] && el__folder_lookup(c->u->mb, folder, strlen(folder)) != sfi)) {
            el__reason(c, "%s: source item %s not found", c->row->name, lid[0] ? lid : item);
            return fail(c, 150);
        }
    }
    struct mime_hdrs *hd = calloc(1, sizeof(*hd));
    if (hd == NULL)
        return EL_ENOMEM;
    get_header(mime, mlen, "To", hd->to, sizeof(hd->to));
    get_header(mime, mlen, "Cc", hd->cc, sizeof(hd->cc));
    get_header(mime, mlen, "Bcc", hd->bcc, sizeof(hd->bcc));
    get_header(mime, mlen, "Subject", hd->subject, sizeof(hd->subject));
    char addr[256];
    unsigned nrcpt = 0;
    const char *lists[3] = {hd->to, hd->cc, hd->bcc};
    for (int l = 0; l < 3; l++)
        for (const char *p = lists[l]; (p = next_addr(p, addr, sizeof(addr))) != NULL;)
            nrcpt += addr[0] != 0 && strchr(addr, '@') != NULL;
    if (nrcpt == 0) {
        free(hd);
        el__reason(c, "%s: no recipient in To, Cc or Bcc", c->row->name);
        return fail(c, 119);
    }
    /* a forward without ReplaceMime carries the original text below the new one */
    el_buf_reset(&c->tmp);
    if (kind == FORWARD && !replace_mime) {
        el_buf_append(&c->tmp, mime, mlen);
        static const char sep[] = "\r\n\r\n-----Original Message-----\r\n";
        el_buf_append(&c->tmp, sep, sizeof(sep) - 1);
        struct el_buf orig;
        el_buf_init(&orig, (size_t)16 << 20);
        el__item_text(c->st, c->u, sfi, &c->u->mb->f[sfi].items[sii], &orig, SIZE_MAX);
        el_buf_append(&c->tmp, orig.data, orig.len);
        el_buf_close(&orig);
        mime = c->tmp.data;
        mlen = c->tmp.len;
    }
    int rc = 0;
    for (int l = 0; l < 3 && rc == 0; l++) {
        for (const char *p = lists[l]; rc == 0 && (p = next_addr(p, addr, sizeof(addr))) != NULL;) {
            struct el__user *r = el__user_by_mail(c->st, addr, strlen(addr));
            if (r) /* other recipients are accepted and dropped (relayed nowhere) */
                rc = store_copy(c, r, EL__F_INBOX, hd, mime, mlen, 0);
        }
    }
    if (rc == 0 && save)
        rc = store_copy(c, c->u, EL__F_SENT, hd, mime, mlen, 1);
    if (rc == 0 && kind == REPLY) {
        c->u->mb->f[sfi].items[sii].flags |= EL__IF_REPLIED;
    }
    free(hd);
    if (rc < 0)
        return rc;
    if (cid[0])
        c->dev->cid[c->dev->ncid++ % EL__CID_RING] = h;
    return 0; /* 200, empty body */
}

int el__cmd_sendmail(struct el__ctx *c)
{
    return compose(c, SEND);
}

int el__cmd_smartreply(struct el__ctx *c)
{
    return compose(c, REPLY);
}

int el__cmd_smartforward(struct el__ctx *c)
{
    return compose(c, FORWARD);
}
