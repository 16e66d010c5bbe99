/* wbxml_xml_print.c - WBXML -> readable XML text (tags as Page:Tag), exact enough to re-encode
 * byte for byte with wbxml_xml_parse.c:
 *   <T/> bare token | <T></T> tag with content bit and no content | text as escaped STR_I |
 *   <![CDATA[...]]> for an STR_I that is empty or only whitespace | <!----> between adjacent
 *   text nodes | <T opaque="base64">..</T> for a lone OPAQUE, <?opaque base64 ..?> otherwise.
 * Owns: nothing (appends to the caller's buffer). Uses: wbxml_decode.c. Not on the hot path. */
#include "wbxml.h"

#include <stdio.h>
#include <string.h>

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int put_s(struct el_buf *o, const char *s)
{
    return el_buf_append(o, s, strlen(s));
}

static int put_binary(struct el_buf *o, const uint8_t *p, size_t n, unsigned flags)
{
    int rc = 0;
    if (flags & EL_WBXML_XML_HEX) {
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n && rc == 0; i++) {
            rc = el_buf_putc(o, (uint8_t)hex[p[i] >> 4]);
            if (rc == 0)
                rc = el_buf_putc(o, (uint8_t)hex[p[i] & 15]);
        }
        return rc;
    }
    for (size_t i = 0; i < n && rc == 0; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {b64chars[v >> 18], b64chars[(v >> 12) & 63],
                     i + 1 < n ? b64chars[(v >> 6) & 63] : '=', i + 2 < n ? b64chars[v & 63] : '='};
        rc = el_buf_append(o, q, 4);
    }
    return rc;
}

static int all_space(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
            return 0;
    return 1;
}

static int put_text(struct el_buf *o, const uint8_t *p, size_t n)
{
    if (all_space(p, n)) {
        /* CDATA keeps it from being taken for indentation; "]]>" cannot occur in whitespace. */
        int rc = put_s(o, "<![CDATA[");
        if (rc == 0)
            rc = el_buf_append(o, p, n);
        return rc ? rc : put_s(o, "]]>");
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint8_t c = p[i];
        char ent[8];
        switch (c) {
        case '&':
            rc = put_s(o, "&amp;");
            break;
        case '<':
            rc = put_s(o, "&lt;");
            break;
        case '>':
            rc = put_s(o, "&gt;");
            break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n') {
                snprintf(ent, sizeof(ent), "&#x%X;", c);
                rc = put_s(o, ent);
            } else {
                rc = el_buf_putc(o, c);
            }
        }
    }
    return rc;
}

static int put_name(struct el_buf *o, const char *lead, uint16_t tag)
{
    int rc = put_s(o, lead);
    if (rc == 0)
        rc = put_s(o, el_wbxml_page_name(EL_WBXML_PAGE_OF(tag)));
    if (rc == 0)
        rc = el_buf_putc(o, ':');
    return rc ? rc : put_s(o, el_wbxml_tag_name(tag));
}

static int indent(struct el_buf *o, unsigned depth)
{
    int rc = el_buf_putc(o, '\n');
    for (unsigned i = 0; i < depth && rc == 0; i++)
        rc = put_s(o, "  ");
    return rc;
}

enum last { LAST_NONE, LAST_OPEN, LAST_TEXT, LAST_CLOSE };

int el_wbxml_to_xml(const void *in, size_t len, unsigned flags, struct el_buf *out,
                    struct el_err *err)
{
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev, peek;
    int rc = el_wbxml_decoder_init(&d, in, len, 0, err);
    if (rc < 0)
        return rc;
    rc = put_s(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    enum last last = LAST_NONE;
    int open_pending = 0; /* "<P:T" written, its '>' not yet */
    while (rc == 0) {
        int n = el_wbxml_next(&d, &ev, err);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        switch (ev.type) {
        case EL_WBXML_EV_START:
            if (open_pending)
                rc = el_buf_putc(out, '>');
            if (rc == 0 && last != LAST_TEXT)
                rc = indent(out, ev.depth - 1u);
            if (rc == 0)
                rc = put_name(out, "<", ev.tag);
            if (ev.empty) {
                rc = rc ? rc : put_s(out, "/>");
                el_wbxml_next(&d, &ev, err); /* its END: cannot fail */
                last = LAST_CLOSE;
                open_pending = 0;
            } else {
                open_pending = 1;
                last = LAST_OPEN;
            }
            break;
        case EL_WBXML_EV_END:
            if (open_pending)
                rc = put_s(out, ">");
            else if (last == LAST_CLOSE)
                rc = indent(out, ev.depth - 1u);
            if (rc == 0)
                rc = put_name(out, "</", ev.tag);
            rc = rc ? rc : el_buf_putc(out, '>');
            open_pending = 0;
            last = LAST_CLOSE;
            break;
        case EL_WBXML_EV_STR:
            if (open_pending)
                rc = el_buf_putc(out, '>');
            else if (last == LAST_TEXT)
                rc = put_s(out, "<!---->");
            open_pending = 0;
            rc = rc ? rc : put_text(out, ev.data, ev.len);
            last = LAST_TEXT;
            break;
        case EL_WBXML_EV_OPAQUE: {
            struct el_wbxml_decoder look = d;
            int lone = open_pending && el_wbxml_next(&look, &peek, NULL) == 1 &&
                       peek.type == EL_WBXML_EV_END;
            const char *enc = (flags & EL_WBXML_XML_HEX) ? "hex" : "base64";
            if (lone) {
                rc = put_s(out, " opaque=\"");
                rc = rc ? rc : put_s(out, enc);
                rc = rc ? rc : put_s(out, "\">");
                rc = rc ? rc : put_binary(out, ev.data, ev.len, flags);
                rc = rc ? rc : put_name(out, "</", ev.tag);
                rc = rc ? rc : el_buf_putc(out, '>');
                d = look;
                last = LAST_CLOSE;
            } else {
                if (open_pending)
                    rc = el_buf_putc(out, '>');
                rc = rc ? rc : put_s(out, "<?opaque ");
                rc = rc ? rc : put_s(out, enc);
                rc = rc ? rc : el_buf_putc(out, ' ');
                rc = rc ? rc : put_binary(out, ev.data, ev.len, flags);
                rc = rc ? rc : put_s(out, "?>");
                last = LAST_TEXT;
            }
            open_pending = 0;
            break;
        }
        }
    }
    if (rc == 0)
        rc = el_buf_putc(out, '\n');
    if (rc < 0)
        return EL_ERR(err, rc, EL_NO_OFFSET, "XML output: %s", el_strerror(rc));
    return 0;
}
