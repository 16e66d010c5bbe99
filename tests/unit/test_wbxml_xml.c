/* test_wbxml_xml.c - the readable XML form (wbxml_xml_print.c, wbxml_xml_parse.c) at its edges:
 * each WBXML construct prints as the documented form and re-encodes to the same bytes; the
 * parser's extras (entities, namespaces, libwbxml's DOCTYPE and spellings); and every input error
 * names its line and column. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "wbxml.h"

#define HDR      0x03, 0x01, 0x6A, 0x00
#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

/* Decodes in with flags, expects exactly want_xml, encodes that back and expects in again. */
static void prints_as(const uint8_t *in, size_t n, unsigned flags, const char *want_xml)
{
    struct el_buf xml, back;
    struct el_err err;
    el_buf_init(&xml, 1 << 16);
    el_buf_init(&back, 1 << 16);
    int rc = el_wbxml_to_xml(in, n, flags, &xml, &err);
    if (rc != 0)
        fail_msg("decode: %s", err.msg);
    if (xml.len != strlen(want_xml) || memcmp(xml.data, want_xml, xml.len) != 0)
        fail_msg("printed\n%.*s\nwanted\n%s", (int)xml.len, (const char *)xml.data, want_xml);
    rc = el_wbxml_from_xml((const char *)xml.data, xml.len, &back, &err);
    if (rc != 0)
        fail_msg("re-encode: %s", err.msg);
    assert_int_equal(back.len, n);
    assert_memory_equal(back.data, in, n);
    el_buf_close(&back);
    el_buf_close(&xml);
}

/* Encodes xml and expects exactly want. */
static void encodes_to(const char *xml, const uint8_t *want, size_t n)
{
    struct el_buf b;
    struct el_err err;
    el_buf_init(&b, 1 << 16);
    int rc = el_wbxml_from_xml(xml, strlen(xml), &b, &err);
    if (rc != 0)
        fail_msg("encode of %s: %s", xml, err.msg);
    if (b.len != n || memcmp(b.data, want, n) != 0) {
        char hex[512] = "";
        for (size_t i = 0; i < b.len && i < 150; i++)
            snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex), " %02X", b.data[i]);
        fail_msg("encode of %s gave%s", xml, hex);
    }
    el_buf_close(&b);
}

/* Expects xml to be refused with code, at line:col, with a message containing needle. */
static void refused(const char *xml, int code, unsigned line, unsigned col, const char *needle)
{
    struct el_buf b;
    struct el_err err;
    char where[48];
    el_buf_init(&b, 1 << 16);
    memset(&err, 0, sizeof(err));
    int rc = el_wbxml_from_xml(xml, strlen(xml), &b, &err);
    snprintf(where, sizeof(where), "line %u, column %u: ", line, col);
    if (rc != code || strstr(err.msg, where) == NULL || strstr(err.msg, needle) == NULL)
        fail_msg("%s\n  gave rc %d: %s\n  wanted rc %d: %s...%s", xml, rc, err.msg, code, where,
                 needle);
    assert_int_equal(b.len, 0); /* nothing half-written */
    el_buf_close(&b);
}

/* ---- how each construct prints ------------------------------------------------------------- */

static void empty_str_i_prints_as_empty_cdata(void **state)
{
    (void)state;
    const uint8_t in[] = {HDR, 0x45, 0x4B, 0x03, 0x00, 0x01, 0x01};
    prints_as(in, sizeof(in), 0,
              XML_DECL "\n<AirSync:Sync>\n  <AirSync:SyncKey><![CDATA[]]></AirSync:SyncKey>\n"
                       "</AirSync:Sync>\n");
}

static void content_bit_with_immediate_end_prints_as_start_and_end_tag(void **state)
{
    (void)state;
    const uint8_t in[] = {HDR, 0x45, 0x54, 0x01, 0x01}; /* MoreAvailable as 54 01 */
    prints_as(in, sizeof(in), 0,
              XML_DECL "\n<AirSync:Sync>\n  <AirSync:MoreAvailable></AirSync:MoreAvailable>\n"
                       "</AirSync:Sync>\n");
}

