/* eas_cmd.c - the EAS command table and the two entry points every command goes through:
 * el_eas_build (URL, method, body from the command's build function) and el_eas_parse (HTTP
 * classification, a validating pass over the WBXML, then the command's event handler and its
 * finish step), or for one-pass commands el_eas_stream_* (the same, decoding the body while it
 * arrives). Also OPTIONS and RAW, and the generic "root Status" reader.
 * Owns: nothing (a constant table); a stream owns its decoder and parse state.
 * Uses: eas_int.h, wbxml.h. */
#include "eas_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int options_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                         struct el_err *);
static int raw_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                     struct el_err *);

const struct el__eas_cmd_row el__eas_cmds[EL_EAS_CMD_COUNT] = {
    [EL_EAS_PROVISION] = {"Provision", EL_PROV_PROVISION, 0, el__eas_provision_build, NULL,
                          el__eas_provision_event, el__eas_provision_finish, NULL},
    [EL_EAS_FOLDERSYNC] = {"FolderSync", EL_FH_FOLDERSYNC, 0, el__eas_foldersync_build,
                           el__eas_foldersync_begin, el__eas_foldersync_event,
                           el__eas_foldersync_finish, NULL},
    [EL_EAS_SYNC] = {"Sync", EL_AS_SYNC, EL__EAS_EMPTY_OK | EL__EAS_ONE_PASS, el__eas_sync_build,
                     el__eas_sync_begin, el__eas_sync_event, el__eas_sync_finish,
                     el__eas_sync_want},
    [EL_EAS_GETITEMESTIMATE] = {"GetItemEstimate", EL_GIE_GETITEMESTIMATE, 0,
                                el__eas_estimate_build, NULL, el__eas_estimate_event,
                                el__eas_generic_finish, NULL},
    [EL_EAS_PING] = {"Ping", EL_PING_PING, 0, el__eas_ping_build, NULL, el__eas_ping_event,
                     el__eas_ping_finish, NULL},
    [EL_EAS_SEARCH] = {"Search", EL_SEARCH_SEARCH, EL__EAS_ONE_PASS, el__eas_search_build, NULL,
                       el__eas_search_event, el__eas_generic_finish, NULL},
    [EL_EAS_ITEMOPERATIONS] = {"ItemOperations", EL_IO_ITEMOPERATIONS, EL__EAS_ONE_PASS,
                               el__eas_itemops_build, NULL, el__eas_itemops_event,
                               el__eas_generic_finish, NULL},
    [EL_EAS_SENDMAIL] = {"SendMail", EL_CM_SENDMAIL, EL__EAS_EMPTY_OK, el__eas_sendmail_build, NULL,
                         el__eas_generic_event, el__eas_generic_finish, NULL},
    [EL_EAS_SMARTREPLY] = {"SmartReply", EL_CM_SMARTREPLY, EL__EAS_EMPTY_OK,
                           el__eas_smartreply_build, NULL, el__eas_generic_event,
                           el__eas_generic_finish, NULL},
    [EL_EAS_SMARTFORWARD] = {"SmartForward", EL_CM_SMARTFORWARD, EL__EAS_EMPTY_OK,
                             el__eas_smartforward_build, NULL, el__eas_generic_event,
                             el__eas_generic_finish, NULL},
    [EL_EAS_MOVEITEMS] = {"MoveItems", EL_MOVE_MOVEITEMS, 0, el__eas_move_build, NULL,
                          el__eas_move_event, el__eas_move_finish, NULL},
    [EL_EAS_SETTINGS] = {"Settings", EL_SET_SETTINGS, 0, el__eas_settings_build, NULL,
                         el__eas_settings_event, el__eas_generic_finish, NULL},
    [EL_EAS_OPTIONS] = {"OPTIONS", 0, EL__EAS_NO_BODY, options_build, NULL, NULL, NULL, NULL},
    [EL_EAS_RAW] = {"RAW", 0, EL__EAS_EMPTY_OK, raw_build, NULL, el__eas_generic_event,
                    el__eas_generic_finish, NULL},
};

