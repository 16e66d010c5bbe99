/* wbxml_encode.c - WBXML encoder: calls in, bytes appended to a caller-owned el_buf.
 * Owns: encoder state only. Uses: wbxml_pages.c tables, buf.h.
 * Hot path: no allocation beyond the buffer's growth; page switches only when the page changes;
 * errors are sticky and reported once by el_wbxml_encoder_finish(). */
#include "wbxml.h"

#include <stdio.h>
#include <string.h>

static void set_err(struct el_wbxml_encoder *e, int rc, uint16_t tag)
{
    if (e->rc == 0) {
        e->rc = rc;
        e->bad = tag;
        e->bad_off = e->out->len;
    }
}

static void put(struct el_wbxml_encoder *e, uint8_t c)
{
    int rc = el_buf_putc(e->out, c);
    if (rc < 0)
        set_err(e, rc, 0);
}

static void put_n(struct el_wbxml_encoder *e, const void *p, size_t n)
{
    int rc = el_buf_append(e->out, p, n);
    if (rc < 0)
        set_err(e, rc, 0);
}

void el_wbxml_encoder_init(struct el_wbxml_encoder *e, struct el_buf *out)
{
    static const uint8_t header[4] = {0x03, 0x01, 0x6A, 0x00};
    e->out = out;
    e->page = 0;
    e->depth = 0;
    e->roots = 0;
    e->rc = 0;
    e->bad = 0;
    e->bad_off = 0;
    put_n(e, header, sizeof(header));
}

/* Page switch if needed, then the tag byte. Returns 0 if the tag was written. */
static int put_tag(struct el_wbxml_encoder *e, uint16_t tag, uint8_t content_bit)
{
    if (e->rc)
        return -1;
    if (e->depth == 0 && e->roots++ > 0) {
        set_err(e, EL_EINVAL, tag); /* a second root element */
        return -1;
    }
    if (el_wbxml_tag_name(tag) == NULL) {
        set_err(e, EL_EUNKNOWN, tag);
        return -1;
    }
    unsigned page = EL_WBXML_PAGE_OF(tag);
    if (page != e->page) {
        uint8_t sw[2] = {0x00, (uint8_t)page};
        put_n(e, sw, 2);
        e->page = page;
    }
    put(e, (uint8_t)(EL_WBXML_TOKEN_OF(tag) | content_bit));
    return e->rc ? -1 : 0;
}

void el_wbxml_start(struct el_wbxml_encoder *e, uint16_t tag)
{
    if (e->depth >= EL_WBXML_DEPTH_MAX) {
        set_err(e, EL_EDEPTH, tag);
        return;
    }
    if (put_tag(e, tag, 0x40) == 0)
        e->stack[e->depth++] = tag;
}

void el_wbxml_empty(struct el_wbxml_encoder *e, uint16_t tag)
{
    put_tag(e, tag, 0);
}

void el_wbxml_end(struct el_wbxml_encoder *e)
{
    if (e->depth == 0) {
        set_err(e, EL_EINVAL, 0);
        return;
    }
    e->depth--;
    put(e, 0x01);
}

void el_wbxml_start_end(struct el_wbxml_encoder *e, uint16_t tag)
{
    el_wbxml_start(e, tag);
    el_wbxml_end(e);
}

void el_wbxml_str(struct el_wbxml_encoder *e, const char *s, size_t len)
{
    if (e->depth == 0 || (len > 0 && memchr(s, 0, len) != NULL)) {
        set_err(e, EL_EINVAL, e->depth ? e->stack[e->depth - 1] : 0);
        return;
    }
    put(e, 0x03);
    put_n(e, s, len);
    put(e, 0x00);
}

void el_wbxml_opaque(struct el_wbxml_encoder *e, const void *p, size_t len)
{
    if (e->depth == 0 || len > UINT32_MAX) {
        set_err(e, EL_EINVAL, 0);
        return;
    }
    uint8_t hdr[6];
    hdr[0] = 0xC3;
    size_t n = el_wbxml_mbuint_put(hdr + 1, (uint32_t)len);
    put_n(e, hdr, n + 1);
    put_n(e, p, len);
}

void el_wbxml_text(struct el_wbxml_encoder *e, uint16_t tag, const char *s)
{
    el_wbxml_start(e, tag);
    el_wbxml_str(e, s, strlen(s));
    el_wbxml_end(e);
}

void el_wbxml_uint(struct el_wbxml_encoder *e, uint16_t tag, unsigned long v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%lu", v);
    el_wbxml_start(e, tag);
    el_wbxml_str(e, num, (size_t)n);
    el_wbxml_end(e);
}

void el_wbxml_opaque_elem(struct el_wbxml_encoder *e, uint16_t tag, const void *p, size_t len)
{
    el_wbxml_start(e, tag);
    el_wbxml_opaque(e, p, len);
    el_wbxml_end(e);
}

int el_wbxml_encoder_finish(struct el_wbxml_encoder *e, struct el_err *err)
{
    if (e->rc == 0 && e->depth != 0)
        set_err(e, EL_EINVAL, e->stack[e->depth - 1]);
    if (e->rc == 0 && e->roots == 0)
        set_err(e, EL_EINVAL, 0);
    switch (e->rc) {
    case 0:
        return 0;
    case EL_EUNKNOWN:
        return EL_ERR(err, e->rc, e->bad_off, "encode at byte %zu: unknown tag 0x%04X", e->bad_off,
                      e->bad);
    case EL_EDEPTH:
        return EL_ERR(err, e->rc, e->bad_off, "encode at byte %zu: nesting deeper than %d",
                      e->bad_off, EL_WBXML_DEPTH_MAX);
    case EL_EINVAL:
        if (e->depth != 0)
            return EL_ERR(err, e->rc, e->bad_off, "encode: %u element(s) left open, innermost %s",
                          e->depth, el_wbxml_tag_name(e->stack[e->depth - 1]));
        return EL_ERR(err, e->rc, e->bad_off,
                      "encode at byte %zu: text with NUL, text or END outside an element, no "
                      "root element or a second one",
                      e->bad_off);
    default:
        return EL_ERR(err, e->rc, e->bad_off, "encode at byte %zu: %s", e->bad_off,
                      el_strerror(e->rc));
    }
}
