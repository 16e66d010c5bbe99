/* srv_admin_http.c - the admin API of `easload serve`: JSON over HTTP on its own loopback port.
 *   POST /deliver {"user":"user1","subject":"...","from":"...","bytes":2048}
 *   POST /wipe    {"user":"user1","device":"DEV1","account_only":false}
 *   POST /policy  (bumps the policy: every device reprovisions)
 *   GET  /state[?user=U[&device=D]]   per-device state from the EAS side
 *   GET  /stats   HTTP counters, the EAS side's counters, throttling and fault counters
 *   GET  /limits, POST /limits {"max_concurrency_per_user":2,"budget_per_user":"100/60s",...}
 *   POST /redirect {"user":"user1"?,"url":"http://127.0.0.1:8081"|null}
 *   GET  /faults, POST /faults {"add":"sync:drop@5%"|[...],"clear":true?}
 * (docs/server.md has the whole API with examples.)
 * Errors: {"error":"..."} with 400 (bad JSON or value), 404 (unknown user/device/endpoint),
 * 405 (wrong method). Owns: nothing past a request (jansson values freed before returning).
 * Uses: jansson, srv.h admin functions, srv_http.h counters. */
#include "srv_http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct admin_handler {
    h2o_handler_t super;
    struct el_srv_http *h; /* not owned */
};

static void send_text(h2o_req_t *req, int status, const char *reason, const char *body, size_t len)
{
    struct el__srv_worker *w = el__srv_worker_of(req);
    req->res.status = status;
    req->res.reason = reason;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, "Content-Type",
                   H2O_STRLIT("application/json"));
    req->res.content_length = len;
    if (w->stopping)
        req->http1_is_persistent = 0;
    h2o_send_inline(req, body, len);
}

static int send_json(h2o_req_t *req, int status, const char *reason, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (s == NULL) {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        send_text(req, 500, "Internal Server Error", oom, sizeof(oom) - 1);
        return 0;
    }
    send_text(req, status, reason, s, strlen(s));
    free(s);
    return 0;
}

static int send_error(h2o_req_t *req, int status, const char *msg)
{
    const char *reason = status == 404   ? "Not Found"
                         : status == 405 ? "Method Not Allowed"
                         : status == 500 ? "Internal Server Error"
                                         : "Bad Request";
    return send_json(req, status, reason, json_pack("{s:s}", "error", msg));
}

static int send_ok(h2o_req_t *req)
{
    return send_json(req, 200, "OK", json_pack("{s:b}", "ok", 1));
}

/* EL_EUNKNOWN (no such user or device) is 404, anything else from the EAS side 400. */
static int send_eas_error(h2o_req_t *req, int rc, const struct el_err *err)
{
    const char *msg = err->msg[0] ? err->msg : el_strerror(rc);
    if (rc == EL_ENOMEM)
        return send_error(req, 500, msg);
    return send_error(req, rc == EL_EUNKNOWN ? 404 : 400, msg);
}

/* Body as a JSON object; NULL after answering 400. An empty body is {}. */
static json_t *body_object(h2o_req_t *req)
{
    json_error_t jerr;
    if (req->entity.base == NULL || req->entity.len == 0)
        return json_object();
    json_t *o = json_loadb(req->entity.base, req->entity.len, 0, &jerr);
    if (o == NULL || !json_is_object(o)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "body is not a JSON object: %s", o ? "wrong type" : jerr.text);
        json_decref(o);
        send_error(req, 400, msg);
        return NULL;
    }
    return o;
}

