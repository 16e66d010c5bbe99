/* lua_device.c - the easload.device userdata handed to device(d): the I/O methods (provision,
 * foldersync, sync, estimate, ping, search, fetch, sendmail, move, settings, raw) that check
 * their arguments, start the command and yield (lua_yieldk; io_k builds the result table when
 * the engine resumes the coroutine), and the local ones (think, sleep, running, check, on,
 * must, log, rand, folders). A handle is (device pointer, generation): once the device's
 * coroutine ends, methods on an old handle raise a clear error.
 * Owns: nothing (the handle points into the worker's device array).
 * Uses: engine_int.h, eas.h, wbxml.h, Lua 5.4. */
#include "engine_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "tls.h"

#define DEV_MT       "easload.device"
#define PING_FOLDERS 16
#define RAW_BODY_MAX (1u << 20)
#define THINK_MAX_S  86400.0

struct devh {
    struct el__eng_dev *dev; /* borrowed; NULL once collected/closed */
    uint32_t gen;
};

/* ---- handles ----------------------------------------------------------------------------- */

void el_lua_push_device(lua_State *L, struct el__eng_dev *dev)
{
    struct devh *h = lua_newuserdatauv(L, sizeof(*h), 1);
    h->dev = dev;
    h->gen = dev->gen;
    dev->handlers = 0;
    luaL_setmetatable(L, DEV_MT);
}

static struct el__eng_dev *check_dev(lua_State *L)
{
    struct devh *h = luaL_checkudata(L, 1, DEV_MT);
    if (h->dev == NULL || h->gen != h->dev->gen)
        luaL_error(L, "device handle is dead: the device's coroutine has ended");
    return h->dev;
}

/* __gc and __close: idempotent */
static int l_release(lua_State *L)
{
    struct devh *h = luaL_checkudata(L, 1, DEV_MT);
    h->dev = NULL;
    return 0;
}

/* ---- results ----------------------------------------------------------------------------- */

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, int v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

static void push_admin_result(lua_State *L, const struct el__eng_req *rq)
{
    int ok = rq->admin_rc == 0 && rq->admin_status >= 200 && rq->admin_status < 300;
    const char *cls = ok                             ? "ok"
                      : rq->admin_rc == EL_ECANCELED ? "canceled"
                      : rq->admin_rc != 0            ? "network"
                                                     : "http_status";
    set_str(L, "cmd", "admin");
    set_bool(L, "ok", ok);
    set_str(L, "class", cls);
    set_int(L, "http", rq->admin_status);
    set_str(L, "body", rq->admin_body);
    lua_pushnumber(L, (double)rq->latency_us / 1000.0);
    lua_setfield(L, -2, "latency_ms");
}

/* r.tls: the TLS class of a tls failure (untrusted_root, expired, ...; core/tls.h). The
 * detail core/eas writes for one starts "TLS <class> 0x<code>: ...". */
static const char *tls_class_of(const char *detail)
{
    char cls[32];
    if (strncmp(detail, "TLS ", 4) == 0) {
        size_t n = strcspn(detail + 4, " ");
        if (n < sizeof(cls)) {
            memcpy(cls, detail + 4, n);
            cls[n] = '\0';
            int k = el_tls_class_lookup(cls);
            if (k >= 0)
                return el_tls_class_name(k);
        }
    }
    return el_tls_class_name(EL_TLS_HANDSHAKE_FAILED);
}

