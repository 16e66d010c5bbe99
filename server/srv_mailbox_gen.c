/* srv_mailbox_gen.c - the deterministic mailbox generator: which items each folder gets (dates,
 * sizes, flags) and, on demand, their content (subjects, senders, calendar items with recurrence,
 * contacts, tasks, notes, body text). Content is a pure function of (seed, user, folder, item
 * number), so it is regenerated when needed instead of stored: a generated item costs only its
 * 40-byte slot.
 * Owns: nothing beyond what el__item_add stores. Uses: srv_int.h. */
#include "srv_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct rng {
    uint64_t s;
};

static uint64_t rnext(struct rng *r)
{
    r->s += 0x9E3779B97F4A7C15ull;
    uint64_t x = r->s;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static unsigned rbelow(struct rng *r, unsigned n)
{
    return (unsigned)(rnext(r) % n);
}

static double runit(struct rng *r)
{
    return (double)(rnext(r) >> 11) / 9007199254740992.0;
}

#define PICK(r, a) ((a)[rbelow((r), sizeof(a) / sizeof((a)[0]))])

static struct rng item_rng(const struct el_srv_state *st, uint32_t uidx, int fi, uint32_t gen,
                           uint64_t stream)
{
    struct rng r = {el__mix64(st->seed ^ el__mix64(((uint64_t)uidx << 24) ^ ((uint64_t)fi << 20) ^
                                                   gen ^ (stream << 56)))};
    return r;
}

static const char *g_first[] = {"Anna",  "Ben",   "Carla", "David", "Elena", "Farid", "Grace",
                                "Hiro",  "Ines",  "Jonas", "Kemal", "Laura", "Mateo", "Nadia",
                                "Oskar", "Priya", "Rosa",  "Sven",  "Tariq", "Wen",   "Zoe"};
static const char *g_last[] = {"Schmidt", "Garcia", "Nguyen", "Okafor", "Rossi", "Kowalski",
                               "Tanaka",  "Haddad", "Larsen", "Murphy", "Silva", "Novak",
                               "Fischer", "Dubois", "Patel",  "Cohen",  "Weber", "Singh"};
static const char *g_domain[] = {"contoso.test", "fabrikam.test", "northwind.test",
                                 "example.test", "adatum.test",   "litware.test"};
static const char *g_subject[] = {
    "Quarterly report draft",     "Lunch on Friday?",
    "Budget review for Q3",       "Invoice %u attached",
    "Meeting notes: design sync", "Travel plans for the conference",
    "Updated project timeline",   "Customer escalation #%u",
    "Welcome to the team",        "Server maintenance window",
    "Your order %u has shipped",  "Re: contract renewal",
    "Fwd: slides from yesterday", "Action items from the offsite",
    "Holiday schedule",           "Weekly status %u",
    "Release candidate %u ready", "Question about the API",
    "Expense report approval",    "Training session next week",
};
static const char *g_meeting[] = {"Sprint planning", "1:1",           "Architecture review",
                                  "Customer call",   "Team lunch",    "All hands",
                                  "Interview loop",  "Retrospective", "Vendor demo",
                                  "Roadmap workshop"};
static const char *g_place[] = {"Room 4.12",      "Building B, Aurora", "Teams meeting",
                                "Cafeteria",      "Conference room 2",  "Berlin office",
                                "Phone bridge 7", "Main auditorium"};
static const char *g_task[] = {"Review pull request",  "Book flights",      "Renew certificate",
                               "Prepare slides",       "Call the supplier", "Update the wiki",
                               "Submit timesheet",     "Plan team offsite", "Fix flaky test",
                               "Send invoice reminder"};
static const char *g_company[] = {"Contoso Ltd",    "Fabrikam Inc", "Northwind Traders",
                                  "Adatum Corp",    "Litware",      "Tailspin Toys",
                                  "Woodgrove Bank", "Proseware"};
static const char *g_title[] = {"Engineer",   "Sales Manager", "Director",     "Designer",
                                "Accountant", "Consultant",    "Support Lead", "CTO"};
static const char *g_city[] = {"Berlin", "Lisbon", "Osaka",  "Toronto",
                               "Lagos",  "Oslo",   "Austin", "Krakow"};
static const char *g_words[] = {
    "the",      "project", "team",    "update", "please", "review",  "attached",  "we",
    "should",   "meeting", "before",  "Friday", "budget", "numbers", "customer",  "release",
    "thanks",   "for",     "your",    "help",   "with",   "this",    "and",       "let",
    "me",       "know",    "if",      "you",    "have",   "any",     "questions", "about",
    "schedule", "next",    "week",    "report", "server", "quarter", "plan",      "draft",
    "agreed",   "follow",  "up",      "on",     "the",    "open",    "items",     "from",
    "today",    "call",    "regards", "a",      "new",    "version", "is",        "ready",
};

/* ---- generation of the item table -------------------------------------------------------- */

static unsigned folder_count(unsigned n, int fi)
{
    switch (fi) {
    case EL__F_INBOX:
        return n;
    case EL__F_DRAFTS:
        return 2;
    case EL__F_DELETED:
        return n / 5;
    case EL__F_SENT:
        return n / 2;
    case EL__F_OUTBOX:
        return 0;
    case EL__F_CALENDAR:
        return n / 2 > 4 ? n / 2 : 4;
    case EL__F_CONTACTS:
        return n / 2 > 4 ? n / 2 : 4;
    case EL__F_TASKS:
        return n / 5 > 3 ? n / 5 : 3;
    case EL__F_NOTES:
        return n / 10 > 2 ? n / 10 : 2;
    case EL__F_PROJECTS:
        return n / 5;
    default:
        return n / 2;
    }
}

#define HOUR_MS (3600000ll)
#define DAY_MS  (24 * HOUR_MS)

int el__mailbox_generate(struct el_srv_state *st, struct el__user *u, struct el__mailbox *mb)
{
    for (int fi = 0; fi < EL__NFOLDERS; fi++) {
        struct el__folder *f = &mb->f[fi];
        f->id = (uint32_t)fi + 1;
        f->in_use = 1;
        f->type = el__folder_defs[fi].type;
        f->cls = el__folder_defs[fi].cls;
        f->parent = el__folder_defs[fi].parent;
        f->hseq = 1;
        snprintf(f->name, sizeof(f->name), "%s", el__folder_defs[fi].name);
    }
    mb->hier_seq = 1;
    for (int fi = 0; fi < EL__NFOLDERS; fi++) {
        unsigned n = folder_count(st->items_per_folder, fi);
        int cls = el__folder_defs[fi].cls;
        for (unsigned j = 0; j < n; j++) {
            struct rng r = item_rng(st, u->idx, fi, j + 1, 0);
            struct el__item it;
            memset(&it, 0, sizeof(it));
            it.gen = j + 1;
            it.gen_folder = (uint8_t)fi;
            /* newest last: item j of n is (n - j) gaps of about 3.5 h old */
            int64_t age = (int64_t)(n - j) * (2 * HOUR_MS + (int64_t)rbelow(&r, 3 * HOUR_MS));
            if (fi == EL__F_ARCHIVE)
                age += 45 * DAY_MS;
            switch (cls) {
            case EL__CLS_EMAIL:
                it.date_ms = st->base_ms - age;
                it.body_bytes = (uint32_t)(1024.0 * pow(50.0, runit(&r)));
                if (j + 10 < n || fi != EL__F_INBOX || rbelow(&r, 3) == 0)
                    it.flags |= EL__IF_READ;
                if (fi == EL__F_SENT || fi == EL__F_DRAFTS)
                    it.flags |= EL__IF_READ;
                if (rbelow(&r, 20) == 0)
                    it.flags |= EL__IF_FLAGGED;
                if (rbelow(&r, 2) == 0)
                    it.flags |= EL__IF_HTML;
                if (fi == EL__F_INBOX && rbelow(&r, 12) == 0)
                    it.flags |= EL__IF_MEETREQ;
                break;
            case EL__CLS_CALENDAR:
                /* from 30 days back to 60 days ahead, on the half hour */
                it.date_ms = st->base_ms - 30 * DAY_MS + (int64_t)rbelow(&r, 180) * 12 * HOUR_MS +
                             9 * HOUR_MS;
                it.date_ms -= it.date_ms % (30 * 60000);
                it.body_bytes = 200 + rbelow(&r, 2000);
                if (rbelow(&r, 5) == 0)
                    it.flags |= EL__IF_RECUR;
                break;
            case EL__CLS_CONTACTS:
                it.date_ms = st->base_ms - (int64_t)rbelow(&r, 400) * DAY_MS;
                it.body_bytes = rbelow(&r, 3) == 0 ? 100 + rbelow(&r, 400) : 0;
                break;
            case EL__CLS_TASKS:
                it.date_ms = st->base_ms + ((int64_t)rbelow(&r, 40) - 10) * DAY_MS;
                it.body_bytes = 100 + rbelow(&r, 800);
                if (rbelow(&r, 5) < 2)
                    it.flags |= EL__IF_COMPLETE;
                break;
            default:
                it.date_ms = st->base_ms - age;
                it.body_bytes = 100 + rbelow(&r, 1500);
                break;
            }
            if (el__item_add(st, u, fi, &it, NULL, NULL, 0, 0) < 0)
                return EL_ENOMEM;
        }
    }
    return 0;
}

/* ---- generated content --------------------------------------------------------------------- */

/* Calendar fields of ms since the epoch, each cut to its width (keeps the formats in bounds). */
static void fields(int64_t ms, unsigned f[7])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    f[0] = (unsigned)(tm.tm_year + 1900) % 10000u;
    f[1] = (unsigned)(tm.tm_mon + 1) % 100u;
    f[2] = (unsigned)tm.tm_mday % 100u;
    f[3] = (unsigned)tm.tm_hour % 100u;
    f[4] = (unsigned)tm.tm_min % 100u;
    f[5] = (unsigned)tm.tm_sec % 100u;
    f[6] = (unsigned)((ms % 1000 + 1000) % 1000);
}

