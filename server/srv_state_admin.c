/* srv_state_admin.c - the admin operations behind the admin HTTP API: deliver a mail, request a
 * (account-only) remote wipe, bump the policy, the EAS side's knobs (partnership limit, mailbox
 * quota), and the JSON state dump (counters, per-device policy and sync state).
 * Owns: nothing. Uses: srv_int.h. Each call takes the state mutex. */
#include "srv_int.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#define DELIVER_MAX_BYTES ((size_t)16 << 20)

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int el_srv_admin_deliver(struct el_srv_state *st, const char *user, const char *subject,
                         const char *from, size_t body_bytes, struct el_err *err)
{
    if (user == NULL)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "deliver: no user");
    if (body_bytes > DELIVER_MAX_BYTES)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "deliver: body of %zu bytes, at most %zu",
                      body_bytes, DELIVER_MAX_BYTES);
    pthread_mutex_lock(&st->mu);
    el__state_changed(st);
    int rc = 0;
    struct el_buf mime;
    el_buf_init(&mime, DELIVER_MAX_BYTES + 4096);
    struct el__props *pb = NULL;
    struct el__user *u = el__user_by_name(st, user, strlen(user));
    if (u == NULL)
        u = el__user_by_mail(st, user, strlen(user));
    if (u == NULL) {
        rc = EL_ERR(err, EL_EUNKNOWN, EL_NO_OFFSET, "deliver: unknown user \"%s\"", user);
        goto fail;
    }
    if (el__mailbox_get(st, u) == NULL) {
        rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "deliver: out of memory");
        goto fail;
    }
    pb = malloc(sizeof(*pb));
    if (pb == NULL) {
        rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "deliver: out of memory");
        goto fail;
    }
    int64_t now = wall_ms();
    char date[32], to[160], subj[256], fr[256];
    el__fmt_date(date, now);
    snprintf(to, sizeof(to), "\"%s %s\" <%s>", u->first, u->last, u->pub.email);
    snprintf(subj, sizeof(subj), "%s",
             subject && subject[0] ? subject : "Delivered by the admin API");
    snprintf(fr, sizeof(fr), "%s", from && from[0] ? from : "\"Admin\" <admin@example.test>");
    /* a small RFC 822 message whose text is body_bytes of filler */
    char hdr[1024];
    int hl = snprintf(hdr, sizeof(hdr),
                      "From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=\"utf-8\"\r\n\r\n",
                      fr, to, subj);
    if (el_buf_append(&mime, hdr, (size_t)hl) < 0 || el_buf_reserve(&mime, body_bytes) < 0) {
        rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "deliver: out of memory");
        goto fail;
    }
    static const char filler[] = "This message was delivered by the easload admin API. ";
    for (size_t i = 0; i < body_bytes; i++)
        mime.data[mime.len++] = (uint8_t)filler[i % (sizeof(filler) - 1)];
    char display[128];
    snprintf(display, sizeof(display), "%s %s", u->first, u->last);
    el__props_mail(pb, to, NULL, fr, subj, date, display);
    struct el__item tmpl;
    memset(&tmpl, 0, sizeof(tmpl));
    tmpl.date_ms = now;
    if (el__item_add(st, u, EL__F_INBOX, &tmpl, pb, mime.data, mime.len, 1) < 0)
        rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "deliver: out of memory");
fail:
    pthread_mutex_unlock(&st->mu);
    free(pb);
    el_buf_close(&mime);
    return rc;
}

int el_srv_admin_wipe(struct el_srv_state *st, const char *user, const char *device_id,
                      int account_only, struct el_err *err)
{
    if (user == NULL || device_id == NULL)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "wipe: user and device id are required");
    pthread_mutex_lock(&st->mu);
    el__state_changed(st);
    int rc = 0;
    struct el__user *u = el__user_by_name(st, user, strlen(user));
    struct el__device *d = u ? el__device_find(u, device_id) : NULL;
    if (u == NULL)
        rc = EL_ERR(err, EL_EUNKNOWN, EL_NO_OFFSET, "wipe: unknown user \"%s\"", user);
    else if (d == NULL)
        rc = EL_ERR(err, EL_EUNKNOWN, EL_NO_OFFSET, "wipe: user %s has no device \"%s\"", user,
                    device_id);
    else {
        d->wipe = account_only ? 2 : 1;
        el__watch_replace(st, u, d->id); /* a parked Ping returns; the next command gets 140 */
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}

int el_srv_admin_policy_bump(struct el_srv_state *st, struct el_err *err)
{
    (void)err;
    pthread_mutex_lock(&st->mu);
    el__state_changed(st);
    st->policy_version++;
    pthread_mutex_unlock(&st->mu);
    return 0;
}

void el_srv_admin_get_limits(struct el_srv_state *st, struct el_srv_eas_limits *out)
{
    pthread_mutex_lock(&st->mu);
    el__state_changed(st);
    out->max_devices = st->max_devices;
    out->mailbox_quota_bytes = st->quota_bytes;
    pthread_mutex_unlock(&st->mu);
}

