/* test_wbxml_libwbxml.c - cross-checks easload's WBXML codec against libwbxml2 (the Debian
 * 0.11.8 library, a second, independent implementation):
 *   (a) libwbxml decodes each fixture; its XML, read by el_wbxml_from_xml, gives the fixture's
 *       tree back (both decoders see the same tree);
 *   (b) libwbxml encodes each fixture written in its XML dialect (xmlns="Page:" where the page
 *       changes, its tag spellings); our decoder reads that as the fixture's tree, and so does our
 *       encoder given the same XML;
 *   (c) every token of every page, one-element documents both ways, so each value and name is
 *       compared; where libwbxml spells a tag differently the alias table must hold its spelling.
 * libwbxml's tables are read at run time through its conversion API (nothing is copied from its
 * sources). Its known gaps, with the [MS-ASWBXML] sections that decide for us, are listed in
 * lib_gaps below and in core/wbxml_pages.txt.
 * libwbxml's one-call wbxml_conv_*_withlen() are deprecated (a -Werror build refuses them), so
 * this uses the conversion objects they wrap: same parameters, same code path.
 * EL_FIXTURE_DIR (a compile definition) is the fixture folder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <wbxml/wbxml.h>

#include "wbxml.h"

#define FILE_MAX_BYTES (4u << 20)
#define NAMES_MAX      64
#define NAME_MAX_BYTES 64

#define DOCTYPE                                                                                    \
    "<?xml version=\"1.0\"?>"                                                                      \
    "<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" "                            \
    "\"http://www.microsoft.com/\">"

/* What libwbxml knows, read from the library once per run (group state). */
struct lib_tables {
    char name[EL_WBXML_PAGE_COUNT][64][NAME_MAX_BYTES]; /* "" = unknown to libwbxml */
    char ns[EL_WBXML_PAGE_COUNT][NAME_MAX_BYTES];       /* its namespace of the page, no ':' */
    uint8_t binary[EL_WBXML_PAGE_COUNT][64];            /* text is base64 of OPAQUE data */
};

/* ---- libwbxml calls ------------------------------------------------------------------------ */

/* WBXML -> libwbxml's XML (compact, whitespace kept, ActiveSync forced since public id 1 names no
 * language). *xml is malloc'd by libwbxml, NUL-terminated. Returns WBXML_OK or its error. */
static WBXMLError lib_to_xml(const uint8_t *in, size_t len, char **xml, size_t *xml_len)
{
    WBXMLConvWBXML2XML *conv = NULL;
    WBXMLError rc = wbxml_conv_wbxml2xml_create(&conv);
    if (rc != WBXML_OK)
        return rc;
    wbxml_conv_wbxml2xml_set_language(conv, WBXML_LANG_ACTIVESYNC);
    wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
    wbxml_conv_wbxml2xml_enable_preserve_whitespaces(conv);
    WB_UTINY *out = NULL;
    WB_ULONG out_len = 0;
    rc = wbxml_conv_wbxml2xml_run(conv, (WB_UTINY *)in, (WB_ULONG)len, &out, &out_len);
    wbxml_conv_wbxml2xml_destroy(conv);
    *xml = (char *)out;
    *xml_len = out_len;
    return rc;
}

/* XML -> WBXML 1.3 by libwbxml: no string table, public id 1 (anonymous), whitespace kept.
 * *out is malloc'd by libwbxml. Returns WBXML_OK or its error. */