static void push_result(lua_State *L, struct el__eng_dev *dev, const struct el__eng_req *rq)
{
    lua_createtable(L, 0, 14);
    if (rq->admin) {
        push_admin_result(L, rq);
        return;
    }
    const struct el_eas_call *c = &rq->call;
    char name[40];
    const char *cmd =
        c->cmd == EL_EAS_RAW && c->in.raw_cmd ? c->in.raw_cmd : el_eas_cmd_name(c->cmd);
    size_t i = 0;
    for (; cmd[i] && i + 1 < sizeof(name); i++)
        name[i] = (char)tolower((unsigned char)cmd[i]);
    name[i] = '\0';
    int ok = c->out.cls == EL_EAS_CLASS_OK;
    set_str(L, "cmd", name);
    set_bool(L, "ok", ok);
    set_str(L, "class", el_eas_class_name(c->out.cls));
    set_int(L, "status", c->out.status);
    set_int(L, "http", c->out.http_status);
    lua_pushnumber(L, (double)rq->latency_us / 1000.0);
    lua_setfield(L, -2, "latency_ms");
    set_int(L, "bytes_in", (lua_Integer)rq->bytes_in);
    set_int(L, "bytes_out", (lua_Integer)rq->bytes_out);
    if (!ok && c->out.detail[0])
        set_str(L, "detail", c->out.detail);
    if (c->out.cls == EL_EAS_CLASS_THROTTLED)
        set_int(L, "retry_after", c->out.retry_after_s);
    if (c->out.cls == EL_EAS_CLASS_TLS)
        set_str(L, "tls", tls_class_of(c->out.detail));
    switch (c->cmd) {
    case EL_EAS_SYNC:
        set_int(L, "added", c->out.added);
        set_int(L, "changed", c->out.changed);
        set_int(L, "deleted", c->out.deleted);
        set_bool(L, "more", c->out.more);
        set_int(L, "pushed", c->out.npushed);
        if (c->in.folder)
            set_str(L, "folder", c->in.folder);
        break;
    case EL_EAS_FOLDERSYNC:
        set_int(L, "added", c->out.added);
        set_int(L, "changed", c->out.changed);
        set_int(L, "deleted", c->out.deleted);
        set_int(L, "count", dev->eas.nfolders);
        break;
    case EL_EAS_GETITEMESTIMATE:
        set_int(L, "count", c->out.count);
        break;
    case EL_EAS_PING: {
        unsigned n = c->out.count < PING_FOLDERS ? c->out.count : PING_FOLDERS;
        set_bool(L, "changed", ok && (c->out.status == 2 || n > 0));
        set_int(L, "count", n);
        lua_createtable(L, (int)n, 0);
        for (unsigned k = 0; k < n; k++) {
            struct el_eas_folder *f = el_eas_device_folder(&dev->eas, c->out.changed_folders[k]);
            lua_pushstring(L, f ? f->name : c->out.changed_folders[k]);
            lua_rawseti(L, -2, k + 1);
        }
        lua_setfield(L, -2, "folders");
        break;
    }
    case EL_EAS_SEARCH:
        set_int(L, "count", c->out.count);
        set_int(L, "results", c->out.results);
        break;
    case EL_EAS_ITEMOPERATIONS:
        set_int(L, "bytes", c->out.bytes);
        break;
    default:
        break;
    }
}

/* ---- I/O plumbing ------------------------------------------------------------------------ */

static int handler_k(lua_State *L, int status, lua_KContext ctx)
{
    if (status != LUA_OK && status != LUA_YIELD) {
        const char *m = lua_tostring(L, -1);
        return luaL_error(L, "in d:on(\"%s\") handler: %s", el__eng_event_names[ctx],
                          m ? m : "(error object is not a string)");
    }
    return 1; /* the result table is on top again */
}

/* Calls the d:on handler for ev with (d, result); the result stays on top. */
static int fire(lua_State *L, struct el__eng_dev *dev, int ev)
{
    if (ev < 0 || !(dev->handlers & (1u << ev)) || lua_type(L, 1) != LUA_TUSERDATA)
        return 1;
    int r = lua_gettop(L);
    if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {
        lua_pop(L, 1);
        return 1;
    }
    lua_getfield(L, -1, el__eng_event_names[ev]);
    lua_remove(L, -2);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return 1;
    }
    lua_pushvalue(L, 1);
    lua_pushvalue(L, r);
    return handler_k(L, lua_pcallk(L, 2, 0, 0, ev, handler_k), ev);
}