void el__fmt_date(char out[32], int64_t ms)
{
    unsigned f[7];
    fields(ms, f);
    snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", f[0], f[1], f[2], f[3], f[4], f[5],
             f[6] % 1000u);
}

void el__fmt_compact(char out[32], int64_t ms)
{
    unsigned f[7];
    fields(ms, f);
    snprintf(out, 32, "%04u%02u%02uT%02u%02u%02uZ", f[0], f[1], f[2], f[3], f[4], f[5]);
}

/* base64 of a 172-byte all-zero TIME_ZONE_INFORMATION (UTC) */
static void utc_timezone(char out[240])
{
    size_t n = 0;
    for (int i = 0; i < 57; i++) {
        memcpy(out + n, "AAAA", 4);
        n += 4;
    }
    memcpy(out + n, "AA==", 4);
    n += 4;
    out[n] = 0;
}

struct person {
    char name[64];
    char addr[96];
};

static void gen_person(struct rng *r, struct person *p)
{
    const char *f = PICK(r, g_first), *l = PICK(r, g_last), *d = PICK(r, g_domain);
    snprintf(p->name, sizeof(p->name), "%s %s", f, l);
    char lf[32], ll[32];
    size_t i;
    for (i = 0; f[i] && i < sizeof(lf) - 1; i++)
        lf[i] = (char)(f[i] | 0x20);
    lf[i] = 0;
    for (i = 0; l[i] && i < sizeof(ll) - 1; i++)
        ll[i] = (char)(l[i] | 0x20);
    ll[i] = 0;
    snprintf(p->addr, sizeof(p->addr), "%s.%s@%s", lf, ll, d);
}