static WBXMLError lib_to_wbxml(const char *xml, size_t len, uint8_t **out, size_t *out_len)
{
    WBXMLConvXML2WBXML *conv = NULL;
    WBXMLError rc = wbxml_conv_xml2wbxml_create(&conv);
    if (rc != WBXML_OK)
        return rc;
    wbxml_conv_xml2wbxml_set_version(conv, WBXML_VERSION_13);
    wbxml_conv_xml2wbxml_disable_string_table(conv);
    wbxml_conv_xml2wbxml_disable_public_id(conv);
    wbxml_conv_xml2wbxml_enable_preserve_whitespaces(conv);
    WB_UTINY *wb = NULL;
    WB_ULONG wb_len = 0;
    rc = wbxml_conv_xml2wbxml_run(conv, (WB_UTINY *)xml, (WB_ULONG)len, &wb, &wb_len);
    wbxml_conv_xml2wbxml_destroy(conv);
    *out = wb;
    *out_len = wb_len;
    return rc;
}

/* ---- small helpers ------------------------------------------------------------------------- */

static int read_whole(const char *path, struct el_buf *b)
{
    el_buf_init(b, FILE_MAX_BYTES);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    int rc = 0;
    for (;;) {
        if (el_buf_reserve(b, 4096) < 0) {
            rc = -1;
            break;
        }
        size_t n = fread(b->data + b->len, 1, b->cap - b->len, f);
        b->len += n;
        if (n == 0)
            break;
    }
    if (ferror(f))
        rc = -1;
    fclose(f);
    return rc;
}

static void read_fixture(const char *name, struct el_buf *b)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.wbxml", EL_FIXTURE_DIR, name);
    if (read_whole(path, b) < 0)
        fail_msg("cannot read %s", path);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t list_fixtures(char *names[NAMES_MAX])
{
    DIR *dir = opendir(EL_FIXTURE_DIR);
    if (dir == NULL)
        fail_msg("cannot open %s", EL_FIXTURE_DIR);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= 6 || strcmp(de->d_name + len - 6, ".wbxml") != 0)
            continue;
        assert_true(n < NAMES_MAX);
        names[n] = strndup(de->d_name, len - 6);
        assert_non_null(names[n]);
        n++;
    }
    closedir(dir);
    qsort(names, n, sizeof(names[0]), cmp_names);
    return n;
}

static void free_names(char *names[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
}

static void put_s(struct el_buf *b, const char *s)
{
    assert_int_equal(el_buf_append(b, s, strlen(s)), 0);
}

static void put_base64(struct el_buf *b, const uint8_t *p, size_t n)
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {chars[v >> 18], chars[(v >> 12) & 63], i + 1 < n ? chars[(v >> 6) & 63] : '=',
                     i + 2 < n ? chars[v & 63] : '='};
        assert_int_equal(el_buf_append(b, q, 4), 0);
    }
}

/* Escapes text for libwbxml's parser (expat): markup characters and every control character
 * but TAB and LF as references, so CR survives (a raw CR would be normalised away). */
static void put_escaped(struct el_buf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ent[12];
        if (p[i] == '&')
            put_s(b, "&amp;");
        else if (p[i] == '<')
            put_s(b, "&lt;");
        else if (p[i] == '>')
            put_s(b, "&gt;");
        else if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n') {
            snprintf(ent, sizeof(ent), "&#x%X;", p[i]);
            put_s(b, ent);
        } else {
            assert_int_equal(el_buf_putc(b, p[i]), 0);
        }
    }
}

/* Bare tag name and namespace of the root of libwbxml's one-element output. */
static int parse_lib_root(const char *xml, char name[NAME_MAX_BYTES], char ns[NAME_MAX_BYTES])
{
    const char *p = strstr(xml, "<!DOCTYPE");
    p = p ? strchr(p, '>') : NULL;
    p = p ? strchr(p, '<') : NULL;
    if (p == NULL)
        return -1;
    p++;
    size_t n = strcspn(p, " />");
    if (n == 0 || n >= NAME_MAX_BYTES)
        return -1;
    memcpy(name, p, n);
    name[n] = '\0';
    const char *x = strstr(p, "xmlns=\"");
    if (x == NULL)
        return -1;
    x += 7;
    n = strcspn(x, "\"");
    if (n > 0 && x[n - 1] == ':')
        n--;
    if (n >= NAME_MAX_BYTES)
        return -1;
    memcpy(ns, x, n);
    ns[n] = '\0';
    return 0;
}