/* Continuation of every I/O method: the command is over (or never started). */
static int io_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    struct el__eng_dev *dev = el_lua_dev_of(L);
    struct el__eng_req *rq = dev ? dev->req : NULL;
    if (rq == NULL)
        return luaL_error(L, "internal error: resumed without a request");
    dev->req = NULL;
    push_result(L, dev, rq);
    int ev = rq->event;
    el__eng_req_put(dev->w, rq);
    return fire(L, dev, ev);
}

static void own_coroutine(lua_State *L, struct el__eng_dev *dev, const char *what)
{
    if (el_lua_dev_of(L) != dev)
        luaL_error(L, "%s: called from a coroutine that is not the device's own", what);
    if (!lua_isyieldable(L))
        luaL_error(L, "%s: cannot wait here (inside a metamethod, sort or gsub callback)", what);
}

static struct el__eng_req *io_begin(lua_State *L, struct el__eng_dev *dev, int cmd,
                                    const char *what)
{
    own_coroutine(L, dev, what);
    if (dev->req != NULL) { /* left over from a call that raised before starting */
        el__eng_req_put(dev->w, dev->req);
        dev->req = NULL;
    }
    struct el__eng_req *rq = el__eng_req_get(dev->w);
    if (rq == NULL)
        luaL_error(L, "%s: out of memory", what);
    dev->req = rq;
    rq->call.cmd = cmd;
    rq->call.in.filter = -1;
    return rq;
}

int el_lua_started(lua_State *L, struct el__eng_dev *dev, int rc, const struct el_err *err,
                   lua_KFunction k)
{
    if (rc < 0 || rc == 2) {
        el__eng_req_put(dev->w, dev->req);
        dev->req = NULL;
        if (rc < 0)
            return luaL_error(L, "%s", err->msg);
        lua_pushlightuserdata(L, (void *)&el__eng_stop_token);
        return lua_error(L);
    }
    if (rc == 1)
        return k(L, LUA_OK, 0);
    return lua_yieldk(L, 0, 0, k);
}

static int io_start(lua_State *L, struct el__eng_dev *dev)
{
    struct el_err err = {0};
    int rc = el__eng_req_start(dev, &err);
    return el_lua_started(L, dev, rc, &err, io_k);
}

static const char *keep_str(lua_State *L, struct el__eng_req *rq, const char *s, size_t n)
{
    const char *p = el__eng_req_str(rq, s, n);
    if (p == NULL)
        luaL_error(L, "arguments too long (%d bytes of text at most)", (int)sizeof(rq->strs));
    return p;
}

/* Optional string argument at idx (nil -> NULL), copied into the request. */
static const char *arg_str(lua_State *L, struct el__eng_req *rq, int idx)
{
    if (lua_isnoneornil(L, idx))
        return NULL;
    size_t n;
    const char *s = luaL_checklstring(L, idx, &n);
    return keep_str(L, rq, s, n);
}

static int check_opts(lua_State *L, int idx)
{
    if (lua_isnoneornil(L, idx))
        return 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    return idx;
}

static lua_Integer opt_int(lua_State *L, int t, const char *k, lua_Integer def, lua_Integer lo,
                           lua_Integer hi)
{
    if (t == 0)
        return def;
    int type = lua_getfield(L, t, k);
    lua_Integer v = def;
    if (type != LUA_TNIL) {
        int isnum;
        v = lua_tointegerx(L, -1, &isnum);
        if (!isnum || v < lo || v > hi)
            luaL_error(L, "option %s: an integer %I..%I expected", k, (lua_Integer)lo,
                       (lua_Integer)hi);
    }
    lua_pop(L, 1);
    return v;
}

