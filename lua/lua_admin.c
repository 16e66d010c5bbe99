/* lua_admin.c - the `easload` table: calls to the reference server's admin API over HTTP
 * (easload.deliver, easload.wipe, easload.policy; --admin URL) made on the calling device's
 * connection and yielding like any I/O method, plus easload.now_us(), easload.push_subject(),
 * easload.users(), easload.user(i) and easload.var(name [, default]) (--var KEY=VALUE).
 * Owns: nothing. Uses: engine_int.h, Lua 5.4. */
#include "engine_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#define JSON_MAX 1024

static const struct el_engine_config *config_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "easload.config");
    const struct el_engine_config *c = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return c;
}

/* Appends s as a JSON string; 0, or -1 when it does not fit. */
static int json_str(char *out, size_t cap, size_t *n, const char *s)
{
    if (*n + 2 >= cap)
        return -1;
    out[(*n)++] = '"';
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[8];
        size_t len = 1;
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            len = 2;
        } else if (ch < 0x20) {
            len = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", ch);
        } else {
            esc[0] = (char)ch;
        }
        if (*n + len + 2 >= cap)
            return -1;
        memcpy(out + *n, esc, len);
        *n += len;
    }
    out[(*n)++] = '"';
    out[*n] = '\0';
    return 0;
}

static int admin_k(lua_State *L, int status, lua_KContext ctx);

/* Starts an admin call for the calling device and yields until it completes. */
static int admin_call(lua_State *L, const char *path, const char *json)
{
    struct el__eng_dev *dev = el_lua_dev_of(L);
    if (dev == NULL)
        return luaL_error(L, "easload admin calls are made from a device's coroutine");
    if (!lua_isyieldable(L))
        return luaL_error(L, "easload admin call: cannot wait here");
    if (dev->req != NULL) {
        el__eng_req_put(dev->w, dev->req);
        dev->req = NULL;
    }
    dev->req = el__eng_req_get(dev->w);
    if (dev->req == NULL)
        return luaL_error(L, "out of memory");
    struct el_err err = {0};
    int rc = el__eng_admin_start(dev, path, json, &err);
    return el_lua_started(L, dev, rc, &err, admin_k);
}

static int admin_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    struct el__eng_dev *dev = el_lua_dev_of(L);
    struct el__eng_req *rq = dev->req;
    dev->req = NULL;
    int ok = rq->admin_rc == 0 && rq->admin_status >= 200 && rq->admin_status < 300;
    lua_createtable(L, 0, 5);
    lua_pushboolean(L, ok);
    lua_setfield(L, -2, "ok");
    lua_pushstring(L, ok                             ? "ok"
                      : rq->admin_rc == EL_ECANCELED ? "canceled"
                      : rq->admin_rc != 0            ? "network"
                                                     : "http_status");
    lua_setfield(L, -2, "class");
    lua_pushinteger(L, rq->admin_status);
    lua_setfield(L, -2, "http");
    lua_pushstring(L, rq->admin_body);
    lua_setfield(L, -2, "body");
    el__eng_req_put(dev->w, rq);
    return 1;
}

static int64_t unix_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* easload.deliver(user, {subject =, bytes =, from =}) */
static int l_deliver(lua_State *L)
{
    const char *user = luaL_checkstring(L, 1);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TTABLE);
    char json[JSON_MAX];
    size_t n = 0;
    n += (size_t)snprintf(json, sizeof(json), "{\"user\":");
    int bad = json_str(json, sizeof(json), &n, user);
    if (lua_istable(L, 2)) {
        if (lua_getfield(L, 2, "subject") == LUA_TSTRING && !bad) {
            n += (size_t)snprintf(json + n, sizeof(json) - n, ",\"subject\":");
            bad = json_str(json, sizeof(json), &n, lua_tostring(L, -1));
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 2, "from") == LUA_TSTRING && !bad) {
            n += (size_t)snprintf(json + n, sizeof(json) - n, ",\"from\":");
            bad = json_str(json, sizeof(json), &n, lua_tostring(L, -1));
        }
        lua_pop(L, 1);
        if (lua_getfield(L, 2, "bytes") != LUA_TNIL) {
            lua_Integer b = lua_tointeger(L, -1);
            if (b < 0 || b > (16 << 20))
                return luaL_error(L, "easload.deliver: bytes 0..16M");
            if (!bad)
                n += (size_t)snprintf(json + n, sizeof(json) - n, ",\"bytes\":%lld", (long long)b);
        }
        lua_pop(L, 1);
    }
    if (bad || n + 2 >= sizeof(json))
        return luaL_error(L, "easload.deliver: arguments too long");
    json[n++] = '}';
    json[n] = '\0';
    return admin_call(L, "/deliver", json);
}

