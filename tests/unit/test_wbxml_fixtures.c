/* test_wbxml_fixtures.c - the EAS messages of tests/fixtures/wbxml against the codec: every
 * NAME.wbxml decodes to exactly NAME.xml and NAME.xml encodes to exactly NAME.wbxml; a few are
 * also checked byte by byte against arrays annotated here from the digest's rules.
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

#include "wbxml.h"

#define FILE_MAX_BYTES (4u << 20)
#define NAMES_MAX      64

/* Reads path into b (initialised here; the caller closes it). 0 or -1. */
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

static void read_fixture(const char *name, const char *ext, struct el_buf *b)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s%s", EL_FIXTURE_DIR, name, ext);
    if (read_whole(path, b) < 0)
        fail_msg("cannot read %s", path);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The fixture names (NAME of each NAME.wbxml), sorted; freed with free_names. */
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

/* Index of the first differing byte, or n if equal over n. */
static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

static void every_fixture_decodes_to_its_golden_xml(void **state)
{
    (void)state;
    char *names[NAMES_MAX];
    size_t n = list_fixtures(names);
    for (size_t i = 0; i < n; i++) {
        struct el_buf wbxml, golden, out;
        struct el_err err;
        read_fixture(names[i], ".wbxml", &wbxml);
        read_fixture(names[i], ".xml", &golden);
        el_buf_init(&out, FILE_MAX_BYTES);
        int rc = el_wbxml_to_xml(wbxml.data, wbxml.len, 0, &out, &err);
        if (rc != 0)
            fail_msg("%s: decode failed: %s", names[i], err.msg);
        size_t common = out.len < golden.len ? out.len : golden.len;
        size_t at = first_diff(out.data, golden.data, common);
        if (out.len != golden.len || at != common)
            fail_msg("%s: decoded XML differs from %s.xml at byte %zu (%zu vs %zu bytes)", names[i],
                     names[i], at, out.len, golden.len);
        el_buf_close(&out);
        el_buf_close(&golden);
        el_buf_close(&wbxml);
    }
    free_names(names, n);
}

static void every_golden_xml_encodes_to_its_fixture_bytes(void **state)
{
    (void)state;
    char *names[NAMES_MAX];
    size_t n = list_fixtures(names);
    for (size_t i = 0; i < n; i++) {
        struct el_buf wbxml, golden, out;
        struct el_err err;
        read_fixture(names[i], ".wbxml", &wbxml);
        read_fixture(names[i], ".xml", &golden);
        el_buf_init(&out, FILE_MAX_BYTES);
        int rc = el_wbxml_from_xml((const char *)golden.data, golden.len, &out, &err);
        if (rc != 0)
            fail_msg("%s: encode failed: %s", names[i], err.msg);
        size_t common = out.len < wbxml.len ? out.len : wbxml.len;
        size_t at = first_diff(out.data, wbxml.data, common);
        if (out.len != wbxml.len || at != common)
            fail_msg("%s: encoded bytes differ from %s.wbxml at byte %zu (%zu vs %zu bytes)",
                     names[i], names[i], at, out.len, wbxml.len);
        el_buf_close(&out);
        el_buf_close(&golden);
        el_buf_close(&wbxml);
    }
    free_names(names, n);
}

/* Each command of the brief has a request and a response fixture. */
static void fixtures_cover_every_command_both_ways(void **state)
{
    (void)state;
    static const char *const want[] = {
        "foldersync-request",      "foldersync-response",    "sync-request",
        "sync-response",           "ping-request",           "ping-response",
        "provision1-request",      "provision1-response",    "provision2-request",
        "provision2-response",     "search-mailbox-request", "search-mailbox-response",
        "search-gal-request",      "search-gal-response",    "itemoperations-request",
        "itemoperations-response", "sendmail-request",       "sendmail-response",
    };
    char *names[NAMES_MAX];
    size_t n = list_fixtures(names);
    for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
        size_t i = 0;
        while (i < n && strcmp(names[i], want[w]) != 0)
            i++;
        if (i == n)
            fail_msg("fixture %s.wbxml is missing", want[w]);
    }
    free_names(names, n);
}

/* An independent walk over the raw bytes (not our decoder): every SWITCH_PAGE is followed by a
 * tag and changes the page; text is STR_I or OPAQUE; no other global token appears. */
