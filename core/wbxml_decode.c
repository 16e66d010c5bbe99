/* wbxml_decode.c - streaming WBXML decoder: bytes in, events out (a pull cursor).
 * Owns: decoder state only; events point into the caller's buffer.
 * Uses: wbxml_pages.c tables. Hot path: no allocation, one pass, bounds checked per byte. */
#include "wbxml.h"

#include <string.h>

#define SWITCH_PAGE 0x00
#define END         0x01
#define STR_I       0x03
#define OPAQUE      0xC3

/* Global tokens WBXML defines and EAS never uses ([MS-ASWBXML] 2.1.3). */
static int is_unused_global(uint8_t b)
{
    uint8_t low = b & 0x3F;
    if (low > 0x04)
        return 0;
    return !(b == SWITCH_PAGE || b == END || b == STR_I || b == OPAQUE);
}

static int fail(struct el_wbxml_decoder *d, struct el_err *err, int code, size_t off,
                const char *what, unsigned a, unsigned b)
{
    d->rc = code;
    return EL_ERR(err, code, off, "byte %zu: %s (0x%02X, page %u)", off, what, a, b);
}

/* Reads an mb_u_int32 at *pos; advances *pos. 0, EL_ETRUNC or EL_EFORMAT. */
static int read_mbuint(const uint8_t *in, size_t len, size_t *pos, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 5; i++) {
        if (*pos >= len)
            return EL_ETRUNC;
        uint8_t c = in[(*pos)++];
        if ((v >> 25) != 0)
            return EL_EFORMAT; /* more than 32 bits */
        v = (v << 7) | (c & 0x7F);
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return EL_EFORMAT; /* a fifth byte still had the continuation bit */
}

size_t el_wbxml_mbuint_put(uint8_t out[5], uint32_t v)
{
    uint8_t tmp[5];
    size_t n = 0;
    do {
        tmp[n++] = v & 0x7F;
        v >>= 7;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i] | (i + 1 < n ? 0x80 : 0);
    return n;
}

int el_wbxml_decoder_init(struct el_wbxml_decoder *d, const void *in, size_t len,
                          unsigned max_depth, struct el_err *err)
{
    /* fields one by one: the 64-entry tag stack needs no clearing (cheap Pings) */
    d->pos = 0;
    d->page = 0;
    d->depth = 0;
    d->pending_end = 0;
    d->done = 0;
    d->rc = 0;
    d->in = in;
    d->len = len;
    d->max_depth = (max_depth == 0 || max_depth > EL_WBXML_DEPTH_MAX) ? EL_WBXML_DEPTH_MAX
                                                                      : max_depth;
    if (len == 0) {
        d->rc = EL_ETRUNC;
        return EL_ERR(err, EL_ETRUNC, 0, "byte 0: empty input, expected a WBXML header");
    }
    uint8_t version = d->in[0];
    if (version < 0x01 || version > 0x03) {
        d->rc = EL_EFORMAT;
        return EL_ERR(err, EL_EFORMAT, 0,
                      "byte 0: WBXML version byte 0x%02X, expected 0x03 (WBXML 1.3)", version);
    }
    size_t pos = 1;
    uint32_t publicid, charset, strtbl, index;
    const char *field = "public id";
    int rc = read_mbuint(d->in, len, &pos, &publicid);
    if (rc == 0 && publicid == 0) {
        field = "public id string index";
        rc = read_mbuint(d->in, len, &pos, &index);
    }
    if (rc == 0) {
        field = "charset";
        rc = read_mbuint(d->in, len, &pos, &charset);
    }
    if (rc == 0 && charset != 106) {
        d->rc = EL_EFORMAT;
        return EL_ERR(err, EL_EFORMAT, pos - 1,
                      "byte %zu: charset %u, EAS requires 106 (UTF-8)", pos - 1, charset);
    }
    if (rc == 0) {
        field = "string table length";
        rc = read_mbuint(d->in, len, &pos, &strtbl);
    }
    if (rc == 0 && strtbl > len - pos) {
        d->rc = EL_ETRUNC;
        return EL_ERR(err, EL_ETRUNC, pos, "byte %zu: string table of %u bytes runs past the end",
                      pos, strtbl);
    }
    if (rc < 0) {
        d->rc = rc;
        return EL_ERR(err, rc, pos, "byte %zu: %s in WBXML header: %s", pos, field,
                      rc == EL_ETRUNC ? "input ends" : "bad mb_u_int32");
    }
    d->pos = pos + strtbl;
    return 0;
}