const char *el_eas_cmd_name(int cmd)
{
    if (cmd < 0 || cmd >= EL_EAS_CMD_COUNT)
        return "unknown";
    return el__eas_cmds[cmd].name;
}

int el_eas_cmd_lookup(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < EL_EAS_CMD_COUNT; i++)
        if (strcasecmp(el__eas_cmds[i].name, name) == 0)
            return i;
    return -1;
}

/* ---- helpers ----------------------------------------------------------------------------- */

void el__eas_copy(char *dst, size_t cap, const struct el_wbxml_ev *ev)
{
    size_t n = ev->len < cap - 1 ? ev->len : cap - 1;
    if (n > 0)
        memcpy(dst, ev->data, n);
    dst[n] = '\0';
}

long el__eas_num(const struct el_wbxml_ev *ev)
{
    if (ev->type != EL_WBXML_EV_STR || ev->len == 0 || ev->len > 10)
        return -1;
    long v = 0;
    for (size_t i = 0; i < ev->len; i++) {
        if (ev->data[i] < '0' || ev->data[i] > '9')
            return -1;
        v = v * 10 + (ev->data[i] - '0');
    }
    return v;
}

void el__eas_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- building ---------------------------------------------------------------------------- */

/* Appends s to the URL at *len, percent-encoding all but RFC 3986 unreserved characters
 * (encode 0: as is). Runs for every request (bench/engine.sh: CPU per request). */
static int url_put(char *url, size_t cap, size_t *len, const char *s, int encode)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = *len;
    if (!encode) {
        size_t k = strlen(s);
        if (n + k >= cap)
            return EL_ELIMIT;
        memcpy(url + n, s, k + 1);
        *len = n + k;
        return 0;
    }
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        int plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~';
        if (n + (plain ? 1 : 3) >= cap)
            return EL_ELIMIT;
        if (plain) {
            url[n++] = (char)ch;
        } else {
            url[n++] = '%';
            url[n++] = hex[ch >> 4];
            url[n++] = hex[ch & 15];
        }
    }
    url[n] = '\0';
    *len = n;
    return 0;
}

int el_eas_build(struct el_eas_device *d, struct el_eas_call *call, struct el_buf *body, char *url,
                 size_t cap, const char **method, struct el_err *err)
{
    if (call->cmd < 0 || call->cmd >= EL_EAS_CMD_COUNT)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %s: unknown command %d", d->device_id,
                      call->cmd);
    if (d->wiped)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "device %s: %s after a remote wipe (the device has stopped)", d->device_id,
                      el_eas_cmd_name(call->cmd));
    const struct el__eas_cmd_row *row = &el__eas_cmds[call->cmd];
    struct el__eas_req rq;
    rq.body = body;
    rq.query[0] = '\0';
    rq.cmd_name = row->name;
    rq.method = "POST";
    size_t start = body->len;
    int rc = row->build(d, call, &rq, err);
    if (rc < 0) {
        body->len = start;
        return rc;
    }
    size_t n = 0;
    rc = url_put(url, cap, &n, d->base_url, 0);
    if (rc == 0 && call->cmd != EL_EAS_OPTIONS) {
        rc = url_put(url, cap, &n, "?Cmd=", 0);
        if (rc == 0)
            rc = url_put(url, cap, &n, rq.cmd_name, 1);
        if (rc == 0)
            rc = url_put(url, cap, &n, "&User=", 0);
        if (rc == 0)
            rc = url_put(url, cap, &n, d->user, 1);
        if (rc == 0)
            rc = url_put(url, cap, &n, "&DeviceId=", 0);
        if (rc == 0)
            rc = url_put(url, cap, &n, d->device_id, 1);
        if (rc == 0)
            rc = url_put(url, cap, &n, "&DeviceType=", 0);
        if (rc == 0)
            rc = url_put(url, cap, &n, d->profile->device_type, 1);
        if (rc == 0)
            rc = url_put(url, cap, &n, rq.query, 0);
    }
    if (rc < 0) {
        body->len = start;
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %s: %s: URL longer than %zu bytes",
                      d->device_id, rq.cmd_name, cap);
    }
    *method = rq.method;
    return 0;
}