/* A string member; NULL if absent. Sets *bad when present with another type. */
static const char *member_str(json_t *o, const char *name, int *bad)
{
    json_t *v = json_object_get(o, name);
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

static int on_deliver(struct el_srv_http *h, h2o_req_t *req)
{
    json_t *o = body_object(req);
    if (o == NULL)
        return 0;
    int bad = 0;
    const char *user = member_str(o, "user", &bad);
    const char *subject = member_str(o, "subject", &bad);
    const char *from = member_str(o, "from", &bad);
    json_t *jb = json_object_get(o, "bytes");
    json_int_t bytes = 2048;
    if (jb && !json_is_integer(jb))
        bad = 1;
    else if (jb)
        bytes = json_integer_value(jb);
    if (bad || user == NULL || bytes < 0 || bytes > (64 << 20)) {
        json_decref(o);
        return send_error(req, 400,
                          "expected {\"user\":S, \"subject\":S?, \"from\":S?, \"bytes\":0..64M?}");
    }
    struct el_err err;
    memset(&err, 0, sizeof(err));
    int rc = el_srv_admin_deliver(h->st, user, subject, from, (size_t)bytes, &err);
    json_decref(o);
    return rc < 0 ? send_eas_error(req, rc, &err) : send_ok(req);
}

static int on_wipe(struct el_srv_http *h, h2o_req_t *req)
{
    json_t *o = body_object(req);
    if (o == NULL)
        return 0;
    int bad = 0;
    const char *user = member_str(o, "user", &bad);
    const char *device = member_str(o, "device", &bad);
    json_t *ja = json_object_get(o, "account_only");
    if (ja && !json_is_boolean(ja))
        bad = 1;
    if (bad || user == NULL || device == NULL) {
        json_decref(o);
        return send_error(req, 400, "expected {\"user\":S, \"device\":S, \"account_only\":bool?}");
    }
    struct el_err err;
    memset(&err, 0, sizeof(err));
    int rc = el_srv_admin_wipe(h->st, user, device, ja ? json_is_true(ja) : 0, &err);
    json_decref(o);
    return rc < 0 ? send_eas_error(req, rc, &err) : send_ok(req);
}

static int on_policy(struct el_srv_http *h, h2o_req_t *req)
{
    struct el_err err;
    memset(&err, 0, sizeof(err));
    int rc = el_srv_admin_policy_bump(h->st, &err);
    return rc < 0 ? send_eas_error(req, rc, &err) : send_ok(req);
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Value of name in a query string, percent-decoded into out[cap]; 1 found, 0 absent, -1 bad. */
static int query_get(const char *q, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && q[e] != '&')
            e++;
        if (e - i > nl && memcmp(q + i, name, nl) == 0 && q[i + nl] == '=') {
            size_t o = 0;
            for (size_t k = i + nl + 1; k < e; k++) {
                int c = (unsigned char)q[k];
                if (c == '%') {
                    if (k + 2 >= e || hexv(q[k + 1]) < 0 || hexv(q[k + 2]) < 0)
                        return -1;
                    c = hexv(q[k + 1]) * 16 + hexv(q[k + 2]);
                    k += 2;
                }
                if (c == 0 || o + 1 >= cap)
                    return -1;
                out[o++] = (char)c;
            }
            out[o] = '\0';
            return 1;
        }
        i = e + 1;
    }
    return 0;
}

static int on_state(struct el_srv_http *h, h2o_req_t *req)
{
    char user[257], device[65];
    const char *q = "";
    size_t qlen = 0;
    if (req->input.query_at != SIZE_MAX) {
        q = req->input.path.base + req->input.query_at + 1;
        qlen = req->input.path.len - req->input.query_at - 1;
    }
    int hu = query_get(q, qlen, "user", user, sizeof(user));
    int hd = query_get(q, qlen, "device", device, sizeof(device));
    if (hu < 0 || hd < 0 || (hd > 0 && hu <= 0))
        return send_error(req, 400, "expected /state[?user=U[&device=D]]");
    struct el_buf out;
    el_buf_init(&out, 64u << 20);
    struct el_err err;
    memset(&err, 0, sizeof(err));
    int rc =
        el_srv_admin_state_json(h->st, hu > 0 ? user : NULL, hd > 0 ? device : NULL, &out, &err);
    if (rc < 0) {
        el_buf_close(&out);
        return send_eas_error(req, rc, &err);
    }
    send_text(req, 200, "OK", out.len ? (const char *)out.data : "{}", out.len ? out.len : 2);
    el_buf_close(&out);
    return 0;
}