static void gen_subject(struct rng *r, char *out, size_t size)
{
    const char *t = PICK(r, g_subject);
    unsigned v = 1000 + rbelow(r, 9000);
    if (strstr(t, "%u"))
        snprintf(out, size,
                 t[0] == 'I'   ? "Invoice %u attached"
                 : t[0] == 'C' ? "Customer escalation #%u"
                 : t[0] == 'Y' ? "Your order %u has shipped"
                 : t[0] == 'W' ? "Weekly status %u"
                               : "Release candidate %u ready",
                 v % 100);
    else
        snprintf(out, size, "%s", t);
}

static void owner_display(const struct el__user *u, char *out, size_t size)
{
    snprintf(out, size, "%s %s", u->first, u->last);
}

static void gen_email(const struct el_srv_state *st, const struct el__user *u, int fi,
                      const struct el__item *it, struct el__props *pb)
{
    struct rng r = item_rng(st, u->idx, it->gen_folder, it->gen, 1);
    struct person p;
    gen_person(&r, &p);
    char subj[128], me[80], date[32];
    gen_subject(&r, subj, sizeof(subj));
    owner_display(u, me, sizeof(me));
    el__fmt_date(date, it->date_ms);
    int outgoing = it->gen_folder == EL__F_SENT || it->gen_folder == EL__F_DRAFTS;
    (void)fi;
    if (outgoing) {
        el__props_fmt(pb, EL_EMAIL_TO, "\"%s\" <%s>", p.name, p.addr);
        el__props_fmt(pb, EL_EMAIL_FROM, "\"%s\" <%s>", me, u->pub.email);
    } else {
        el__props_fmt(pb, EL_EMAIL_TO, "\"%s\" <%s>", me, u->pub.email);
        el__props_fmt(pb, EL_EMAIL_FROM, "\"%s\" <%s>", p.name, p.addr);
    }
    el__props_str(pb, EL_EMAIL_SUBJECT, subj);
    el__props_str(pb, EL_EMAIL_DATERECEIVED, date);
    el__props_str(pb, EL_EMAIL_DISPLAYTO, outgoing ? p.name : me);
    el__props_str(pb, EL_EMAIL_THREADTOPIC, subj);
    el__props_str(pb, EL_EMAIL_IMPORTANCE, rbelow(&r, 10) == 0 ? "2" : "1");
    el__props_str(pb, EL_EMAIL_READ, "0"); /* placeholder: rendered from the item's flags */
    el__props_empty(pb, EL_ASB_BODY);      /* placeholder: the body goes here */
    if (it->flags & EL__IF_MEETREQ) {
        char st_s[32], en_s[32], stamp[32];
        int64_t start = it->date_ms + 2 * DAY_MS;
        start -= start % (30 * 60000);
        el__fmt_date(st_s, start);
        el__fmt_date(en_s, start + HOUR_MS);
        el__fmt_date(stamp, it->date_ms);
        el__props_str(pb, EL_EMAIL_MESSAGECLASS, "IPM.Schedule.Meeting.Request");
        el__props_open(pb, EL_EMAIL_MEETINGREQUEST);
        el__props_str(pb, EL_EMAIL_ALLDAYEVENT, "0");
        el__props_str(pb, EL_EMAIL_STARTTIME, st_s);
        el__props_str(pb, EL_EMAIL_DTSTAMP, stamp);
        el__props_str(pb, EL_EMAIL_ENDTIME, en_s);
        el__props_str(pb, EL_EMAIL_INSTANCETYPE, "0");
        el__props_str(pb, EL_EMAIL_LOCATION, PICK(&r, g_place));
        el__props_vmask(pb, EL__PV_MAX141);
        el__props_fmt(pb, EL_EMAIL_ORGANIZER, "\"%s\" <%s>", p.name, p.addr);
        el__props_str(pb, EL_EMAIL_REMINDER, "900");
        el__props_str(pb, EL_EMAIL_RESPONSEREQUESTED, "1");
        el__props_str(pb, EL_EMAIL_SENSITIVITY, "0");
        el__props_str(pb, EL_EMAIL_BUSYSTATUS, "2");
        char tz[240];
        utc_timezone(tz);
        el__props_str(pb, EL_EMAIL_TIMEZONE, tz);
        el__props_fmt(pb, EL_EMAIL_GLOBALOBJID,
                      "BAAAAIIA4AB0xbcQGoLgCAAAAAAAAAAAAAAAAAAAAAAAAAAAMQAA"
                      "AHZDYWwtVWlkAQAAAGVsLSV1LSV1AA%08X",
                      (unsigned)(el__mix64(it->gen ^ ((uint64_t)u->idx << 32)) & 0xFFFFFFFFu));
        el__props_vmask(pb, EL__PV_MAX141);
        el__props_close(pb);
    } else {
        el__props_str(pb, EL_EMAIL_MESSAGECLASS, "IPM.Note");
    }
    el__props_str(pb, EL_EMAIL_INTERNETCPID, "65001");
    el__props_empty(pb, EL_EMAIL_FLAG); /* placeholder: rendered from the item's flags */
    el__props_str(pb, EL_EMAIL_CONTENTCLASS, "urn:content-classes:message");
    el__props_str(pb, EL_ASB_NATIVEBODYTYPE, (it->flags & EL__IF_HTML) ? "2" : "1");
    uint8_t conv[16];
    uint64_t h1 = el__hash(subj, strlen(subj), st->seed), h2 = el__mix64(h1);
    memcpy(conv, &h1, 8);
    memcpy(conv + 8, &h2, 8);
    el__props_opaque(pb, EL_EMAIL2_CONVERSATIONID, conv, sizeof(conv));
    el__props_vmask(pb, EL__PV_MIN140);
    el__props_opaque(pb, EL_EMAIL2_CONVERSATIONINDEX, conv, 5);
    el__props_vmask(pb, EL__PV_MIN140);
}