static void fixtures_switch_page_only_when_the_page_changes(void **state)
{
    (void)state;
    char *names[NAMES_MAX];
    size_t n = list_fixtures(names);
    for (size_t i = 0; i < n; i++) {
        struct el_buf b;
        read_fixture(names[i], ".wbxml", &b);
        assert_true(b.len > 4);
        assert_memory_equal(b.data, "\x03\x01\x6A\x00", 4);
        unsigned page = 0;
        size_t p = 4;
        while (p < b.len) {
            uint8_t c = b.data[p];
            if (c == 0x00) {
                assert_true(p + 2 < b.len);
                if (b.data[p + 1] == page)
                    fail_msg("%s: redundant SWITCH_PAGE %u at byte %zu", names[i], page, p);
                uint8_t next = b.data[p + 2];
                if ((next & 0x3F) < 0x05 || (next & 0x80))
                    fail_msg("%s: SWITCH_PAGE at byte %zu not followed by a tag", names[i], p);
                page = b.data[p + 1];
                p += 2;
            } else if (c == 0x01) {
                p++;
            } else if (c == 0x03) {
                const uint8_t *nul = memchr(b.data + p + 1, 0, b.len - p - 1);
                assert_non_null(nul);
                p = (size_t)(nul - b.data) + 1;
            } else if (c == 0xC3) {
                uint32_t len = 0;
                p++;
                while (b.data[p] & 0x80)
                    len = (len << 7) | (b.data[p++] & 0x7F);
                len = (len << 7) | b.data[p++];
                p += len;
            } else if ((c & 0x3F) >= 0x05 && !(c & 0x80)) {
                p++;
            } else {
                fail_msg("%s: global token 0x%02X at byte %zu", names[i], c, p);
            }
        }
        assert_int_equal(p, b.len);
        el_buf_close(&b);
    }
    free_names(names, n);
}

/* ---- fixtures checked byte by byte ----------------------------------------------------------
 * Written as concatenated string literals: "\xNN" for token bytes, plain text for STR_I text.
 * Bytes: header 03 01 6A 00; 00 PP = SWITCH_PAGE PP; tag | 0x40 = has content, closed by 01;
 * 03 ... 00 = STR_I. Page 7 FolderHierarchy, page 13 Ping, page 14 Provision, page 21
 * ComposeMail ([MS-ASWBXML] 2.1.2.1.8, .14, .15, .22). */
/* The arrays below are aligned by hand, one annotated item a line. */
/* clang-format off */
#define HDR     "\x03\x01\x6A\x00"
#define STRI(s) "\x03" s "\x00"
#define END     "\x01"

static void expect_bytes(const char *name, const char *want, size_t want_len)
{
    struct el_buf b;
    read_fixture(name, ".wbxml", &b);
    size_t common = b.len < want_len ? b.len : want_len;
    size_t at = first_diff(b.data, (const uint8_t *)want, common);
    if (b.len != want_len || at != common)
        fail_msg("%s: bytes differ from the annotated array at byte %zu (%zu vs %zu bytes)", name,
                 at, b.len, want_len);
    el_buf_close(&b);
}

static void foldersync_request_matches_the_annotated_bytes(void **state)
{
    (void)state;
    static const char want[] = HDR /* WBXML 1.3, public id 1, UTF-8, no string table */
        "\x00\x07"                 /* SWITCH_PAGE 7 FolderHierarchy */
        "\x56"                     /* FolderSync (16) + content */
        "\x52" STRI("0") END       /* SyncKey (12) "0" */
        END;                       /* /FolderSync */
    expect_bytes("foldersync-request", want, sizeof(want) - 1);
}

/* FolderHierarchy Add (0F){ServerId (08), ParentId (09), DisplayName (07), Type (0A)} */
#define FOLDER(id, parent, name, type)                                                             \
    "\x4F"                                                                                         \
    "\x48" STRI(id) END "\x49" STRI(parent) END "\x47" STRI(name) END "\x4A" STRI(type) END END

static void foldersync_response_matches_the_annotated_bytes(void **state)
{
    (void)state;
    static const char want[] = HDR "\x00\x07" /* page 7 FolderHierarchy, stays for the document */
        "\x56"                                 /* FolderSync */
        "\x4C" STRI("1") END                   /* Status (0C) 1 */
        "\x52" STRI("1") END                   /* SyncKey (12) "1" */
        "\x4E"                                 /* Changes (0E) */
        "\x57" STRI("12") END                  /* Count (17) 12 */
        FOLDER("1", "0", "Calendar", "8")      /* Type 8 calendar */
        FOLDER("2", "0", "Contacts", "9")      /* 9 contacts */
        FOLDER("3", "0", "Deleted Items", "4") /* 4 deleted items */
        FOLDER("4", "0", "Drafts", "3")        /* 3 drafts */
        FOLDER("5", "0", "Inbox", "2")         /* 2 inbox */
        FOLDER("6", "0", "Journal", "11")      /* 11 journal */
        FOLDER("7", "0", "Junk Email", "12")   /* 12 user mail */
        FOLDER("8", "0", "Notes", "10")        /* 10 notes */
        FOLDER("9", "0", "Outbox", "6")        /* 6 outbox */
        FOLDER("10", "0", "Sent Items", "5")   /* 5 sent items */
        FOLDER("11", "0", "Tasks", "7")        /* 7 tasks */
        /* a user mail folder under the Inbox; UTF-8 "Projekte – Müller GmbH" */
        FOLDER("12", "5", "Projekte \xE2\x80\x93 M\xC3\xBC"
                          "ller GmbH",
               "12") END /* /Changes */
        END;             /* /FolderSync */
    expect_bytes("foldersync-response", want, sizeof(want) - 1);
}

