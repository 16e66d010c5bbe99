/* srv_cmd_meeting.c - MeetingResponse: accept (1), tentative (2) or decline (3) a meeting request
 * in a mail folder (found by CollectionId + RequestId, or search:LongId) or a calendar item.
 * Accepting a request puts the meeting in the Calendar (its ServerId is the CalendarId) and
 * removes the request from the Inbox, as Exchange does; declining removes it (no CalendarId).
 * Result Status: 1 OK, 2 invalid request (unknown item, not a meeting, bad UserResponse).
 * Owns: nothing. Uses: srv_int.h. */
#include "srv_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* "2026-11-25T09:00:00.000Z" -> "20261125T090000Z" */
static void to_compact(const char *iso, char out[32])
{
    int y, mo, d, h, mi, s;
    if (iso && sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) == 6)
        snprintf(out, 32, "%04d%02d%02dT%02d%02d%02dZ", y, mo, d, h, mi, s);
    else
        snprintf(out, 32, "%s", iso ? iso : "");
}

/* The calendar item for an accepted meeting request, from the request's own properties. */
static long accept_into_calendar(struct el__ctx *c, int fi, const struct el__item *req,
                                 unsigned resp)
{
    struct el__props *pb = &c->scratch;
    el__item_props(c->st, c->u, fi, req, pb);
    char subj[256], loc[256], org[256], tz[256], st_c[32], en_c[32], stamp[32], uid[160];
    const char *v;
    snprintf(subj, sizeof(subj), "%s", (v = el__props_get(pb, EL_EMAIL_SUBJECT, NULL)) ? v : "");
    snprintf(loc, sizeof(loc), "%s", (v = el__props_get(pb, EL_EMAIL_LOCATION, NULL)) ? v : "");
    snprintf(org, sizeof(org), "%s", (v = el__props_get(pb, EL_EMAIL_ORGANIZER, NULL)) ? v : "");
    snprintf(tz, sizeof(tz), "%s", (v = el__props_get(pb, EL_EMAIL_TIMEZONE, NULL)) ? v : "");
    snprintf(uid, sizeof(uid), "%s", (v = el__props_get(pb, EL_EMAIL_GLOBALOBJID, NULL)) ? v : "");
    to_compact(el__props_get(pb, EL_EMAIL_STARTTIME, NULL), st_c);
    to_compact(el__props_get(pb, EL_EMAIL_ENDTIME, NULL), en_c);
    to_compact(el__props_get(pb, EL_EMAIL_DTSTAMP, NULL), stamp);
    struct el__item tmpl;
    memset(&tmpl, 0, sizeof(tmpl));
    int y, mo, d, h, mi, s;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(st_c, "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &s) == 6) {
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = s;
        tmpl.date_ms = (int64_t)timegm(&tm) * 1000;
    }
    tmpl.reply_status = (uint8_t)resp;
    el__props_reset(pb);
    if (tz[0])
        el__props_str(pb, EL_CAL_TIMEZONE, tz);
    el__props_str(pb, EL_CAL_ALLDAYEVENT, "0");
    el__props_str(pb, EL_CAL_BUSYSTATUS, resp == 2 ? "1" : "2");
    el__props_str(pb, EL_CAL_ORGANIZEREMAIL, org);
    el__props_str(pb, EL_CAL_DTSTAMP, stamp);
    el__props_str(pb, EL_CAL_ENDTIME, en_c);
    el__props_str(pb, EL_CAL_LOCATION, loc);
    el__props_vmask(pb, EL__PV_MAX141);
    el__props_str(pb, EL_CAL_REMINDER, "15");
    el__props_str(pb, EL_CAL_SENSITIVITY, "0");
    el__props_str(pb, EL_CAL_SUBJECT, subj);
    el__props_str(pb, EL_CAL_STARTTIME, st_c);
    el__props_str(pb, EL_CAL_UID, uid);
    el__props_str(pb, EL_CAL_MEETINGSTATUS, "3");
    el__props_empty(pb, EL_CAL_RESPONSETYPE);
    el__props_vmask(pb, EL__PV_MIN140);
    return el__item_add(c->st, c->u, EL__F_CALENDAR, &tmpl, pb, NULL, 0, 0);
}

int el__cmd_meetingresponse(struct el__ctx *c)
{
    const struct el__tree *t = &c->t;
    struct el_wbxml_encoder *e = &c->enc;
    el__begin(c);
    for (uint32_t k = t->n[c->root].child; k; k = t->n[k].next) {
        if (t->n[k].tag != EL_MR_REQUEST)
            continue;
        char rid[72] = "", lid[72] = "", cid[72] = "", cal[24] = "";
        int bad = 0;
        unsigned long resp = el__child_uint(t, k, EL_MR_USERRESPONSE, 0, &bad);
        el__child_text(t, k, EL_MR_REQUESTID, rid, sizeof(rid));
        el__child_text(t, k, EL_SEARCH_LONGID, lid, sizeof(lid));
        el__child_text(t, k, EL_MR_COLLECTIONID, cid, sizeof(cid));
        int fi = -1;
        uint32_t ii = 0;
        int found = lid[0] ? el__item_parse_longid(c->u->mb, lid, &fi, &ii)
                           : el__item_parse_id(c->u->mb, rid, &fi, &ii);
        if (found == 0 && !lid[0] && el__folder_lookup(c->u->mb, cid, strlen(cid)) != fi)
            found = -1;
        unsigned status = 2;
        if (found == 0 && !bad && resp >= 1 && resp <= 3) {
            struct el__item *it = &c->u->mb->f[fi].items[ii];
            if (it->cls == EL__CLS_CALENDAR) {
                status = 1;
                if (resp == 3) {
                    el__item_delete(c->st, c->u, fi, ii);
                } else {
                    it->reply_status = (uint8_t)resp;
                    el__item_touch(c->st, c->u, fi, ii);
                    el__item_id(cal, fi, ii);
                }
            } else if (it->cls == EL__CLS_EMAIL && (it->flags & EL__IF_MEETREQ)) {
                status = 1;
                if (resp != 3) {
                    long ci = accept_into_calendar(c, fi, it, (unsigned)resp);
                    if (ci < 0)
                        return EL_ENOMEM;
                    el__item_id(cal, EL__F_CALENDAR, (uint32_t)ci);
                }
                el__item_delete(c->st, c->u, fi, ii);
            }
        }
        if (status != 1)
            el__reason(c, "MeetingResponse %s: invalid request", lid[0] ? lid : rid);
        el_wbxml_start(e, EL_MR_RESULT);
        if (lid[0])
            el_wbxml_text(e, EL_SEARCH_LONGID, lid);
        else
            el_wbxml_text(e, EL_MR_REQUESTID, rid);
        el_wbxml_uint(e, EL_MR_STATUS, status);
        if (status == 1 && cal[0])
            el_wbxml_text(e, EL_MR_CALENDARID, cal);
        el_wbxml_end(e);
    }
    return el__finish(c);
}
