/* test_wbxml_codec.c - unit tests of the WBXML decoder and encoder: every token of every code
 * page round-trips, mb_u_int32 vectors, and each class of malformed input is refused with the
 * right code and byte offset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "wbxml.h"

#define HDR 0x03, 0x01, 0x6A, 0x00

/* Decodes all of in; returns the first error (or 0) and counts events. */
static int decode_all(const uint8_t *in, size_t len, struct el_err *err, int *events)
{
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    int rc = el_wbxml_decoder_init(&d, in, len, 0, err);
    *events = 0;
    while (rc == 0) {
        int n = el_wbxml_next(&d, &ev, err);
        if (n <= 0)
            return n;
        (*events)++;
    }
    return rc;
}

static void mbuint_vectors_match_the_spec(void **state)
{
    (void)state;
    static const struct {
        uint32_t v;
        uint8_t bytes[5];
        size_t n;
    } cases[] = {
        {0, {0x00}, 1},          {127, {0x7F}, 1},          {128, {0x81, 0x00}, 2},
        {200, {0x81, 0x48}, 2},  {300, {0x82, 0x2C}, 2},    {16383, {0xFF, 0x7F}, 2},
        {16384, {0x81, 0x80, 0x00}, 3}, {1000000, {0xBD, 0x84, 0x40}, 3},
        {UINT32_MAX, {0x8F, 0xFF, 0xFF, 0xFF, 0x7F}, 5},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t out[5];
        size_t n = el_wbxml_mbuint_put(out, cases[i].v);
        assert_int_equal(n, cases[i].n);
        assert_memory_equal(out, cases[i].bytes, n);
    }
}

/* Every assigned token of every page: <Tag>x</Tag> and <Tag/> encode, decode back to the same
 * tag, and the bytes are minimal (a page switch only off page 0). */
static void every_token_of_every_page_round_trips(void **state)
{
    (void)state;
    int tags = 0;
    for (unsigned page = 0; page < EL_WBXML_PAGE_COUNT; page++) {
        for (unsigned tok = 0; tok < 64; tok++) {
            if (el_wbxml_pages[page].tags[tok].name == NULL)
                continue;
            uint16_t tag = EL_WBXML_TAG(page, tok);
            struct el_buf b;
            struct el_wbxml_encoder e;
            struct el_err err;
            el_buf_init(&b, 1024);
            el_wbxml_encoder_init(&e, &b);
            el_wbxml_start(&e, tag);
            el_wbxml_empty(&e, tag);
            el_wbxml_text(&e, tag, "x");
            el_wbxml_end(&e);
            assert_int_equal(el_wbxml_encoder_finish(&e, &err), 0);
            size_t sw = page ? 2 : 0;
            assert_int_equal(b.len, 4 + sw + 1 + 1 + 1 + 3 + 1 + 1);
            if (page)
                assert_int_equal(b.data[5], page);

            struct el_wbxml_decoder d;
            struct el_wbxml_ev ev;
            assert_int_equal(el_wbxml_decoder_init(&d, b.data, b.len, 0, &err), 0);
            int want[] = {EL_WBXML_EV_START, EL_WBXML_EV_START, EL_WBXML_EV_END,
                          EL_WBXML_EV_START, EL_WBXML_EV_STR,   EL_WBXML_EV_END,
                          EL_WBXML_EV_END};
            for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
                assert_int_equal(ev.type, want[i]);
                assert_int_equal(ev.tag, tag);
            }
            assert_int_equal(el_wbxml_next(&d, &ev, &err), 0);

            /* the name resolves back to the same tag */
            const char *name = el_wbxml_tag_name(tag);
            assert_int_equal(el_wbxml_tag_lookup(page, name, strlen(name)), tag);
            el_buf_close(&b);
            tags++;
        }
    }
    assert_true(tags > 600);
}

static void decoder_reports_bare_token_and_content_forms(void **state)
{
    (void)state;
    /* <Sync><GetChanges/><MoreAvailable></MoreAvailable></Sync> */
    const uint8_t in[] = {HDR, 0x45, 0x13, 0x54, 0x01, 0x01};
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    struct el_err err;
    assert_int_equal(el_wbxml_decoder_init(&d, in, sizeof(in), 0, &err), 0);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(ev.tag, EL_AS_SYNC);
    assert_int_equal(ev.empty, 0);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(ev.tag, EL_AS_GETCHANGES);
    assert_int_equal(ev.empty, 1);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(ev.type, EL_WBXML_EV_END);
    assert_int_equal(ev.empty, 1);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(ev.tag, EL_AS_MOREAVAILABLE);
    assert_int_equal(ev.empty, 0);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(ev.type, EL_WBXML_EV_END);
    assert_int_equal(ev.empty, 0);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(ev.tag, EL_AS_SYNC);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 0);
}

