/* wbxml_decode.c - WBXML decoder: bytes in, events out (a pull cursor), over a whole message or
 * over chunks as they arrive (a header, token or text cut by a chunk's end resumes with the
 * next chunk; events, offsets and errors are the same either way).
 * Owns: decoder state only; events point into the caller's input, or for text cut by a chunk's
 * end into the decoder's copy of its first EL_WBXML_KEEP bytes.
 * Uses: wbxml_pages.c tables. Hot path: no allocation, one pass, bounds checked per byte. */
#include "wbxml.h"

#include <string.h>

#define SWITCH_PAGE 0x00
#define END         0x01
#define STR_I       0x03
#define OPAQUE      0xC3

/* Input of a decoder before its first chunk, and of an empty chunk given as NULL. */
static const uint8_t no_input[1];

/* What the end of a chunk cut (el_wbxml_decoder.part). */
enum {
    PART_NONE,
    PART_HEADER,
    PART_TABLE,
    PART_PAGE,
    PART_STR,
    PART_OPQ_LEN,
    PART_OPQ
};

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

/* Continues an mb_u_int32 (*v and *nb: value and bytes so far) from in[*pos]; advances *pos.
 * 0 when complete, EL_ETRUNC when the input ends first, EL_EFORMAT past 32 bits or 5 bytes. */
static int mbuint_more(const uint8_t *in, size_t len, size_t *pos, uint32_t *v, uint8_t *nb)
{
    while (*nb < 5) {
        if (*pos >= len)
            return EL_ETRUNC;
        uint8_t c = in[(*pos)++];
        (*nb)++;
        if ((*v >> 25) != 0)
            return EL_EFORMAT; /* more than 32 bits */
        *v = (*v << 7) | (c & 0x7F);
        if (!(c & 0x80))
            return 0;
    }
    return EL_EFORMAT; /* a fifth byte still had the continuation bit */
}

