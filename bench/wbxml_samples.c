/* wbxml_samples.c - the realistic EAS messages of wbxml_samples.h: data generated once from a
 * fixed seed (names, subjects, dates, HTML bodies of 1-6 KB), messages written with encoder
 * calls the way a server or the engine would (numbers through el_wbxml_uint, page switches as
 * the fields demand, email2 ids as OPAQUE).
 * Owns: the body store of struct el_bench_samples. Uses: core/wbxml.h. */
#include "wbxml_samples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t next_rand(uint32_t *state)
{
    uint32_t x = *state; /* xorshift32: deterministic, good enough for sample text */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static const char *const first_names[] = {
    "Alice", "Bob",     "Carol", "Dave",   "Erin",  "Frank",  "Grace", "Heidi", "Ivan",
    "Judy",  "Mallory", "Niaj",  "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor"};
static const char *const last_names[] = {"Anderson", "Brown",  "Clarke", "Dubois",  "Evans",
                                         "Fischer",  "Garcia", "Huber",  "Ito",     "Jensen",
                                         "Kowalski", "Larsen", "Moreau", "Nakamura"};
static const char *const subjects[] = {
    "Quarterly planning: agenda for Thursday",
    "RE: Budget review follow-up",
    "Invoice 2024-0193 attached",
    "FW: Customer escalation - ticket 48213",
    "Lunch on Friday?",
    "Release notes for 4.2.1",
    "Action required: update your password policy acknowledgement",
    "Team offsite logistics",
    "RE: RE: Draft contract comments",
    "Weekly status report"};
static const char *const words[] = {
    "the",      "project",   "meeting",  "schedule",   "please",   "review",    "attached",
    "document", "before",    "Thursday", "we",         "need",     "to",        "confirm",
    "budget",   "numbers",   "and",      "customer",   "feedback", "regarding", "release",
    "timeline", "thanks",    "for",      "your",       "quick",    "response",  "on",
    "this",     "issue",     "let",      "me",         "know",     "if",        "you",
    "have",     "questions", "about",    "deployment", "plan",     "team",      "will",
    "follow",   "up",        "with",     "details",    "tomorrow", "morning"};

#define NELEM(a)       (sizeof(a) / sizeof((a)[0]))
#define BODY_MAX_BYTES 6144

static size_t append(char *dst, size_t pos, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (pos + n > cap)
        n = cap - pos;
    memcpy(dst + pos, s, n);
    return pos + n;
}

/* An HTML body of about want bytes (never more than cap): paragraphs of words, CRLF lines. */
static size_t make_body(char *dst, size_t cap, size_t want, uint32_t *rng, const char *greeting)
{
    size_t pos = 0;
    pos = append(dst, pos, cap,
                 "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; "
                 "charset=utf-8\">\r\n</head>\r\n<body>\r\n<div dir=\"ltr\">\r\n<p>Hi ");
    pos = append(dst, pos, cap, greeting);
    pos = append(dst, pos, cap, ",</p>\r\n");
    const char *tail = "<p>Best regards,<br>\r\nThe sender</p>\r\n</div>\r\n</body>\r\n</html>\r\n";
    size_t tail_len = strlen(tail);
    while (pos + tail_len + 200 < want) {
        pos = append(dst, pos, cap, "<p>");
        unsigned n = 20 + next_rand(rng) % 40;
        for (unsigned i = 0; i < n; i++) {
            if (i > 0)
                pos = append(dst, pos, cap, (i % 12 == 0) ? "\r\n" : " ");
            pos = append(dst, pos, cap, words[next_rand(rng) % NELEM(words)]);
        }
        pos = append(dst, pos, cap, ".</p>\r\n");
    }
    return append(dst, pos, cap, tail);
}

static void make_mail(struct el_bench_mail *m, unsigned i, uint32_t *rng, char *body,
                      size_t body_cap)
{
    const char *f_first = first_names[next_rand(rng) % NELEM(first_names)];
    const char *f_last = last_names[next_rand(rng) % NELEM(last_names)];
    const char *t_first = first_names[next_rand(rng) % NELEM(first_names)];
    const char *t_last = last_names[next_rand(rng) % NELEM(last_names)];
    const char *subject = subjects[next_rand(rng) % NELEM(subjects)];
    snprintf(m->server_id, sizeof(m->server_id), "5:%u", 1000 + i);
    snprintf(m->from, sizeof(m->from), "\"%s %s\" <%c.%s@contoso.example>", f_first, f_last,
             f_first[0], f_last);
    snprintf(m->to, sizeof(m->to), "\"%s %s\" <%c.%s@fabrikam.example>", t_first, t_last,
             t_first[0], t_last);
    snprintf(m->display_to, sizeof(m->display_to), "%s %s", t_first, t_last);
    snprintf(m->subject, sizeof(m->subject), "%s", subject);
    const char *topic = subject;
    while (strncmp(topic, "RE: ", 4) == 0 || strncmp(topic, "FW: ", 4) == 0)
        topic += 4;
    snprintf(m->thread_topic, sizeof(m->thread_topic), "%s", topic);
    snprintf(m->date_received, sizeof(m->date_received), "2024-05-%02uT%02u:%02u:%02u.%03uZ",
             1 + next_rand(rng) % 28, next_rand(rng) % 24, next_rand(rng) % 60, next_rand(rng) % 60,
             next_rand(rng) % 1000);
    m->importance = next_rand(rng) % 8 == 0 ? 2 : 1;
    m->read = next_rand(rng) % 3 == 0;
    size_t want = 1024 + next_rand(rng) % (BODY_MAX_BYTES - 1024);
    m->body_len = make_body(body, body_cap, want, rng, t_first);
    m->body = body;
    for (size_t k = 0; k < sizeof(m->conversation_id); k++)
        m->conversation_id[k] = (uint8_t)next_rand(rng);
    for (size_t k = 0; k < sizeof(m->conversation_index); k++)
        m->conversation_index[k] = (uint8_t)next_rand(rng);
}

static const struct {
    const char *name;
    unsigned type;
} folder_defs[EL_BENCH_FOLDERS] = {
    {"Inbox", 2},
    {"Drafts", 3},
    {"Deleted Items", 4},
    {"Sent Items", 5},
    {"Outbox", 6},
    {"Tasks", 7},
    {"Calendar", 8},
    {"Contacts", 9},
    {"Notes", 10},
    {"Journal", 11},
    {"Junk Email", 12},
    {"Archive", 12},
    {"Projects", 12},
    {"Alpha", 12},
    {"Beta", 12},
    {"RSS Feeds", 12},
    {"Conversation History", 12},
    {"Sync Issues", 12},
    {"Birthdays", 13},
    {"Suggested Contacts", 14},
};

int el_bench_samples_init(struct el_bench_samples *s)
{
    memset(s, 0, sizeof(*s));
    s->body_store = malloc((size_t)EL_BENCH_SYNC_ITEMS * BODY_MAX_BYTES);
    if (s->body_store == NULL)
        return EL_ENOMEM;
    uint32_t rng = 0x2545F491u;
    size_t used = 0;
    for (unsigned i = 0; i < EL_BENCH_SYNC_ITEMS; i++) {
        make_mail(&s->mail[i], i, &rng, s->body_store + used, BODY_MAX_BYTES);
        used += s->mail[i].body_len;
    }
    s->body_store_len = used;
    for (unsigned i = 0; i < EL_BENCH_FOLDERS; i++) {
        struct el_bench_folder *f = &s->folders[i];
        snprintf(f->server_id, sizeof(f->server_id), "%u", i + 1);
        /* Alpha and Beta live under Projects (id 13); the rest at the root. */
        snprintf(f->parent_id, sizeof(f->parent_id), "%s", (i == 13 || i == 14) ? "13" : "0");
        snprintf(f->display_name, sizeof(f->display_name), "%s", folder_defs[i].name);
        f->type = folder_defs[i].type;
    }
    return 0;
}

void el_bench_samples_close(struct el_bench_samples *s)
{
    free(s->body_store);
    s->body_store = NULL;
}

/* ---- the messages ------------------------------------------------------------------------ */

static void write_mail(struct el_wbxml_encoder *e, const struct el_bench_mail *m)
{
    el_wbxml_start(e, EL_AS_ADD);
    el_wbxml_text(e, EL_AS_SERVERID, m->server_id);
    el_wbxml_start(e, EL_AS_APPLICATIONDATA);
    el_wbxml_text(e, EL_EMAIL_TO, m->to);
    el_wbxml_text(e, EL_EMAIL_FROM, m->from);
    el_wbxml_text(e, EL_EMAIL_SUBJECT, m->subject);
    el_wbxml_text(e, EL_EMAIL_DATERECEIVED, m->date_received);
    el_wbxml_text(e, EL_EMAIL_DISPLAYTO, m->display_to);
    el_wbxml_text(e, EL_EMAIL_THREADTOPIC, m->thread_topic);
    el_wbxml_uint(e, EL_EMAIL_IMPORTANCE, m->importance);
    el_wbxml_uint(e, EL_EMAIL_READ, m->read);
    el_wbxml_start(e, EL_ASB_BODY);
    el_wbxml_uint(e, EL_ASB_TYPE, 2);
    el_wbxml_uint(e, EL_ASB_ESTIMATEDDATASIZE, m->body_len);
    el_wbxml_start(e, EL_ASB_DATA);
    el_wbxml_str(e, m->body, m->body_len);
    el_wbxml_end(e);
    el_wbxml_end(e); /* Body */
    el_wbxml_text(e, EL_EMAIL_MESSAGECLASS, "IPM.Note");
    el_wbxml_uint(e, EL_EMAIL_INTERNETCPID, 65001);
    el_wbxml_empty(e, EL_EMAIL_FLAG);
    el_wbxml_text(e, EL_EMAIL_CONTENTCLASS, "urn:content-classes:message");
    el_wbxml_uint(e, EL_ASB_NATIVEBODYTYPE, 2);
    el_wbxml_opaque_elem(e, EL_EMAIL2_CONVERSATIONID, m->conversation_id,
                         sizeof(m->conversation_id));
    el_wbxml_opaque_elem(e, EL_EMAIL2_CONVERSATIONINDEX, m->conversation_index,
                         sizeof(m->conversation_index));
    el_wbxml_empty(e, EL_EMAIL_CATEGORIES);
    el_wbxml_end(e); /* ApplicationData */
    el_wbxml_end(e); /* Add */
}

static int write_sync_response(struct el_buf *out, const struct el_bench_samples *s,
                               struct el_err *err)
{
    struct el_wbxml_encoder e;
    el_wbxml_encoder_init(&e, out);
    el_wbxml_start(&e, EL_AS_SYNC);
    el_wbxml_start(&e, EL_AS_COLLECTIONS);
    el_wbxml_start(&e, EL_AS_COLLECTION);
    el_wbxml_text(&e, EL_AS_SYNCKEY, "{8e6f4c2a-3b1d-4f5e-9a7c-2d4b6e8f0a1c}42");
    el_wbxml_text(&e, EL_AS_COLLECTIONID, "5");
    el_wbxml_uint(&e, EL_AS_STATUS, 1);
    el_wbxml_empty(&e, EL_AS_MOREAVAILABLE);
    el_wbxml_start(&e, EL_AS_COMMANDS);
    for (unsigned i = 0; i < EL_BENCH_SYNC_ITEMS; i++)
        write_mail(&e, &s->mail[i]);
    el_wbxml_end(&e); /* Commands */
    el_wbxml_end(&e); /* Collection */
    el_wbxml_end(&e); /* Collections */
    el_wbxml_end(&e); /* Sync */
    return el_wbxml_encoder_finish(&e, err);
}

static int write_foldersync_response(struct el_buf *out, const struct el_bench_samples *s,
                                     struct el_err *err)
{
    struct el_wbxml_encoder e;
    el_wbxml_encoder_init(&e, out);
    el_wbxml_start(&e, EL_FH_FOLDERSYNC);
    el_wbxml_uint(&e, EL_FH_STATUS, 1);
    el_wbxml_text(&e, EL_FH_SYNCKEY, "{3f2a9c1e-7d4b-4e8a-b6c5-1a2b3c4d5e6f}1");
    el_wbxml_start(&e, EL_FH_CHANGES);
    el_wbxml_uint(&e, EL_FH_COUNT, EL_BENCH_FOLDERS);
    for (unsigned i = 0; i < EL_BENCH_FOLDERS; i++) {
        const struct el_bench_folder *f = &s->folders[i];
        el_wbxml_start(&e, EL_FH_ADD);
        el_wbxml_text(&e, EL_FH_SERVERID, f->server_id);
        el_wbxml_text(&e, EL_FH_PARENTID, f->parent_id);
        el_wbxml_text(&e, EL_FH_DISPLAYNAME, f->display_name);
        el_wbxml_uint(&e, EL_FH_TYPE, f->type);
        el_wbxml_end(&e);
    }
    el_wbxml_end(&e); /* Changes */
    el_wbxml_end(&e); /* FolderSync */
    return el_wbxml_encoder_finish(&e, err);
}

static int write_ping_request(struct el_buf *out, const struct el_bench_samples *s,
                              struct el_err *err)
{
    static const struct {
        const char *id;
        const char *cls;
    } watched[] = {{"2", "Email"}, {"7", "Calendar"}, {"8", "Contacts"}};
    (void)s;
    struct el_wbxml_encoder e;
    el_wbxml_encoder_init(&e, out);
    el_wbxml_start(&e, EL_PING_PING);
    el_wbxml_uint(&e, EL_PING_HEARTBEATINTERVAL, 470);
    el_wbxml_start(&e, EL_PING_FOLDERS);
    for (size_t i = 0; i < NELEM(watched); i++) {
        el_wbxml_start(&e, EL_PING_FOLDER);
        el_wbxml_text(&e, EL_PING_ID, watched[i].id);
        el_wbxml_text(&e, EL_PING_CLASS, watched[i].cls);
        el_wbxml_end(&e);
    }
    el_wbxml_end(&e); /* Folders */
    el_wbxml_end(&e); /* Ping */
    return el_wbxml_encoder_finish(&e, err);
}

static int write_ping_response(struct el_buf *out, const struct el_bench_samples *s,
                               struct el_err *err)
{
    (void)s;
    struct el_wbxml_encoder e;
    el_wbxml_encoder_init(&e, out);
    el_wbxml_start(&e, EL_PING_PING);
    el_wbxml_uint(&e, EL_PING_STATUS, 2);
    el_wbxml_start(&e, EL_PING_FOLDERS);
    el_wbxml_text(&e, EL_PING_FOLDER, "2");
    el_wbxml_end(&e); /* Folders */
    el_wbxml_end(&e); /* Ping */
    return el_wbxml_encoder_finish(&e, err);
}

const struct el_bench_msg_kind el_bench_msg_kinds[] = {
    {"sync50", write_sync_response},
    {"foldersync", write_foldersync_response},
    {"ping_req", write_ping_request},
    {"ping_resp", write_ping_response},
    {NULL, NULL},
};
