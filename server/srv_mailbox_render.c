/* srv_mailbox_render.c - items as EAS ApplicationData: properties filtered by protocol version,
 * placeholders filled from the item's live flags (Read, Flag, ResponseType), and
 * airsyncbase:Body in the type the client prefers (1 text, 2 HTML, 4 MIME) with TruncationSize,
 * AllOrNone, EstimatedDataSize and Preview.
 * Owns: nothing (writes into the handler's encoder; scratch in the handler context).
 * Uses: srv_int.h, core/wbxml.h. */
#include "srv_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char html_pre[] = "<html><head><meta charset=\"utf-8\"></head><body><div>";
static const char html_post[] = "</div></body></html>";

int el__bodypref_parse(const struct el__tree *t, uint32_t options, struct el__bodypref *bp)
{
    bp->type = 0;
    bp->trunc = 0;
    bp->all_or_none = 0;
    bp->preview = 0;
    if (options == 0)
        return 0;
    int seen = 0;
    for (uint32_t c = t->n[options].child; c; c = t->n[c].next) {
        if (t->n[c].tag != EL_ASB_BODYPREFERENCE)
            continue;
        seen = 1;
        unsigned long type = el__child_uint(t, c, EL_ASB_TYPE, 0, NULL);
        if (type != 1 && type != 2 && type != 4)
            continue;
        bp->type = (unsigned)type;
        bp->trunc = el__child_uint(t, c, EL_ASB_TRUNCATIONSIZE, 0, NULL);
        bp->all_or_none = el__child_flag(t, c, EL_ASB_ALLORNONE, 0);
        unsigned long pv = el__child_uint(t, c, EL_ASB_PREVIEW, 0, NULL);
        bp->preview = pv > 255 ? 255 : (unsigned)pv;
        return 0;
    }
    if (seen) {
        bp->type = 1; /* only RTF (3) or unknown types asked for: plain text it is */
        return -1;
    }
    return 0;
}

/* The body of an item in one type as up to three pieces: pre, the text (stored or generated),
 * post. */
struct body {
    const uint8_t *pre, *mid, *post;
    size_t pre_len, mid_len, post_len;
    int gen; /* mid is the generated text stream of mid_len bytes */
    size_t total;
    char hdr[768];
};

/* RFC 822 text after the header block. */
static void mime_text(const uint8_t *m, size_t len, const uint8_t **p, size_t *n)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (m[i] == '\n' && m[i + 1] == '\n') {
            *p = m + i + 2;
            *n = len - i - 2;
            return;
        }
        if (i + 3 < len && m[i] == '\r' && m[i + 1] == '\n' && m[i + 2] == '\r' &&
            m[i + 3] == '\n') {
            *p = m + i + 4;
            *n = len - i - 4;
            return;
        }
    }
    *p = m + len;
    *n = 0;
}