static void gen_calendar(const struct el_srv_state *st, const struct el__user *u,
                         const struct el__item *it, struct el__props *pb)
{
    struct rng r = item_rng(st, u->idx, it->gen_folder, it->gen, 1);
    struct person org;
    gen_person(&r, &org);
    char tz[240], s[32], e[32], stamp[32], me[80];
    utc_timezone(tz);
    int64_t dur = (int64_t)(1 + rbelow(&r, 4)) * 30 * 60000;
    el__fmt_compact(s, it->date_ms);
    el__fmt_compact(e, it->date_ms + dur);
    el__fmt_compact(stamp, it->date_ms - 7 * DAY_MS);
    owner_display(u, me, sizeof(me));
    int meeting = rbelow(&r, 2);
    const char *subj = PICK(&r, g_meeting);
    const char *place = PICK(&r, g_place);
    el__props_str(pb, EL_CAL_TIMEZONE, tz);
    el__props_str(pb, EL_CAL_ALLDAYEVENT, "0");
    el__props_empty(pb, EL_ASB_BODY);
    el__props_str(pb, EL_CAL_BUSYSTATUS, "2");
    el__props_str(pb, EL_CAL_ORGANIZERNAME, meeting ? org.name : me);
    el__props_str(pb, EL_CAL_ORGANIZEREMAIL, meeting ? org.addr : u->pub.email);
    el__props_str(pb, EL_CAL_DTSTAMP, stamp);
    el__props_str(pb, EL_CAL_ENDTIME, e);
    el__props_str(pb, EL_CAL_LOCATION, place);
    el__props_vmask(pb, EL__PV_MAX141);
    el__props_open(pb, EL_ASB_LOCATION);
    el__props_vmask(pb, EL__PV_MIN160);
    el__props_str(pb, EL_ASB_DISPLAYNAME, place);
    el__props_vmask(pb, EL__PV_MIN160);
    el__props_close(pb);
    el__props_vmask(pb, EL__PV_MIN160);
    el__props_str(pb, EL_CAL_REMINDER, "15");
    el__props_str(pb, EL_CAL_SENSITIVITY, "0");
    el__props_str(pb, EL_CAL_SUBJECT, subj);
    el__props_str(pb, EL_CAL_STARTTIME, s);
    el__props_fmt(pb, EL_CAL_UID, "%016llX%08X", (unsigned long long)el__mix64(st->seed ^ it->gen),
                  u->idx);
    el__props_str(pb, EL_CAL_MEETINGSTATUS, meeting ? "3" : "0");
    if (meeting) {
        el__props_open(pb, EL_CAL_ATTENDEES);
        el__props_open(pb, EL_CAL_ATTENDEE);
        el__props_str(pb, EL_CAL_EMAIL, u->pub.email);
        el__props_str(pb, EL_CAL_NAME, me);
        el__props_str(pb, EL_CAL_ATTENDEETYPE, "1");
        el__props_close(pb);
        unsigned more = rbelow(&r, 4);
        for (unsigned i = 0; i < more; i++) {
            struct person a;
            gen_person(&r, &a);
            el__props_open(pb, EL_CAL_ATTENDEE);
            el__props_str(pb, EL_CAL_EMAIL, a.addr);
            el__props_str(pb, EL_CAL_NAME, a.name);
            el__props_str(pb, EL_CAL_ATTENDEETYPE, "1");
            el__props_close(pb);
        }
        el__props_close(pb);
    }
    if (it->flags & EL__IF_RECUR) {
        static const char *dow[] = {"2", "4", "8", "16", "32", "62"};
        el__props_open(pb, EL_CAL_RECURRENCE);
        unsigned kind = rbelow(&r, 3);
        if (kind == 0) { /* daily, 10 times */
            el__props_str(pb, EL_CAL_TYPE, "0");
            el__props_str(pb, EL_CAL_INTERVAL, "1");
            el__props_str(pb, EL_CAL_OCCURRENCES, "10");
        } else if (kind == 1) { /* weekly on a weekday, until 3 months out */
            char until[32];
            el__fmt_compact(until, it->date_ms + 90 * DAY_MS);
            el__props_str(pb, EL_CAL_TYPE, "1");
            el__props_str(pb, EL_CAL_INTERVAL, "1");
            el__props_str(pb, EL_CAL_DAYOFWEEK, PICK(&r, dow));
            el__props_str(pb, EL_CAL_UNTIL, until);
        } else { /* monthly on a day, 12 times */
            el__props_str(pb, EL_CAL_TYPE, "2");
            el__props_str(pb, EL_CAL_INTERVAL, "1");
            el__props_fmt(pb, EL_CAL_DAYOFMONTH, "%u", 1 + rbelow(&r, 28));
            el__props_str(pb, EL_CAL_OCCURRENCES, "12");
        }
        el__props_close(pb);
    }
    el__props_str(pb, EL_ASB_NATIVEBODYTYPE, "1");
    el__props_empty(pb, EL_CAL_RESPONSETYPE); /* placeholder: from reply_status */
    el__props_vmask(pb, EL__PV_MIN140);
}