/* One element document: header, switch if page != 0, then the given tag bytes. */
static size_t one_element(uint8_t out[16], unsigned page, const uint8_t *tag, size_t n)
{
    static const uint8_t hdr[4] = {0x03, 0x01, 0x6A, 0x00};
    size_t len = 4;
    memcpy(out, hdr, 4);
    if (page != 0) {
        out[len++] = 0x00;
        out[len++] = (uint8_t)page;
    }
    memcpy(out + len, tag, n);
    return len + n;
}

static int same_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && memcmp(a, b, an) == 0;
}

/* ---- the tables libwbxml holds, asked of libwbxml ----------------------------------------- */

static int read_lib_tables(void **state)
{
    struct lib_tables *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    for (unsigned page = 0; page < EL_WBXML_PAGE_COUNT; page++) {
        for (unsigned tok = 5; tok < 64; tok++) {
            uint8_t in[16];
            uint8_t tb = (uint8_t)tok;
            size_t n = one_element(in, page, &tb, 1);
            char *xml = NULL;
            size_t xml_len = 0;
            char name[NAME_MAX_BYTES], ns[NAME_MAX_BYTES];
            assert_int_equal(lib_to_xml(in, n, &xml, &xml_len), WBXML_OK);
            assert_int_equal(parse_lib_root(xml, name, ns), 0);
            free(xml);
            if (strcmp(name, "unknown") == 0)
                continue; /* libwbxml's name for a token it lacks */
            strcpy(t->name[page][tok], name);
            if (t->ns[page][0] == '\0')
                strcpy(t->ns[page], ns);
            assert_string_equal(t->ns[page], ns);

            /* binary: libwbxml turns base64 text into OPAQUE for this tag */
            char doc[256];
            int dn =
                snprintf(doc, sizeof(doc), DOCTYPE "<%s xmlns=\"%s:\">QUJD</%s>", name, ns, name);
            uint8_t *wb = NULL;
            size_t wb_len = 0;
            assert_int_equal(lib_to_wbxml(doc, (size_t)dn, &wb, &wb_len), WBXML_OK);
            t->binary[page][tok] = memchr(wb + 4, 0xC3, wb_len - 4) != NULL;
            free(wb);
        }
    }
    *state = t;
    return 0;
}

static int free_lib_tables(void **state)
{
    free(*state);
    return 0;
}

/* Where libwbxml 0.11.8 and the spec part ways on which tokens exist; we keep the spec
 * ([MS-ASWBXML] 2.1.2.1.N, N = page + 1). tok 0 = the whole page. */
static const struct {
    unsigned page, tok;
    int ours; /* 1: we have it, libwbxml lacks it; 0: libwbxml has it, the spec does not */
    const char *why;
} lib_gaps[] = {
    {8, 0x10, 1, "ProposedStartTime, 16.1, 2.1.2.1.9"},
    {8, 0x11, 1, "ProposedEndTime, 16.1, 2.1.2.1.9"},
    {14, 0x3B, 1, "AccountOnlyRemoteWipe, 16.1, 2.1.2.1.15"},
    {25, 0, 1, "page 25 Find, 16.1, 2.1.2.1.26"},
    {3, 0, 0, "page 3 AirNotify is obsolete, no tags, 2.1.2.1.4"},
};

static const char *gap_of(unsigned page, unsigned tok, int ours)
{
    for (size_t i = 0; i < sizeof(lib_gaps) / sizeof(lib_gaps[0]); i++)
        if (lib_gaps[i].page == page && (lib_gaps[i].tok == 0 || lib_gaps[i].tok == tok) &&
            lib_gaps[i].ours == ours)
            return lib_gaps[i].why;
    return NULL;
}

