/* fuzz_wbxml_xml.c - libFuzzer target: el_wbxml_from_xml() on arbitrary text (the XML form
 * comes from users: `easload wbxml encode`, scenario files, captured traces).
 * Checks, beyond "no crash, no sanitizer report":
 *   - on failure the output buffer is back to its length before the call, its prefix intact,
 *     and the error record carries the returned code;
 *   - on success the WBXML decodes completely, prints as XML, and that XML parses back to the
 *     very same WBXML (the printed form is a fixpoint).
 * Owns: the buffers of one input. Uses: core/wbxml.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wbxml.h"

#define OUT_MAX_BYTES (64u << 20)

static void require(int ok, const char *what, const struct el_err *err)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz_wbxml_xml: property violated: %s\n", what);
    if (err)
        fprintf(stderr, "  last error: %s (%d) %s\n", el_err_name(err->code), err->code, err->msg);
    abort();
}

static int decode_all(const uint8_t *in, size_t len, struct el_err *err)
{
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    int rc = el_wbxml_decoder_init(&d, in, len, 0, err);
    while (rc == 0) {
        int n = el_wbxml_next(&d, &ev, err);
        if (n <= 0)
            return n;
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char prefix[] = "pre";
    const size_t plen = sizeof(prefix) - 1;
    struct el_err err;
    struct el_buf wb, xml, wb2;
    el_buf_init(&wb, OUT_MAX_BYTES);
    el_buf_init(&xml, OUT_MAX_BYTES);
    el_buf_init(&wb2, OUT_MAX_BYTES);

    /* from_xml appends: start from a non-empty buffer to check it leaves the prefix alone. */
    require(el_buf_append(&wb, prefix, plen) == 0, "prefix fits", NULL);
    memset(&err, 0, sizeof(err));
    int rc = el_wbxml_from_xml((const char *)data, size, &wb, &err);
    require(memcmp(wb.data, prefix, plen) == 0, "from_xml keeps what the buffer held", NULL);
    if (rc < 0) {
        require(err.code == rc, "error record carries the returned code", &err);
        require(memchr(err.msg, 0, sizeof(err.msg)) != NULL, "error message is terminated", &err);
        require(wb.len == plen, "a failed from_xml leaves the buffer's length as it was", &err);
    } else {
        require(rc == 0, "from_xml returns 0 or a negative code", &err);
        const uint8_t *doc = wb.data + plen;
        size_t doc_len = wb.len - plen;
        require(decode_all(doc, doc_len, &err) == 0, "from_xml output decodes completely", &err);
        unsigned flags = (size & 1) ? EL_WBXML_XML_HEX : 0;
        require(el_wbxml_to_xml(doc, doc_len, flags, &xml, &err) == 0,
                "from_xml output prints as XML", &err);
        require(el_wbxml_from_xml((const char *)xml.data, xml.len, &wb2, &err) == 0,
                "printed XML parses", &err);
        require(wb2.len == doc_len && memcmp(wb2.data, doc, doc_len) == 0,
                "printed XML parses back to the same WBXML", NULL);
    }
    el_buf_close(&wb2);
    el_buf_close(&xml);
    el_buf_close(&wb);
    return 0;
}