static void body_build(struct body *b, const struct el__item *it, const struct el__props *pb,
                       unsigned type)
{
    memset(b, 0, sizeof(*b));
    const struct el__owned *o = it->own;
    int html_native = (it->flags & EL__IF_HTML) != 0;
    if (o) {
        const uint8_t *text = o->body;
        size_t tlen = o->body_len;
        if (o->body_is_mime)
            mime_text(o->body, o->body_len, &text, &tlen);
        if (type == 4 && o->body_is_mime) {
            b->mid = o->body;
            b->mid_len = o->body_len;
        } else {
            b->mid = text;
            b->mid_len = tlen;
        }
    } else {
        b->gen = 1;
        b->mid_len = it->body_bytes;
    }
    if (type == 2) {
        b->pre = (const uint8_t *)html_pre;
        b->pre_len = sizeof(html_pre) - 1;
        b->post = (const uint8_t *)html_post;
        b->post_len = sizeof(html_post) - 1;
    } else if (type == 4 && !(o && o->body_is_mime)) {
        size_t fl = 0, tl = 0, sl = 0;
        const char *from = el__props_get(pb, EL_EMAIL_FROM, &fl);
        const char *to = el__props_get(pb, EL_EMAIL_TO, &tl);
        const char *subj = el__props_get(pb, EL_EMAIL_SUBJECT, &sl);
        char date[64] = "";
        time_t t = (time_t)(it->date_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
        int n = snprintf(b->hdr, sizeof(b->hdr),
                         "From: %.*s\r\nTo: %.*s\r\nSubject: %.*s\r\nDate: %s\r\n"
                         "Message-ID: <%08x.%u@example.test>\r\nMIME-Version: 1.0\r\n"
                         "Content-Type: text/%s; charset=\"utf-8\"\r\n"
                         "Content-Transfer-Encoding: 8bit\r\n\r\n%s",
                         (int)(fl > 200 ? 200 : fl), from ? from : "", (int)(tl > 200 ? 200 : tl),
                         to ? to : "", (int)(sl > 200 ? 200 : sl), subj ? subj : "", date,
                         (unsigned)it->date_ms, it->gen, html_native ? "html" : "plain",
                         html_native ? html_pre : "");
        if (n < 0)
            n = 0;
        if ((size_t)n >= sizeof(b->hdr))
            n = sizeof(b->hdr) - 1;
        b->pre = (const uint8_t *)b->hdr;
        b->pre_len = (size_t)n;
        if (html_native) {
            b->post = (const uint8_t *)html_post;
            b->post_len = sizeof(html_post) - 1;
        }
    }
    b->total = b->pre_len + b->mid_len + b->post_len;
}

/* Appends the first limit bytes of the body to out. */
static void body_emit(struct el_srv_state *st, const struct el__user *u, const struct el__item *it,
                      const struct body *b, size_t limit, struct el_buf *out)
{
    size_t n = b->pre_len < limit ? b->pre_len : limit;
    el_buf_append(out, b->pre, n);
    limit -= n;
    n = b->mid_len < limit ? b->mid_len : limit;
    if (b->gen)
        el__gen_text(st, u, it, out, n);
    else
        el_buf_append(out, b->mid, n);
    limit -= n;
    n = b->post_len < limit ? b->post_len : limit;
    el_buf_append(out, b->post, n);
}

size_t el__item_text(struct el_srv_state *st, const struct el__user *u, int fi,
                     const struct el__item *it, struct el_buf *out, size_t limit)
{
    (void)fi;
    struct body b;
    body_build(&b, it, NULL, 1);
    body_emit(st, u, it, &b, limit, out);
    return b.total;
}

static int has_body(const struct el__item *it)
{
    return it->own ? it->own->body_len > 0 : it->body_bytes > 0;
}

static void write_data(struct el__ctx *c, uint16_t tag, const struct el_buf *b)
{
    const char *p = b->len ? (const char *)b->data : "";
    if (b->len && memchr(p, 0, b->len))
        el_wbxml_opaque_elem(&c->enc, tag, p, b->len);
    else {
        el_wbxml_start(&c->enc, tag);
        el_wbxml_str(&c->enc, p, b->len);
        el_wbxml_end(&c->enc);
    }
}

static void render_body(struct el__ctx *c, const struct el__item *it, const struct el__bodypref *bp)
{
    unsigned type = bp && bp->type ? bp->type : 1;
    if (type == 4 && it->cls != EL__CLS_EMAIL)
        type = 1;
    struct body b;
    body_build(&b, it, &c->scratch, type);
    size_t limit = b.total;
    int truncated = 0;
    if (bp && bp->trunc && b.total > bp->trunc) {
        truncated = 1;
        limit = bp->all_or_none ? 0 : bp->trunc;
    }
    struct el_wbxml_encoder *e = &c->enc;
    el_wbxml_start(e, EL_ASB_BODY);
    el_wbxml_uint(e, EL_ASB_TYPE, type);
    el_wbxml_uint(e, EL_ASB_ESTIMATEDDATASIZE, b.total);
    if (truncated)
        el_wbxml_text(e, EL_ASB_TRUNCATED, "1");
    if (limit > 0 || b.total == 0) {
        el_buf_reset(&c->tmp);
        body_emit(c->st, c->u, it, &b, limit, &c->tmp);
        write_data(c, EL_ASB_DATA, &c->tmp);
    }
    if (bp && bp->preview && c->rq->version >= 140) {
        struct body t;
        body_build(&t, it, NULL, 1);
        el_buf_reset(&c->tmp);
        body_emit(c->st, c->u, it, &t, bp->preview, &c->tmp);
        write_data(c, EL_ASB_PREVIEW, &c->tmp);
    }
    el_wbxml_end(e);
}

/* airsyncbase:Attachments of a generated mail (before its Body, as Exchange orders them). */
static void render_attachments(struct el__ctx *c, int fi, const struct el__item *it)
{
    struct el__att att[EL__ATT_MAX];
    unsigned n = el__item_attachments(c->st, c->u, it, att);
    if (n == 0)
        return;
    struct el_wbxml_encoder *e = &c->enc;
    const struct el__folder *f = &c->u->mb->f[fi];
    uint32_t ii = (uint32_t)(it - f->items);
    el_wbxml_start(e, EL_ASB_ATTACHMENTS);
    for (unsigned i = 0; i < n; i++) {
        char ref[40];
        el__att_ref(ref, fi, ii, i);
        el_wbxml_start(e, EL_ASB_ATTACHMENT);
        el_wbxml_text(e, EL_ASB_DISPLAYNAME, att[i].name);
        el_wbxml_text(e, EL_ASB_FILEREFERENCE, ref);
        el_wbxml_text(e, EL_ASB_METHOD, "1");
        el_wbxml_uint(e, EL_ASB_ESTIMATEDDATASIZE, att[i].size);
        el_wbxml_text(e, EL_ASB_ISINLINE, "0");
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
}

static int visible(unsigned vmask, unsigned version)
{
    if ((vmask & EL__PV_MAX141) && version > 141)
        return 0;
    if ((vmask & EL__PV_MIN140) && version < 140)
        return 0;
    if ((vmask & EL__PV_MIN160) && version < 160)
        return 0;
    return 1;
}

void el__item_render(struct el__ctx *c, int fi, const struct el__item *it,
                     const struct el__bodypref *bp)
{
    struct el__props *pb = &c->scratch;
    el__item_props(c->st, c->u, fi, it, pb);
    struct el_wbxml_encoder *e = &c->enc;
    unsigned version = c->rq->version;
    int body_done = 0;
    unsigned skip = 0; /* depth inside a container hidden from this version */
    for (unsigned i = 0; i < pb->n; i++) {
        const struct el__prop *p = &pb->p[i];
        if (skip) {
            if (p->kind == EL__P_OPEN)
                skip++;
            else if (p->kind == EL__P_CLOSE)
                skip--;
            continue;
        }
        if (p->kind != EL__P_CLOSE && !visible(p->vmask, version)) {
            if (p->kind == EL__P_OPEN)
                skip = 1;
            continue;
        }
        const char *v = pb->s + p->off;
        switch (p->kind) {
        case EL__P_OPEN:
            el_wbxml_start(e, p->tag);
            break;
        case EL__P_CLOSE:
            el_wbxml_end(e);
            break;
        case EL__P_OPAQUE:
            el_wbxml_opaque_elem(e, p->tag, v, p->len);
            break;
        case EL__P_EMPTY:
            if (p->tag == EL_ASB_BODY) {
                if (!body_done && it->cls == EL__CLS_EMAIL && !it->own)
                    render_attachments(c, fi, it);
                if (!body_done && has_body(it))
                    render_body(c, it, bp);
                body_done = 1;
            } else if (p->tag == EL_EMAIL_FLAG) {
                if (it->flags & EL__IF_FLAGGED) {
                    el_wbxml_start(e, EL_EMAIL_FLAG);
                    el_wbxml_text(e, EL_EMAIL_STATUS, "2");
                    el_wbxml_text(e, EL_EMAIL_FLAGTYPE, "Flag for follow up");
                    el_wbxml_end(e);
                } else {
                    el_wbxml_empty(e, EL_EMAIL_FLAG);
                }
            } else if (p->tag == EL_CAL_RESPONSETYPE) {
                static const char *rt[] = {"0", "3", "2", "4"};
                if (it->reply_status > 0 && it->reply_status < 4)
                    el_wbxml_text(e, EL_CAL_RESPONSETYPE, rt[it->reply_status]);
            } else {
                el_wbxml_empty(e, p->tag);
            }
            break;
        default:
            if (p->tag == EL_EMAIL_READ) {
                el_wbxml_text(e, p->tag, (it->flags & EL__IF_READ) ? "1" : "0");
                break;
            }
            el_wbxml_start(e, p->tag);
            el_wbxml_str(e, v, p->len);
            el_wbxml_end(e);
            break;
        }
    }
    if (!body_done && has_body(it))
        render_body(c, it, bp);
}

int el__item_matches(struct el_srv_state *st, const struct el__user *u, int fi,
                     const struct el__item *it, const char *needle, struct el__props *scratch)
{
    static const uint16_t subject_tags[] = {EL_EMAIL_SUBJECT, EL_CAL_SUBJECT, EL_CONTACTS_FILEAS,
                                            EL_TASKS_SUBJECT, EL_NOTES_SUBJECT};
    el__item_props(st, u, fi, it, scratch);
    const char *s = el__props_get(scratch, subject_tags[it->cls], NULL);
    if (s == NULL)
        return 0;
    return needle[0] == 0 || strcasestr(s, needle) != NULL;
}