static int on_stats(struct el_srv_http *h, h2o_req_t *req)
{
    struct el_srv_http_stats hs;
    el_srv_http_get_stats(h, &hs);
    struct el_srv_stats es;
    memset(&es, 0, sizeof(es));
    el_srv_get_stats(h->st, &es);
    json_t *req_by_cmd = json_object();
    for (int c = 0; c < EL_SRV_CMD_MAX; c++) {
        const char *name = el_srv_cmd_name(c);
        if (name && es.requests[c])
            json_object_set_new(req_by_cmd, name, json_integer((json_int_t)es.requests[c]));
    }
    json_t *resp = json_pack("{s:I,s:I,s:I,s:I,s:I}", "1xx", (json_int_t)hs.responses[1], "2xx",
                             (json_int_t)hs.responses[2], "3xx", (json_int_t)hs.responses[3], "4xx",
                             (json_int_t)hs.responses[4], "5xx", (json_int_t)hs.responses[5]);
    json_t *http = json_pack(
        "{s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i}", "connections",
        (json_int_t)hs.connections, "connections_open", (json_int_t)hs.connections_open, "requests",
        (json_int_t)hs.requests, "responses", resp, "rejected", (json_int_t)hs.rejected,
        "holds_started", (json_int_t)hs.holds_started, "holds_open", (json_int_t)hs.holds_open,
        "holds_woken", (json_int_t)hs.holds_woken, "holds_expired", (json_int_t)hs.holds_expired,
        "holds_gone", (json_int_t)hs.holds_gone, "admin_requests", (json_int_t)hs.admin_requests,
        "workers", (int)h->cfg.workers);
    json_t *eas =
        json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "requests", req_by_cmd, "users",
                  (json_int_t)es.users, "devices", (json_int_t)es.devices, "items",
                  (json_int_t)es.items, "mailbox_bytes", (json_int_t)es.mailbox_bytes, "mailboxes",
                  (json_int_t)es.mailboxes, "device_bytes", (json_int_t)es.device_bytes,
                  "sync_replay_hits", (json_int_t)es.replay_hits);
    json_t *throttle =
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "admitted", (json_int_t)hs.refused[0],
                  "concurrency", (json_int_t)hs.refused[EL_SRV_REFUSED_CONCURRENCY], "budget",
                  (json_int_t)hs.refused[EL_SRV_REFUSED_BUDGET], "redirect",
                  (json_int_t)hs.refused[EL_SRV_REFUSED_REDIRECT], "max_devices",
                  (json_int_t)es.devices_refused, "quota", (json_int_t)es.quota_refused, "policy",
                  (json_int_t)es.policy_refused, "wipe", (json_int_t)es.wipes_sent);
    json_t *faults = json_object();
    for (int k = 0; k < EL_SRV_FAULT_KINDS; k++)
        json_object_set_new(faults, el_srv_fault_kind_name(k),
                            json_integer((json_int_t)hs.faults[k]));
    /* vanish and resetkey act in the EAS side: count what really happened there */
    json_object_set_new(faults, "vanish", json_integer((json_int_t)es.vanish_requests));
    json_object_set_new(faults, "vanished_items", json_integer((json_int_t)es.vanished_items));
    json_object_set_new(faults, "resetkey", json_integer((json_int_t)es.keys_reset));
    json_t *all = json_pack("{s:o,s:o,s:o,s:o}", "http", http, "eas", eas, "throttle", throttle,
                            "faults", faults);
    if (all == NULL)
        return send_error(req, 500, "out of memory");
    return send_json(req, 200, "OK", all);
}

/* ---- issue 8: knobs and faults -------------------------------------------------------------- */

struct redirect_ctx {
    struct el_srv_http *h;
    json_t *obj;
};

static void add_redirect(void *ctx, uint32_t uidx, const char *url)
{
    struct redirect_ctx *rc = ctx;
    const char *name = el_srv_user_name(rc->h->st, uidx);
    if (name)
        json_object_set_new(rc->obj, name, json_string(url));
}

static int on_limits_get(struct el_srv_http *h, h2o_req_t *req)
{
    struct el_srv_limits_config lc;
    char redirect[EL_SRV_URL_MAX];
    el_srv_limits_get(h->limits, &lc, redirect, sizeof(redirect));
    struct el_srv_eas_limits el;
    el_srv_admin_get_limits(h->st, &el);
    char budget[48];
    snprintf(budget, sizeof(budget), "%u/%us", lc.budget, lc.budget_window_s);
    struct redirect_ctx rc = {h, json_object()};
    el_srv_limits_each_redirect(h->limits, add_redirect, &rc);
    json_t *o =
        json_pack("{s:i,s:s,s:i,s:i,s:I,s:o,s:o}", "max_concurrency_per_user",
                  (int)lc.max_concurrency, "budget_per_user", lc.budget ? budget : "0",
                  "retry_after", (int)lc.retry_after_s, "max_devices_per_user", (int)el.max_devices,
                  "mailbox_quota", (json_int_t)el.mailbox_quota_bytes, "redirect",
                  redirect[0] ? json_string(redirect) : json_null(), "redirect_users", rc.obj);
    if (o == NULL)
        return send_error(req, 500, "out of memory");
    return send_json(req, 200, "OK", o);
}