static void bare_token_prints_as_self_closing_tag(void **state)
{
    (void)state;
    const uint8_t in[] = {HDR, 0x45, 0x13, 0x14, 0x01}; /* GetChanges, MoreAvailable */
    prints_as(in, sizeof(in), 0,
              XML_DECL "\n<AirSync:Sync>\n  <AirSync:GetChanges/>\n  <AirSync:MoreAvailable/>\n"
                       "</AirSync:Sync>\n");
    const uint8_t root[] = {HDR, 0x00, 0x07, 0x16}; /* a bare root: <FolderSync/> */
    prints_as(root, sizeof(root), 0, XML_DECL "\n<FolderHierarchy:FolderSync/>\n");
}

static void whitespace_only_text_prints_as_cdata(void **state)
{
    (void)state;
    const uint8_t in[] = {HDR, 0x45, 0x4B, 0x03, ' ', '\t', '\n', ' ', 0x00, 0x01, 0x01};
    prints_as(in, sizeof(in), 0,
              XML_DECL "\n<AirSync:Sync>\n  <AirSync:SyncKey><![CDATA[ \t\n ]]></AirSync:SyncKey>\n"
                       "</AirSync:Sync>\n");
    /* text with spaces around non-space characters is plain text, spaces kept */
    const uint8_t pad[] = {HDR, 0x45, 0x4B, 0x03, ' ', 'a', ' ', 0x00, 0x01, 0x01};
    prints_as(pad, sizeof(pad), 0,
              XML_DECL "\n<AirSync:Sync>\n  <AirSync:SyncKey> a </AirSync:SyncKey>\n"
                       "</AirSync:Sync>\n");
}

static void adjacent_str_i_are_kept_apart_by_an_empty_comment(void **state)
{
    (void)state;
    const uint8_t in[] = {HDR, 0x45, 0x4B, 0x03, 'a', 0x00, 0x03, 'b', 0x00, 0x01, 0x01};
    prints_as(in, sizeof(in), 0,
              XML_DECL "\n<AirSync:Sync>\n  <AirSync:SyncKey>a<!---->b</AirSync:SyncKey>\n"
                       "</AirSync:Sync>\n");
    const uint8_t blanks[] = {HDR, 0x45, 0x4B, 0x03, ' ', 0x00, 0x03, 0x00, 0x01, 0x01};
    prints_as(blanks, sizeof(blanks), 0,
              XML_DECL "\n<AirSync:Sync>\n  <AirSync:SyncKey><![CDATA[ ]]><!----><![CDATA[]]>"
                       "</AirSync:SyncKey>\n</AirSync:Sync>\n");
}

static void mixed_content_keeps_text_and_elements_in_order(void **state)
{
    (void)state;
    const uint8_t in[] = {HDR,  0x45, 0x03, 'x',  0x00, 0x4B, 0x03, '1',
                          0x00, 0x01, 0x13, 0x03, 'y',  0x00, 0x01};
    /* after a closed element the printer indents again; that whitespace-only text is
     * indentation and not read back as a node */
    prints_as(in, sizeof(in), 0,
              XML_DECL "\n<AirSync:Sync>x<AirSync:SyncKey>1</AirSync:SyncKey>\n"
                       "  <AirSync:GetChanges/>y</AirSync:Sync>\n");
}

static void lone_opaque_prints_in_attribute_form(void **state)
{
    (void)state;
    const uint8_t in[] = {HDR, 0x00, 0x15, 0x45, 0x50, 0xC3, 0x04,
                          'M', 0x00, 0xFF, '\n', 0x01, 0x01};
    prints_as(in, sizeof(in), 0,
              XML_DECL "\n<ComposeMail:SendMail>\n"
                       "  <ComposeMail:Mime opaque=\"base64\">TQD/Cg==</ComposeMail:Mime>\n"
                       "</ComposeMail:SendMail>\n");
    prints_as(in, sizeof(in), EL_WBXML_XML_HEX,
              XML_DECL "\n<ComposeMail:SendMail>\n"
                       "  <ComposeMail:Mime opaque=\"hex\">4d00ff0a</ComposeMail:Mime>\n"
                       "</ComposeMail:SendMail>\n");
    const uint8_t empty[] = {HDR, 0x00, 0x15, 0x45, 0x50, 0xC3, 0x00, 0x01, 0x01};
    prints_as(empty, sizeof(empty), 0,
              XML_DECL "\n<ComposeMail:SendMail>\n"
                       "  <ComposeMail:Mime opaque=\"base64\"></ComposeMail:Mime>\n"
                       "</ComposeMail:SendMail>\n");
}