static void gen_contact(const struct el_srv_state *st, const struct el__user *u,
                        const struct el__item *it, struct el__props *pb)
{
    struct rng r = item_rng(st, u->idx, it->gen_folder, it->gen, 1);
    const char *f = PICK(&r, g_first), *l = PICK(&r, g_last), *co = PICK(&r, g_company);
    struct person p;
    gen_person(&r, &p);
    el__props_fmt(pb, EL_CONTACTS_FILEAS, "%s, %s", l, f);
    el__props_str(pb, EL_CONTACTS_FIRSTNAME, f);
    el__props_str(pb, EL_CONTACTS_LASTNAME, l);
    el__props_str(pb, EL_CONTACTS_COMPANYNAME, co);
    el__props_str(pb, EL_CONTACTS_JOBTITLE, PICK(&r, g_title));
    el__props_fmt(pb, EL_CONTACTS_EMAIL1ADDRESS, "\"%s %s\" <%s>", f, l, p.addr);
    el__props_fmt(pb, EL_CONTACTS_BUSINESSPHONENUMBER, "+49 30 %07u", rbelow(&r, 10000000));
    el__props_fmt(pb, EL_CONTACTS_MOBILEPHONENUMBER, "+49 170 %07u", rbelow(&r, 10000000));
    el__props_str(pb, EL_CONTACTS_BUSINESSADDRESSCITY, PICK(&r, g_city));
    if (rbelow(&r, 3) == 0) {
        char bd[32];
        el__fmt_date(bd, (int64_t)(rbelow(&r, 12000) + 3650) * DAY_MS);
        el__props_str(pb, EL_CONTACTS_BIRTHDAY, bd);
    }
    if (it->body_bytes)
        el__props_empty(pb, EL_ASB_BODY);
}