static void decoder_reads_opaque_with_multibyte_length(void **state)
{
    (void)state;
    uint8_t in[4 + 3 + 3 + 200 + 2];
    const uint8_t head[] = {HDR, 0x00, 0x15, 0x50, 0xC3, 0x81, 0x48};
    memcpy(in, head, sizeof(head));
    memset(in + sizeof(head), 0xAB, 200);
    in[sizeof(head) + 200] = 0x01;
    size_t len = sizeof(head) + 201;
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    struct el_err err;
    assert_int_equal(el_wbxml_decoder_init(&d, in, len, 0, &err), 0);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(ev.tag, EL_CM_MIME);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(ev.type, EL_WBXML_EV_OPAQUE);
    assert_int_equal(ev.len, 200);
    assert_int_equal(ev.data[199], 0xAB);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 0);
}

struct bad_case {
    const char *what;
    uint8_t bytes[16];
    size_t len;
    int code;
    size_t offset;
};

static void decoder_refuses_each_class_of_malformed_input(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"empty", {0}, 0, EL_ETRUNC, 0},
        {"header only", {HDR}, 4, EL_ETRUNC, 4},
        {"wrong version", {0x10, 0x01, 0x6A, 0x00, 0x45, 0x01}, 6, EL_EFORMAT, 0},
        {"wrong charset", {0x03, 0x01, 0x04, 0x00, 0x45, 0x01}, 6, EL_EFORMAT, 2},
        {"truncated header", {0x03, 0x01}, 2, EL_ETRUNC, 2},
        {"string table past end", {0x03, 0x01, 0x6A, 0x10, 0x45}, 5, EL_ETRUNC, 4},
        {"truncated element", {HDR, 0x45, 0x4B}, 6, EL_ETRUNC, 6},
        {"unknown page", {HDR, 0x00, 0x1A, 0x45, 0x01}, 8, EL_EUNKNOWN, 5},
        {"unknown token", {HDR, 0x45, 0x6A, 0x01, 0x01}, 8, EL_EUNKNOWN, 5},
        {"unassigned token page 3", {HDR, 0x00, 0x03, 0x45, 0x01}, 8, EL_EUNKNOWN, 6},
        {"switch page at end", {HDR, 0x45, 0x00}, 6, EL_ETRUNC, 5},
        {"attribute bit", {HDR, 0xC5, 0x01}, 6, EL_EFORMAT, 4},
        {"unused global ENTITY", {HDR, 0x45, 0x02, 0x01}, 7, EL_EFORMAT, 5},
        {"unused global EXT_T_0", {HDR, 0x45, 0x80, 0x01}, 7, EL_EFORMAT, 5},
        {"unused global LITERAL", {HDR, 0x45, 0x04, 0x01}, 7, EL_EFORMAT, 5},
        {"END with nothing open", {HDR, 0x01}, 5, EL_EFORMAT, 4},
        {"text before root", {HDR, 0x03, 0x41, 0x00}, 7, EL_EFORMAT, 4},
        {"unterminated STR_I", {HDR, 0x45, 0x03, 0x41, 0x42}, 8, EL_ETRUNC, 5},
        {"opaque length past end", {HDR, 0x45, 0xC3, 0x05, 0x41, 0x01}, 9, EL_ETRUNC, 5},
        {"opaque bad mb_u_int32",
         {HDR, 0x45, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0xFF, 0x01},
         12,
         EL_EFORMAT,
         5},
        {"opaque length > 32 bits", {HDR, 0x45, 0xC3, 0x90, 0x80, 0x80, 0x80, 0x00}, 11,
         EL_EFORMAT, 5},
        {"data after root", {HDR, 0x05, 0x05}, 6, EL_EFORMAT, 5},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct el_err err;
        int events;
        memset(&err, 0, sizeof(err));
        int rc = decode_all(cases[i].bytes, cases[i].len, &err, &events);
        if (rc != cases[i].code || err.offset != cases[i].offset)
            fail_msg("%s: rc %d offset %zu (%s), want %d at %zu", cases[i].what, rc, err.offset,
                     err.msg, cases[i].code, cases[i].offset);
        assert_non_null(strstr(err.msg, "byte "));
    }
}

static void decoder_stops_a_depth_bomb_at_its_limit(void **state)
{
    (void)state;
    uint8_t in[4 + 1000];
    const uint8_t hdr[] = {HDR};
    memcpy(in, hdr, 4);
    memset(in + 4, 0x45, 1000); /* <Sync> nested 1000 times */
    struct el_err err;
    int events;
    assert_int_equal(decode_all(in, sizeof(in), &err, &events), EL_EDEPTH);
    assert_int_equal(events, EL_WBXML_DEPTH_MAX);
    assert_int_equal(err.offset, 4 + EL_WBXML_DEPTH_MAX);

    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    assert_int_equal(el_wbxml_decoder_init(&d, in, sizeof(in), 8, &err), 0);
    int n = 0;
    while (el_wbxml_next(&d, &ev, &err) == 1)
        n++;
    assert_int_equal(n, 8);
    /* the error is sticky */
    assert_int_equal(el_wbxml_next(&d, &ev, &err), EL_EDEPTH);
}