static int options_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                         struct el_err *err)
{
    (void)d;
    (void)c;
    (void)err;
    rq->method = "OPTIONS";
    return 0;
}

static int raw_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                     struct el_err *err)
{
    const char *name = c->in.raw_cmd;
    if (name == NULL || name[0] == '\0' || strlen(name) > 32)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %s: raw request without a command",
                      d->device_id);
    for (const char *p = name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                          "device %s: raw command \"%s\" is not a command name", d->device_id,
                          name);
    rq->cmd_name = name;
    if (c->in.raw_len > 0 && el_buf_append(rq->body, c->in.raw, c->in.raw_len) < 0)
        return EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET, "device %s: raw body of %zu bytes too large",
                      d->device_id, c->in.raw_len);
    return 0;
}

/* ---- parsing ----------------------------------------------------------------------------- */

static void malformed(struct el_eas_call *c, const char *fmt, const char *what)
{
    c->out.cls = EL_EAS_CLASS_MALFORMED;
    snprintf(c->out.detail, sizeof(c->out.detail), fmt, what);
}

/* OPTIONS: 200 is success; with MS-ASProtocolVersions the device settles on the highest version
 * both sides speak, at most its profile's. */
static void options_parse(struct el_eas_device *d, struct el_eas_call *c,
                          const struct el_http_result *hr)
{
    c->out.cls = EL_EAS_CLASS_OK;
    const char *v = hr->ms_versions;
    if (v == NULL || v[0] == '\0')
        return;
    unsigned best = 0;
    while (*v != '\0') {
        char *end;
        unsigned long major = strtoul(v, &end, 10);
        unsigned long minor = 0;
        if (*end == '.')
            minor = strtoul(end + 1, &end, 10);
        unsigned ver = (unsigned)(major * 10 + minor);
        if (major < 100 && minor < 10 && ver <= d->profile->version && ver > best)
            best = ver;
        v = end;
        while (*v != '\0' && *v != ',')
            v++;
        if (*v == ',')
            v++;
    }
    if (best == 0) {
        c->out.cls = EL_EAS_CLASS_EAS_STATUS;
        c->out.status = 138;
        snprintf(c->out.detail, sizeof(c->out.detail),
                 "OPTIONS: server speaks %.100s, none at or below %u.%u", hr->ms_versions,
                 d->profile->version / 10, d->profile->version % 10);
        return;
    }
    if (best != d->version) {
        d->version = best;
        if (el__eas_device_headers(d) < 0) {
            c->out.cls = EL_EAS_CLASS_NETWORK;
            snprintf(c->out.detail, sizeof(c->out.detail), "OPTIONS: out of memory");
        }
    }
}

/* Reads events until the decoder needs input or stops: the first must be the command's root;
 * one-pass rows see each event. 0 (the document is complete), EL_WBXML_MORE, or an error with
 * err ("byte N: ..."). */
static int pump(struct el__eas_px *px, struct el_wbxml_decoder *dec,
                const struct el__eas_cmd_row *row, int *first, struct el_err *err)
{
    int one_pass = (row->flags & EL__EAS_ONE_PASS) != 0;
    struct el_wbxml_ev ev;
    for (;;) {
        int rc = el_wbxml_next(dec, &ev, err);
        if (rc != 1)
            return rc;
        if (*first) {
            *first = 0;
            if (row->root != 0 && ev.tag != row->root) {
                const char *got = el_wbxml_tag_name(ev.tag);
                return EL_ERR(err, EL_EFORMAT, ev.offset, "byte %zu: root <%s>, expected <%s>",
                              ev.offset, got ? got : "?", el_wbxml_tag_name(row->root));
            }
            if (one_pass && row->want != NULL)
                el_wbxml_decoder_want(dec, row->want);
        }
        if (one_pass && ev.type != EL_WBXML_EV_END) /* one-pass handlers need no END */
            row->on_event(px, &ev);
    }
}