/* The libwbxml spelling of (page, tok) is ours or one of our aliases. */
static int name_known_to_us(unsigned page, unsigned tok, const char *name)
{
    if (strcmp(el_wbxml_tag_name(EL_WBXML_TAG(page, tok)), name) == 0)
        return 1;
    for (const struct el_wbxml_alias *a = el_wbxml_aliases; a->name; a++)
        if (a->page == page && a->token == tok && strcmp(a->name, name) == 0)
            return 1;
    return 0;
}

/* ---- (c) per-token sweep -------------------------------------------------------------------- */

static void every_token_has_the_same_value_and_a_known_name_in_libwbxml(void **state)
{
    const struct lib_tables *t = *state;
    unsigned both = 0, renamed = 0, gaps = 0;
    for (unsigned page = 0; page < EL_WBXML_PAGE_COUNT; page++) {
        for (unsigned tok = 5; tok < 64; tok++) {
            uint16_t tag = EL_WBXML_TAG(page, tok);
            const char *ours = el_wbxml_tag_name(tag);
            const char *lib = t->name[page][tok][0] ? t->name[page][tok] : NULL;
            if (ours == NULL && lib == NULL)
                continue;
            if (lib == NULL || ours == NULL) {
                if (gap_of(page, tok, ours != NULL) == NULL)
                    fail_msg("page %u token 0x%02X: ours %s, libwbxml %s, and no documented gap",
                             page, tok, ours ? ours : "-", lib ? lib : "-");
                gaps++;
                continue;
            }
            both++;
            if (strcmp(ours, lib) != 0)
                renamed++;
            if (!name_known_to_us(page, tok, lib))
                fail_msg("page %u token 0x%02X: libwbxml says <%s>, we say <%s> and have no "
                         "alias for it in core/wbxml_pages.txt",
                         page, tok, lib, ours);
            if (el_wbxml_page_lookup(t->ns[page], strlen(t->ns[page])) != (int)page)
                fail_msg("page %u: libwbxml's namespace %s: is not ours", page, t->ns[page]);
        }
    }
    print_message("%u tokens in both tables (%u spelled differently), %u documented gaps\n", both,
                  renamed, gaps);
    assert_true(both >= 600);
}

/* One element, bare and with text, both directions: libwbxml reads our bytes with the same name,
 * we read libwbxml's XML back to the same bytes, libwbxml encodes its name to the same bytes. */
static void every_shared_token_round_trips_through_libwbxml_both_ways(void **state)
{
    const struct lib_tables *t = *state;
    unsigned checked = 0;
    for (unsigned page = 0; page < EL_WBXML_PAGE_COUNT; page++) {
        for (unsigned tok = 5; tok < 64; tok++) {
            uint16_t tag = EL_WBXML_TAG(page, tok);
            const char *lib = t->name[page][tok];
            if (el_wbxml_tag_name(tag) == NULL || lib[0] == '\0')
                continue;
            const uint8_t bare[] = {(uint8_t)tok};
            const uint8_t text[] = {(uint8_t)(tok | 0x40), 0x03, 'v', 0x00, 0x01};
            for (int form = 0; form < 2; form++) {
                if (form == 1 && t->binary[page][tok])
                    continue; /* libwbxml would read "v" as base64 */
                uint8_t in[16];
                size_t n = form ? one_element(in, page, text, sizeof(text))
                                : one_element(in, page, bare, sizeof(bare));

                /* ours -> libwbxml -> ours */
                char *xml = NULL;
                size_t xml_len = 0;
                assert_int_equal(lib_to_xml(in, n, &xml, &xml_len), WBXML_OK);
                struct el_buf back;
                struct el_err err;
                el_buf_init(&back, 4096);
                int rc = el_wbxml_from_xml(xml, xml_len, &back, &err);
                if (rc != 0 || !same_bytes(back.data, back.len, in, n))
                    fail_msg("page %u token 0x%02X: libwbxml's %s does not read back: %s", page,
                             tok, xml, rc ? err.msg : "other bytes");
                el_buf_close(&back);
                free(xml);

                /* libwbxml's spelling -> libwbxml -> the same bytes */
                char doc[256];
                int dn = form ? snprintf(doc, sizeof(doc), DOCTYPE "<%s xmlns=\"%s:\">v</%s>", lib,
                                         t->ns[page], lib)
                              : snprintf(doc, sizeof(doc), DOCTYPE "<%s xmlns=\"%s:\"/>", lib,
                                         t->ns[page]);
                uint8_t *wb = NULL;
                size_t wb_len = 0;
                assert_int_equal(lib_to_wbxml(doc, (size_t)dn, &wb, &wb_len), WBXML_OK);
                if (!same_bytes(wb, wb_len, in, n))
                    fail_msg("page %u token 0x%02X: libwbxml encodes <%s> elsewhere", page, tok,
                             lib);
                free(wb);
                checked++;
            }
        }
    }
    assert_true(checked > 1100);
}