static void opaque_in_mixed_content_prints_as_processing_instruction(void **state)
{
    (void)state;
    const uint8_t in[] = {HDR,  0x45, 0x4B, 0x03, 'a',  0x00, 0xC3, 0x02, 0x01,
                          0x02, 0x03, 'b',  0x00, 0xC3, 0x00, 0x01, 0x01};
    prints_as(in, sizeof(in), 0,
              XML_DECL "\n<AirSync:Sync>\n  <AirSync:SyncKey>a<?opaque base64 AQI=?><!---->b"
                       "<?opaque base64 ?></AirSync:SyncKey>\n</AirSync:Sync>\n");
    prints_as(in, sizeof(in), EL_WBXML_XML_HEX,
              XML_DECL "\n<AirSync:Sync>\n  <AirSync:SyncKey>a<?opaque hex 0102?><!---->b"
                       "<?opaque hex ?></AirSync:SyncKey>\n</AirSync:Sync>\n");
    /* two OPAQUE in a row */
    const uint8_t two[] = {HDR, 0x45, 0x4B, 0xC3, 0x01, 0xAA, 0xC3, 0x01, 0xBB, 0x01, 0x01};
    prints_as(two, sizeof(two), 0,
              XML_DECL "\n<AirSync:Sync>\n  <AirSync:SyncKey><?opaque base64 qg==?>"
                       "<?opaque base64 uw==?></AirSync:SyncKey>\n</AirSync:Sync>\n");
}

static void text_escapes_markup_and_control_characters_and_keeps_utf8(void **state)
{
    (void)state;
    /* & < > as entities; CR and other controls as &#x..; TAB, LF, quotes and UTF-8 as is */
    const uint8_t in[] = {HDR,  0x45, 0x4B, 0x03, '&',  '<',  '>',  '"',  '\'',
                          0x01, 0x1F, '\t', '\r', '\n', 0xC3, 0xA9, 0xE2, 0x82,
                          0xAC, 0xF0, 0x9F, 0x98, 0x80, 0x7F, 0x00, 0x01, 0x01};
    prints_as(in, sizeof(in), 0,
              XML_DECL "\n<AirSync:Sync>\n  <AirSync:SyncKey>&amp;&lt;&gt;\"'&#x1;&#x1F;\t&#xD;\n"
                       "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x7F</AirSync:SyncKey>\n"
                       "</AirSync:Sync>\n");
    /* a CDATA end in text needs no CDATA */
    const uint8_t cdata_end[] = {HDR, 0x45, 0x4B, 0x03, ']', ']', '>', 0x00, 0x01, 0x01};
    prints_as(cdata_end, sizeof(cdata_end), 0,
              XML_DECL "\n<AirSync:Sync>\n  <AirSync:SyncKey>]]&gt;</AirSync:SyncKey>\n"
                       "</AirSync:Sync>\n");
}

/* ---- what the parser accepts ------------------------------------------------------------- */

static void parser_reads_entities_character_references_and_utf8(void **state)
{
    (void)state;
    const uint8_t want[] = {HDR,  0x45, 0x4B, 0x03, '<',  '>',  '&',  '"',  '\'',
                            0xC3, 0xA9, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F,
                            0x98, 0x80, 0x0D, 0xC3, 0xBC, 0x00, 0x01, 0x01};
    encodes_to("<AirSync:Sync><AirSync:SyncKey>&lt;&gt;&amp;&quot;&apos;&#233;&#xE9;&#x20AC;"
               "&#X1F600;&#13;\xC3\xBC</AirSync:SyncKey></AirSync:Sync>",
               want, sizeof(want));
    /* CDATA is literal: no entity decoding inside */
    const uint8_t lit[] = {HDR, 0x45, 0x4B, 0x03, '&', 'l', 't', ';', '<', 0x00, 0x01, 0x01};
    encodes_to("<AirSync:Sync><AirSync:SyncKey><![CDATA[&lt;<]]></AirSync:SyncKey>"
               "</AirSync:Sync>",
               lit, sizeof(lit));
}