static const char *opt_str(lua_State *L, struct el__eng_req *rq, int t, const char *k)
{
    if (t == 0)
        return NULL;
    int type = lua_getfield(L, t, k);
    const char *v = NULL;
    if (type == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        v = keep_str(L, rq, s, n);
    } else if (type != LUA_TNIL) {
        luaL_error(L, "option %s: a string expected", k);
    }
    lua_pop(L, 1);
    return v;
}

/* ---- I/O methods ------------------------------------------------------------------------- */

static int l_provision(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    io_begin(L, dev, EL_EAS_PROVISION, "d:provision");
    return io_start(L, dev);
}

static int l_foldersync(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    io_begin(L, dev, EL_EAS_FOLDERSYNC, "d:foldersync");
    return io_start(L, dev);
}

static int l_settings(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    io_begin(L, dev, EL_EAS_SETTINGS, "d:settings");
    return io_start(L, dev);
}

static int body_type(lua_State *L, int t)
{
    if (t == 0)
        return 0;
    int type = lua_getfield(L, t, "body");
    int v = 0;
    if (type == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        if (strcmp(s, "text") == 0)
            v = 1;
        else if (strcmp(s, "html") == 0)
            v = 2;
        else if (strcmp(s, "mime") == 0)
            v = 4;
        else
            luaL_error(L, "option body: \"text\", \"html\" or \"mime\"");
    } else if (type != LUA_TNIL) {
        luaL_error(L, "option body: \"text\", \"html\" or \"mime\"");
    }
    lua_pop(L, 1);
    return v;
}

/* d:sync([folder [, {window=, body=, truncate=, filter=, adds=, changes=, deletes=}]]) */
static int l_sync(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    struct el__eng_req *rq = io_begin(L, dev, EL_EAS_SYNC, "d:sync");
    int t = check_opts(L, 3);
    struct el_eas_call *c = &rq->call;
    c->in.folder = arg_str(L, rq, 2);
    c->in.window = (unsigned)opt_int(L, t, "window", 0, 1, 512);
    c->in.body_type = body_type(L, t);
    c->in.truncate = (unsigned)opt_int(L, t, "truncate", 0, 0, 1 << 30);
    c->in.filter = (int)opt_int(L, t, "filter", -1, -1, 8);
    c->in.adds = (unsigned)opt_int(L, t, "adds", 0, 0, 100);
    c->in.changes = (unsigned)opt_int(L, t, "changes", 0, 0, 100);
    c->in.deletes = (unsigned)opt_int(L, t, "deletes", 0, 0, 100);
    return io_start(L, dev);
}

/* d:estimate([folder]) */
static int l_estimate(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    struct el__eng_req *rq = io_begin(L, dev, EL_EAS_GETITEMESTIMATE, "d:estimate");
    rq->call.in.folder = arg_str(L, rq, 2);
    return io_start(L, dev);
}

/* d:ping([folders [, {heartbeat = s}]]): folders a name or a list of names */
static int l_ping(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    struct el__eng_req *rq = io_begin(L, dev, EL_EAS_PING, "d:ping");
    int t = check_opts(L, 3);
    struct el_eas_call *c = &rq->call;
    if (lua_type(L, 2) == LUA_TSTRING) {
        c->in.folders[0] = arg_str(L, rq, 2);
        c->in.nfolders = 1;
    } else if (lua_type(L, 2) == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, 2);
        if (n < 1 || n > PING_FOLDERS)
            return luaL_error(L, "d:ping: 1..%d folders", PING_FOLDERS);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_geti(L, 2, i) != LUA_TSTRING)
                return luaL_error(L, "d:ping: folder %I is not a name", (lua_Integer)i);
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            c->in.folders[i - 1] = keep_str(L, rq, s, len);
            lua_pop(L, 1);
        }
        c->in.nfolders = (unsigned)n;
    } else if (lua_isnoneornil(L, 2)) {
        c->in.folders[0] = keep_str(L, rq, "Inbox", 5);
        c->in.nfolders = 1;
    } else {
        return luaL_typeerror(L, 2, "folder name or list of names");
    }
    c->in.heartbeat_s = (unsigned)opt_int(L, t, "heartbeat", 0, 1, 3540);
    return io_start(L, dev);
}

