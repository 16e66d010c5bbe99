/* bench_wbxml.c - WBXML codec throughput, ours against libwbxml2 in the same run.
 * Messages (wbxml_samples.c): a 50-item email Sync response, a 20-folder FolderSync response,
 * a Ping request and a Ping response, each written once with our encoder; "mix" is one of each.
 * Figures, each in MB/s (of WBXML bytes, 10^6 bytes) and msg/s:
 *   wbxml_decode       ours: el_wbxml_next over every event (what the engine does)
 *                      theirs: wbxml_parser_parse with callbacks that count events - libwbxml's
 *                      own event parser, the closest to ours (no tree, no text output)
 *   wbxml_decode_tree  ours: the same walk; theirs: wbxml_tree_from_wbxml + wbxml_tree_destroy,
 *                      how libwbxml users get at a message's content
 *   wbxml_to_xml       ours: el_wbxml_to_xml; theirs: wbxml_conv_wbxml2xml_withlen (indented)
 *   wbxml_encode       ours: the encoder calls that build the message from C data;
 *                      theirs: wbxml_conv_xml2wbxml_withlen from libwbxml's XML of it (its only
 *                      public way to produce WBXML)
 *   wbxml_from_xml     ours: el_wbxml_from_xml from our XML; theirs: the same conversion
 * The parser and tree functions are exported by libwbxml2.so but their headers are not
 * installed by Debian's libwbxml2-dev, so their prototypes are declared below.
 * Each side of a figure runs for BENCH_SECONDS/2 (default 1 s) after a warm-up; BENCH_ONLY=NAME
 * runs only the figures of that bench (for profiling one of them).
 * Owns: the messages and buffers of one run. Uses: core/wbxml.h, wbxml_samples.h, libwbxml2. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wbxml/wbxml.h>

#include "wbxml.h"
#include "wbxml_samples.h"

/* ---- libwbxml2 pieces without an installed header (src/wbxml_parser.h, wbxml_tree.h) ----- */

typedef struct WBXMLParser_s WBXMLParser;
typedef struct WBXMLTree_s WBXMLTree;

/* Mirrors WBXMLContentHandler (src/wbxml_handlers.h); the pointer arguments are opaque here. */
struct lw_content_handler {
    void (*start_document)(void *ctx, WBXMLCharsetMIBEnum charset, const void *lang);
    void (*end_document)(void *ctx);
    void (*start_element)(void *ctx, void *tag, void **atts, WB_BOOL empty);
    void (*end_element)(void *ctx, void *tag, WB_BOOL empty);
    void (*characters)(void *ctx, WB_UTINY *ch, WB_ULONG start, WB_ULONG length);
    void (*pi)(void *ctx, const WB_UTINY *target, WB_UTINY *data);
};

WBXMLParser *wbxml_parser_create(void);
void wbxml_parser_destroy(WBXMLParser *parser);
WBXMLError wbxml_parser_parse(WBXMLParser *parser, WB_UTINY *wbxml, WB_ULONG wbxml_len);
void wbxml_parser_set_user_data(WBXMLParser *parser, void *user_data);
void wbxml_parser_set_content_handler(WBXMLParser *parser, struct lw_content_handler *handler);
WB_BOOL wbxml_parser_set_language(WBXMLParser *parser, WBXMLLanguage lang);
WBXMLError wbxml_tree_from_wbxml(WB_UTINY *wbxml, WB_ULONG wbxml_len, WBXMLLanguage lang,
                                 WBXMLCharsetMIBEnum charset, WBXMLTree **tree);
void wbxml_tree_destroy(WBXMLTree *tree);
void wbxml_free(void *memblock);

/* wbxml_conv_*_withlen are marked deprecated in favour of the converter objects they wrap. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* ---- state ------------------------------------------------------------------------------- */

#define MSG_KINDS     4
#define BUF_MAX_BYTES (64u << 20)

struct msg {
    const char *name;
    el_bench_write_fn *write;
    struct el_buf wbxml;     /* ours, the decode input */
    struct el_buf our_xml;   /* el_wbxml_to_xml of it: input of our from_xml */
    struct el_buf their_xml; /* libwbxml's compact XML of it, CRs escaped: input of theirs */
};