int el_wbxml_next(struct el_wbxml_decoder *d, struct el_wbxml_ev *ev, struct el_err *err)
{
    if (d->rc < 0)
        return EL_ERR(err, d->rc, d->pos, "byte %zu: decoder stopped at an earlier error", d->pos);
    if (d->pending_end) {
        d->pending_end = 0;
        ev->type = EL_WBXML_EV_END;
        ev->tag = d->stack[--d->depth];
        ev->empty = 1;
        ev->depth = (uint8_t)(d->depth + 1);
        ev->offset = d->pos - 1;
        ev->data = NULL;
        ev->len = 0;
        if (d->depth == 0)
            d->done = 1;
        return 1;
    }
    for (;;) {
        size_t off = d->pos;
        if (off >= d->len) {
            if (d->done)
                return 0;
            d->rc = EL_ETRUNC;
            if (d->depth == 0)
                return EL_ERR(err, EL_ETRUNC, off, "byte %zu: input ends before any element", off);
            return EL_ERR(err, EL_ETRUNC, off, "byte %zu: input ends inside <%s:%s> (%u open)",
                          off, el_wbxml_page_name(EL_WBXML_PAGE_OF(d->stack[d->depth - 1])),
                          el_wbxml_tag_name(d->stack[d->depth - 1]), d->depth);
        }
        uint8_t b = d->in[off];
        if (d->done)
            return fail(d, err, EL_EFORMAT, off, "data after the root element", b, d->page);
        if (b == SWITCH_PAGE) {
            if (off + 1 >= d->len)
                return fail(d, err, EL_ETRUNC, off, "SWITCH_PAGE without a page byte", b, d->page);
            uint8_t page = d->in[off + 1];
            if (page >= EL_WBXML_PAGE_COUNT)
                return fail(d, err, EL_EUNKNOWN, off + 1, "unknown code page", page, page);
            d->page = page;
            d->pos = off + 2;
            continue;
        }
        if (b == END) {
            if (d->depth == 0)
                return fail(d, err, EL_EFORMAT, off, "END with no open element", b, d->page);
            d->pos = off + 1;
            ev->type = EL_WBXML_EV_END;
            ev->tag = d->stack[--d->depth];
            ev->empty = 0;
            ev->depth = (uint8_t)(d->depth + 1);
            ev->offset = off;
            ev->data = NULL;
            ev->len = 0;
            if (d->depth == 0)
                d->done = 1;
            return 1;
        }
        if (b == STR_I || b == OPAQUE) {
            if (d->depth == 0)
                return fail(d, err, EL_EFORMAT, off, "text outside the root element", b, d->page);
            size_t pos = off + 1;
            if (b == STR_I) {
                const uint8_t *nul = memchr(d->in + pos, 0, d->len - pos);
                if (nul == NULL)
                    return fail(d, err, EL_ETRUNC, off, "STR_I without its NUL terminator", b,
                                d->page);
                ev->type = EL_WBXML_EV_STR;
                ev->data = d->in + pos;
                ev->len = (size_t)(nul - ev->data);
                d->pos = pos + ev->len + 1;
            } else {
                uint32_t n;
                int rc = read_mbuint(d->in, d->len, &pos, &n);
                if (rc < 0)
                    return fail(d, err, rc, off,
                                rc == EL_ETRUNC ? "OPAQUE length runs past the end"
                                                : "OPAQUE length is a bad mb_u_int32",
                                b, d->page);
                if (n > d->len - pos) {
                    d->rc = EL_ETRUNC;
                    return EL_ERR(err, EL_ETRUNC, off,
                                  "byte %zu: OPAQUE of %u bytes runs past the end (%zu left)", off,
                                  n, d->len - pos);
                }
                ev->type = EL_WBXML_EV_OPAQUE;
                ev->data = d->in + pos;
                ev->len = n;
                d->pos = pos + n;
            }
            ev->tag = d->stack[d->depth - 1];
            ev->empty = 0;
            ev->depth = (uint8_t)d->depth;
            ev->offset = off;
            return 1;
        }
        if (is_unused_global(b))
            return fail(d, err, EL_EFORMAT, off, "global token not used by EAS", b, d->page);
        if (b & 0x80)
            return fail(d, err, EL_EFORMAT, off, "tag with attributes (not used by EAS)", b,
                        d->page);
        unsigned token = b & 0x3F;
        if (el_wbxml_pages[d->page].tags[token].name == NULL) {
            d->rc = EL_EUNKNOWN;
            return EL_ERR(err, EL_EUNKNOWN, off, "byte %zu: unknown tag 0x%02X on page %u (%s)",
                          off, token, d->page, el_wbxml_pages[d->page].name);
        }
        if (d->depth >= d->max_depth) {
            d->rc = EL_EDEPTH;
            return EL_ERR(err, EL_EDEPTH, off, "byte %zu: nesting deeper than %u elements", off,
                          d->max_depth);
        }
        uint16_t tag = EL_WBXML_TAG(d->page, token);
        d->stack[d->depth++] = tag;
        d->pos = off + 1;
        ev->type = EL_WBXML_EV_START;
        ev->tag = tag;
        ev->empty = !(b & 0x40);
        ev->depth = (uint8_t)d->depth;
        ev->offset = off;
        ev->data = NULL;
        ev->len = 0;
        d->pending_end = ev->empty;
        return 1;
    }
}

int el_wbxml_skip(struct el_wbxml_decoder *d, struct el_err *err)
{
    unsigned target = d->depth - 1;
    struct el_wbxml_ev ev;
    while (d->depth > target || d->pending_end) {
        int rc = el_wbxml_next(d, &ev, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
    }
    return 0;
}