static void gen_task(const struct el_srv_state *st, const struct el__user *u,
                     const struct el__item *it, struct el__props *pb)
{
    struct rng r = item_rng(st, u->idx, it->gen_folder, it->gen, 1);
    char due[32], start[32], done[32];
    el__fmt_date(due, it->date_ms - it->date_ms % DAY_MS);
    el__fmt_date(start, it->date_ms - it->date_ms % DAY_MS - 3 * DAY_MS);
    el__props_empty(pb, EL_ASB_BODY);
    el__props_str(pb, EL_TASKS_SUBJECT, PICK(&r, g_task));
    el__props_fmt(pb, EL_TASKS_IMPORTANCE, "%u", rbelow(&r, 3));
    el__props_str(pb, EL_TASKS_UTCSTARTDATE, start);
    el__props_str(pb, EL_TASKS_STARTDATE, start);
    el__props_str(pb, EL_TASKS_UTCDUEDATE, due);
    el__props_str(pb, EL_TASKS_DUEDATE, due);
    el__props_str(pb, EL_TASKS_COMPLETE, (it->flags & EL__IF_COMPLETE) ? "1" : "0");
    if (it->flags & EL__IF_COMPLETE) {
        el__fmt_date(done, it->date_ms - DAY_MS);
        el__props_str(pb, EL_TASKS_DATECOMPLETED, done);
    }
    el__props_str(pb, EL_TASKS_SENSITIVITY, "0");
    el__props_str(pb, EL_TASKS_REMINDERSET, "0");
}