static void parser_reads_default_namespaces_the_way_libwbxml_writes_them(void **state)
{
    (void)state;
    /* the digest's Sync as libwbxml prints it (xmlns on the root and where the page changes,
     * one element a line), with FilterType moved after the AirSyncBase subtree: that sibling is
     * back in AirSync: (00 00 switch) */
    const uint8_t want[] = {HDR,  0x45, 0x5C, 0x4F, 0x4B, 0x03, 0x31, 0x00, 0x01, 0x52, 0x03,
                            0x35, 0x00, 0x01, 0x13, 0x55, 0x03, 0x35, 0x30, 0x00, 0x01, 0x57,
                            0x00, 0x11, 0x45, 0x46, 0x03, 0x32, 0x00, 0x01, 0x01, 0x00, 0x00,
                            0x58, 0x03, 0x33, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01};
    encodes_to("<?xml version=\"1.0\"?>\n"
               "<Sync xmlns=\"AirSync:\">\n<Collections>\n<Collection>\n"
               "<SyncKey>1</SyncKey>\n<CollectionId>5</CollectionId>\n<GetChanges/>\n"
               "<WindowSize>50</WindowSize>\n<Options>\n"
               "<BodyPreference xmlns=\"AirSyncBase:\">\n<Type>2</Type>\n</BodyPreference>\n"
               "<FilterType>3</FilterType>\n</Options>\n</Collection>\n</Collections>\n</Sync>\n",
               want, sizeof(want));
}

static void parser_reads_prefixed_namespaces_and_their_scope(void **state)
{
    (void)state;
    /* a: and b: declared on the root; b: redeclared to another page inside Options only */
    const uint8_t want[] = {HDR,  0x45, 0x57, 0x00, 0x11, 0x45, 0x46, 0x03, 0x32, 0x00, 0x01, 0x01,
                            0x00, 0x07, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01, 0x00, 0x11, 0x07, 0x01};
    encodes_to("<a:Sync xmlns:a=\"AirSync:\" xmlns:b=\"AirSyncBase:\">"
               "<a:Options><b:BodyPreference><b:Type>2</b:Type></b:BodyPreference>"
               "<b:SyncKey xmlns:b=\"FolderHierarchy\">0</b:SyncKey></a:Options>"
               "<b:TruncationSize/></a:Sync>",
               want, sizeof(want));
    /* a default namespace holds for the subtree only */
    const uint8_t scoped[] = {HDR,  0x45, 0x00, 0x07, 0x52, 0x03, 0x30,
                              0x00, 0x01, 0x00, 0x00, 0x0B, 0x01};
    encodes_to("<Sync xmlns=\"AirSync:\"><SyncKey xmlns=\"FolderHierarchy:\">0</SyncKey>"
               "<SyncKey/></Sync>",
               scoped, sizeof(scoped));
}

static void parser_accepts_libwbxml_doctype_declaration_and_comments(void **state)
{
    (void)state;
    const uint8_t want[] = {HDR, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01};
    encodes_to("\xEF\xBB\xBF<?xml version=\"1.0\"?>\n"
               "<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" "
               "\"http://www.microsoft.com/\">\n<!-- captured 2026-11-03 -->\n"
               "<FolderSync xmlns=\"FolderHierarchy:\"><!-- key --><SyncKey>0</SyncKey>"
               "</FolderSync>\n<!-- end -->\n",
               want, sizeof(want));
    /* a DOCTYPE with an internal subset */
    encodes_to("<!DOCTYPE ActiveSync [ <!ENTITY x \"y\"> ]>"
               "<FolderHierarchy:FolderSync><FolderHierarchy:SyncKey>0</FolderHierarchy:SyncKey>"
               "</FolderHierarchy:FolderSync>",
               want, sizeof(want));
}