/* d:search(query [, {store = "Mailbox"|"GAL", range = n}]) */
static int l_search(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    struct el__eng_req *rq = io_begin(L, dev, EL_EAS_SEARCH, "d:search");
    luaL_checkstring(L, 2);
    int t = check_opts(L, 3);
    rq->call.in.query = arg_str(L, rq, 2);
    rq->call.in.store = opt_str(L, rq, t, "store");
    rq->call.in.range_max = (unsigned)opt_int(L, t, "range", 0, 0, 999);
    if (rq->call.in.store == NULL)
        rq->call.in.store = "Mailbox";
    return io_start(L, dev);
}

/* d:fetch([folder [, {item = id, body = "text"}]]): ItemOperations Fetch */
static int l_fetch(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    struct el__eng_req *rq = io_begin(L, dev, EL_EAS_ITEMOPERATIONS, "d:fetch");
    int t = check_opts(L, 3);
    rq->call.in.folder = arg_str(L, rq, 2);
    rq->call.in.item = opt_str(L, rq, t, "item");
    rq->call.in.body_type = body_type(L, t);
    return io_start(L, dev);
}

/* d:sendmail({to =, subject =, bytes =}) */
static int l_sendmail(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    struct el__eng_req *rq = io_begin(L, dev, EL_EAS_SENDMAIL, "d:sendmail");
    int t = check_opts(L, 2);
    rq->call.in.to = opt_str(L, rq, t, "to");
    rq->call.in.subject = opt_str(L, rq, t, "subject");
    rq->call.in.body_bytes = (size_t)opt_int(L, t, "bytes", 1024, 0, 16 << 20);
    if (rq->call.in.to == NULL) {
        char to[200];
        snprintf(to, sizeof(to), "%s@example.com", dev->eas.user);
        rq->call.in.to = keep_str(L, rq, to, strlen(to));
    }
    if (rq->call.in.subject == NULL)
        rq->call.in.subject = "easload test mail";
    return io_start(L, dev);
}

/* d:move(item, dest [, {from = folder}]): item nil = the last item seen in `from` */
static int l_move(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    struct el__eng_req *rq = io_begin(L, dev, EL_EAS_MOVEITEMS, "d:move");
    luaL_checkstring(L, 3);
    int t = check_opts(L, 4);
    rq->call.in.item = arg_str(L, rq, 2);
    rq->call.in.dest = arg_str(L, rq, 3);
    rq->call.in.folder = opt_str(L, rq, t, "from");
    return io_start(L, dev);
}

/* {"Page:Tag", child...}: a child is a string (text) or such a table; no child = <Tag/>.
 * With e NULL only checks (and raises); with e it encodes a tree already checked. */
static void enc_tree(lua_State *L, int idx, struct el_wbxml_encoder *e, int depth)
{
    luaL_checkstack(L, 4, "d:raw: tree too deep");
    if (depth > 32)
        luaL_error(L, "d:raw: tree deeper than 32");
    if (lua_geti(L, idx, 1) != LUA_TSTRING)
        luaL_error(L, "d:raw: each table starts with a tag name \"Page:Tag\"");
    const char *name = lua_tostring(L, -1);
    const char *colon = strchr(name, ':');
    int page = colon ? el_wbxml_page_lookup(name, (size_t)(colon - name)) : -1;
    int tag = page >= 0 ? el_wbxml_tag_lookup((unsigned)page, colon + 1, strlen(colon + 1)) : -1;
    if (tag < 0)
        luaL_error(L, "d:raw: unknown tag '%s' (write Page:Tag, like AirSync:Sync)", name);
    lua_pop(L, 1);
    uint16_t t16 = (uint16_t)((page << 8) | tag);
    lua_Integer n = luaL_len(L, idx);
    if (n <= 1) {
        if (e)
            el_wbxml_empty(e, t16);
        return;
    }
    if (e)
        el_wbxml_start(e, t16);
    for (lua_Integer i = 2; i <= n; i++) {
        int type = lua_geti(L, idx, i);
        if (type == LUA_TTABLE) {
            enc_tree(L, lua_gettop(L), e, depth + 1);
        } else if (type == LUA_TSTRING || type == LUA_TNUMBER) {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            if (e)
                el_wbxml_str(e, s, len);
        } else {
            luaL_error(L, "d:raw: children are strings or tables");
        }
        lua_pop(L, 1);
    }
    if (e)
        el_wbxml_end(e);
}