/* Our spelling given to libwbxml: the same bytes, an error (a name it does not know) or a tag of
 * another page (libwbxml then falls back to the first page having that name, e.g. our Email
 * Status becomes AirSync Status): never another token of the same page. */
static void our_spellings_never_mean_another_token_of_the_page_to_libwbxml(void **state)
{
    const struct lib_tables *t = *state;
    unsigned differ = 0;
    for (unsigned page = 0; page < EL_WBXML_PAGE_COUNT; page++) {
        for (unsigned tok = 5; tok < 64; tok++) {
            uint16_t tag = EL_WBXML_TAG(page, tok);
            const char *ours = el_wbxml_tag_name(tag);
            if (ours == NULL || t->ns[page][0] == '\0')
                continue;
            char doc[256];
            int dn = snprintf(doc, sizeof(doc), DOCTYPE "<%s xmlns=\"%s:\"/>", ours, t->ns[page]);
            uint8_t *wb = NULL;
            size_t wb_len = 0;
            WBXMLError rc = lib_to_wbxml(doc, (size_t)dn, &wb, &wb_len);
            uint8_t in[16];
            const uint8_t bare[] = {(uint8_t)tok};
            size_t n = one_element(in, page, bare, 1);
            if (rc == WBXML_OK && !same_bytes(wb, wb_len, in, n)) {
                differ++;
                unsigned lib_page = wb_len >= 7 && wb[4] == 0x00 ? wb[5] : 0;
                if (lib_page == page)
                    fail_msg("page %u: libwbxml reads our <%s> as token 0x%02X", page, ours,
                             wb[wb_len - 1]);
            }
            free(wb);
        }
    }
    print_message("%u of our spellings land on another page in libwbxml\n", differ);
}

/* Every alias line of core/wbxml_pages.txt is libwbxml's name of an assigned token. */
static void every_alias_is_libwbxml_spelling_of_an_assigned_token(void **state)
{
    const struct lib_tables *t = *state;
    int n = 0;
    for (const struct el_wbxml_alias *a = el_wbxml_aliases; a->name; a++, n++) {
        assert_true(a->page < EL_WBXML_PAGE_COUNT && a->token >= 5 && a->token < 64);
        if (el_wbxml_tag_name(EL_WBXML_TAG(a->page, a->token)) == NULL)
            fail_msg("alias %s: page %u token 0x%02X is unassigned", a->name, a->page, a->token);
        if (strcmp(t->name[a->page][a->token], a->name) != 0)
            fail_msg("alias %s (page %u token 0x%02X): libwbxml says %s", a->name, a->page,
                     a->token, t->name[a->page][a->token]);
        /* and `wbxml encode` accepts it */
        int tag = el_wbxml_tag_lookup(a->page, a->name, strlen(a->name));
        assert_int_equal(tag, EL_WBXML_TAG(a->page, a->token));
    }
    assert_true(n > 0);
}