static void parser_accepts_libwbxml_tag_spellings(void **state)
{
    (void)state;
    const uint8_t cal[] = {HDR, 0x00, 0x04, 0x5B, 0x5C, 0x03, 0x31, 0x00, 0x01, 0x09, 0x01};
    encodes_to("<Recurrence xmlns=\"Calendar:\"><Recurrence_Type>1</Recurrence_Type>"
               "<Attendee_Email/></Recurrence>",
               cal, sizeof(cal));
    const uint8_t flag[] = {HDR, 0x00, 0x02, 0x7A, 0x7B, 0x03, 0x32, 0x00, 0x01, 0x01};
    encodes_to("<Flag xmlns=\"Email:\"><FlagStatus>2</FlagStatus></Flag>", flag, sizeof(flag));
    const uint8_t fwd[] = {HDR,  0x00, 0x15, 0x55, 0x56, 0x17, 0x18,
                           0x50, 0xC3, 0x01, 'A',  0x01, 0x01, 0x01};
    encodes_to(
        "<ComposeMail:Forwardees><ComposeMail:Forwardee><ComposeMail:ForwardeeName/>"
        "<ComposeMail:ForwardeeEmail/><ComposeMail:MIME opaque=\"base64\">QQ==</ComposeMail:MIME>"
        "</ComposeMail:Forwardee></ComposeMail:Forwardees>",
        fwd, sizeof(fwd));
    const uint8_t rm[] = {HDR, 0x00, 0x18, 0x52, 0x03, 0x6F, 0x00, 0x01};
    encodes_to("<RMOwner xmlns=\"RightsManagement:\">o</RMOwner>", rm, sizeof(rm));
    const uint8_t gie[] = {HDR, 0x00, 0x06, 0x05};
    encodes_to("<GetItemEstimate xmlns=\"ItemEstimate:\"/>", gie, sizeof(gie));
}

/* ---- errors name line and column --------------------------------------------------------- */

static void parser_errors_name_line_and_column(void **state)
{
    (void)state;
    refused("<AirSync:Sync>\n  <AirSync:Nope/>\n</AirSync:Sync>", EL_EUNKNOWN, 2, 3,
            "unknown tag <AirSync:Nope>");
    refused("<AirSync:Sync>\n\n    <Nope:SyncKey/></AirSync:Sync>", EL_EUNKNOWN, 3, 5,
            "unknown code page 'Nope'");
    refused("<Sync xmlns=\"Nope:\"/>", EL_EUNKNOWN, 1, 20, "unknown namespace \"Nope:\"");
    refused("<AirSync:Sync>\n  <AirSync:SyncKey>1</AirSync:Sync>", EL_EFORMAT, 2, 21,
            "end tag </AirSync:Sync> does not match");
    refused("<AirSync:Sync>\n<AirSync:SyncKey opaque=\"base64\">Zm9v!</AirSync:SyncKey>"
            "</AirSync:Sync>",
            EL_EFORMAT, 2, 57, "not valid base64");
    refused("<AirSync:Sync><AirSync:SyncKey opaque=\"hex\">abc</AirSync:SyncKey></AirSync:Sync>",
            EL_EFORMAT, 1, 66, "not valid hex");
    refused("<AirSync:Sync><?opaque base64 ***?></AirSync:Sync>", EL_EFORMAT, 1, 36,
            "not valid base64");
    refused("<AirSync:Sync>\n  <AirSync:SyncKey>1", EL_ETRUNC, 2, 21,
            "input ends inside <AirSync:SyncKey>");
    refused("<AirSync:Sync><AirSync:SyncKey", EL_ETRUNC, 1, 31, "input ends inside");
    refused("<AirSync:Sync><!-- never closed", EL_ETRUNC, 1, 15, "unterminated comment");
    refused("", EL_EFORMAT, 1, 1, "expected the root element");
    refused("\n\nhello <AirSync:Sync/>", EL_EFORMAT, 3, 1, "expected the root element");
    refused("<AirSync:Sync/>\ntext", EL_EFORMAT, 2, 1, "content after the root element");
    refused("<AirSync:Sync/>\n  <AirSync:Sync/>", EL_EFORMAT, 2, 3,
            "a second root element <AirSync:Sync>");
    refused("<SyncKey/>", EL_EUNKNOWN, 1, 1, "on several code pages");
    refused("<AirSync:Sync>&nbsp;</AirSync:Sync>", EL_EFORMAT, 1, 15, "bad entity reference");
    refused("<AirSync:Sync><AirSync:SyncKey>a&#0;</AirSync:SyncKey></AirSync:Sync>", EL_EFORMAT, 1,
            33, "NUL or a surrogate");
    refused("<AirSync:Sync><AirSync:SyncKey>&#xD800;</AirSync:SyncKey></AirSync:Sync>", EL_EFORMAT,
            1, 32, "NUL or a surrogate");
    refused("<AirSync:Sync><?php x?></AirSync:Sync>", EL_EFORMAT, 1, 20,
            "unknown processing instruction");
    refused("<AirSync:Sync foo=\"1\"/>", EL_EFORMAT, 1, 22, "unsupported attribute foo");
    refused("<AirSync:Sync><AirSync:SyncKey opaque=\"base64\"><x/></AirSync:SyncKey>"
            "</AirSync:Sync>",
            EL_EFORMAT, 1, 48, "holds only data");
}

