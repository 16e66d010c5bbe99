/* test_wbxml_alloc.c - proves the WBXML hot path allocates nothing per element: decoding the
 * 50-item Sync response (and the other benchmark messages) makes no allocation at all, and
 * encoding or printing into a buffer that has already grown makes none either.
 * How: linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free, so every call
 * to those from this test's objects and from the el_wbxml/el_base archives lands in a counting
 * shim that forwards to the real allocator (ASan's, in a sanitizer build: the wrap renames our
 * references only, the sanitizer runtime still serves them). Calls made inside shared
 * libraries (cmocka, libc itself) are not counted; the codec calls no allocating libc function
 * (strdup, asprintf, ...). A control test shows the shim does see the codec's own growth.
 * The messages come from the benchmark's builder (bench/wbxml_samples.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wbxml.h"
#include "../../bench/wbxml_samples.c"

/* ---- counting shim ----------------------------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

static int counting;         /* 1 between count_start() and count_stop() */
static unsigned long allocs; /* malloc, calloc and realloc calls while counting */

void *__wrap_malloc(size_t n)
{
    allocs += counting;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    allocs += counting;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    allocs += counting;
    return __real_realloc(p, n);
}

void __wrap_free(void *p)
{
    __real_free(p);
}

static void count_start(void)
{
    allocs = 0;
    counting = 1;
}

static unsigned long count_stop(void)
{
    counting = 0;
    return allocs;
}

/* ---- fixtures ---------------------------------------------------------------------------- */

#define MSG_MAX_BYTES (16u << 20)

struct msgs {
    struct el_bench_samples samples;
    struct el_buf wbxml[8]; /* one per el_bench_msg_kinds entry */
    size_t n;
};

static int setup(void **state)
{
    struct msgs *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    assert_int_equal(el_bench_samples_init(&m->samples), 0);
    for (const struct el_bench_msg_kind *k = el_bench_msg_kinds; k->name; k++) {
        assert_true(m->n < sizeof(m->wbxml) / sizeof(m->wbxml[0]));
        struct el_buf *b = &m->wbxml[m->n++];
        el_buf_init(b, MSG_MAX_BYTES);
        struct el_err err;
        assert_int_equal(k->write(b, &m->samples, &err), 0);
    }
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    struct msgs *m = *state;
    for (size_t i = 0; i < m->n; i++)
        el_buf_close(&m->wbxml[i]);
    el_bench_samples_close(&m->samples);
    free(m);
    return 0;
}

/* Walks every event, as the engine does; returns the event count (the walk must succeed). */
static unsigned long walk(const struct el_buf *b)
{
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    struct el_err err;
    unsigned long events = 0;
    assert_int_equal(el_wbxml_decoder_init(&d, b->data, b->len, 0, &err), 0);
    int n;
    while ((n = el_wbxml_next(&d, &ev, &err)) == 1)
        events++;
    assert_int_equal(n, 0);
    return events;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void counting_shim_sees_the_codec_grow_a_buffer(void **state)
{
    (void)state;
    struct el_buf b;
    el_buf_init(&b, 1024);
    count_start();
    int rc = el_buf_reserve(&b, 100); /* inside libel_base.a: realloc */
    unsigned long n = count_stop();
    assert_int_equal(rc, 0);
    assert_int_equal(n, 1);
    el_buf_close(&b);
}

static void decoding_a_50_item_sync_allocates_nothing(void **state)
{
    struct msgs *m = *state;
    count_start();
    unsigned long events = walk(&m->wbxml[0]);
    unsigned long n = count_stop();
    assert_string_equal(el_bench_msg_kinds[0].name, "sync50");
    assert_true(events > 2000); /* 1158 elements: a START and an END each, plus text */
    assert_int_equal(n, 0);
}

static void decoding_every_sample_message_allocates_nothing(void **state)
{
    struct msgs *m = *state;
    for (size_t i = 0; i < m->n; i++) {
        count_start();
        walk(&m->wbxml[i]);
        assert_int_equal(count_stop(), 0);
    }
}

static void skipping_elements_allocates_nothing(void **state)
{
    struct msgs *m = *state;
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    unsigned long skipped = 0;
    count_start();
    assert_int_equal(el_wbxml_decoder_init(&d, m->wbxml[0].data, m->wbxml[0].len, 0, NULL), 0);
    while (el_wbxml_next(&d, &ev, NULL) == 1) {
        if (ev.type == EL_WBXML_EV_START && ev.tag == EL_AS_APPLICATIONDATA) {
            assert_int_equal(el_wbxml_skip(&d, NULL), 0);
            skipped++;
        }
    }
    unsigned long n = count_stop();
    assert_int_equal(skipped, EL_BENCH_SYNC_ITEMS);
    assert_int_equal(n, 0);
}

static void encoding_into_a_grown_buffer_allocates_nothing(void **state)
{
    struct msgs *m = *state;
    struct el_buf out;
    el_buf_init(&out, MSG_MAX_BYTES);
    for (size_t i = 0; i < m->n; i++) {
        el_buf_reset(&out);
        assert_int_equal(el_bench_msg_kinds[i].write(&out, &m->samples, NULL), 0); /* grows */
        el_buf_reset(&out);
        count_start();
        int rc = el_bench_msg_kinds[i].write(&out, &m->samples, NULL);
        unsigned long n = count_stop();
        assert_int_equal(rc, 0);
        assert_int_equal(n, 0);
        assert_int_equal(out.len, m->wbxml[i].len);
        assert_memory_equal(out.data, m->wbxml[i].data, m->wbxml[i].len);
    }
    el_buf_close(&out);
}

static void printing_xml_into_a_grown_buffer_allocates_nothing(void **state)
{
    struct msgs *m = *state;
    struct el_buf xml;
    el_buf_init(&xml, 4 * MSG_MAX_BYTES);
    for (size_t i = 0; i < m->n; i++) {
        el_buf_reset(&xml);
        assert_int_equal(el_wbxml_to_xml(m->wbxml[i].data, m->wbxml[i].len, 0, &xml, NULL), 0);
        el_buf_reset(&xml);
        count_start();
        int rc = el_wbxml_to_xml(m->wbxml[i].data, m->wbxml[i].len, 0, &xml, NULL);
        unsigned long n = count_stop();
        assert_int_equal(rc, 0);
        assert_int_equal(n, 0);
    }
    el_buf_close(&xml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counting_shim_sees_the_codec_grow_a_buffer),
        cmocka_unit_test(decoding_a_50_item_sync_allocates_nothing),
        cmocka_unit_test(decoding_every_sample_message_allocates_nothing),
        cmocka_unit_test(skipping_elements_allocates_nothing),
        cmocka_unit_test(encoding_into_a_grown_buffer_allocates_nothing),
        cmocka_unit_test(printing_xml_into_a_grown_buffer_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
