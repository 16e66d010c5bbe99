/* engine_resume.c - a device's coroutine: its start (eas state, profile by share, user, a new
 * thread running device(d)), the one place it resumes (el_engine_resume), and script errors
 * (one line with file:line and the device id, counted as outcome script_error, the coroutine
 * closed, the run goes on).
 * Owns: nothing (the coroutine is anchored in the registry by dev->co_ref).
 * Uses: engine_int.h, lua/ (device handles, the sandbox's extra space). */
#include "engine_int.h"

#include <string.h>

#include <lauxlib.h>

#define SCRIPT_ERRORS_LOGGED 20

const char el__eng_stop_token = 0;

void el__eng_script_error(struct el_engine *w, struct el__eng_dev *dev, const char *msg)
{
    int64_t now = el__eng_now_us(w);
    el_results_record(w->res, "script", "script_error", 0, 0, 0, el__eng_unix_us(w, now), 0);
    int64_t id = dev ? (int64_t)dev->index : -1;
    if (w->script_errors_logged < SCRIPT_ERRORS_LOGGED) {
        el__eng_log(w, id, EL_LOG_ERROR, "lua", "%s", msg);
    } else if (w->script_errors_logged == SCRIPT_ERRORS_LOGGED) {
        el__eng_log(w, id, EL_LOG_ERROR, "lua",
                    "more script errors: counted in results (script_error), not printed");
    } else {
        el__eng_log(w, id, EL_LOG_DEBUG, "lua", "%s", msg);
    }
    w->script_errors_logged++;
}

/* Profile by share: a stable hash of the device number into the cumulative weights. */
static const struct el_eas_profile *pick_profile(const struct el_engine_config *c, uint32_t g)
{
    if (c->nshares == 0)
        return el_eas_profile_lookup("android-14.1");
    double total = 0;
    for (unsigned i = 0; i < c->nshares; i++)
        total += c->shares[i].weight;
    uint64_t z = (uint64_t)g * 0x9E3779B97F4A7C15ull + c->seed;
    z ^= z >> 29;
    z *= 0xBF58476D1CE4E5B9ull;
    z ^= z >> 32;
    double u = (double)(z >> 11) / (double)(1ull << 53) * total;
    for (unsigned i = 0; i < c->nshares; i++) {
        if (u < c->shares[i].weight)
            return c->shares[i].profile;
        u -= c->shares[i].weight;
    }
    return c->shares[c->nshares - 1].profile;
}

int el__eng_dev_begin(struct el__eng_dev *dev, int64_t intended_us)
{
    struct el_engine *w = dev->w;
    const struct el_engine_config *c = w->cfg;
    if (!dev->eas_ready) {
        const struct el_engine_user *u = &c->users[dev->index % c->nusers];
        struct el_err err = {0};
        /* issue 7: Basic builds its header from the password; bearer sends the user's token
         * (its secret column); NTLM (libcurl, engine_req.c) and client certificates send no
         * Authorization of the device's own */
        int basic = c->auth == EL_ENGINE_AUTH_BASIC;
        int rc = el_eas_device_init(&dev->eas, pick_profile(c, dev->index), dev->index, u->name,
                                    basic ? u->password : NULL, c->target, &err);
        if (rc == 0 && c->auth == EL_ENGINE_AUTH_BEARER) {
            rc = el_eas_device_set_bearer(&dev->eas, u->password, &err);
            if (rc < 0)
                el_eas_device_close(&dev->eas);
        }
        if (rc < 0) {
            el__eng_log(w, dev->index, EL_LOG_ERROR, "engine", "cannot make the device: %s",
                        err.msg);
            dev->state = EL__DEV_DONE;
            w->finished++;
            el__eng_maybe_finish(w);
            return rc;
        }
        dev->eas_ready = 1;
    }
    lua_State *L = w->L;
    if (!lua_checkstack(L, 4)) {
        el__eng_script_error(w, dev, "Lua stack exhausted");
        return EL_ENOMEM;
    }
    lua_State *co = lua_newthread(L);
    dev->co_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* pops the thread */
    dev->co = co;
    el_lua_set_dev(co, dev);
    lua_getglobal(co, "device");
    el_lua_push_device(co, dev);
    int64_t now = el__eng_now_us(w);
    dev->late = now - intended_us > 10000;
    if (w->cfg->nstages > 0 && dev->late)
        el_results_count(w->res, "arrivals.late", 1);
    dev->intended_us = intended_us;
    w->active++;
    el_engine_resume(dev, 1);
    return 0;
}

void el_engine_resume(struct el__eng_dev *dev, int nargs)
{
    struct el_engine *w = dev->w;
    lua_State *co = dev->co;
    dev->state = EL__DEV_RUNNING;
    dev->slice_instr = 0;
    int nres = 0;
    int st = lua_resume(co, w->L, nargs, &nres);
    if (st == LUA_YIELD) {
        lua_pop(co, nres);
        if (dev->state != EL__DEV_RUNNING)
            return; /* parked in an I/O call or a timer */
        el__eng_script_error(w, dev,
                             "device yielded outside an easload call (coroutine.yield at the "
                             "top level of device(d)?)");
    } else if (st != LUA_OK && lua_touserdata(co, -1) == (void *)&el__eng_stop_token) {
        /* an I/O call after the end of the run: the device simply stops */
    } else if (st != LUA_OK) {
        const char *msg = lua_tostring(co, -1);
        char line[600];
        snprintf(line, sizeof(line), "%s", msg ? msg : "(error object is not a string)");
        if (w->cfg->log_level >= EL_LOG_DEBUG) {
            luaL_traceback(w->L, co, line, 0);
            el__eng_log(w, dev->index, EL_LOG_DEBUG, "lua", "%s", lua_tostring(w->L, -1));
            lua_pop(w->L, 1);
        }
        el__eng_script_error(w, dev, line);
    }
    lua_resetthread(co);
    dev->state = EL__DEV_RUNNING;
    el__eng_dev_ended(dev);
}