static void text_with_a_nul_byte_is_refused_with_its_place(void **state)
{
    (void)state;
    static const char xml[] = "<AirSync:Sync><AirSync:SyncKey>a\0b</AirSync:SyncKey>"
                              "</AirSync:Sync>";
    struct el_buf b;
    struct el_err err;
    el_buf_init(&b, 1024);
    assert_int_equal(el_wbxml_from_xml(xml, sizeof(xml) - 1, &b, &err), EL_EFORMAT);
    assert_non_null(strstr(err.msg, "line 1, column 35: "));
    assert_non_null(strstr(err.msg, "NUL"));
    el_buf_close(&b);
}

static void nesting_past_the_depth_limit_is_refused_with_its_place(void **state)
{
    (void)state;
    char xml[64 * 16 + 64] = "";
    for (int i = 0; i <= EL_WBXML_DEPTH_MAX; i++)
        strcat(xml, "<AirSync:Sync>");
    refused(xml, EL_EDEPTH, 1, EL_WBXML_DEPTH_MAX * 14 + 1, "nesting deeper than the limit");
}

/* ---- decoded forms re-encode --------------------------------------------------------------- */

#define DOC(...)                                                                                   \
    {                                                                                              \
        (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})                     \
    }

/* A set of documents mixing every construct: decoded (base64 and hex), each form re-encodes to
 * the original bytes. */
static void every_decoded_form_re_encodes_to_identical_bytes(void **state)
{
    (void)state;
    const struct {
        const uint8_t *b;
        size_t n;
    } docs[] = {
        DOC(HDR, 0x05),
        DOC(HDR, 0x45, 0x01),
        DOC(HDR, 0x45, 0x03, 0x00, 0x01),
        DOC(HDR, 0x45, 0x03, ' ', 0x00, 0x4B, 0x01, 0x03, '\n', 0x00, 0x01),
        DOC(HDR, 0x45, 0xC3, 0x00, 0x01),
        DOC(HDR, 0x45, 0xC3, 0x01, 0x00, 0x03, 0x00, 0xC3, 0x01, 0x3C, 0x01),
        DOC(HDR, 0x45, 0x4B, 0x03, '<', '!', '-', '-', 0x00, 0x01, 0x4B, 0x03, '?', '>', 0x00, 0x01,
            0x01),
        DOC(HDR, 0x45, 0x57, 0x00, 0x11, 0x45, 0x46, 0x03, 0x32, 0x00, 0x01, 0x01, 0x00, 0x00, 0x58,
            0x01, 0x01, 0x01),
        DOC(HDR, 0x00, 0x16, 0x49, 0xC3, 0x10, 0x8E, 0x0B, 0x5D, 0x3A, 0x1C, 0x7F, 0x42, 0xB6, 0xA9,
            0xD4, 0xE2, 0xF0, 0x1B, 0x3C, 0x5A, 0x77, 0x01),
        DOC(HDR, 0x45, 0x4B, 0x03, '\r', '\n', 'a', '\r', 0x00, 0x01, 0x03, 'z', 0x00, 0x01),
        DOC(HDR, 0x45, 0x03, 'x', 0x00, 0x54, 0x01, 0xC3, 0x01, 0x00, 0x13, 0x03, 0x00, 0x01),
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        for (unsigned flags = 0; flags <= EL_WBXML_XML_HEX; flags += EL_WBXML_XML_HEX) {
            struct el_buf xml, back;
            struct el_err err;
            el_buf_init(&xml, 4096);
            el_buf_init(&back, 4096);
            if (el_wbxml_to_xml(docs[i].b, docs[i].n, flags, &xml, &err) != 0)
                fail_msg("doc %zu: %s", i, err.msg);
            if (el_wbxml_from_xml((const char *)xml.data, xml.len, &back, &err) != 0)
                fail_msg("doc %zu: %s\n%.*s", i, err.msg, (int)xml.len, (const char *)xml.data);
            if (back.len != docs[i].n || memcmp(back.data, docs[i].b, back.len) != 0)
                fail_msg("doc %zu (flags %u) re-encodes differently:\n%.*s", i, flags, (int)xml.len,
                         (const char *)xml.data);
            el_buf_close(&back);
            el_buf_close(&xml);
        }
    }
}

