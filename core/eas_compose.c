/* eas_compose.c - SendMail, SmartReply, SmartForward. 14.0+: the ComposeMail WBXML form
 * (ClientId, Source{FolderId, ItemId} for replies and forwards, SaveInSentItems, Mime as OPAQUE
 * RFC 822); <= 12.1: the raw message/rfc822 body with SaveInSent=T (and ItemId, CollectionId)
 * in the query. The message is a realistic text/plain mail whose body is in.body_bytes long,
 * written straight into the request buffer. An empty 200 is success (eas_cmd.c).
 * Owns: nothing. Uses: eas_int.h. */
#include "eas_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define BODY_MAX ((size_t)64 << 20)

enum kind {
    SEND,
    REPLY,
    FORWARD
};

/* Copies s with CR, LF and other controls turned into spaces (no header injection). */
static void clean(char *dst, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s != '\0' && n + 1 < cap; s++)
        dst[n++] = (unsigned char)*s < 0x20 ? ' ' : *s;
    dst[n] = '\0';
}

/* The RFC 822 header block (ends with the blank line); its length, 0 if it did not fit. */
static size_t mime_headers(const struct el_eas_device *d, const struct el_eas_call *c,
                           const char *cid, const char *to, char *out, size_t cap)
{
    char subject[200], rcpt[200], date[64];
    clean(subject, sizeof(subject), c->in.subject ? c->in.subject : "easload test message");
    clean(rcpt, sizeof(rcpt), to);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    const char *re = c->cmd == EL_EAS_SMARTREPLY     ? "RE: "
                     : c->cmd == EL_EAS_SMARTFORWARD ? "FW: "
                                                     : "";
    int n = snprintf(out, cap,
                     "From: %s\r\n"
                     "To: %s\r\n"
                     "Subject: %s%s\r\n"
                     "Date: %s\r\n"
                     "Message-ID: <%s.%s@easload.invalid>\r\n"
                     "MIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=\"utf-8\"\r\n"
                     "Content-Transfer-Encoding: 7bit\r\n"
                     "X-Mailer: %s\r\n"
                     "\r\n",
                     d->user, rcpt, re, subject, date, cid, d->device_id, d->profile->user_agent);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Appends n bytes of readable text in CRLF-terminated lines of 76 characters. */
static int put_body(struct el_buf *b, size_t n)
{
    static const char words[] = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
                                "eiusmod tempor incididunt ut labore et dolore magna aliqua. ";
    int rc = el_buf_reserve(b, n);
    if (rc < 0)
        return rc;
    uint8_t *p = b->data + b->len;
    size_t w = 0, col = 0;
    for (size_t i = 0; i < n; i++) {
        if (col == 76 && i + 1 < n) { /* a CRLF never splits at the very end */
            p[i++] = '\r';
            p[i] = '\n';
            col = 0;
            continue;
        }
        p[i] = (uint8_t)words[w];
        w = w + 1 < sizeof(words) - 1 ? w + 1 : 0;
        col++;
    }
    b->len += n;
    return 0;
}

static int compose(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                   struct el_err *err, enum kind kind)
{
    const char *name = el_eas_cmd_name(c->cmd);
    const char *to = c->in.to;
    if (to == NULL && strchr(d->user, '@') != NULL)
        to = d->user; /* a note to self */
    if (to == NULL || to[0] == '\0')
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %s: %s without a recipient",
                      d->device_id, name);
    if (c->in.body_bytes > BODY_MAX)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %s: %s body of %zu bytes (max %zu)",
                      d->device_id, name, c->in.body_bytes, BODY_MAX);
    struct el_eas_folder *f = NULL;
    const char *item = NULL;
    if (kind != SEND) {
        f = el__eas_folder_arg(d, c->in.folder, 2, name, err);
        if (f == NULL)
            return EL_EINVAL;
        item = c->in.item != NULL ? c->in.item : f->last_item;
        if (item[0] == '\0')
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                          "device %s: %s: no item in %s to answer (sync it first)", d->device_id,
                          name, f->name);
    }
    /* unique across runs of the same DeviceId: servers refuse a reused ClientId (118) */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char cid[40];
    snprintf(cid, sizeof(cid), "%llx%05x",
             (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000,
             (unsigned)(++d->client_id_seq & 0xFFFFF));
    char hdrs[1024];
    size_t hl = mime_headers(d, c, cid, to, hdrs, sizeof(hdrs));
    if (hl == 0)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %s: %s: MIME headers too long",
                      d->device_id, name);
    size_t mime_len = hl + c->in.body_bytes;
    struct el_buf *b = rq->body;

    if (d->version <= 121) { /* raw MIME, parameters in the query */
        int n = snprintf(rq->query, sizeof(rq->query), "&SaveInSent=T");
        if (kind != SEND) {
            /* ids are URL-safe in practice; refuse the rest rather than encode here */
            if (strcspn(item, "&=?# %") != strlen(item) ||
                strcspn(f->id, "&=?# %") != strlen(f->id))
                return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                              "device %s: %s: item id needs URL encoding", d->device_id, name);
            snprintf(rq->query + n, sizeof(rq->query) - (size_t)n, "&ItemId=%s&CollectionId=%s",
                     item, f->id);
        }
        if (el_buf_append(b, hdrs, hl) < 0 || put_body(b, c->in.body_bytes) < 0)
            return EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET,
                          "device %s: %s: message of %zu bytes exceeds the request buffer",
                          d->device_id, name, mime_len);
        return 0;
    }

    static const uint16_t roots[] = {EL_CM_SENDMAIL, EL_CM_SMARTREPLY, EL_CM_SMARTFORWARD};
    struct el_wbxml_encoder *e = &rq->enc;
    el_wbxml_encoder_init(e, b);
    el_wbxml_start(e, roots[kind]);
    el_wbxml_text(e, EL_CM_CLIENTID, cid);
    if (kind != SEND) {
        el_wbxml_start(e, EL_CM_SOURCE);
        el_wbxml_text(e, EL_CM_FOLDERID, f->id);
        el_wbxml_text(e, EL_CM_ITEMID, item);
        el_wbxml_end(e);
    }
    el_wbxml_empty(e, EL_CM_SAVEINSENTITEMS);
    el_wbxml_start(e, EL_CM_MIME);
    /* OPAQUE written by hand: the message is generated in place instead of being copied */
    uint8_t op[6];
    op[0] = 0xC3;
    size_t on = 1 + el_wbxml_mbuint_put(op + 1, (uint32_t)mime_len);
    if (el_buf_append(b, op, on) < 0 || el_buf_append(b, hdrs, hl) < 0 ||
        put_body(b, c->in.body_bytes) < 0)
        return EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET,
                      "device %s: %s: message of %zu bytes exceeds the request buffer",
                      d->device_id, name, mime_len);
    el_wbxml_end(e);
    el_wbxml_end(e);
    return el_wbxml_encoder_finish(e, err);
}

int el__eas_sendmail_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                           struct el_err *err)
{
    return compose(d, c, rq, err, SEND);
}

int el__eas_smartreply_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                             struct el_err *err)
{
    return compose(d, c, rq, err, REPLY);
}

int el__eas_smartforward_build(struct el_eas_device *d, struct el_eas_call *c,
                               struct el__eas_req *rq, struct el_err *err)
{
    return compose(d, c, rq, err, FORWARD);
}