/* libwbxml writes page 16 as "Gal:" and matches namespaces case-sensitively, so the spec's GAL
 * (2.1.2.1.17) sends its encoder to the first page with the name (Email DisplayName, a legacy
 * token). We accept both spellings. This is why (b) writes libwbxml's own namespace names. */
static void gal_namespace_is_case_insensitive_for_us(void **state)
{
    const struct lib_tables *t = *state;
    assert_string_equal(t->ns[16], "Gal");
    static const char *const docs[] = {
        "<DisplayName xmlns=\"GAL:\"/>",
        "<DisplayName xmlns=\"Gal:\"/>",
        "<GAL:DisplayName/>",
    };
    const uint8_t want[] = {0x03, 0x01, 0x6A, 0x00, 0x00, 0x10, 0x05};
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        struct el_buf b;
        struct el_err err;
        el_buf_init(&b, 256);
        assert_int_equal(el_wbxml_from_xml(docs[i], strlen(docs[i]), &b, &err), 0);
        assert_true(same_bytes(b.data, b.len, want, sizeof(want)));
        el_buf_close(&b);
    }
    char doc[256];
    int dn = snprintf(doc, sizeof(doc), DOCTYPE "%s", docs[0]);
    uint8_t *wb = NULL;
    size_t wb_len = 0;
    if (lib_to_wbxml(doc, (size_t)dn, &wb, &wb_len) == WBXML_OK &&
        !same_bytes(wb, wb_len, want, sizeof(want)))
        print_message("libwbxml encodes <DisplayName xmlns=\"GAL:\"/> as page %u token 0x%02X\n",
                      wb[5], wb[wb_len - 1]);
    free(wb);
}

/* ---- (a) libwbxml decodes the fixtures ------------------------------------------------------- */

/* Compares two WBXML documents as trees. With lib_text, an OPAQUE in a may stand as text in b
 * holding its base64 where libwbxml marks the tag binary (that is how libwbxml prints them).
 * Returns the number of such OPAQUE, or fails. */
static int same_tree(const char *what, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                     const struct lib_tables *lib_text)
{
    struct el_wbxml_decoder da, db;
    struct el_wbxml_ev ea, eb;
    struct el_err err;
    int opaque = 0;
    assert_int_equal(el_wbxml_decoder_init(&da, a, an, 0, &err), 0);
    assert_int_equal(el_wbxml_decoder_init(&db, b, bn, 0, &err), 0);
    for (;;) {
        int ra = el_wbxml_next(&da, &ea, &err);
        int rb = el_wbxml_next(&db, &eb, &err);
        assert_true(ra >= 0 && rb >= 0);
        if (ra == 0 || rb == 0) {
            if (ra != rb)
                fail_msg("%s: one tree ends early", what);
            return opaque;
        }
        if (ea.type == EL_WBXML_EV_OPAQUE && eb.type == EL_WBXML_EV_STR && lib_text &&
            lib_text->binary[EL_WBXML_PAGE_OF(ea.tag)][EL_WBXML_TOKEN_OF(ea.tag)] &&
            ea.tag == eb.tag) {
            struct el_buf b64;
            el_buf_init(&b64, FILE_MAX_BYTES);
            put_base64(&b64, ea.data, ea.len);
            if (!same_bytes(b64.data, b64.len, eb.data, eb.len))
                fail_msg("%s: opaque at byte %zu is not the base64 text at byte %zu", what,
                         ea.offset, eb.offset);
            el_buf_close(&b64);
            opaque++;
            continue;
        }
        if (ea.type != eb.type || ea.tag != eb.tag || ea.empty != eb.empty ||
            !same_bytes(ea.data ? ea.data : (const uint8_t *)"", ea.len,
                        eb.data ? eb.data : (const uint8_t *)"", eb.len))
            fail_msg("%s: trees differ at byte %zu / %zu (%s:%s)", what, ea.offset, eb.offset,
                     el_wbxml_page_name(EL_WBXML_PAGE_OF(ea.tag)), el_wbxml_tag_name(ea.tag));
    }
}