/* d:raw(cmd, xml_text_or_tree): any command with a body given as XML text or a table tree */
static int l_raw(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    struct el__eng_req *rq = io_begin(L, dev, EL_EAS_RAW, "d:raw");
    luaL_checkstring(L, 2);
    rq->call.in.raw_cmd = arg_str(L, rq, 2);
    struct el_buf b;
    el_buf_init(&b, RAW_BODY_MAX);
    struct el_err err = {0};
    int rc;
    if (lua_type(L, 3) == LUA_TSTRING) {
        size_t n;
        const char *xml = lua_tolstring(L, 3, &n);
        rc = el_wbxml_from_xml(xml, n, &b, &err);
    } else if (lua_type(L, 3) == LUA_TTABLE) {
        /* a Lua error while encoding would leak b: check the whole tree first */
        lua_settop(L, 3);
        enc_tree(L, 3, NULL, 0);
        struct el_wbxml_encoder e;
        el_wbxml_encoder_init(&e, &b);
        enc_tree(L, 3, &e, 0);
        rc = el_wbxml_encoder_finish(&e, &err);
    } else {
        el_buf_close(&b);
        return luaL_typeerror(L, 3, "XML text or a tree {\"Page:Tag\", ...}");
    }
    if (rc < 0) {
        el_buf_close(&b);
        return luaL_error(L, "d:raw: %s", err.msg);
    }
    rq->raw = b.data; /* the request owns it now */
    rq->call.in.raw = b.data;
    rq->call.in.raw_len = b.len;
    return io_start(L, dev);
}

/* ---- local methods ----------------------------------------------------------------------- */

static uint64_t rng_next(struct el__eng_dev *dev)
{
    uint64_t x = dev->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    dev->rng = x;
    return x;
}

static double rng_unit(struct el__eng_dev *dev)
{
    return (double)(rng_next(dev) >> 11) / (double)(1ull << 53);
}

/* seconds from a number or a duration string */
static double arg_seconds(lua_State *L, int idx)
{
    if (lua_type(L, idx) == LUA_TSTRING) {
        int64_t us;
        if (el_engine_parse_duration(lua_tostring(L, idx), &us) < 0)
            luaL_argerror(L, idx, "a duration like \"30s\" or a number of seconds");
        return (double)us / 1e6;
    }
    double v = luaL_checknumber(L, idx);
    if (!(v >= 0))
        luaL_argerror(L, idx, "seconds >= 0");
    return v;
}

static int think_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)L;
    (void)status;
    (void)ctx;
    return 0;
}

