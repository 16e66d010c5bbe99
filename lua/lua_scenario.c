/* lua_scenario.c - the scenario{...} table of a scenario file -> the run's configuration: name,
 * devices, ramp, duration, grace, timeout, rate or arrival stages, profile or profile shares,
 * thresholds, users, user_count, seed. Unknown fields are refused (typos fail loudly).
 * Owns: nothing (the table is anchored in the registry). Uses: engine_int.h, eas.h. */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define SCENARIO_KEY "easload.scenario"

/* scenario{...}: keeps the table for el_lua_scenario_read; returns it. */
static int l_scenario(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_pushvalue(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, SCENARIO_KEY);
    return 1;
}

int el_lua_open_scenario(lua_State *L)
{
    lua_pushcfunction(L, l_scenario);
    lua_setglobal(L, "scenario");
    return 0;
}

static const char *const known[] = {"name",        "devices",    "ramp",   "duration",   "grace",
                                    "timeout",     "rate",       "stages", "arrivals",   "profile",
                                    "profiles",    "thresholds", "users",  "user_count", "seed",
                                    "description", NULL};

/* A duration field: number of seconds or a string "30s". */
static int get_duration(lua_State *L, int t, const char *field, int64_t *out, struct el_err *err)
{
    int type = lua_getfield(L, t, field);
    int rc = 0;
    if (type == LUA_TNUMBER) {
        double v = lua_tonumber(L, -1);
        if (v < 0 || v > 30.0 * 86400)
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "scenario: %s: out of range", field);
        else
            *out = (int64_t)(v * 1e6);
    } else if (type == LUA_TSTRING) {
        if (el_engine_parse_duration(lua_tostring(L, -1), out) < 0)
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                        "scenario: %s: '%s' is not a duration (like 30s, 5m, 1h, 250ms)", field,
                        lua_tostring(L, -1));
    } else if (type != LUA_TNIL) {
        rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                    "scenario: %s: a number of seconds or a "
                    "string like \"30s\" expected",
                    field);
    }
    lua_pop(L, 1);
    return rc;
}

static int get_stage(lua_State *L, int s, struct el_engine_stage *st, unsigned i,
                     struct el_err *err)
{
    /* {"30s", 10} or {duration = "30s", rate = 10} */
    int64_t d = -1;
    double r = -1;
    int dt = lua_geti(L, s, 1);
    if (dt == LUA_TNIL) {
        lua_pop(L, 1);
        dt = lua_getfield(L, s, "duration");
    }
    if (dt == LUA_TSTRING)
        el_engine_parse_duration(lua_tostring(L, -1), &d);
    else if (dt == LUA_TNUMBER)
        d = (int64_t)(lua_tonumber(L, -1) * 1e6);
    lua_pop(L, 1);
    int rt = lua_geti(L, s, 2);
    if (rt == LUA_TNIL) {
        lua_pop(L, 1);
        rt = lua_getfield(L, s, "rate");
    }
    if (rt == LUA_TNUMBER)
        r = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (d < 0 || r < 0 || r > 1e6)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "scenario: stage %u: expected {\"30s\", rate} or {duration=, rate=}", i + 1);
    st->dur_us = d;
    st->rate_per_s = r;
    return 0;
}

static int get_thresholds(lua_State *L, int t, struct el_engine_config *c, struct el_err *err)
{
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        char expr[256];
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -2);
            const char *v = lua_tostring(L, -1);
            size_t n = (size_t)snprintf(expr, sizeof(expr), "%s", k);
            for (const char *p = v; *p && n + 1 < sizeof(expr); p++)
                if (*p != ' ')
                    expr[n++] = *p;
            expr[n] = '\0';
        } else if (lua_type(L, -2) == LUA_TNUMBER && lua_type(L, -1) == LUA_TSTRING) {
            snprintf(expr, sizeof(expr), "%s", lua_tostring(L, -1));
        } else {
            lua_pop(L, 2);
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                          "scenario: thresholds: entries are [\"sync.p99\"] = \"< 800ms\" or "
                          "\"sync.p99<800ms\"");
        }
        int rc = el_engine_config_threshold(c, expr, err);
        if (rc < 0) {
            lua_pop(L, 2);
            return rc;
        }
        lua_pop(L, 1);
    }
    return 0;
}

static int get_profiles(lua_State *L, int t, struct el_engine_config *c, struct el_err *err)
{
    /* sorted names so the shares do not depend on table order */
    const char *names[EL_ENGINE_SHARES_MAX];
    double weights[EL_ENGINE_SHARES_MAX];
    unsigned n = 0;
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING || !lua_isnumber(L, -1) || lua_tonumber(L, -1) < 0) {
            lua_pop(L, 2);
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                          "scenario: profiles: entries are [\"ios-16.1\"] = weight");
        }
        if (n == EL_ENGINE_SHARES_MAX) {
            lua_pop(L, 2);
            return EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET, "scenario: profiles: at most %d",
                          EL_ENGINE_SHARES_MAX);
        }
        names[n] = lua_tostring(L, -2); /* anchored: a key of the table */
        weights[n] = lua_tonumber(L, -1);
        n++;
        lua_pop(L, 1);
    }
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *tn = names[j];
            names[j] = names[j - 1];
            names[j - 1] = tn;
            double tw = weights[j];
            weights[j] = weights[j - 1];
            weights[j - 1] = tw;
        }
    c->nshares = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct el_eas_profile *p = el_eas_profile_lookup(names[i]);
        if (p == NULL)
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "scenario: unknown profile '%s'", names[i]);
        if (weights[i] > 0) {
            c->shares[c->nshares].profile = p;
            c->shares[c->nshares].weight = weights[i];
            c->nshares++;
        }
    }
    return 0;
}

