/* srv_admin_http.c - the admin API of `easload serve`: JSON over HTTP on its own loopback port.
 *   POST /deliver {"user":"user1","subject":"...","from":"...","bytes":2048}
 *   POST /wipe    {"user":"user1","device":"DEV1","account_only":false}
 *   POST /policy  (bumps the policy: every device reprovisions)
 *   GET  /state[?user=U[&device=D]]   per-device state from the EAS side
 *   GET  /stats   HTTP counters and the EAS side's counters
 * Errors: {"error":"..."} with 400 (bad JSON or value), 404 (unknown user/device/endpoint),
 * 405 (wrong method). Owns: nothing past a request (jansson values freed before returning).
 * Uses: jansson, srv.h admin functions, srv_http.h counters. */
#include "srv_http_int.h"

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
        json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:I}", "requests", req_by_cmd, "users",
                  (json_int_t)es.users, "devices", (json_int_t)es.devices, "items",
                  (json_int_t)es.items, "mailbox_bytes", (json_int_t)es.mailbox_bytes, "mailboxes",
                  (json_int_t)es.mailboxes, "device_bytes", (json_int_t)es.device_bytes);
    json_t *all = json_pack("{s:o,s:o}", "http", http, "eas", eas);
    if (all == NULL)
        return send_error(req, 500, "out of memory");
    return send_json(req, 200, "OK", all);
}

struct admin_route {
    const char *path;
    const char *method;
    int (*fn)(struct el_srv_http *h, h2o_req_t *req);
};

static const struct admin_route routes[] = {
    {"/deliver", "POST", on_deliver}, {"/wipe", "POST", on_wipe},  {"/policy", "POST", on_policy},
    {"/state", "GET", on_state},      {"/stats", "GET", on_stats},
};

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct admin_handler *ah = (struct admin_handler *)self;
    atomic_fetch_add_explicit(&ah->h->n_admin, 1, memory_order_relaxed);
    size_t plen = req->input.query_at != SIZE_MAX ? req->input.query_at : req->input.path.len;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct admin_route *r = &routes[i];
        if (strlen(r->path) != plen || memcmp(r->path, req->input.path.base, plen) != 0)
            continue;
        if (!h2o_memis(req->input.method.base, req->input.method.len, r->method, strlen(r->method)))
            return send_error(req, 405, r->method[0] == 'G' ? "use GET" : "use POST");
        return r->fn(ah->h, req);
    }
    return send_error(req, 404, "no such endpoint: /deliver /wipe /policy /state /stats");
}

int el__srv_admin_register(struct el_srv_http *h, h2o_pathconf_t *path)
{
    struct admin_handler *ah = (struct admin_handler *)h2o_create_handler(path, sizeof(*ah));
    ah->super.on_req = on_req;
    ah->h = h;
    return 0;
}
