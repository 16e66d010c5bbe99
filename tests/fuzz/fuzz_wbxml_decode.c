/* fuzz_wbxml_decode.c - libFuzzer target: the WBXML decoder and the XML printer on arbitrary
 * bytes (the server's replies are outside input).
 * Checks, beyond "no crash, no sanitizer report":
 *   - every event is consistent with a shadow stack (START/END pairing, depths, tags), borrowed
 *     data lies inside the input, an error is sticky, and the event count is bounded;
 *   - el_wbxml_skip() on some elements ends the document exactly like a full walk;
 *   - the input fed in chunks (sizes drawn from the input, each chunk in its own allocation)
 *     gives the same events, offsets and error (code, offset, message) as the whole input;
 *     with a filter (el_wbxml_decoder_want, half the inputs) exactly the wanted ones of them;
 *   - el_wbxml_to_xml() succeeds exactly when the walk does, with the same error code;
 *   - el_wbxml_from_xml() accepts that XML; the WBXML it gives back prints to the same XML, and
 *     equals the input byte for byte when the input was minimal (header 03 01 6A 00, a page
 *     switch only before a tag whose page differs, shortest OPAQUE lengths).
 * Owns: the buffers of one input. Uses: core/wbxml.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wbxml.h"

#define XML_MAX_BYTES (64u << 20)

static void require(int ok, const char *what, const struct el_err *err)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz_wbxml_decode: property violated: %s\n", what);
    if (err)
        fprintf(stderr, "  last error: %s (%d) %s\n", el_err_name(err->code), err->code, err->msg);
    abort();
}

/* What a full walk found: its final return, and whether the input is in canonical form. */
struct walk {
    int rc;        /* 0 complete document, or the negative error */
    int minimal;   /* 1: re-encoding must reproduce the input byte for byte */
    size_t events; /* events returned */
};

static int mbuint_len(uint32_t v)
{
    uint8_t tmp[5];
    return (int)el_wbxml_mbuint_put(tmp, v);
}

/* Walks every event of the input, checking each against a shadow stack. */
static struct walk walk_all(const uint8_t *in, size_t len)
{
    struct walk w = {0, 0, 0};
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    struct el_err err;
    uint16_t shadow[EL_WBXML_DEPTH_MAX];
    unsigned depth = 0;
    int want_empty_end = 0; /* the last START was a bare token: its END must come next */
    unsigned page = 0;      /* code page in force, for the minimality check */
    size_t cursor = 4;      /* end of the previous token in the input */
    int roots = 0;