static void every_fixture_reads_the_same_in_libwbxml(void **state)
{
    const struct lib_tables *t = *state;
    char *names[NAMES_MAX];
    size_t n = list_fixtures(names);
    assert_true(n >= 18);
    for (size_t i = 0; i < n; i++) {
        struct el_buf fx, ours;
        struct el_err err;
        read_fixture(names[i], &fx);
        char *xml = NULL;
        size_t xml_len = 0;
        WBXMLError lrc = lib_to_xml(fx.data, fx.len, &xml, &xml_len);
        if (lrc != WBXML_OK)
            fail_msg("%s: libwbxml cannot decode it: %s", names[i],
                     (const char *)wbxml_errors_string(lrc));
        el_buf_init(&ours, FILE_MAX_BYTES);
        if (el_wbxml_from_xml(xml, xml_len, &ours, &err) != 0)
            fail_msg("%s: libwbxml's XML does not parse: %s", names[i], err.msg);
        int opaque = same_tree(names[i], fx.data, fx.len, ours.data, ours.len, t);
        if (opaque == 0 && !same_bytes(fx.data, fx.len, ours.data, ours.len))
            fail_msg("%s: same tree, other bytes", names[i]);
        free(xml);
        el_buf_close(&ours);
        el_buf_close(&fx);
    }
    free_names(names, n);
}

/* ---- (b) libwbxml encodes the fixtures ------------------------------------------------------ */

/* Writes the fixture as libwbxml's XML: its tag and namespace names, xmlns="Page:" on the root
 * and wherever the page differs from the parent's, compact, text escaped, OPAQUE as base64 text.
 * mark_opaque adds our opaque="base64" to those elements (the variant our encoder reads). */
static void write_lib_xml(const struct lib_tables *t, const uint8_t *in, size_t len,
                          int mark_opaque, struct el_buf *out)
{
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    struct el_err err;
    unsigned pages[EL_WBXML_DEPTH_MAX + 1];
    unsigned depth = 0;
    int open = 0; /* a start tag's '>' is pending */
    assert_int_equal(el_wbxml_decoder_init(&d, in, len, 0, &err), 0);
    put_s(out, DOCTYPE);
    for (;;) {
        int rc = el_wbxml_next(&d, &ev, &err);
        assert_true(rc >= 0);
        if (rc == 0)
            break;
        unsigned page = EL_WBXML_PAGE_OF(ev.tag), tok = EL_WBXML_TOKEN_OF(ev.tag);
        const char *name = t->name[page][tok];
        if (ev.type != EL_WBXML_EV_START && open) {
            if (ev.type == EL_WBXML_EV_OPAQUE && mark_opaque)
                put_s(out, " opaque=\"base64\"");
            put_s(out, ">");
            open = 0;
        }
        switch (ev.type) {
        case EL_WBXML_EV_START:
            if (open)
                put_s(out, ">");
            if (name[0] == '\0')
                fail_msg("libwbxml has no name for page %u token 0x%02X", page, tok);
            put_s(out, "<");
            put_s(out, name);
            if (depth == 0 || pages[depth - 1] != page) {
                put_s(out, " xmlns=\"");
                put_s(out, t->ns[page]);
                put_s(out, ":\"");
            }
            pages[depth++] = page;
            open = 1;
            if (ev.empty) {
                el_wbxml_next(&d, &ev, &err); /* its END */
                put_s(out, "/>");
                depth--;
                open = 0;
            }
            break;
        case EL_WBXML_EV_END:
            put_s(out, "</");
            put_s(out, name);
            put_s(out, ">");
            depth--;
            break;
        case EL_WBXML_EV_STR:
            put_escaped(out, ev.data, ev.len);
            break;
        case EL_WBXML_EV_OPAQUE:
            if (!t->binary[page][tok])
                fail_msg("OPAQUE under page %u token 0x%02X, not binary for libwbxml", page, tok);
            put_base64(out, ev.data, ev.len);
            break;
        }
    }
}