static void decoder_skips_string_table_and_redundant_switches(void **state)
{
    (void)state;
    const uint8_t in[] = {0x03, 0x01, 0x6A, 0x02, 'a', 0x00, 0x00, 0x00, 0x00, 0x07,
                          0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01};
    struct el_err err;
    int events;
    assert_int_equal(decode_all(in, sizeof(in), &err, &events), 0);
    assert_int_equal(events, 5);
}

static void skip_passes_over_a_subtree(void **state)
{
    (void)state;
    /* <Sync><Collections><Collection><SyncKey>1</SyncKey></Collection></Collections><Limit/>
     * </Sync> */
    const uint8_t in[] = {HDR, 0x45, 0x5C, 0x4F, 0x4B, 0x03, 0x31, 0x00, 0x01, 0x01, 0x01, 0x25, 0x01};
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    struct el_err err;
    assert_int_equal(el_wbxml_decoder_init(&d, in, sizeof(in), 0, &err), 0);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(ev.tag, EL_AS_COLLECTIONS);
    assert_int_equal(el_wbxml_skip(&d, &err), 0);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(ev.tag, EL_AS_LIMIT);
    assert_int_equal(el_wbxml_skip(&d, &err), 0);
    assert_int_equal(el_wbxml_next(&d, &ev, &err), 1);
    assert_int_equal(ev.type, EL_WBXML_EV_END);
    assert_int_equal(ev.tag, EL_AS_SYNC);
}

static void encoder_writes_the_spec_foldersync_request(void **state)
{
    (void)state;
    const uint8_t want[] = {HDR, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01};
    struct el_buf b;
    struct el_wbxml_encoder e;
    struct el_err err;
    el_buf_init(&b, 256);
    el_wbxml_encoder_init(&e, &b);
    el_wbxml_start(&e, EL_FH_FOLDERSYNC);
    el_wbxml_text(&e, EL_FH_SYNCKEY, "0");
    el_wbxml_end(&e);
    assert_int_equal(el_wbxml_encoder_finish(&e, &err), 0);
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    el_buf_close(&b);
}

static void encoder_refuses_misuse(void **state)
{
    (void)state;
    struct el_buf b;
    struct el_wbxml_encoder e;
    struct el_err err;

    el_buf_init(&b, 256);
    el_wbxml_encoder_init(&e, &b);
    el_wbxml_start(&e, EL_WBXML_TAG(0, 0x3F)); /* unassigned */
    assert_int_equal(el_wbxml_encoder_finish(&e, &err), EL_EUNKNOWN);
    el_buf_close(&b);

    el_wbxml_encoder_init(&e, &b);
    el_wbxml_start(&e, EL_AS_SYNC);
    el_wbxml_str(&e, "a\0b", 3);
    el_wbxml_end(&e);
    assert_int_equal(el_wbxml_encoder_finish(&e, &err), EL_EINVAL);
    el_buf_close(&b);

    el_wbxml_encoder_init(&e, &b);
    el_wbxml_start(&e, EL_AS_SYNC);
    assert_int_equal(el_wbxml_encoder_finish(&e, &err), EL_EINVAL);
    assert_non_null(strstr(err.msg, "left open"));
    el_buf_close(&b);

    el_wbxml_encoder_init(&e, &b);
    el_wbxml_empty(&e, EL_AS_SYNC);
    el_wbxml_empty(&e, EL_AS_SYNC);
    assert_int_equal(el_wbxml_encoder_finish(&e, &err), EL_EINVAL);
    el_buf_close(&b);

    el_wbxml_encoder_init(&e, &b);
    for (int i = 0; i < EL_WBXML_DEPTH_MAX + 1; i++)
        el_wbxml_start(&e, EL_AS_SYNC);
    assert_int_equal(el_wbxml_encoder_finish(&e, &err), EL_EDEPTH);
    el_buf_close(&b);

    el_buf_init(&b, 16); /* the buffer cap is an error, not a crash */
    el_wbxml_encoder_init(&e, &b);
    el_wbxml_start(&e, EL_AS_SYNC);
    el_wbxml_text(&e, EL_AS_SYNCKEY, "0123456789012345678901234567890");
    el_wbxml_end(&e);
    assert_int_equal(el_wbxml_encoder_finish(&e, &err), EL_ELIMIT);
    el_buf_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mbuint_vectors_match_the_spec),
        cmocka_unit_test(every_token_of_every_page_round_trips),
        cmocka_unit_test(decoder_reports_bare_token_and_content_forms),
        cmocka_unit_test(decoder_reads_opaque_with_multibyte_length),
        cmocka_unit_test(decoder_refuses_each_class_of_malformed_input),
        cmocka_unit_test(decoder_stops_a_depth_bomb_at_its_limit),
        cmocka_unit_test(decoder_skips_string_table_and_redundant_switches),
        cmocka_unit_test(skip_passes_over_a_subtree),
        cmocka_unit_test(encoder_writes_the_spec_foldersync_request),
        cmocka_unit_test(encoder_refuses_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