/* The counts of a one-pass command whose document decoded: into call->out. */
static void take_tally(struct el_eas_call *c, const struct el__eas_tally *t)
{
    c->out.added = t->added;
    c->out.changed = t->changed;
    c->out.deleted = t->deleted;
    c->out.more = t->more;
    c->out.count = t->count;
    c->out.results = t->results;
    c->out.bytes = t->bytes;
    memcpy(c->out.pushed_unix_us, t->pushed_unix_us, sizeof(t->pushed_unix_us));
    c->out.npushed = t->npushed;
}

/* An answer decoded while it arrived (el_eas_stream_*): one-pass commands only. */
struct el_eas_stream {
    struct el_wbxml_decoder dec;
    struct el__eas_px px;
    int rc;     /* EL_WBXML_MORE while reading, else pump's result */
    int first;  /* the root is still to come */
    size_t fed; /* body bytes so far */
    struct el_err err;
};

int el_eas_streams(int cmd)
{
    return cmd >= 0 && cmd < EL_EAS_CMD_COUNT && (el__eas_cmds[cmd].flags & EL__EAS_ONE_PASS);
}

struct el_eas_stream *el_eas_stream_new(void)
{
    return malloc(sizeof(struct el_eas_stream));
}

void el_eas_stream_free(struct el_eas_stream *s)
{
    free(s);
}

void el_eas_stream_begin(struct el_eas_stream *s, struct el_eas_device *d, struct el_eas_call *call)
{
    memset(&s->px, 0, sizeof(s->px));
    s->px.d = d;
    s->px.c = call;
    s->px.dec = &s->dec;
    s->rc = EL_WBXML_MORE;
    s->first = 1;
    s->fed = 0;
    el_wbxml_decoder_open(&s->dec, 0);
    const struct el__eas_cmd_row *row = &el__eas_cmds[call->cmd];
    if (row->begin != NULL)
        row->begin(&s->px);
}

void el_eas_stream_feed(struct el_eas_stream *s, const void *p, size_t len)
{
    s->fed += len;
    if (s->rc != EL_WBXML_MORE)
        return; /* failed already: the rest is not read */
    el_wbxml_decoder_feed(&s->dec, p, len, 0);
    s->rc = pump(&s->px, &s->dec, &el__eas_cmds[s->px.c->cmd], &s->first, &s->err);
}

/* el_eas_parse and el_eas_parse_stream: s = NULL reads hr->body. */
static int parse(struct el_eas_device *d, struct el_eas_call *call, const struct el_http_result *hr,
                 struct el_eas_stream *s)
{
    memset(&call->out, 0, sizeof(call->out));
    if (call->cmd < 0 || call->cmd >= EL_EAS_CMD_COUNT) {
        malformed(call, "%s", "unknown command");
        return 0;
    }
    const struct el__eas_cmd_row *row = &el__eas_cmds[call->cmd];
    if (!el__eas_classify_http(d, call, hr))
        return 0;
    if (row->flags & EL__EAS_NO_BODY) {
        options_parse(d, call, hr);
        return 0;
    }
    if ((s != NULL ? s->fed : hr->body_len) == 0 || (s == NULL && hr->body == NULL)) {
        if (row->flags & EL__EAS_EMPTY_OK) {
            call->out.cls = EL_EAS_CLASS_OK; /* SendMail success; 12.1+ empty Sync: no changes */
        } else {
            malformed(call, "byte 0: empty %s response", row->name);
        }
        return 0;
    }
    int one_pass = (row->flags & EL__EAS_ONE_PASS) != 0;
    struct el__eas_px local;
    struct el_wbxml_decoder dec;
    struct el_err err;
    struct el__eas_px *px = &local;
    int rc;
    if (s != NULL) { /* the last (empty) chunk: the decoder checks the document is complete */
        px = &s->px;
        if (s->rc == EL_WBXML_MORE) {
            el_wbxml_decoder_feed(&s->dec, NULL, 0, 1);
            s->rc = pump(px, &s->dec, row, &s->first, &s->err);
        }
        rc = s->rc;
        err = s->err;
    } else {
        /* Pass 1 (one_pass: the only pass, with the handler's events): the whole body must be
         * one well-formed document with the expected root, so no handler applies half of it. */
        memset(px, 0, sizeof(*px));
        px->d = d;
        px->c = call;
        px->dec = &dec;
        rc = el_wbxml_decoder_init(&dec, hr->body, hr->body_len, 0, &err);
        if (rc == 0) {
            if (one_pass && row->begin != NULL)
                row->begin(px);
            int first = 1;
            rc = pump(px, &dec, row, &first, &err);
        }
    }
    if (rc < 0) { /* the decoder's message: "byte N: ..." */
        call->out.cls = EL_EAS_CLASS_MALFORMED;
        el__eas_strlcpy(call->out.detail, err.msg, sizeof(call->out.detail));
        return 0;
    }
    if (one_pass) {
        take_tally(call, &px->tally);
        return row->finish(px);
    }