/* d:think(dist, a [, b]): "const"|"exp"|"uniform"|"normal"; d:think(s) = const */
static int l_think(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    double s;
    if (lua_type(L, 2) == LUA_TNUMBER) {
        s = arg_seconds(L, 2);
    } else {
        const char *dist = luaL_checkstring(L, 2);
        double a = arg_seconds(L, 3);
        if (strcmp(dist, "const") == 0 || strcmp(dist, "fixed") == 0) {
            s = a;
        } else if (strcmp(dist, "exp") == 0) {
            s = -a * log(1.0 - rng_unit(dev));
        } else if (strcmp(dist, "uniform") == 0) {
            double b = arg_seconds(L, 4);
            s = a + (b - a) * rng_unit(dev);
        } else if (strcmp(dist, "normal") == 0) {
            double sd = arg_seconds(L, 4);
            double u1 = 1.0 - rng_unit(dev), u2 = rng_unit(dev);
            s = a + sd * sqrt(-2.0 * log(u1)) * cos(2 * M_PI * u2);
        } else {
            return luaL_argerror(L, 2, "\"const\", \"exp\", \"uniform\" or \"normal\"");
        }
    }
    if (!(s > 0))
        s = 0;
    if (s > THINK_MAX_S)
        s = THINK_MAX_S;
    own_coroutine(L, dev, "d:think");
    if (!el__eng_running(dev))
        return 0; /* the run is over: no waiting */
    el__eng_dev_sleep(dev, EL__TK_THINK, (int64_t)(s * 1e6));
    return lua_yieldk(L, 0, 0, think_k);
}

static int l_sleep(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    double s = arg_seconds(L, 2);
    own_coroutine(L, dev, "d:sleep");
    if (!el__eng_running(dev))
        return 0;
    el__eng_dev_sleep(dev, EL__TK_THINK, (int64_t)(s > THINK_MAX_S ? THINK_MAX_S * 1e6 : s * 1e6));
    return lua_yieldk(L, 0, 0, think_k);
}

static int l_running(lua_State *L)
{
    lua_pushboolean(L, el__eng_running(check_dev(L)));
    return 1;
}

/* d:check(name, cond) -> cond */
static int l_check(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    const char *name = luaL_checkstring(L, 2);
    luaL_checkany(L, 3);
    int ok = lua_toboolean(L, 3);
    el_results_check(dev->w->res, name, ok);
    lua_pushboolean(L, ok);
    return 1;
}

/* d:on(event, fn|nil): "wipe", "provision", "throttled", "redirect" */
static int l_on(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    const char *ev = luaL_checkstring(L, 2);
    int k = -1;
    for (int i = 0; i < EL__EV_COUNT; i++)
        if (strcmp(ev, el__eng_event_names[i]) == 0)
            k = i;
    if (k < 0)
        return luaL_argerror(L, 2, "\"wipe\", \"provision\", \"throttled\" or \"redirect\"");
    if (!lua_isnil(L, 3))
        luaL_checktype(L, 3, LUA_TFUNCTION);
    lua_settop(L, 3);
    if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, 1, 1);
    }
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, ev);
    if (lua_isnil(L, 3))
        dev->handlers &= ~(1u << k);
    else
        dev->handlers |= 1u << k;
    return 0;
}