struct bench {
    struct el_bench_samples samples;
    struct msg msgs[MSG_KINDS];
    size_t nmsgs;
    struct el_buf scratch; /* output of the timed operations, reused */
    WBXMLParser *parser;   /* owned: reused by every SAX parse */
    struct lw_content_handler handler;
    uint64_t sink;   /* results are folded in here so no work is optimised away */
    uint64_t starts; /* elements libwbxml reported, for the check */
};

typedef int op_fn(struct bench *b, struct msg *m);

/* ---- ours -------------------------------------------------------------------------------- */

static int ours_walk(struct bench *b, struct msg *m)
{
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    int rc = el_wbxml_decoder_init(&d, m->wbxml.data, m->wbxml.len, 0, NULL);
    uint64_t events = 0, bytes = 0;
    while (rc == 0) {
        int n = el_wbxml_next(&d, &ev, NULL);
        if (n <= 0) {
            rc = n;
            break;
        }
        events++;
        bytes += ev.len + ev.tag;
    }
    b->sink += events + bytes;
    return rc;
}

static int ours_to_xml(struct bench *b, struct msg *m)
{
    el_buf_reset(&b->scratch);
    int rc = el_wbxml_to_xml(m->wbxml.data, m->wbxml.len, 0, &b->scratch, NULL);
    b->sink += b->scratch.len;
    return rc;
}

static int ours_encode(struct bench *b, struct msg *m)
{
    el_buf_reset(&b->scratch);
    int rc = m->write(&b->scratch, &b->samples, NULL);
    b->sink += b->scratch.len;
    return rc;
}

static int ours_from_xml(struct bench *b, struct msg *m)
{
    el_buf_reset(&b->scratch);
    int rc = el_wbxml_from_xml((const char *)m->our_xml.data, m->our_xml.len, &b->scratch, NULL);
    b->sink += b->scratch.len;
    return rc;
}

/* ---- theirs ------------------------------------------------------------------------------ */

static void on_start_element(void *ctx, void *tag, void **atts, WB_BOOL empty)
{
    (void)tag;
    (void)atts;
    struct bench *b = ctx;
    b->sink += 1 + empty;
    b->starts++;
}

static void on_end_element(void *ctx, void *tag, WB_BOOL empty)
{
    (void)tag;
    ((struct bench *)ctx)->sink += 1 + empty;
}

static void on_characters(void *ctx, WB_UTINY *ch, WB_ULONG start, WB_ULONG length)
{
    (void)ch;
    ((struct bench *)ctx)->sink += 1 + start + length;
}

static int theirs_sax(struct bench *b, struct msg *m)
{
    WBXMLError rc = wbxml_parser_parse(b->parser, m->wbxml.data, (WB_ULONG)m->wbxml.len);
    return rc == WBXML_OK ? 0 : -1;
}

static int theirs_tree(struct bench *b, struct msg *m)
{
    WBXMLTree *tree = NULL;
    WBXMLError rc = wbxml_tree_from_wbxml(m->wbxml.data, (WB_ULONG)m->wbxml.len,
                                          WBXML_LANG_ACTIVESYNC, WBXML_CHARSET_UNKNOWN, &tree);
    b->sink += (uintptr_t)tree & 0xFF;
    wbxml_tree_destroy(tree);
    return rc == WBXML_OK ? 0 : -1;
}

static int theirs_to_xml(struct bench *b, struct msg *m)
{
    WBXMLGenXMLParams params = {WBXML_GEN_XML_INDENT, WBXML_LANG_ACTIVESYNC, WBXML_CHARSET_UNKNOWN,
                                2, FALSE};
    WB_UTINY *xml = NULL;
    WB_ULONG xml_len = 0;
    WBXMLError rc = wbxml_conv_wbxml2xml_withlen(m->wbxml.data, (WB_ULONG)m->wbxml.len, &xml,
                                                 &xml_len, &params);
    b->sink += xml_len;
    wbxml_free(xml);
    return rc == WBXML_OK ? 0 : -1;
}

static int theirs_from_xml(struct bench *b, struct msg *m)
{
    WBXMLGenWBXMLParams params = {WBXML_VERSION_13, TRUE, FALSE, TRUE};
    WB_UTINY *wb = NULL;
    WB_ULONG wb_len = 0;
    WBXMLError rc = wbxml_conv_xml2wbxml_withlen(m->their_xml.data, (WB_ULONG)m->their_xml.len, &wb,
                                                 &wb_len, &params);
    b->sink += wb_len;
    wbxml_free(wb);
    return rc == WBXML_OK ? 0 : -1;
}