/* A redundant SWITCH_PAGE or a 0x00 0x00 prefix cannot survive the XML form: it re-encodes to
 * the minimal bytes, the documented normalisation. */
static void redundant_page_switches_re_encode_minimally(void **state)
{
    (void)state;
    const uint8_t in[] = {HDR,  0x00, 0x00, 0x00, 0x07, 0x56, 0x00,
                          0x07, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01};
    const uint8_t min[] = {HDR, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01};
    struct el_buf xml, back;
    struct el_err err;
    el_buf_init(&xml, 4096);
    el_buf_init(&back, 4096);
    assert_int_equal(el_wbxml_to_xml(in, sizeof(in), 0, &xml, &err), 0);
    assert_int_equal(el_wbxml_from_xml((const char *)xml.data, xml.len, &back, &err), 0);
    assert_int_equal(back.len, sizeof(min));
    assert_memory_equal(back.data, min, sizeof(min));
    el_buf_close(&back);
    el_buf_close(&xml);
}

static void decode_errors_name_the_byte(void **state)
{
    (void)state;
    const uint8_t in[] = {HDR, 0x45, 0x4B, 0x03, 'a', 0x00, 0x3F};
    struct el_buf xml;
    struct el_err err;
    el_buf_init(&xml, 4096);
    assert_int_equal(el_wbxml_to_xml(in, sizeof(in), 0, &xml, &err), EL_EUNKNOWN);
    assert_non_null(strstr(err.msg, "byte 9"));
    assert_int_equal(err.offset, 9);
    el_buf_close(&xml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_str_i_prints_as_empty_cdata),
        cmocka_unit_test(content_bit_with_immediate_end_prints_as_start_and_end_tag),
        cmocka_unit_test(bare_token_prints_as_self_closing_tag),
        cmocka_unit_test(whitespace_only_text_prints_as_cdata),
        cmocka_unit_test(adjacent_str_i_are_kept_apart_by_an_empty_comment),
        cmocka_unit_test(mixed_content_keeps_text_and_elements_in_order),
        cmocka_unit_test(lone_opaque_prints_in_attribute_form),
        cmocka_unit_test(opaque_in_mixed_content_prints_as_processing_instruction),
        cmocka_unit_test(text_escapes_markup_and_control_characters_and_keeps_utf8),
        cmocka_unit_test(parser_reads_entities_character_references_and_utf8),
        cmocka_unit_test(parser_reads_default_namespaces_the_way_libwbxml_writes_them),
        cmocka_unit_test(parser_reads_prefixed_namespaces_and_their_scope),
        cmocka_unit_test(parser_accepts_libwbxml_doctype_declaration_and_comments),
        cmocka_unit_test(parser_accepts_libwbxml_tag_spellings),
        cmocka_unit_test(parser_errors_name_line_and_column),
        cmocka_unit_test(text_with_a_nul_byte_is_refused_with_its_place),
        cmocka_unit_test(nesting_past_the_depth_limit_is_refused_with_its_place),
        cmocka_unit_test(every_decoded_form_re_encodes_to_identical_bytes),
        cmocka_unit_test(redundant_page_switches_re_encode_minimally),
        cmocka_unit_test(decode_errors_name_the_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