    w.rc = el_wbxml_decoder_init(&d, in, len, 0, &err);
    if (w.rc < 0)
        return w;
    w.minimal = len >= 4 && memcmp(in, "\x03\x01\x6A\x00", 4) == 0;
    for (;;) {
        int n = el_wbxml_next(&d, &ev, &err);
        if (n < 0) {
            require(err.code == n, "error record carries the returned code", &err);
            struct el_wbxml_ev again;
            require(el_wbxml_next(&d, &again, NULL) == n, "decoder error is sticky", &err);
            w.rc = n;
            return w;
        }
        if (n == 0)
            break;
        require(n == 1, "next returns 1 with an event", &err);
        w.events++;
        require(w.events <= 2 * len, "event count bounded by twice the input length", &err);
        require(ev.offset < len, "event offset inside the input", &err);

        int synthetic = want_empty_end;
        if (want_empty_end) {
            require(ev.type == EL_WBXML_EV_END && ev.empty == 1,
                    "a bare token is followed by its own END", &err);
            want_empty_end = 0;
        }
        if (!synthetic) {
            require(ev.offset >= cursor, "tokens come in input order", &err);
            size_t gap = ev.offset - cursor;
            if (gap == 2 && ev.type == EL_WBXML_EV_START && in[cursor] == 0x00 &&
                in[cursor + 1] != page && in[cursor + 1] == EL_WBXML_PAGE_OF(ev.tag))
                gap = 0; /* one needed page switch before a tag */
            if (gap != 0)
                w.minimal = 0;
        }
        switch (ev.type) {
        case EL_WBXML_EV_START:
            require(depth < EL_WBXML_DEPTH_MAX, "depth within the cap", &err);
            require(ev.depth == depth + 1, "START depth is parent depth + 1", &err);
            require(el_wbxml_tag_name(ev.tag) != NULL, "START tag is assigned", &err);
            if (depth == 0)
                roots++;
            require(roots == 1, "exactly one root element", &err);
            shadow[depth++] = ev.tag;
            want_empty_end = ev.empty;
            page = EL_WBXML_PAGE_OF(ev.tag);
            cursor = ev.offset + 1;
            break;
        case EL_WBXML_EV_END:
            require(depth > 0, "END has an open element", &err);
            require(ev.tag == shadow[depth - 1], "END closes the innermost element", &err);
            require(ev.depth == depth, "END depth is the element's depth", &err);
            depth--;
            if (!synthetic) {
                require(ev.empty == 0 && in[ev.offset] == 0x01, "END token is 0x01", &err);
                cursor = ev.offset + 1;
            }
            break;
        case EL_WBXML_EV_STR:
        case EL_WBXML_EV_OPAQUE:
            require(depth > 0, "text inside an element", &err);
            require(ev.tag == shadow[depth - 1], "text names its enclosing element", &err);
            require(ev.depth == depth, "text depth is the element's depth", &err);
            require(ev.data >= in && ev.data <= in + len && ev.len <= (size_t)(in + len - ev.data),
                    "text data inside the input", &err);
            if (ev.type == EL_WBXML_EV_STR) {
                require(ev.data == in + ev.offset + 1, "STR_I data follows its token", &err);
                require(ev.data + ev.len < in + len && ev.data[ev.len] == 0,
                        "STR_I data is NUL-terminated in the input", &err);
                require(memchr(ev.data, 0, ev.len) == NULL, "STR_I data holds no NUL", &err);
                cursor = (size_t)(ev.data - in) + ev.len + 1;
            } else {
                size_t hdr = (size_t)(ev.data - in) - ev.offset - 1;
                if ((int)hdr != mbuint_len((uint32_t)ev.len))
                    w.minimal = 0; /* over-long mb_u_int32 such as 80 05 */
                cursor = (size_t)(ev.data - in) + ev.len;
            }
            break;
        default:
            require(0, "known event type", &err);
        }
    }
    require(depth == 0 && roots == 1 && !want_empty_end, "a complete document has one closed root",
            NULL);
    if (cursor != len)
        w.minimal = 0;
    return w;
}

/* Walks again, skipping every element whose START offset is a multiple of 3. */
static int walk_with_skips(const uint8_t *in, size_t len)
{
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    int rc = el_wbxml_decoder_init(&d, in, len, 0, NULL);
    while (rc == 0) {
        int n = el_wbxml_next(&d, &ev, NULL);
        if (n <= 0)
            return n;
        if (ev.type == EL_WBXML_EV_START && ev.offset % 3 == 0) {
            unsigned depth_before = d.depth;
            rc = el_wbxml_skip(&d, NULL);
            if (rc == 0)
                require(d.depth == depth_before - 1 && !d.pending_end,
                        "skip leaves the parent element current", NULL);
        }
    }
    return rc;
}

/* Whole-input events, for the chunked walk to compare against. */
struct rec {
    struct el_wbxml_ev *ev;
    size_t n;
    int rc;
    struct el_err err;
};

static void record_whole(const uint8_t *in, size_t len, struct rec *r)
{
    struct el_wbxml_decoder d;
    size_t cap = 2 * len + 2;
    r->ev = malloc(cap * sizeof(*r->ev));
    require(r->ev != NULL, "memory", NULL);
    r->n = 0;
    r->rc = el_wbxml_decoder_init(&d, in, len, 0, &r->err);
    while (r->rc == 0 && r->n < cap) {
        int n = el_wbxml_next(&d, &r->ev[r->n], &r->err);
        if (n <= 0) {
            r->rc = n;
            break;
        }
        r->n++;
    }
}

/* Feeds the input in chunks whose sizes come from a generator seeded by the input; each chunk
 * is copied into an allocation of its own size (a read past it is a sanitizer report). */