/* easload.wipe(user, device_id [, account_only]) */
static int l_wipe(lua_State *L)
{
    const char *user = luaL_checkstring(L, 1);
    const char *device = luaL_checkstring(L, 2);
    int account_only = lua_toboolean(L, 3);
    char json[JSON_MAX];
    size_t n = (size_t)snprintf(json, sizeof(json), "{\"user\":");
    if (json_str(json, sizeof(json), &n, user) < 0)
        return luaL_error(L, "easload.wipe: arguments too long");
    n += (size_t)snprintf(json + n, sizeof(json) - n, ",\"device\":");
    if (json_str(json, sizeof(json), &n, device) < 0 || n + 40 >= sizeof(json))
        return luaL_error(L, "easload.wipe: arguments too long");
    snprintf(json + n, sizeof(json) - n, ",\"account_only\":%s}", account_only ? "true" : "false");
    return admin_call(L, "/wipe", json);
}

/* easload.policy(): bumps the policy, every device reprovisions */
static int l_policy(lua_State *L)
{
    return admin_call(L, "/policy", "{}");
}

static int l_now_us(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)unix_us());
    return 1;
}

/* "easload-push:<unix_us>": a Subject whose Sync arrival is recorded as push latency */
static int l_push_subject(lua_State *L)
{
    lua_pushfstring(L, "easload-push:%I", (lua_Integer)unix_us());
    return 1;
}

static int l_users(lua_State *L)
{
    const struct el_engine_config *c = config_of(L);
    lua_pushinteger(L, c ? (lua_Integer)c->nusers : 0);
    return 1;
}

/* easload.user(i) -> name of user i (1-based, wraps around) */
static int l_user(lua_State *L)
{
    const struct el_engine_config *c = config_of(L);
    lua_Integer i = luaL_checkinteger(L, 1);
    if (c == NULL || c->nusers == 0)
        return luaL_error(L, "easload.user: no users");
    lua_Integer k = (i - 1) % (lua_Integer)c->nusers;
    if (k < 0)
        k += c->nusers;
    lua_pushstring(L, c->users[k].name);
    return 1;
}

/* easload.var(name [, default]) -> the VALUE of `--var name=VALUE` (a string), else default
 * (nil may be the default); without either it raises, naming the flag the run lacks. */
static int l_var(lua_State *L)
{
    size_t n = 0;
    const char *name = luaL_checklstring(L, 1, &n);
    const struct el_engine_config *c = config_of(L);
    for (unsigned i = 0; c && i < c->nvars; i++) {
        const char *v = c->vars[i];
        if (strncmp(v, name, n) == 0 && v[n] == '=') {
            lua_pushstring(L, v + n + 1);
            return 1;
        }
    }
    if (lua_gettop(L) >= 2) { /* a default, nil included */
        lua_pushvalue(L, 2);
        return 1;
    }
    return luaL_error(L, "easload.var: this scenario needs --var %s=VALUE", name);
}

static const luaL_Reg fns[] = {
    {"deliver", l_deliver},
    {"wipe", l_wipe},
    {"policy", l_policy},
    {"now_us", l_now_us},
    {"push_subject", l_push_subject},
    {"users", l_users},
    {"user", l_user},
    {"var", l_var},
    {NULL, NULL},
};

int el_lua_open_admin(lua_State *L)
{
    luaL_newlib(L, fns);
    lua_setglobal(L, "easload");
    return 0;
}