/* ---- timing ------------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs fn over msgs[first..first+count) repeatedly for about seconds; returns rounds/s, or -1
 * if fn failed. A round is one call per message. */
static double rounds_per_s(struct bench *b, op_fn *fn, size_t first, size_t count, double seconds)
{
    for (int warm = 0; warm < 3; warm++)
        for (size_t i = first; i < first + count; i++)
            if (fn(b, &b->msgs[i]) != 0)
                return -1;
    uint64_t rounds = 0, batch = 1;
    double start = now_s(), elapsed = 0;
    while (elapsed < seconds) {
        for (uint64_t r = 0; r < batch; r++)
            for (size_t i = first; i < first + count; i++)
                fn(b, &b->msgs[i]);
        rounds += batch;
        double t = now_s() - start;
        if (t - elapsed < 0.01 && batch < (1u << 30))
            batch *= 2; /* aim at batches of ~10 ms so the clock is read rarely */
        elapsed = t;
    }
    return (double)rounds / elapsed;
}

struct figure {
    const char *bench;
    op_fn *ours;
    op_fn *theirs;
};

static const struct figure figures[] = {
    {"wbxml_decode", ours_walk, theirs_sax},
    {"wbxml_decode_tree", ours_walk, theirs_tree},
    {"wbxml_to_xml", ours_to_xml, theirs_to_xml},
    {"wbxml_encode", ours_encode, theirs_from_xml},
    {"wbxml_from_xml", ours_from_xml, theirs_from_xml},
};

static void print_pair(const char *bench, const char *set, const char *unit, double ours,
                       double theirs)
{
    if (theirs > 0)
        printf("bench=%s msg=%s unit=%s ours=%.1f peer=libwbxml2 theirs=%.1f ratio=%.2f\n", bench,
               set, unit, ours, theirs, ours / theirs);
    else
        printf("bench=%s msg=%s unit=%s ours=%.1f peer=libwbxml2 theirs=fail ratio=-\n", bench, set,
               unit, ours);
    fflush(stdout);
}

static void run_figure(struct bench *b, const struct figure *f, size_t first, size_t count,
                       const char *set, double seconds)
{
    size_t bytes = 0;
    for (size_t i = first; i < first + count; i++)
        bytes += b->msgs[i].wbxml.len;
    double ours = rounds_per_s(b, f->ours, first, count, seconds / 2);
    double theirs = rounds_per_s(b, f->theirs, first, count, seconds / 2);
    if (ours < 0) {
        fprintf(stderr, "bench_wbxml: %s failed on %s\n", f->bench, set);
        exit(1);
    }
    print_pair(f->bench, set, "MB/s", ours * (double)bytes / 1e6,
               theirs < 0 ? -1 : theirs * (double)bytes / 1e6);
    print_pair(f->bench, set, "msg/s", ours * (double)count,
               theirs < 0 ? -1 : theirs * (double)count);
}

/* ---- set-up and checks ------------------------------------------------------------------- */

/* libwbxml's own XML for a message. It writes CR raw, and expat turns CR LF into LF when
 * reading it back, so CRs are escaped (&#13;) for its encoder to produce the same bytes. */
static int their_xml_of(struct msg *m)
{
    WBXMLGenXMLParams params = {WBXML_GEN_XML_COMPACT, WBXML_LANG_ACTIVESYNC, WBXML_CHARSET_UNKNOWN,
                                0, TRUE};
    WB_UTINY *xml = NULL;
    WB_ULONG len = 0;
    el_buf_init(&m->their_xml, BUF_MAX_BYTES);
    if (wbxml_conv_wbxml2xml_withlen(m->wbxml.data, (WB_ULONG)m->wbxml.len, &xml, &len, &params) !=
        WBXML_OK)
        return -1;
    int rc = 0;
    for (WB_ULONG i = 0; i < len && rc == 0; i++)
        rc = xml[i] == '\r' ? el_buf_append(&m->their_xml, "&#13;", 5)
                            : el_buf_putc(&m->their_xml, xml[i]);
    wbxml_free(xml);
    return rc;
}

