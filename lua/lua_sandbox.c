/* lua_sandbox.c - the worker's Lua state: only base (no dofile/loadfile; load takes text only),
 * table, string, math, utf8, coroutine; print goes to the log on stderr; require sees only the
 * scenario's folder and lua/easload/; a count hook stops code that runs too long without
 * yielding; the allocator caps the heap. Also loads a scenario file as a text chunk.
 * Owns: the state it makes (the caller closes it). Uses: engine_int.h, Lua 5.4. */
#include "engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#define HOOK_EVERY      10000
#define INSTR_MAX       20000000LL /* between two yields of a device */
#define CHUNK_MAX_BYTES (4u << 20)
#define LOADED_KEY      "easload.loaded"

void *el_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct el_lua_heap *h = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        h->used -= old;
        return NULL;
    }
    if (nsize > old && h->max > 0 && h->used + (nsize - old) > h->max)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p == NULL)
        return NULL;
    h->used = h->used - old + nsize;
    return p;
}

struct el__eng_dev *el_lua_dev_of(lua_State *L)
{
    struct el__eng_dev *dev;
    memcpy(&dev, lua_getextraspace(L), sizeof(dev));
    return dev;
}

void el_lua_set_dev(lua_State *L, struct el__eng_dev *dev)
{
    memcpy(lua_getextraspace(L), &dev, sizeof(dev));
}

static void on_count(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct el__eng_dev *dev = el_lua_dev_of(L);
    int64_t *n;
    if (dev != NULL) {
        n = &dev->slice_instr;
    } else {
        void *ud;
        lua_getallocf(L, &ud);
        n = &((struct el_lua_heap *)ud)->instr;
    }
    *n += HOOK_EVERY;
    if (*n > INSTR_MAX)
        luaL_error(L,
                   "ran %I instructions without yielding: an endless loop? (a device's "
                   "loop must call an I/O method or d:think, and end when d:running() is "
                   "false)",
                   (lua_Integer)*n);
}

/* Reads a whole file (capped) and loads it as a text chunk named "@path". */
static int load_file(lua_State *L, const char *path, char *errbuf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(errbuf, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(CHUNK_MAX_BYTES);
    if (buf == NULL) {
        fclose(f);
        snprintf(errbuf, cap, "%s: out of memory", path);
        return -1;
    }
    size_t n = fread(buf, 1, CHUNK_MAX_BYTES, f);
    int too_big = n == CHUNK_MAX_BYTES;
    int bad = ferror(f);
    fclose(f);
    if (too_big || bad) {
        free(buf);
        snprintf(errbuf, cap, "%s: %s", path, too_big ? "larger than 4 MiB" : "read error");
        return -1;
    }
    char name[1100];
    snprintf(name, sizeof(name), "@%s", path);
    int rc = luaL_loadbufferx(L, buf, n, name, "t");
    free(buf);
    if (rc != LUA_OK) {
        snprintf(errbuf, cap, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

int el_lua_sandbox_dofile(lua_State *L, const char *path, struct el_err *err)
{
    char msg[EL_ERR_MSG_MAX];
    if (load_file(L, path, msg, sizeof(msg)) < 0)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s", msg);
    void *ud;
    lua_getallocf(L, &ud);
    ((struct el_lua_heap *)ud)->instr = 0;
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        int rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s", m ? m : "error object is not a string");
        lua_pop(L, 1);
        return rc;
    }
    return 0;
}

/* require(name): name of letters, digits, '_' and '.'; "easload.x" -> LUA_DIR/easload/x.lua,
 * anything else -> SCENARIO_DIR/name.lua (dots are folders). Upvalues: scenario dir, lua dir. */
static int l_require(lua_State *L)
{
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    if (len == 0 || len > 128)
        return luaL_error(L, "require: bad module name");
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || (ch == '.' && i > 0 && name[i - 1] != '.');
        if (!ok)
            return luaL_error(L, "require: '%s': only letters, digits, '_' and '.' are allowed",
                              name);
    }
    lua_getfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
    lua_getfield(L, -1, name);
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 1);
    /* stack: name, loaded */
    char rel[160];
    snprintf(rel, sizeof(rel), "%s", name);
    for (char *p = rel; *p; p++)
        if (*p == '.')
            *p = '/';
    char path[1400];
    if (strncmp(name, "easload.", 8) == 0)
        snprintf(path, sizeof(path), "%s/%s.lua", lua_tostring(L, lua_upvalueindex(2)), rel);
    else
        snprintf(path, sizeof(path), "%s/%s.lua", lua_tostring(L, lua_upvalueindex(1)), rel);
    char msg[EL_ERR_MSG_MAX];
    if (load_file(L, path, msg, sizeof(msg)) < 0)
        return luaL_error(L, "require '%s': %s", name, msg);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 2, name);
    return 1;
}

/* load(chunk [, chunkname [, mode [, env]]]) with the mode forced to text. */
static int l_load(lua_State *L)
{
    luaL_checkany(L, 1);
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1); /* the original load, then the arguments at 2..n+1 */
    if (n < 2) {
        lua_pushnil(L);
        n = 2;
    }
    lua_pushliteral(L, "t");
    if (n < 3)
        n = 3;
    else
        lua_replace(L, 4); /* mode */
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* print(...) -> one log line on stderr (library code never writes to stdout). */
static int l_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    struct el__eng_dev *dev = el_lua_dev_of(L);
    if (dev != NULL)
        fprintf(stderr, "d%u lua: %s\n", dev->index + 1, lua_tostring(L, -1));
    else
        fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    return 0;
}

static const luaL_Reg libs[] = {
    {LUA_GNAME, luaopen_base},
    {LUA_TABLIBNAME, luaopen_table},
    {LUA_STRLIBNAME, luaopen_string},
    {LUA_MATHLIBNAME, luaopen_math},
    {LUA_UTF8LIBNAME, luaopen_utf8},
    {LUA_COLIBNAME, luaopen_coroutine},
    {NULL, NULL},
};

static int open_all(lua_State *L)
{
    const struct el_engine_config *cfg = lua_touserdata(L, 1);
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    lua_setglobal(L, "dofile");
    lua_pushnil(L);
    lua_setglobal(L, "loadfile");
    lua_getglobal(L, "load");
    lua_pushcclosure(L, l_load, 1);
    lua_setglobal(L, "load");
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LOADED_KEY);
    lua_pushstring(L, cfg->scenario_dir[0] ? cfg->scenario_dir : ".");
    lua_pushstring(L, cfg->lua_dir[0] ? cfg->lua_dir : ".");
    lua_pushcclosure(L, l_require, 2);
    lua_setglobal(L, "require");
    lua_pushlightuserdata(L, (void *)cfg);
    lua_setfield(L, LUA_REGISTRYINDEX, "easload.config");
    el_lua_open_scenario(L);
    el_lua_open_device(L);
    el_lua_open_admin(L);
    return 0;
}

lua_State *el_lua_sandbox_new(const struct el_engine_config *cfg, struct el_lua_heap *heap)
{
    lua_State *L = lua_newstate(el_lua_alloc, heap);
    if (L == NULL)
        return NULL;
    el_lua_set_dev(L, NULL);
    lua_pushcfunction(L, open_all);
    lua_pushlightuserdata(L, (void *)cfg);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        lua_close(L);
        return NULL;
    }
    lua_sethook(L, on_count, LUA_MASKCOUNT, HOOK_EVERY);
    return L;
}