static void walk_chunked(const uint8_t *in, size_t len, const struct rec *r)
{
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    struct el_err err;
    uint32_t seed = 2166136261u;
    for (size_t i = 0; i < len && i < 64; i++)
        seed = (seed ^ in[i]) * 16777619u;
    el_wbxml_decoder_open(&d, 0);
    /* half the inputs: only some tags' events (el_wbxml_decoder_want), drawn from the seed */
    uint64_t want[EL_WBXML_PAGE_COUNT];
    int filtered = seed & 1;
    for (unsigned p = 0; p < EL_WBXML_PAGE_COUNT; p++)
        want[p] =
            ((uint64_t)(seed * (p + 1)) << 32 | seed * (p + 7)) & 0xAAAAAAAAAAAAAAAAull >> (p & 1);
    if (filtered)
        el_wbxml_decoder_want(&d, want);
    size_t at = 0, k = 0;
    uint8_t *chunk = NULL;
    int rc = EL_WBXML_MORE;
    for (;;) {
        if (rc == EL_WBXML_MORE) {
            free(chunk);
            seed = seed * 1103515245u + 12345u;
            size_t n = (seed >> 16) % 4 == 0 ? (seed >> 8) % 300 : (seed >> 8) % 5;
            if (n > len - at)
                n = len - at;
            chunk = n > 0 ? malloc(n) : NULL;
            if (n > 0)
                memcpy(chunk, in + at, n);
            at += n;
            el_wbxml_decoder_feed(&d, chunk, n, at == len);
        }
        rc = el_wbxml_next(&d, &ev, &err);
        if (rc == EL_WBXML_MORE)
            continue;
        if (rc != 1)
            break;
        while (filtered && k < r->n &&
               !((want[EL_WBXML_PAGE_OF(r->ev[k].tag)] >> EL_WBXML_TOKEN_OF(r->ev[k].tag)) & 1))
            k++; /* an event of a tag not wanted: the filtered walk skips it */
        require(k < r->n, "chunked input gives no more events than the whole", NULL);
        const struct el_wbxml_ev *w = &r->ev[k++];
        require(ev.type == w->type && ev.tag == w->tag && ev.empty == w->empty &&
                    ev.depth == w->depth && ev.offset == w->offset,
                "chunked event equals the whole input's", NULL);
        require(ev.full_len == w->len && w->full_len == w->len,
                "chunked text has the whole input's length", NULL);
        require(ev.len == w->len || (ev.len == EL_WBXML_KEEP && ev.full_len > EL_WBXML_KEEP),
                "chunked text is whole or its first EL_WBXML_KEEP bytes", NULL);
        require(ev.len == 0 || memcmp(ev.data, w->data, ev.len) == 0,
                "chunked text has the whole input's bytes", NULL);
    }
    free(chunk);
    while (filtered && k < r->n &&
           !((want[EL_WBXML_PAGE_OF(r->ev[k].tag)] >> EL_WBXML_TOKEN_OF(r->ev[k].tag)) & 1))
        k++;
    require(rc == r->rc && k == r->n, "chunked input ends like the whole", &err);
    if (rc < 0)
        require(err.offset == r->err.offset && strcmp(err.msg, r->err.msg) == 0,
                "chunked input fails at the same byte with the same message", &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct walk w = walk_all(data, size);
    int skip_rc = walk_with_skips(data, size);
    struct rec r;
    record_whole(data, size, &r);
    require(r.rc == w.rc, "the recording walk ends like the checking walk", &r.err);
    walk_chunked(data, size, &r);
    free(r.ev);
    if (w.rc == 0)
        require(skip_rc == 0, "skipping elements of a valid document succeeds", NULL);

    unsigned flags = (size & 1) ? EL_WBXML_XML_HEX : 0;
    struct el_err err;
    struct el_buf xml, wb, xml2;
    el_buf_init(&xml, XML_MAX_BYTES);
    el_buf_init(&wb, XML_MAX_BYTES);
    el_buf_init(&xml2, XML_MAX_BYTES);

    int rc = el_wbxml_to_xml(data, size, flags, &xml, &err);
    require(rc == w.rc, "to_xml fails exactly when the walk fails, with the same code", &err);
    if (rc == 0) {
        rc = el_wbxml_from_xml((const char *)xml.data, xml.len, &wb, &err);
        require(rc == 0, "from_xml accepts what to_xml printed", &err);
        if (w.minimal)
            require(wb.len == size && memcmp(wb.data, data, size) == 0,
                    "a minimal document re-encodes byte for byte", NULL);
        rc = el_wbxml_to_xml(wb.data, wb.len, flags, &xml2, &err);
        require(rc == 0, "the re-encoded document decodes", &err);
        require(xml2.len == xml.len && memcmp(xml2.data, xml.data, xml.len) == 0,
                "the re-encoded document prints the same XML", NULL);
    }
    el_buf_close(&xml2);
    el_buf_close(&wb);
    el_buf_close(&xml);
    return 0;
}