static void gen_note(const struct el_srv_state *st, const struct el__user *u,
                     const struct el__item *it, struct el__props *pb)
{
    struct rng r = item_rng(st, u->idx, it->gen_folder, it->gen, 1);
    char date[32];
    el__fmt_date(date, it->date_ms);
    el__props_fmt(pb, EL_NOTES_SUBJECT, "Note: %s", PICK(&r, g_task));
    el__props_empty(pb, EL_ASB_BODY);
    el__props_str(pb, EL_NOTES_MESSAGECLASS, "IPM.StickyNote");
    el__props_str(pb, EL_NOTES_LASTMODIFIEDDATE, date);
}

void el__item_props(struct el_srv_state *st, const struct el__user *u, int fi,
                    const struct el__item *it, struct el__props *pb)
{
    el__props_reset(pb);
    if (it->own) {
        const struct el__owned *o = it->own;
        unsigned n = o->nprops < EL__PROPS_MAX ? o->nprops : EL__PROPS_MAX;
        memcpy(pb->p, o->props, n * sizeof(struct el__prop));
        pb->n = n;
        size_t sl = o->slen < EL__PROPS_STR_MAX ? o->slen : EL__PROPS_STR_MAX;
        memcpy(pb->s, o->str, sl);
        pb->slen = sl;
        return;
    }
    switch (it->cls) {
    case EL__CLS_EMAIL:
        gen_email(st, u, fi, it, pb);
        break;
    case EL__CLS_CALENDAR:
        gen_calendar(st, u, it, pb);
        break;
    case EL__CLS_CONTACTS:
        gen_contact(st, u, it, pb);
        break;
    case EL__CLS_TASKS:
        gen_task(st, u, it, pb);
        break;
    default:
        gen_note(st, u, it, pb);
        break;
    }
}

/* ---- body text ----------------------------------------------------------------------------- */

void el__gen_text(const struct el_srv_state *st, const struct el__user *u,
                  const struct el__item *it, struct el_buf *out, size_t limit)
{
    size_t total = it->body_bytes < limit ? it->body_bytes : limit;
    if (total == 0 || el_buf_reserve(out, total) < 0)
        return;
    struct rng r = item_rng(st, u->idx, it->gen_folder, it->gen, 2);
    uint8_t *p = out->data + out->len;
    size_t n = 0;
    unsigned words = 0;
    while (n < total) {
        const char *w = PICK(&r, g_words);
        size_t wl = strlen(w);
        for (size_t i = 0; i < wl && n < total; i++)
            p[n++] = (uint8_t)w[i];
        if (++words % 14 == 0) {
            if (n < total)
                p[n++] = '\r';
            if (n < total)
                p[n++] = '\n';
        } else if (n < total) {
            p[n++] = ' ';
        }
    }
    out->len += n;
}

