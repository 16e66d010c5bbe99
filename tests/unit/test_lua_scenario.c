/* test_lua_scenario.c - lua/lua_scenario.c: scenario{...} tables read into the run's
 * configuration, defaults kept for absent fields, and each kind of bad field refused with a
 * message naming it. Scenario texts are written to a temp file and loaded through the sandbox. */
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
    char path[64];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    el_engine_config_init(&f->c);
    snprintf(f->c.lua_dir, sizeof(f->c.lua_dir), "%s", EL_LUA_DIR);
    snprintf(f->c.scenario_dir, sizeof(f->c.scenario_dir), "/tmp");
    f->heap.max = 64 << 20;
    snprintf(f->path, sizeof(f->path), "/tmp/el_test_scenario_%d.lua", (int)getpid());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    unlink(f->path);
    el_engine_config_close(&f->c);
    free(f);
    return 0;
}

/* Loads text as a scenario file and reads scenario{}: the return of el_lua_scenario_read (or
 * of the load), err filled. */
static int read_text(struct fx *f, const char *text, struct el_err *err)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    lua_State *L = el_lua_sandbox_new(&f->c, &f->heap);
    assert_non_null(L);
    int rc = el_lua_sandbox_dofile(L, f->path, err);
    int top = lua_gettop(L);
    if (rc == 0)
        rc = el_lua_scenario_read(L, &f->c, err);
    assert_int_equal(lua_gettop(L), top); /* the stack is left balanced */
    lua_close(L);
    return rc;
}

static void every_field_is_read(void **state)
{
    struct fx *f = *state;
    struct el_err err = {0};
    int rc = read_text(f,
                       "scenario { name = 'x', devices = 250, ramp = '30s', duration = '2m',"
                       " grace = 1, timeout = '250ms', profile = 'ios-16.1',"
                       " thresholds = { ['sync.p99'] = '< 800ms', 'errors.rate<1%' },"
                       " users = 'user%d:pw%d', user_count = 7, seed = 9 }\n"
                       "function device(d) end\n",
                       &err);
    assert_int_equal(rc, 0);
    assert_string_equal(f->c.name, "x");
    assert_int_equal(f->c.devices, 250);
    assert_int_equal(f->c.ramp_us, 30000000);
    assert_int_equal(f->c.duration_us, 120000000);
    assert_int_equal(f->c.grace_us, 1000000);
    assert_int_equal(f->c.timeout_us, 250000);
    assert_int_equal(f->c.nshares, 1);
    assert_string_equal(f->c.shares[0].profile->name, "ios-16.1");
    assert_int_equal(f->c.nthresholds, 2);
    int a = strcmp(f->c.thresholds[0], "sync.p99<800ms") == 0 ||
            strcmp(f->c.thresholds[1], "sync.p99<800ms") == 0;
    int b = strcmp(f->c.thresholds[0], "errors.rate<1%") == 0 ||
            strcmp(f->c.thresholds[1], "errors.rate<1%") == 0;
    assert_true(a && b);
    assert_string_equal(f->c.users_spec, "user%d:pw%d");
    assert_int_equal(f->c.user_count, 7);
    assert_int_equal(f->c.seed, 9);
    assert_int_equal(f->c.nstages, 0);
}

static void absent_scenario_keeps_defaults(void **state)
{
    struct fx *f = *state;
    struct el_err err = {0};
    assert_int_equal(read_text(f, "function device(d) end\n", &err), 0);
    assert_int_equal(f->c.devices, 10);
    assert_int_equal(f->c.duration_us, 60000000);
    assert_int_equal(f->c.nshares, 0);
}

static void profile_shares_are_sorted_by_name(void **state)
{
    struct fx *f = *state;
    struct el_err err = {0};
    assert_int_equal(read_text(f,
                               "scenario { profiles = { ['wm-12.1'] = 1, ['android-14.1'] = 3,"
                               " ['ios-16.1'] = 0 } }",
                               &err),
                     0);
    assert_int_equal(f->c.nshares, 2); /* a zero weight is left out */
    assert_string_equal(f->c.shares[0].profile->name, "android-14.1");
    assert_true(f->c.shares[0].weight == 3);
    assert_string_equal(f->c.shares[1].profile->name, "wm-12.1");
}