static void what_libwbxml_encodes_from_each_fixture_we_decode_as_the_fixture(void **state)
{
    const struct lib_tables *t = *state;
    char *names[NAMES_MAX];
    size_t n = list_fixtures(names);
    for (size_t i = 0; i < n; i++) {
        struct el_buf fx, lib_xml, our_xml, ours, from_lib, from_ours;
        struct el_err err;
        read_fixture(names[i], &fx);
        el_buf_init(&lib_xml, FILE_MAX_BYTES);
        el_buf_init(&our_xml, FILE_MAX_BYTES);
        write_lib_xml(t, fx.data, fx.len, 0, &lib_xml);
        write_lib_xml(t, fx.data, fx.len, 1, &our_xml);

        uint8_t *wb = NULL;
        size_t wb_len = 0;
        WBXMLError lrc = lib_to_wbxml((const char *)lib_xml.data, lib_xml.len, &wb, &wb_len);
        if (lrc != WBXML_OK)
            fail_msg("%s: libwbxml cannot encode %.*s: %s", names[i], (int)lib_xml.len,
                     (const char *)lib_xml.data, (const char *)wbxml_errors_string(lrc));

        /* our encoder, the same XML (with opaque="base64" where libwbxml reads base64) */
        el_buf_init(&ours, FILE_MAX_BYTES);
        if (el_wbxml_from_xml((const char *)our_xml.data, our_xml.len, &ours, &err) != 0)
            fail_msg("%s: our encoder refuses libwbxml's dialect: %s", names[i], err.msg);

        /* both decoded by ours to the XML form: the same tree */
        el_buf_init(&from_lib, FILE_MAX_BYTES);
        el_buf_init(&from_ours, FILE_MAX_BYTES);
        if (el_wbxml_to_xml(wb, wb_len, 0, &from_lib, &err) != 0)
            fail_msg("%s: we cannot decode what libwbxml encoded: %s", names[i], err.msg);
        assert_int_equal(el_wbxml_to_xml(ours.data, ours.len, 0, &from_ours, &err), 0);
        if (!same_bytes(from_lib.data, from_lib.len, from_ours.data, from_ours.len))
            fail_msg("%s: libwbxml's encoding decodes to another tree", names[i]);
        /* and in fact the same bytes as the fixture, from both encoders */
        if (!same_bytes(ours.data, ours.len, fx.data, fx.len))
            fail_msg("%s: our encoding of libwbxml's dialect is not the fixture", names[i]);
        if (!same_bytes(wb, wb_len, fx.data, fx.len))
            fail_msg("%s: libwbxml's bytes are not the fixture's", names[i]);

        free(wb);
        el_buf_close(&from_ours);
        el_buf_close(&from_lib);
        el_buf_close(&ours);
        el_buf_close(&our_xml);
        el_buf_close(&lib_xml);
        el_buf_close(&fx);
    }
    free_names(names, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_token_has_the_same_value_and_a_known_name_in_libwbxml),
        cmocka_unit_test(every_shared_token_round_trips_through_libwbxml_both_ways),
        cmocka_unit_test(our_spellings_never_mean_another_token_of_the_page_to_libwbxml),
        cmocka_unit_test(every_alias_is_libwbxml_spelling_of_an_assigned_token),
        cmocka_unit_test(gal_namespace_is_case_insensitive_for_us),
        cmocka_unit_test(every_fixture_reads_the_same_in_libwbxml),
        cmocka_unit_test(what_libwbxml_encodes_from_each_fixture_we_decode_as_the_fixture),
    };
    return cmocka_run_group_tests(tests, read_lib_tables, free_lib_tables);
}