int el_lua_scenario_read(lua_State *L, struct el_engine_config *c, struct el_err *err)
{
    int top = lua_gettop(L);
    int rc = 0;
    if (lua_getfield(L, LUA_REGISTRYINDEX, SCENARIO_KEY) != LUA_TTABLE)
        goto out; /* no scenario{}: defaults */
    int t = lua_gettop(L);
    /* unknown fields */
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        lua_pop(L, 1);
        int ok = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (const char *const *k = known; *k; k++)
                if (strcmp(*k, lua_tostring(L, -1)) == 0)
                    ok = 1;
        if (!ok) {
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "scenario: unknown field '%s'",
                        lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(not a name)");
            goto out;
        }
    }
    if (lua_getfield(L, t, "name") == LUA_TSTRING)
        snprintf(c->name, sizeof(c->name), "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    int type = lua_getfield(L, t, "devices");
    if (type != LUA_TNIL) {
        lua_Integer n = lua_tointeger(L, -1);
        if (!lua_isinteger(L, -1) || n < 1 || n > 10000000) {
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "scenario: devices: an integer 1..10000000");
            goto out;
        }
        c->devices = (uint32_t)n;
    }
    lua_pop(L, 1);
    int64_t dur = -1;
    if ((rc = get_duration(L, t, "ramp", &c->ramp_us, err)) < 0 ||
        (rc = get_duration(L, t, "duration", &dur, err)) < 0 ||
        (rc = get_duration(L, t, "grace", &c->grace_us, err)) < 0 ||
        (rc = get_duration(L, t, "timeout", &c->timeout_us, err)) < 0)
        goto out;
    if (dur >= 0)
        c->duration_us = dur;
    type = lua_getfield(L, t, "rate");
    if (type == LUA_TNUMBER) {
        double r = lua_tonumber(L, -1);
        if (r <= 0 || r > 1e6) {
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "scenario: rate: arrivals per second > 0");
            goto out;
        }
        c->stages[0].dur_us = 0;
        c->stages[0].rate_per_s = r;
        c->stages[1].dur_us = 30LL * 86400 * 1000000; /* the run's duration ends it */
        c->stages[1].rate_per_s = r;
        c->nstages = 2;
    } else if (type != LUA_TNIL) {
        rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "scenario: rate: a number (arrivals/s)");
        goto out;
    }
    lua_pop(L, 1);
    type = lua_getfield(L, t, "stages");
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        type = lua_getfield(L, t, "arrivals");
    }
    if (type == LUA_TTABLE) {
        int s = lua_gettop(L);
        lua_Integer n = luaL_len(L, s);
        if (n < 1 || n > EL_ENGINE_STAGES_MAX) {
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "scenario: stages: 1..%d stages",
                        EL_ENGINE_STAGES_MAX);
            goto out;
        }
        int64_t total = 0;
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_geti(L, s, i) != LUA_TTABLE) {
                rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "scenario: stage %lld: a table",
                            (long long)i);
                goto out;
            }
            rc = get_stage(L, lua_gettop(L), &c->stages[i - 1], (unsigned)(i - 1), err);
            lua_pop(L, 1);
            if (rc < 0)
                goto out;
            total += c->stages[i - 1].dur_us;
        }
        c->nstages = (unsigned)n;
        if (dur < 0)
            c->duration_us = total;
    } else if (type != LUA_TNIL) {
        rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "scenario: stages: a list of {\"30s\", rate}");
        goto out;
    }
    lua_pop(L, 1);
    type = lua_getfield(L, t, "profile");
    if (type == LUA_TSTRING) {
        const struct el_eas_profile *p = el_eas_profile_lookup(lua_tostring(L, -1));
        if (p == NULL) {
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                        "scenario: unknown profile '%s' (android-14.1, ios-16.1, outlook-16.1, "
                        "wm-12.1)",
                        lua_tostring(L, -1));
            goto out;
        }
        c->shares[0].profile = p;
        c->shares[0].weight = 1;
        c->nshares = 1;
    } else if (type != LUA_TNIL) {
        rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "scenario: profile: a name");
        goto out;
    }
    lua_pop(L, 1);
    if (lua_getfield(L, t, "profiles") == LUA_TTABLE &&
        (rc = get_profiles(L, lua_gettop(L), c, err)) < 0)
        goto out;
    lua_pop(L, 1);
    if (lua_getfield(L, t, "thresholds") == LUA_TTABLE &&
        (rc = get_thresholds(L, lua_gettop(L), c, err)) < 0)
        goto out;
    lua_pop(L, 1);
    if (lua_getfield(L, t, "users") == LUA_TSTRING)
        snprintf(c->users_spec, sizeof(c->users_spec), "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    if (lua_getfield(L, t, "user_count") == LUA_TNUMBER) {
        lua_Integer n = lua_tointeger(L, -1);
        if (n < 1 || n > 10000000) {
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "scenario: user_count: 1..10000000");
            goto out;
        }
        c->user_count = (uint32_t)n;
    }
    lua_pop(L, 1);
    if (lua_getfield(L, t, "seed") == LUA_TNUMBER)
        c->seed = (uint64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
out:
    lua_settop(L, top);
    return rc;
}