/* A non-negative integer member into *out (unchanged if absent); -1 if present and not one. */
static int member_uint(json_t *o, const char *name, unsigned long long max, unsigned long long *out)
{
    json_t *v = json_object_get(o, name);
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (unsigned long long)json_integer_value(v) > max)
        return -1;
    *out = (unsigned long long)json_integer_value(v);
    return 0;
}

static int on_limits_post(struct el_srv_http *h, h2o_req_t *req)
{
    json_t *o = body_object(req);
    if (o == NULL)
        return 0;
    static const char *const known[] = {"max_concurrency_per_user", "budget_per_user",
                                        "retry_after", "max_devices_per_user", "mailbox_quota"};
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val)
    {
        size_t i = 0;
        while (i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], key) != 0)
            i++;
        if (i == sizeof(known) / sizeof(known[0])) {
            char msg[200];
            snprintf(msg, sizeof(msg),
                     "unknown knob \"%.60s\" (max_concurrency_per_user, budget_per_user, "
                     "retry_after, max_devices_per_user, mailbox_quota)",
                     key);
            json_decref(o);
            return send_error(req, 400, msg);
        }
    }
    struct el_srv_limits_config lc;
    char redirect[EL_SRV_URL_MAX];
    el_srv_limits_get(h->limits, &lc, redirect, sizeof(redirect));
    struct el_srv_eas_limits el;
    el_srv_admin_get_limits(h->st, &el);
    unsigned long long conc = lc.max_concurrency, ra = lc.retry_after_s, md = el.max_devices;
    unsigned long long quota = el.mailbox_quota_bytes;
    int bad = member_uint(o, "max_concurrency_per_user", 1000000, &conc) < 0 ||
              member_uint(o, "retry_after", 86400, &ra) < 0 ||
              member_uint(o, "max_devices_per_user", 1000000, &md) < 0 ||
              member_uint(o, "mailbox_quota", 1ull << 50, &quota) < 0;
    json_t *jb = json_object_get(o, "budget_per_user");
    if (jb && json_is_integer(jb) && json_integer_value(jb) >= 0 &&
        json_integer_value(jb) <= 100000000) {
        lc.budget = (unsigned)json_integer_value(jb);
        if (lc.budget_window_s == 0)
            lc.budget_window_s = 60;
    } else if (jb && json_is_string(jb)) {
        bad |=
            el_srv_limits_parse_budget(json_string_value(jb), &lc.budget, &lc.budget_window_s) < 0;
    } else if (jb) {
        bad = 1;
    }
    if (bad) {
        json_decref(o);
        return send_error(req, 400,
                          "expected {\"max_concurrency_per_user\":N, \"budget_per_user\":"
                          "\"N/60s\"|N, \"retry_after\":S, \"max_devices_per_user\":N, "
                          "\"mailbox_quota\":BYTES} (all optional, 0 = off)");
    }
    json_decref(o);
    lc.max_concurrency = (unsigned)conc;
    lc.retry_after_s = (unsigned)ra;
    if (lc.budget_window_s == 0)
        lc.budget_window_s = 60;
    struct el_err err;
    memset(&err, 0, sizeof(err));
    int rc = el_srv_limits_set(h->limits, &lc, &err);
    if (rc < 0)
        return send_eas_error(req, rc, &err);
    el.max_devices = (unsigned)md;
    el.mailbox_quota_bytes = quota;
    el_srv_admin_set_limits(h->st, &el);
    return on_limits_get(h, req);
}

static int on_redirect(struct el_srv_http *h, h2o_req_t *req)
{
    json_t *o = body_object(req);
    if (o == NULL)
        return 0;
    int bad = 0;
    const char *user = member_str(o, "user", &bad);
    json_t *ju = json_object_get(o, "url");
    if (bad || ju == NULL || !(json_is_string(ju) || json_is_null(ju))) {
        json_decref(o);
        return send_error(req, 400, "expected {\"user\":S?, \"url\":\"http://HOST:PORT\"|null}");
    }
    uint32_t uidx = UINT32_MAX;
    if (user) {
        const struct el_srv_user *u = el_srv_user_find(h->st, user);
        if (u == NULL) {
            json_decref(o);
            return send_error(req, 404, "unknown user");
        }
        uidx = u->index;
    }
    struct el_err err;
    memset(&err, 0, sizeof(err));
    int rc = el_srv_limits_redirect(h->limits, uidx,
                                    json_is_string(ju) ? json_string_value(ju) : NULL, &err);
    json_decref(o);
    return rc < 0 ? send_eas_error(req, rc, &err) : on_limits_get(h, req);
}