/* ---- attachments --------------------------------------------------------------------------- */

static const struct {
    const char *name, *type;
} g_att[] = {
    {"report.pdf", "application/pdf"},
    {"photo.jpg", "image/jpeg"},
    {"budget.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"notes.txt", "text/plain"},
    {"slides.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"invoice.pdf", "application/pdf"},
    {"screenshot.png", "image/png"},
};

unsigned el__item_attachments(const struct el_srv_state *st, const struct el__user *u,
                              const struct el__item *it, struct el__att out[EL__ATT_MAX])
{
    if (it->own || it->cls != EL__CLS_EMAIL || (it->flags & EL__IF_MEETREQ))
        return 0;
    struct rng r = item_rng(st, u->idx, it->gen_folder, it->gen, 3);
    if (rbelow(&r, 5) != 0) /* one mail in five has attachments */
        return 0;
    unsigned n = 1 + rbelow(&r, EL__ATT_MAX);
    for (unsigned i = 0; i < n; i++) {
        unsigned k = rbelow(&r, sizeof(g_att) / sizeof(g_att[0]));
        out[i].name = g_att[k].name;
        out[i].content_type = g_att[k].type;
        out[i].size = (uint32_t)(5120.0 * pow(100.0, runit(&r))); /* 5 KB - 500 KB */
        out[i].seed = rnext(&r);
    }
    return n;
}

int el__att_base64(const struct el__att *a, struct el_buf *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t need = ((size_t)a->size + 2) / 3 * 4;
    int rc = el_buf_reserve(out, need);
    if (rc < 0)
        return rc;
    struct rng r = {a->seed};
    uint8_t *p = out->data + out->len;
    uint64_t bits = 0;
    unsigned have = 0;
    for (uint32_t i = 0; i < a->size; i += 3) {
        uint8_t b[3];
        for (int j = 0; j < 3; j++) {
            if (have == 0) {
                bits = rnext(&r);
                have = 8;
            }
            b[j] = (uint8_t)bits;
            bits >>= 8;
            have--;
        }
        uint32_t left = a->size - i;
        uint32_t v =
            (uint32_t)b[0] << 16 | (left > 1 ? (uint32_t)b[1] << 8 : 0) | (left > 2 ? b[2] : 0);
        *p++ = (uint8_t)tbl[v >> 18];
        *p++ = (uint8_t)tbl[(v >> 12) & 63];
        *p++ = left > 1 ? (uint8_t)tbl[(v >> 6) & 63] : '=';
        *p++ = left > 2 ? (uint8_t)tbl[v & 63] : '=';
    }
    out->len += need;
    return 0;
}

int el__att_bytes(const struct el__att *a, struct el_buf *out)
{
    int rc = el_buf_reserve(out, a->size);
    if (rc < 0)
        return rc;
    struct rng r = {a->seed};
    uint8_t *p = out->data + out->len;
    uint64_t bits = 0;
    unsigned have = 0;
    /* the same byte stream el__att_base64 encodes */
    for (uint32_t i = 0; i < a->size; i++) {
        if (have == 0) {
            bits = rnext(&r);
            have = 8;
        }
        p[i] = (uint8_t)bits;
        bits >>= 8;
        have--;
    }
    out->len += a->size;
    return 0;
}

void el__att_ref(char out[40], int fi, uint32_t ii, unsigned n)
{
    snprintf(out, 40, "A%d:%u:%u", fi + 1, ii + 1, n);
}

int el__att_parse_ref(const struct el__mailbox *mb, const char *ref, int *fi, uint32_t *ii,
                      unsigned *n)
{
    if (ref[0] != 'A')
        return -1;
    const char *last = strrchr(ref, ':');
    if (last == NULL || last == ref || last[1] < '0' || last[1] > '9' || last[2] != 0)
        return -1;
    char sid[40];
    size_t len = (size_t)(last - ref - 1);
    if (len >= sizeof(sid))
        return -1;
    memcpy(sid, ref + 1, len);
    sid[len] = 0;
    if (el__item_parse_id(mb, sid, fi, ii) < 0)
        return -1;
    *n = (unsigned)(last[1] - '0');
    return 0;
}