static void rate_and_stages_make_an_arrival_schedule(void **state)
{
    struct fx *f = *state;
    struct el_err err = {0};
    assert_int_equal(read_text(f, "scenario { rate = 20 }", &err), 0);
    assert_int_equal(f->c.nstages, 2);
    assert_true(f->c.stages[1].rate_per_s == 20);
    el_engine_config_close(&f->c);
    el_engine_config_init(&f->c);
    assert_int_equal(
        read_text(f, "scenario { stages = { {'30s', 10}, {duration = 60, rate = 50} } }", &err), 0);
    assert_int_equal(f->c.nstages, 2);
    assert_int_equal(f->c.stages[0].dur_us, 30000000);
    assert_true(f->c.stages[1].rate_per_s == 50);
    assert_int_equal(f->c.duration_us, 90000000); /* the sum of the stages */
}

static void bad_fields_are_refused_by_name(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *text, *needle;
    } cases[] = {
        {"scenario { devcies = 3 }", "unknown field 'devcies'"},
        {"scenario { devices = 0 }", "devices"},
        {"scenario { devices = 1.5 }", "devices"},
        {"scenario { ramp = 'soon' }", "ramp"},
        {"scenario { duration = {} }", "duration"},
        {"scenario { profile = 'nokia-3310' }", "unknown profile 'nokia-3310'"},
        {"scenario { profiles = { ['x'] = 1 } }", "unknown profile 'x'"},
        {"scenario { rate = -1 }", "rate"},
        {"scenario { stages = { {'x', 1} } }", "stage 1"},
        {"scenario { thresholds = { 5 } }", "thresholds"},
        {"scenario { user_count = 0 }", "user_count"},
        {"scenario 'text'", "bad argument"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        el_engine_config_close(&f->c);
        el_engine_config_init(&f->c);
        struct el_err err = {0};
        assert_int_equal(read_text(f, cases[i].text, &err), EL_EINVAL);
        if (strstr(err.msg, cases[i].needle) == NULL)
            fail_msg("%s: message '%s' lacks '%s'", cases[i].text, err.msg, cases[i].needle);
    }
}

static void durations_parse_units(void **state)
{
    (void)state;
    int64_t us;
    assert_int_equal(el_engine_parse_duration("1m30s", &us), 0);
    assert_int_equal(us, 90000000);
    assert_int_equal(el_engine_parse_duration("250ms", &us), 0);
    assert_int_equal(us, 250000);
    assert_int_equal(el_engine_parse_duration("2", &us), 0);
    assert_int_equal(us, 2000000);
    assert_int_equal(el_engine_parse_duration("1h", &us), 0);
    assert_int_equal(us, 3600000000LL);
    assert_int_equal(el_engine_parse_duration("5x", &us), EL_EINVAL);
    assert_int_equal(el_engine_parse_duration("", &us), EL_EINVAL);
    assert_int_equal(el_engine_parse_duration("-1s", &us), EL_EINVAL);
}

static void only_loopback_targets_count_as_local(void **state)
{
    (void)state;
    assert_true(el_engine_url_is_loopback("http://127.0.0.1:8080"));
    assert_true(el_engine_url_is_loopback("https://127.1.2.3/x"));
    assert_true(el_engine_url_is_loopback("http://localhost:1"));
    assert_true(el_engine_url_is_loopback("http://[::1]:80/"));
    assert_false(el_engine_url_is_loopback("http://10.0.0.1"));
    assert_false(el_engine_url_is_loopback("http://127.0.0.1.example.com/"));
    assert_false(el_engine_url_is_loopback("https://mail.example.com"));
    assert_false(el_engine_url_is_loopback("127.0.0.1"));
}

static void user_patterns_allow_only_d(void **state)
{
    struct fx *f = *state;
    struct el_err err = {0};
    assert_int_equal(el_engine_users_pattern(&f->c, "u%d:p%d%%", 3, &err), 0);
    assert_int_equal(f->c.nusers, 3);
    assert_string_equal(f->c.users[2].name, "u3");
    assert_string_equal(f->c.users[2].password, "p3%");
    assert_int_equal(el_engine_users_pattern(&f->c, "u%s:p%d", 3, &err), EL_EINVAL);
    assert_int_equal(el_engine_users_pattern(&f->c, "nocolon", 3, &err), EL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_field_is_read, setup, teardown),
        cmocka_unit_test_setup_teardown(absent_scenario_keeps_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(profile_shares_are_sorted_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(rate_and_stages_make_an_arrival_schedule, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_fields_are_refused_by_name, setup, teardown),
        cmocka_unit_test(durations_parse_units),
        cmocka_unit_test(only_loopback_targets_count_as_local),
        cmocka_unit_test_setup_teardown(user_patterns_allow_only_d, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
