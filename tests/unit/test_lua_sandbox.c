/* test_lua_sandbox.c - lua/lua_sandbox.c: only the allowed libraries are there, load takes text
 * only, require reaches the scenario's folder and lua/easload/ and nothing else, the count hook
 * stops an endless loop, the heap cap turns into a memory error, easload.var reads --var, and
 * the state closes clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>

#include "engine_int.h"

struct fx {
    struct el_engine_config c;
    struct el_lua_heap heap;
    lua_State *L;
    char path[64];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    el_engine_config_init(&f->c);
    snprintf(f->c.lua_dir, sizeof(f->c.lua_dir), "%s", EL_LUA_DIR);
    snprintf(f->c.scenario_dir, sizeof(f->c.scenario_dir), "/tmp");
    f->heap.max = 32 << 20;
    snprintf(f->path, sizeof(f->path), "/tmp/el_test_sandbox_%d.lua", (int)getpid());
    f->L = el_lua_sandbox_new(&f->c, &f->heap);
    assert_non_null(f->L);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    lua_close(f->L);
    assert_int_equal(f->heap.used, 0); /* the allocator's books balance */
    unlink(f->path);
    el_engine_config_close(&f->c);
    free(f);
    return 0;
}

static int run(struct fx *f, const char *text, struct el_err *err)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return el_lua_sandbox_dofile(f->L, f->path, err);
}

static void only_safe_libraries_are_open(void **state)
{
    struct fx *f = *state;
    struct el_err err = {0};
    int rc = run(f,
                 "assert(dofile == nil and loadfile == nil and io == nil and os == nil)\n"
                 "assert(package == nil and debug == nil)\n"
                 "assert(string.rep and table.concat and math.floor and utf8.char)\n"
                 "assert(coroutine.wrap and pcall and load and require and easload.now_us)\n",
                 &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
}

static void load_refuses_binary_chunks(void **state)
{
    struct fx *f = *state;
    struct el_err err = {0};
    int rc = run(f,
                 "local fn, msg = load('\\27Lua binary', 'x', 'b')\n"
                 "assert(fn == nil and msg:find('binary'), msg)\n"
                 "assert(load('return 1 + 1')() == 2)\n",
                 &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
}

static void require_sees_only_two_folders(void **state)
{
    struct fx *f = *state;
    struct el_err err = {0};
    int rc = run(f,
                 "local mix = require 'easload.mix'\n"
                 "assert(type(mix.run) == 'function')\n"
                 "assert(require 'easload.mix' == mix)\n"
                 "assert(not pcall(require, '../etc/passwd'))\n"
                 "assert(not pcall(require, '/etc/passwd'))\n"
                 "local ok, e = pcall(require, 'no_such_module_here')\n"
                 "assert(not ok and e:find('no_such_module_here'))\n",
                 &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
}

static void errors_name_file_and_line(void **state)
{
    struct fx *f = *state;
    struct el_err err = {0};
    assert_int_equal(run(f, "local x = 1\nnot_a_function()\n", &err), EL_EINVAL);
    char want[96];
    snprintf(want, sizeof(want), "%s:2:", f->path);
    assert_non_null(strstr(err.msg, want));
    assert_int_equal(run(f, "function (\n", &err), EL_EINVAL);
    snprintf(want, sizeof(want), "%s:1:", f->path);
    assert_non_null(strstr(err.msg, want));
}

static void an_endless_loop_is_stopped(void **state)
{
    struct fx *f = *state;
    struct el_err err = {0};
    assert_int_equal(run(f, "while true do end\n", &err), EL_EINVAL);
    if (strstr(err.msg, "without yielding") == NULL)
        fail_msg("%s", err.msg);
}

static void the_heap_cap_is_a_memory_error(void **state)
{
    struct fx *f = *state;
    struct el_err err = {0};
    assert_int_equal(
        run(f, "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end\n", &err),
        EL_EINVAL);
    assert_non_null(strstr(err.msg, "memory"));
    assert_true(f->heap.used <= f->heap.max);
    /* the state still works after the error */
    assert_int_equal(run(f, "assert(1 + 1 == 2)\n", &err), 0);
}

/* easload.var (issue 7): --var KEY=VALUE strings of the configuration, a default, or an error
 * naming the flag; a key is matched whole (no prefix match) */
static void vars_come_from_the_configuration(void **state)
{
    struct fx *f = *state;
    f->c.vars[0] = "fixture=wildcard";
    f->c.vars[1] = "n=3";
    f->c.vars[2] = "empty=";
    f->c.nvars = 3;
    struct el_err err = {0};
    int rc = run(f,
                 "assert(easload.var('fixture') == 'wildcard')\n"
                 "assert(easload.var('n', '9') == '3')\n"
                 "assert(easload.var('empty') == '')\n"
                 "assert(easload.var('fix', 'd') == 'd')\n"
                 "assert(easload.var('missing', nil) == nil)\n",
                 &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(run(f, "local x = easload.var('missing')\n", &err), EL_EINVAL);
    assert_non_null(strstr(err.msg, "needs --var missing=VALUE"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(only_safe_libraries_are_open, setup, teardown),
        cmocka_unit_test_setup_teardown(load_refuses_binary_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(require_sees_only_two_folders, setup, teardown),
        cmocka_unit_test_setup_teardown(errors_name_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(an_endless_loop_is_stopped, setup, teardown),
        cmocka_unit_test_setup_teardown(the_heap_cap_is_a_memory_error, setup, teardown),
        cmocka_unit_test_setup_teardown(vars_come_from_the_configuration, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