static int on_faults_get(struct el_srv_http *h, h2o_req_t *req)
{
    struct el_buf out;
    el_buf_init(&out, 1u << 20);
    int rc = el_buf_append(&out, "{\"faults\":", 10);
    if (rc == 0)
        rc = el_srv_faults_json(h->faults, &out);
    if (rc == 0)
        rc = el_buf_putc(&out, '}');
    if (rc < 0) {
        el_buf_close(&out);
        return send_error(req, 500, "out of memory");
    }
    send_text(req, 200, "OK", (const char *)out.data, out.len);
    el_buf_close(&out);
    return 0;
}

static int on_faults_post(struct el_srv_http *h, h2o_req_t *req)
{
    json_t *o = body_object(req);
    if (o == NULL)
        return 0;
    json_t *jc = json_object_get(o, "clear");
    json_t *ja = json_object_get(o, "add");
    int bad = (jc && !json_is_boolean(jc)) || (ja && !json_is_string(ja) && !json_is_array(ja)) ||
              (jc == NULL && ja == NULL) || json_object_size(o) > (size_t)(!!jc + !!ja);
    /* parse everything first: a bad SPEC changes nothing */
    struct el_srv_fault f[EL_SRV_FAULTS_MAX];
    size_t n = 0;
    char msg[EL_ERR_MSG_MAX + 16] = "";
    if (!bad && ja) {
        size_t count = json_is_array(ja) ? json_array_size(ja) : 1;
        if (count > EL_SRV_FAULTS_MAX)
            bad = 1;
        for (size_t i = 0; !bad && i < count; i++) {
            json_t *v = json_is_array(ja) ? json_array_get(ja, i) : ja;
            struct el_err err;
            memset(&err, 0, sizeof(err));
            if (!json_is_string(v)) {
                bad = 1;
            } else if (el_srv_fault_parse(json_string_value(v), &f[n], &err) < 0) {
                snprintf(msg, sizeof(msg), "%s", err.msg);
                bad = 1;
            } else {
                n++;
            }
        }
    }
    int clear = jc && json_is_true(jc);
    json_decref(o);
    if (bad)
        return send_error(req, 400,
                          msg[0] ? msg
                                 : "expected {\"add\":\"SPEC\"|[\"SPEC\",...]?, "
                                   "\"clear\":true?} (SPEC: sync:drop@5%)");
    if (clear)
        el_srv_faults_clear(h->faults);
    for (size_t i = 0; i < n; i++) {
        struct el_err err;
        memset(&err, 0, sizeof(err));
        int rc = el_srv_faults_add(h->faults, &f[i], el__srv_mono_ms(), &err);
        if (rc < 0)
            return send_eas_error(req, rc, &err);
    }
    return on_faults_get(h, req);
}

struct admin_route {
    const char *path;
    const char *method;
    int (*fn)(struct el_srv_http *h, h2o_req_t *req);
};

static const struct admin_route routes[] = {
    {"/deliver", "POST", on_deliver},    {"/wipe", "POST", on_wipe},
    {"/policy", "POST", on_policy},      {"/state", "GET", on_state},
    {"/stats", "GET", on_stats},         {"/limits", "GET", on_limits_get},
    {"/limits", "POST", on_limits_post}, {"/redirect", "POST", on_redirect},
    {"/faults", "GET", on_faults_get},   {"/faults", "POST", on_faults_post},
};

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct admin_handler *ah = (struct admin_handler *)self;
    atomic_fetch_add_explicit(&ah->h->n_admin, 1, memory_order_relaxed);
    size_t plen = req->input.query_at != SIZE_MAX ? req->input.query_at : req->input.path.len;
    const struct admin_route *path_match = NULL;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct admin_route *r = &routes[i];
        if (strlen(r->path) != plen || memcmp(r->path, req->input.path.base, plen) != 0)
            continue;
        path_match = r;
        if (h2o_memis(req->input.method.base, req->input.method.len, r->method, strlen(r->method)))
            return r->fn(ah->h, req);
    }
    if (path_match)
        return send_error(req, 405, "method not allowed here");
    return send_error(req, 404,
                      "no such endpoint: /deliver /wipe /policy /state /stats /limits "
                      "/redirect /faults");
}

int el__srv_admin_register(struct el_srv_http *h, h2o_pathconf_t *path)
{
    struct admin_handler *ah = (struct admin_handler *)h2o_create_handler(path, sizeof(*ah));
    ah->super.on_req = on_req;
    ah->h = h;
    return 0;
}