    /* Pass 2: the handler of a command whose events change the device (FolderSync, Ping...). */
    struct el_wbxml_ev ev;
    el_wbxml_decoder_init(&dec, hr->body, hr->body_len, 0, NULL);
    if (row->begin != NULL)
        row->begin(px);
    while (el_wbxml_next(&dec, &ev, NULL) == 1)
        row->on_event(px, &ev);
    return row->finish(px);
}

int el_eas_parse(struct el_eas_device *d, struct el_eas_call *call, const struct el_http_result *hr)
{
    return parse(d, call, hr, NULL);
}

int el_eas_parse_stream(struct el_eas_stream *s, const struct el_http_result *hr)
{
    return parse(s->px.d, s->px.c, hr, s);
}

/* ---- the generic reader: root Status, first failing nested Status ------------------------ */

/* The Status tags a command's result can carry (not email:Status, the flag state, nor the
 * body/picture statuses of AirSyncBase and GAL). */
static int is_status_tag(uint16_t tag)
{
    switch (tag) {
    case EL_AS_STATUS:
    case EL_FH_STATUS:
    case EL_GIE_STATUS:
    case EL_MOVE_STATUS:
    case EL_PING_STATUS:
    case EL_PROV_STATUS:
    case EL_SEARCH_STATUS:
    case EL_SET_STATUS:
    case EL_IO_STATUS:
    case EL_CM_STATUS:
        return 1;
    default:
        return 0;
    }
}

void el__eas_generic_event(struct el__eas_px *px, const struct el_wbxml_ev *ev)
{
    if (ev->type != EL_WBXML_EV_STR || !is_status_tag(ev->tag))
        return;
    long v = el__eas_num(ev);
    struct el__eas_generic_px *g = &px->u.gen;
    if (v < 0)
        return;
    if (ev->depth == 2) {
        if (g->top_status == 0)
            g->top_status = (int)v;
    } else {
        if (g->first_nested == 0)
            g->first_nested = (int)v;
        if (g->sub_status == 0 &&
            el__eas_status_class(el__eas_status_cmd(px->c), (int)v) != EL_EAS_CLASS_OK)
            g->sub_status = (int)v;
    }
}

int el__eas_generic_finish(struct el__eas_px *px)
{
    struct el__eas_generic_px *g = &px->u.gen;
    /* the root's Status unless it says success and something below failed */
    int status = g->top_status;
    if (status == 0 || el__eas_status_class(el__eas_status_cmd(px->c), status) == EL_EAS_CLASS_OK)
        status = g->sub_status ? g->sub_status : (status ? status : g->first_nested);
    if (status == 0) {
        /* SendMail family and RAW: a body without a Status is no failure; others need one */
        if (el__eas_cmds[px->c->cmd].flags & EL__EAS_EMPTY_OK) {
            px->c->out.cls = EL_EAS_CLASS_OK;
            return 0;
        }
        malformed(px->c, "%s response without a Status", el_eas_cmd_name(px->c->cmd));
        return 0;
    }
    el__eas_set_status(px->c, status);
    return 0;
}