/* Ping Folder (0A){Id (0B), Class (0C)} */
#define PING_FOLDER(id, cls) "\x4A\x4B" STRI(id) END "\x4C" STRI(cls) END END

static void ping_request_matches_the_annotated_bytes(void **state)
{
    (void)state;
    static const char want[] = HDR "\x00\x0D" /* SWITCH_PAGE 13 Ping */
        "\x45"                                 /* Ping (05) */
        "\x48" STRI("470") END                 /* HeartbeatInterval (08) 470 s */
        "\x49"                                 /* Folders (09) */
        PING_FOLDER("5", "Email")              /* Inbox */
        PING_FOLDER("1", "Calendar")           /* Calendar */
        PING_FOLDER("2", "Contacts") END       /* Contacts, /Folders */
        END;                                   /* /Ping */
    expect_bytes("ping-request", want, sizeof(want) - 1);
}

static void ping_response_matches_the_annotated_bytes(void **state)
{
    (void)state;
    static const char want[] = HDR "\x00\x0D" /* page 13 Ping */
        "\x45"                                 /* Ping */
        "\x47" STRI("2") END                   /* Status (07) 2: changes found */
        "\x49"                                 /* Folders (09) */
        "\x4A" STRI("5") END                   /* Folder (0A) with the folder id as text */
        END                                    /* /Folders */
        END;                                   /* /Ping */
    expect_bytes("ping-response", want, sizeof(want) - 1);
}

static void provision_phase2_request_matches_the_annotated_bytes(void **state)
{
    (void)state;
    static const char want[] = HDR "\x00\x0E"          /* SWITCH_PAGE 14 Provision */
        "\x45"                                          /* Provision (05) */
        "\x46"                                          /* Policies (06) */
        "\x47"                                          /* Policy (07) */
        "\x48" STRI("MS-EAS-Provisioning-WBXML") END    /* PolicyType (08) */
        "\x49" STRI("1307199584") END                   /* PolicyKey (09): the temporary key */
        "\x4B" STRI("1") END                            /* Status (0B) 1: policy applied */
        END END END;                                    /* /Policy /Policies /Provision */
    expect_bytes("provision2-request", want, sizeof(want) - 1);
}

#define MIME_START "From: \"Anna Keller\""

static void sendmail_request_starts_with_the_annotated_bytes(void **state)
{
    (void)state;
    static const char want[] = HDR "\x00\x15"      /* SWITCH_PAGE 21 ComposeMail */
        "\x45"                                      /* SendMail (05) */
        "\x51" STRI("SendMail-1793703871583") END   /* ClientId (11) */
        "\x08"                                      /* SaveInSentItems (08), bare token */
        "\x50"                                      /* Mime (10) + content */
        "\xC3\x83\x49"                              /* OPAQUE, mb_u_int32 3*128+73 = 457 */
        MIME_START;                                 /* the RFC 822 message starts */
    struct el_buf b;
    read_fixture("sendmail-request", ".wbxml", &b);
    assert_int_equal(b.len, sizeof(want) - 1 - strlen(MIME_START) + 457 + 2);
    assert_memory_equal(b.data, want, sizeof(want) - 1);
    assert_memory_equal(b.data + b.len - 2, END END, 2); /* /Mime /SendMail */
    el_buf_close(&b);
}

/* clang-format on */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_fixture_decodes_to_its_golden_xml),
        cmocka_unit_test(every_golden_xml_encodes_to_its_fixture_bytes),
        cmocka_unit_test(fixtures_cover_every_command_both_ways),
        cmocka_unit_test(fixtures_switch_page_only_when_the_page_changes),
        cmocka_unit_test(foldersync_request_matches_the_annotated_bytes),
        cmocka_unit_test(foldersync_response_matches_the_annotated_bytes),
        cmocka_unit_test(ping_request_matches_the_annotated_bytes),
        cmocka_unit_test(ping_response_matches_the_annotated_bytes),
        cmocka_unit_test(provision_phase2_request_matches_the_annotated_bytes),
        cmocka_unit_test(sendmail_request_starts_with_the_annotated_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