static int read_mbuint(const uint8_t *in, size_t len, size_t *pos, uint32_t *out)
{
    uint8_t nb = 0;
    *out = 0;
    return mbuint_more(in, len, pos, out, &nb);
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

/* ---- header ------------------------------------------------------------------------------ */

/* Skips what is left of the string table (part_n bytes; part_len is its size, part_off where
 * it starts). 0 done, EL_WBXML_MORE, or EL_ETRUNC at the message's end. */
static int take_table(struct el_wbxml_decoder *d, struct el_err *err)
{
    size_t avail = d->len - d->pos;
    size_t n = avail < d->part_n ? avail : d->part_n;
    d->pos += n;
    d->part_n -= (uint32_t)n;
    if (d->part_n > 0) {
        if (!d->last)
            return EL_WBXML_MORE;
        d->rc = EL_ETRUNC;
        return EL_ERR(err, EL_ETRUNC, d->part_off,
                      "byte %zu: string table of %zu bytes runs past the end", d->part_off,
                      d->part_len);
    }
    d->part = PART_NONE;
    return 0;
}

/* Reads the header from the bytes gathered in d->hdr (the header starts the message, so
 * offsets in hdr are offsets in the message), taking more from the chunk as needed. */
static int take_header(struct el_wbxml_decoder *d, struct el_err *err)
{
    size_t had = d->nhdr;
    size_t avail = d->len - d->pos;
    size_t n = sizeof(d->hdr) - had < avail ? sizeof(d->hdr) - had : avail;
    if (n > 0)
        memcpy(d->hdr + had, d->in + d->pos, n);
    d->nhdr = (uint8_t)(had + n);
    const uint8_t *h = d->hdr;
    size_t len = d->nhdr;
    if (len == 0) {
        if (!d->last)
            return EL_WBXML_MORE;
        d->rc = EL_ETRUNC;
        return EL_ERR(err, EL_ETRUNC, 0, "byte 0: empty input, expected a WBXML header");
    }
    uint8_t version = h[0];
    if (version < 0x01 || version > 0x03) {
        d->rc = EL_EFORMAT;
        return EL_ERR(err, EL_EFORMAT, 0,
                      "byte 0: WBXML version byte 0x%02X, expected 0x03 (WBXML 1.3)", version);
    }
    size_t pos = 1;
    uint32_t publicid, charset, strtbl, index;
    const char *field = "public id";
    int rc = read_mbuint(h, len, &pos, &publicid);
    if (rc == 0 && publicid == 0) {
        field = "public id string index";
        rc = read_mbuint(h, len, &pos, &index);
    }
    if (rc == 0) {
        field = "charset";
        rc = read_mbuint(h, len, &pos, &charset);
    }
    if (rc == 0 && charset != 106) {
        d->rc = EL_EFORMAT;
        return EL_ERR(err, EL_EFORMAT, pos - 1, "byte %zu: charset %u, EAS requires 106 (UTF-8)",
                      pos - 1, charset);
    }
    if (rc == 0) {
        field = "string table length";
        rc = read_mbuint(h, len, &pos, &strtbl);
    }
    if (rc == EL_ETRUNC && !d->last) { /* the header is at most 21 bytes: hdr holds it */
        d->pos += n;
        return EL_WBXML_MORE;
    }
    if (rc < 0) {
        d->rc = rc;
        return EL_ERR(err, rc, pos, "byte %zu: %s in WBXML header: %s", pos, field,
                      rc == EL_ETRUNC ? "input ends" : "bad mb_u_int32");
    }
    d->pos += pos - had; /* the bytes of this chunk the header used */
    d->part = PART_TABLE;
    d->part_off = pos;
    d->part_len = strtbl;
    d->part_n = strtbl;
    return take_table(d, err);
}

static void decoder_reset(struct el_wbxml_decoder *d, unsigned max_depth)
{
    /* fields one by one: the tag stack and the text copy need no clearing (cheap Pings) */
    d->in = no_input;
    d->len = 0;
    d->pos = 0;
    d->base = 0;
    d->page = 0;
    d->depth = 0;
    d->pending_end = 0;
    d->done = 0;
    d->last = 0;
    d->part = PART_HEADER;
    d->nhdr = 0;
    d->rc = 0;
    d->want = NULL;
    d->max_depth =
        (max_depth == 0 || max_depth > EL_WBXML_DEPTH_MAX) ? EL_WBXML_DEPTH_MAX : max_depth;
}

void el_wbxml_decoder_open(struct el_wbxml_decoder *d, unsigned max_depth)
{
    decoder_reset(d, max_depth);
}

void el_wbxml_decoder_want(struct el_wbxml_decoder *d, const uint64_t *want)
{
    d->want = want;
}

void el_wbxml_decoder_feed(struct el_wbxml_decoder *d, const void *chunk, size_t len, int last)
{
    d->base += d->len;
    d->in = len > 0 ? chunk : no_input;
    d->len = len;
    d->pos = 0;
    d->last = last != 0;
}

int el_wbxml_decoder_init(struct el_wbxml_decoder *d, const void *in, size_t len,
                          unsigned max_depth, struct el_err *err)
{
    decoder_reset(d, max_depth);
    el_wbxml_decoder_feed(d, in, len, 1);
    return take_header(d, err);
}

/* ---- text -------------------------------------------------------------------------------- */

/* Copies what fits of the next n bytes of cut text into d->keep; counts them all. */
static void keep(struct el_wbxml_decoder *d, const uint8_t *p, size_t n)
{
    if (d->part_len < EL_WBXML_KEEP) {
        size_t room = EL_WBXML_KEEP - d->part_len;
        memcpy(d->keep + d->part_len, p, n < room ? n : room);
    }
    d->part_len += n;
}

/* A tag whose events the caller wants (el_wbxml_decoder_want). */
static inline int wanted(const struct el_wbxml_decoder *d, uint16_t tag)
{
    return d->want == NULL || ((d->want[EL_WBXML_PAGE_OF(tag)] >> EL_WBXML_TOKEN_OF(tag)) & 1u);
}

/* The event of text in the current element: 1, or 0 when the caller does not want it. */
static int text_event(struct el_wbxml_decoder *d, struct el_wbxml_ev *ev, int type,
                      const uint8_t *data, size_t len, size_t full_len, size_t off)
{
    if (!wanted(d, d->stack[d->depth - 1]))
        return 0;
    ev->type = type;
    ev->data = data;
    ev->len = len;
    ev->full_len = full_len;
    ev->tag = d->stack[d->depth - 1];
    ev->empty = 0;
    ev->depth = (uint8_t)d->depth;
    ev->offset = off;
    return 1;
}

/* The event of text gathered in d->keep (its token at part_off): 1, or 0 when not wanted. */
static int kept_event(struct el_wbxml_decoder *d, struct el_wbxml_ev *ev, int type)
{
    d->part = PART_NONE;
    size_t n = d->part_len < EL_WBXML_KEEP ? d->part_len : EL_WBXML_KEEP;
    return text_event(d, ev, type, d->keep, n, d->part_len, d->part_off);
}

/* OPAQUE content of n bytes from d->pos (its token at off, in this chunk or an earlier one):
 * 1 (its event), 0 (read, not wanted), EL_WBXML_MORE or an error. */
static int opaque_body(struct el_wbxml_decoder *d, struct el_wbxml_ev *ev, size_t off, uint32_t n,
                       struct el_err *err)
{
    size_t avail = d->len - d->pos;
    if (n <= avail) {
        const uint8_t *data = d->in + d->pos;
        d->pos += n;
        d->part = PART_NONE;
        return text_event(d, ev, EL_WBXML_EV_OPAQUE, data, n, n, off);
    }
    if (d->last) {
        d->rc = EL_ETRUNC;
        return EL_ERR(err, EL_ETRUNC, off,
                      "byte %zu: OPAQUE of %u bytes runs past the end (%zu left)", off, n, avail);
    }
    d->part = PART_OPQ;
    d->part_off = off;
    d->part_n = n;
    d->part_len = 0;
    keep(d, d->in + d->pos, avail);
    d->pos = d->len;
    return EL_WBXML_MORE;
}

/* Goes on with what the previous chunk's end cut: 0 (nothing pending any more: read tokens),
 * 1 (an event), EL_WBXML_MORE or an error. */
static int resume(struct el_wbxml_decoder *d, struct el_wbxml_ev *ev, struct el_err *err)
{
    const uint8_t *p = d->in + d->pos;
    size_t avail = d->len - d->pos;
    switch (d->part) {
    case PART_HEADER:
        return take_header(d, err);
    case PART_TABLE:
        return take_table(d, err);
    case PART_PAGE:
        if (avail == 0) {
            if (!d->last)
                return EL_WBXML_MORE;
            return fail(d, err, EL_ETRUNC, d->part_off, "SWITCH_PAGE without a page byte",
                        SWITCH_PAGE, d->page);
        }
        if (*p >= EL_WBXML_PAGE_COUNT)
            return fail(d, err, EL_EUNKNOWN, d->part_off + 1, "unknown code page", *p, *p);
        d->page = *p;
        d->pos++;
        d->part = PART_NONE;
        return 0;
    case PART_STR: {
        const uint8_t *nul = memchr(p, 0, avail);
        if (nul == NULL) {
            if (d->last)
                return fail(d, err, EL_ETRUNC, d->part_off, "STR_I without its NUL terminator",
                            STR_I, d->page);
            keep(d, p, avail);
            d->pos = d->len;
            return EL_WBXML_MORE;
        }
        keep(d, p, (size_t)(nul - p));
        d->pos += (size_t)(nul - p) + 1;
        return kept_event(d, ev, EL_WBXML_EV_STR);
    }
    case PART_OPQ_LEN: {
        size_t pos = d->pos;
        int rc = mbuint_more(d->in, d->len, &pos, &d->part_n, &d->part_nb);
        d->pos = pos;
        if (rc == EL_ETRUNC && !d->last)
            return EL_WBXML_MORE;
        if (rc < 0)
            return fail(d, err, rc, d->part_off,
                        rc == EL_ETRUNC ? "OPAQUE length runs past the end"
                                        : "OPAQUE length is a bad mb_u_int32",
                        OPAQUE, d->page);
        return opaque_body(d, ev, d->part_off, d->part_n, err);
    }
    case PART_OPQ: {
        size_t want = d->part_n - d->part_len;
        size_t n = avail < want ? avail : want;
        keep(d, p, n);
        d->pos += n;
        if (n < want) {
            if (!d->last)
                return EL_WBXML_MORE;
            d->rc = EL_ETRUNC;
            return EL_ERR(err, EL_ETRUNC, d->part_off,
                          "byte %zu: OPAQUE of %u bytes runs past the end (%zu left)", d->part_off,
                          d->part_n, d->part_len);
        }
        return kept_event(d, ev, EL_WBXML_EV_OPAQUE);
    }
    default:
        return 0;
    }
}

/* ---- events ------------------------------------------------------------------------------ */

int el_wbxml_next(struct el_wbxml_decoder *d, struct el_wbxml_ev *ev, struct el_err *err)
{
    if (d->rc < 0) {
        size_t at = d->base + d->pos;
        return EL_ERR(err, d->rc, at, "byte %zu: decoder stopped at an earlier error", at);
    }
    if (d->pending_end) {
        d->pending_end = 0;
        ev->type = EL_WBXML_EV_END;
        ev->tag = d->stack[--d->depth];
        ev->empty = 1;
        ev->depth = (uint8_t)(d->depth + 1);
        ev->offset = d->base + d->pos - 1;
        ev->data = NULL;
        ev->len = ev->full_len = 0;
        if (d->depth == 0)
            d->done = 1;
        return 1;
    }
    if (d->part != PART_NONE) {
        int rc = resume(d, ev, err);
        if (rc != 0)
            return rc;
    }
    for (;;) {
        size_t off = d->pos;
        size_t at = d->base + off; /* in the whole message */
        if (off >= d->len) {
            if (!d->last)
                return EL_WBXML_MORE;
            if (d->done)
                return 0;
            d->rc = EL_ETRUNC;
            if (d->depth == 0)
                return EL_ERR(err, EL_ETRUNC, at, "byte %zu: input ends before any element", at);
            return EL_ERR(err, EL_ETRUNC, at, "byte %zu: input ends inside <%s:%s> (%u open)", at,
                          el_wbxml_page_name(EL_WBXML_PAGE_OF(d->stack[d->depth - 1])),
                          el_wbxml_tag_name(d->stack[d->depth - 1]), d->depth);
        }
        uint8_t b = d->in[off];
        if (d->done)
            return fail(d, err, EL_EFORMAT, at, "data after the root element", b, d->page);
        unsigned token = b & 0x3F;
        if (token > 0x04 && !(b & 0x80)) { /* a tag: most tokens of a message */
            if (!((el_wbxml_assigned[d->page] >> token) & 1)) {
                d->rc = EL_EUNKNOWN;
                return EL_ERR(err, EL_EUNKNOWN, at, "byte %zu: unknown tag 0x%02X on page %u (%s)",
                              at, token, d->page, el_wbxml_pages[d->page].name);
            }
            if (d->depth >= d->max_depth) {
                d->rc = EL_EDEPTH;
                return EL_ERR(err, EL_EDEPTH, at, "byte %zu: nesting deeper than %u elements", at,
                              d->max_depth);
            }
            uint16_t tag = EL_WBXML_TAG(d->page, token);
            d->pos = off + 1;
            if (!wanted(d, tag)) { /* checked, tracked, not returned */
                if (b & 0x40)
                    d->stack[d->depth++] = tag;
                else if (d->depth == 0)
                    d->done = 1; /* a bare root */
                continue;
            }
            d->stack[d->depth++] = tag;
            ev->type = EL_WBXML_EV_START;
            ev->tag = tag;
            ev->empty = !(b & 0x40);
            ev->depth = (uint8_t)d->depth;
            ev->offset = at;
            ev->data = NULL;
            ev->len = ev->full_len = 0;
            d->pending_end = ev->empty;
            return 1;
        }
        if (b == SWITCH_PAGE) {
            if (off + 1 >= d->len) {
                d->pos = off + 1;
                d->part = PART_PAGE;
                d->part_off = at;
                int rc = resume(d, ev, err); /* the last chunk: the error */
                if (rc != 0)
                    return rc;
                continue;
            }
            uint8_t page = d->in[off + 1];
            if (page >= EL_WBXML_PAGE_COUNT)
                return fail(d, err, EL_EUNKNOWN, at + 1, "unknown code page", page, page);
            d->page = page;
            d->pos = off + 2;
            continue;
        }
        if (b == END) {
            if (d->depth == 0)
                return fail(d, err, EL_EFORMAT, at, "END with no open element", b, d->page);
            d->pos = off + 1;
            uint16_t tag = d->stack[--d->depth];
            if (d->depth == 0)
                d->done = 1;
            if (!wanted(d, tag))
                continue;
            ev->type = EL_WBXML_EV_END;
            ev->tag = tag;
            ev->empty = 0;
            ev->depth = (uint8_t)(d->depth + 1);
            ev->offset = at;
            ev->data = NULL;
            ev->len = ev->full_len = 0;
            return 1;
        }
        if (b == STR_I || b == OPAQUE) {
            if (d->depth == 0)
                return fail(d, err, EL_EFORMAT, at, "text outside the root element", b, d->page);
            size_t pos = off + 1;
            if (b == STR_I) {
                const uint8_t *nul = memchr(d->in + pos, 0, d->len - pos);
                if (nul == NULL) { /* cut by the chunk's end, or a missing NUL */
                    if (d->last)
                        return fail(d, err, EL_ETRUNC, at, "STR_I without its NUL terminator", b,
                                    d->page);
                    d->part = PART_STR;
                    d->part_off = at;
                    d->part_len = 0;
                    keep(d, d->in + pos, d->len - pos);
                    d->pos = d->len;
                    return EL_WBXML_MORE;
                }
                size_t n = (size_t)(nul - (d->in + pos));
                d->pos = pos + n + 1;
                if (text_event(d, ev, EL_WBXML_EV_STR, d->in + pos, n, n, at))
                    return 1;
                continue;
            }
            d->part_n = 0;
            d->part_nb = 0;
            int rc = mbuint_more(d->in, d->len, &pos, &d->part_n, &d->part_nb);
            d->pos = pos;
            if (rc < 0) { /* cut by the chunk's end, or a bad length */
                d->part = PART_OPQ_LEN;
                d->part_off = at;
                if (rc == EL_ETRUNC && !d->last)
                    return EL_WBXML_MORE;
                return fail(d, err, rc, at,
                            rc == EL_ETRUNC ? "OPAQUE length runs past the end"
                                            : "OPAQUE length is a bad mb_u_int32",
                            b, d->page);
            }
            rc = opaque_body(d, ev, at, d->part_n, err);
            if (rc != 0)
                return rc;
            continue;
        }
        if (is_unused_global(b))
            return fail(d, err, EL_EFORMAT, at, "global token not used by EAS", b, d->page);
        return fail(d, err, EL_EFORMAT, at, "tag with attributes (not used by EAS)", b, d->page);
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