static int setup(struct bench *b)
{
    struct el_err err;
    if (el_bench_samples_init(&b->samples) < 0)
        return -1;
    el_buf_init(&b->scratch, BUF_MAX_BYTES);
    for (const struct el_bench_msg_kind *k = el_bench_msg_kinds; k->name; k++) {
        if (b->nmsgs == MSG_KINDS) {
            fprintf(stderr, "bench_wbxml: more message kinds than MSG_KINDS\n");
            return -1;
        }
        struct msg *m = &b->msgs[b->nmsgs++];
        m->name = k->name;
        m->write = k->write;
        el_buf_init(&m->wbxml, BUF_MAX_BYTES);
        el_buf_init(&m->our_xml, BUF_MAX_BYTES);
        if (k->write(&m->wbxml, &b->samples, &err) < 0 ||
            el_wbxml_to_xml(m->wbxml.data, m->wbxml.len, 0, &m->our_xml, &err) < 0) {
            fprintf(stderr, "bench_wbxml: building %s: %s\n", k->name, err.msg);
            return -1;
        }
        if (their_xml_of(m) < 0) {
            fprintf(stderr, "bench_wbxml: libwbxml2 cannot convert %s to XML\n", k->name);
            return -1;
        }
    }
    b->parser = wbxml_parser_create();
    if (b->parser == NULL)
        return -1;
    b->handler.start_element = on_start_element;
    b->handler.end_element = on_end_element;
    b->handler.characters = on_characters;
    wbxml_parser_set_content_handler(b->parser, &b->handler);
    wbxml_parser_set_user_data(b->parser, b);
    wbxml_parser_set_language(b->parser, WBXML_LANG_ACTIVESYNC);
    return 0;
}

/* Prints what each side produces, so a reader can see both sides do the same job: libwbxml's
 * WBXML from its XML must be our bytes, and both parsers must see the same elements. */
static void check(struct bench *b, struct msg *m)
{
    WBXMLGenWBXMLParams params = {WBXML_VERSION_13, TRUE, FALSE, TRUE};
    WB_UTINY *wb = NULL;
    WB_ULONG wb_len = 0;
    int same = 0;
    if (wbxml_conv_xml2wbxml_withlen(m->their_xml.data, (WB_ULONG)m->their_xml.len, &wb, &wb_len,
                                     &params) == WBXML_OK)
        same = wb_len == m->wbxml.len && memcmp(wb, m->wbxml.data, wb_len) == 0;
    wbxml_free(wb);

    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    unsigned elements = 0;
    el_wbxml_decoder_init(&d, m->wbxml.data, m->wbxml.len, 0, NULL);
    while (el_wbxml_next(&d, &ev, NULL) == 1)
        elements += ev.type == EL_WBXML_EV_START;
    b->starts = 0;
    int sax_rc = theirs_sax(b, m);
    printf("# msg=%s wbxml_bytes=%zu elements=%u libwbxml2_elements=%llu%s our_xml_bytes=%zu "
           "their_xml_bytes=%zu libwbxml2_reencodes_identically=%s\n",
           m->name, m->wbxml.len, elements, (unsigned long long)b->starts,
           sax_rc == 0 ? "" : "(parse failed)", m->our_xml.len, m->their_xml.len,
           same ? "yes" : "no");
}

int main(void)
{
    double seconds = 2;
    const char *env = getenv("BENCH_SECONDS");
    if (env && atof(env) > 0)
        seconds = atof(env);
    const char *only = getenv("BENCH_ONLY");
    static struct bench b;
    if (setup(&b) < 0)
        return 1;
    printf("# bench_wbxml: ours = easload core/wbxml, peer = libwbxml2 0.11 (Debian); %.1f s per "
           "figure, half each side; MB = 10^6 bytes of WBXML\n",
           seconds);
    for (size_t i = 0; i < b.nmsgs; i++)
        check(&b, &b.msgs[i]);
    for (size_t f = 0; f < sizeof(figures) / sizeof(figures[0]); f++) {
        if (only && strcmp(only, figures[f].bench) != 0)
            continue;
        run_figure(&b, &figures[f], 0, b.nmsgs, "mix", seconds);
        for (size_t i = 0; i < b.nmsgs; i++)
            run_figure(&b, &figures[f], i, 1, b.msgs[i].name, seconds);
    }
    printf("# sink=%llu\n", (unsigned long long)b.sink);

    wbxml_parser_destroy(b.parser);
    for (size_t i = 0; i < b.nmsgs; i++) {
        el_buf_close(&b.msgs[i].wbxml);
        el_buf_close(&b.msgs[i].our_xml);
        el_buf_close(&b.msgs[i].their_xml);
    }
    el_buf_close(&b.scratch);
    el_bench_samples_close(&b.samples);
    return 0;
}