/* d:must(r): r if r.ok, else raises with the command, class and detail */
static int l_must(lua_State *L)
{
    check_dev(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lua_getfield(L, 2, "ok");
    if (lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        return 1;
    }
    lua_getfield(L, 2, "cmd");
    lua_getfield(L, 2, "class");
    lua_getfield(L, 2, "status");
    lua_getfield(L, 2, "detail");
    return luaL_error(L, "must: %s failed: %s (status %s)%s%s",
                      lua_isstring(L, 4) ? lua_tostring(L, 4) : "command",
                      lua_isstring(L, 5) ? lua_tostring(L, 5) : "?",
                      lua_isstring(L, 6) ? lua_tostring(L, 6) : "-", lua_isstring(L, 7) ? ": " : "",
                      lua_isstring(L, 7) ? lua_tostring(L, 7) : "");
}

static int l_log(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 2; i <= n; i++) {
        if (i > 2)
            luaL_addchar(&b, ' ');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    el__eng_log(dev->w, dev->index, EL_LOG_INFO, "script", "%s", lua_tostring(L, -1));
    return 0;
}

/* d:rand() -> [0,1); d:rand(m) -> 1..m; d:rand(m, n) -> m..n; deterministic per device */
static int l_rand(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    int n = lua_gettop(L);
    if (n == 1) {
        lua_pushnumber(L, rng_unit(dev));
        return 1;
    }
    lua_Integer lo = 1, hi;
    if (n == 2) {
        hi = luaL_checkinteger(L, 2);
    } else {
        lo = luaL_checkinteger(L, 2);
        hi = luaL_checkinteger(L, 3);
    }
    luaL_argcheck(L, lo <= hi, n, "interval is empty");
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    uint64_t r = rng_next(dev);
    lua_pushinteger(L, (lua_Integer)((uint64_t)lo + (span ? r % span : r)));
    return 1;
}

/* d:folders() -> list of folder names the device knows (after d:foldersync) */
static int l_folders(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    lua_createtable(L, (int)dev->eas.nfolders, 0);
    for (unsigned i = 0; i < dev->eas.nfolders; i++) {
        lua_pushstring(L, dev->eas.folders[i].name);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* d:item([folder]) -> the ServerId of an item the device knows in folder (fetch/move target
 * when none is given), or nil */
static int l_item(lua_State *L)
{
    struct el__eng_dev *dev = check_dev(L);
    const char *name = luaL_optstring(L, 2, "Inbox");
    struct el_eas_folder *f = el_eas_device_folder(&dev->eas, name);
    if (f == NULL || f->last_item[0] == '\0')
        lua_pushnil(L);
    else
        lua_pushstring(L, f->last_item);
    return 1;
}

static const luaL_Reg methods[] = {
    {"provision", l_provision},
    {"foldersync", l_foldersync},
    {"sync", l_sync},
    {"estimate", l_estimate},
    {"ping", l_ping},
    {"search", l_search},
    {"fetch", l_fetch},
    {"sendmail", l_sendmail},
    {"move", l_move},
    {"settings", l_settings},
    {"raw", l_raw},
    {"think", l_think},
    {"sleep", l_sleep},
    {"running", l_running},
    {"check", l_check},
    {"on", l_on},
    {"must", l_must},
    {"log", l_log},
    {"rand", l_rand},
    {"folders", l_folders},
    {"item", l_item},
    {NULL, NULL},
};

/* __index: methods first (upvalue 1), then the read-only fields */
static int l_index(lua_State *L)
{
    const char *k = luaL_checkstring(L, 2);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    struct el__eng_dev *dev = check_dev(L);
    if (strcmp(k, "id") == 0)
        lua_pushinteger(L, (lua_Integer)dev->index + 1);
    else if (strcmp(k, "index") == 0)
        lua_pushinteger(L, dev->index);
    else if (strcmp(k, "user") == 0)
        lua_pushstring(L, dev->eas.user);
    else if (strcmp(k, "device_id") == 0)
        lua_pushstring(L, dev->eas.device_id);
    else if (strcmp(k, "profile") == 0)
        lua_pushstring(L, dev->eas.profile ? dev->eas.profile->name : "");
    else if (strcmp(k, "wiped") == 0)
        lua_pushboolean(L, dev->wiped);
    else if (strcmp(k, "late") == 0)
        lua_pushboolean(L, dev->late);
    else
        lua_pushnil(L);
    return 1;
}

static int l_tostring(lua_State *L)
{
    struct devh *h = luaL_checkudata(L, 1, DEV_MT);
    if (h->dev == NULL || h->gen != h->dev->gen)
        lua_pushliteral(L, "easload.device (dead)");
    else
        lua_pushfstring(L, "easload.device d%d (%s)", (int)h->dev->index + 1, h->dev->eas.user);
    return 1;
}

int el_lua_open_device(lua_State *L)
{
    luaL_newmetatable(L, DEV_MT);
    luaL_newlib(L, methods);
    lua_pushcclosure(L, l_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_release);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_release);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, l_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "easload.device");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    return 0;
}