void el_srv_admin_set_limits(struct el_srv_state *st, const struct el_srv_eas_limits *in)
{
    pthread_mutex_lock(&st->mu);
    el__state_changed(st);
    st->max_devices = in->max_devices;
    st->quota_bytes = in->mailbox_quota_bytes;
    pthread_mutex_unlock(&st->mu);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void json_str(struct el_buf *out, const char *s)
{
    el_buf_putc(out, '"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            el_buf_putc(out, '\\');
            el_buf_putc(out, ch);
        } else if (ch < 0x20) {
            char esc[8];
            snprintf(esc, sizeof(esc), "\\u%04x", ch);
            el_buf_append(out, esc, 6);
        } else {
            el_buf_putc(out, ch);
        }
    }
    el_buf_putc(out, '"');
}

static void json_fmt(struct el_buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void json_fmt(struct el_buf *out, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        el_buf_append(out, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void json_device(struct el_srv_state *st, const struct el__user *u,
                        const struct el__device *d, struct el_buf *out)
{
    el_buf_append(out, "{\"user\":", 8);
    json_str(out, u->pub.name);
    el_buf_append(out, ",\"device_id\":", 13);
    json_str(out, d->id);
    el_buf_append(out, ",\"device_type\":", 15);
    json_str(out, d->type);
    json_fmt(out,
             ",\"provisioned\":%s,\"policy_key\":%u,\"policy_current\":%s,\"wipe_pending\":%s,"
             "\"account_only_wipe\":%s,\"folder_sync_key\":%u,\"ping_interval\":%u,"
             "\"folders\":{",
             d->policy_key ? "true" : "false", d->policy_key,
             d->policy_key && d->policy_version == st->policy_version ? "true" : "false",
             d->wipe ? "true" : "false", d->wipe == 2 ? "true" : "false", d->hier_key,
             d->ping_interval);
    int first = 1;
    for (int i = 0; i < EL__FOLDERS_MAX; i++) {
        const struct el__fstate *fs = &d->f[i];
        if (fs->key == 0 || u->mb == NULL || !u->mb->f[i].in_use)
            continue;
        char sid[12];
        el__folder_sid(u->mb, i, sid);
        uint32_t held = 0;
        for (uint32_t b = 0; b < fs->nbits; b++)
            held += el__fstate_has(fs, b);
        json_fmt(out, "%s\"%s\":{\"sync_key\":%u,\"filter\":%u,\"items\":%u}", first ? "" : ",",
                 sid, fs->key, fs->filter, held);
        first = 0;
    }
    el_buf_append(out, "}}", 2);
}

int el_srv_admin_state_json(struct el_srv_state *st, const char *user, const char *device_id,
                            struct el_buf *out, struct el_err *err)
{
    pthread_mutex_lock(&st->mu);
    el__state_changed(st);
    int rc = 0;
    struct el__user *u = NULL;
    if (user) {
        u = el__user_by_name(st, user, strlen(user));
        if (u == NULL) {
            rc = EL_ERR(err, EL_EUNKNOWN, EL_NO_OFFSET, "state: unknown user \"%s\"", user);
            goto done;
        }
        if (device_id && el__device_find(u, device_id) == NULL) {
            rc = EL_ERR(err, EL_EUNKNOWN, EL_NO_OFFSET, "state: user %s has no device \"%s\"", user,
                        device_id);
            goto done;
        }
    }
    size_t start = out->len;
    json_fmt(out,
             "{\"users\":%llu,\"mailboxes\":%llu,\"devices\":%llu,\"items\":%llu,"
             "\"mailbox_bytes\":%llu,\"device_bytes\":%llu,\"policy_version\":%u,\"requests\":{",
             (unsigned long long)st->stats.users, (unsigned long long)st->stats.mailboxes,
             (unsigned long long)st->stats.devices, (unsigned long long)st->stats.items,
             (unsigned long long)st->stats.mailbox_bytes, (unsigned long long)st->device_bytes,
             st->policy_version);
    int first = 1;
    for (int cmd = 0; cmd < EL_SRV_CMD_MAX; cmd++) {
        const char *name = el_srv_cmd_name(cmd);
        if (name == NULL)
            continue;
        json_fmt(out, "%s\"%s\":%llu", first ? "" : ",", name,
                 (unsigned long long)st->stats.requests[cmd]);
        first = 0;
    }
    el_buf_append(out, "}", 1);
    if (u) {
        json_fmt(out, ",\"mailbox_size_bytes\":%llu,\"mailbox_quota_bytes\":%llu",
                 (unsigned long long)(u->mb ? el__mailbox_size(u->mb) : 0),
                 (unsigned long long)st->quota_bytes);
        el_buf_append(out, ",\"device_list\":[", 16);
        first = 1;
        for (const struct el__device *d = u->devices; d; d = d->next) {
            if (device_id && strcmp(d->id, device_id) != 0)
                continue;
            if (!first)
                el_buf_putc(out, ',');
            json_device(st, u, d, out);
            first = 0;
        }
        el_buf_putc(out, ']');
    }
    if (el_buf_putc(out, '}') < 0) {
        out->len = start;
        rc = EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET, "state: output buffer full");
    }
done:
    pthread_mutex_unlock(&st->mu);
    return rc;
}
