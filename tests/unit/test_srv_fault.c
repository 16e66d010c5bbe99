/* test_srv_fault.c - unit tests of server/srv_fault.c (the --fault SPEC parser, its canonical
 * form, the deterministic draw) and server/srv_limits.c (per-user concurrency, token-bucket
 * budget, redirect URLs). No sockets: the HTTP side is tested end to end in
 * tests/e2e/test_srv_throttle.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "srv.h"
#include "srv_fault.h"
#include "srv_limits.h"

static void parse_ok(const char *spec, const char *canonical)
{
    struct el_srv_fault f;
    struct el_err err;
    memset(&err, 0, sizeof(err));
    int rc = el_srv_fault_parse(spec, &f, &err);
    if (rc != 0)
        print_error("%s: %s\n", spec, err.msg);
    assert_int_equal(rc, 0);
    char out[EL_SRV_FAULT_SPEC_MAX + 32];
    el_srv_fault_format(&f, out, sizeof(out));
    assert_string_equal(out, canonical);
    /* the canonical form parses to the same fault */
    struct el_srv_fault g;
    assert_int_equal(el_srv_fault_parse(out, &g, NULL), 0);
    assert_memory_equal(&f, &g, sizeof(f));
}

static void parse_bad(const char *spec, const char *msg_part)
{
    struct el_srv_fault f;
    struct el_err err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(el_srv_fault_parse(spec, &f, &err), EL_EINVAL);
    if (strstr(err.msg, msg_part) == NULL)
        print_error("%s: message '%s' lacks '%s'\n", spec, err.msg, msg_part);
    assert_non_null(strstr(err.msg, msg_part));
}

static void specs_of_the_issue_parse_to_their_canonical_form(void **state)
{
    (void)state;
    parse_ok("sync:drop@5%", "sync:drop@5%");
    parse_ok("ping:latency=2000ms@10%", "ping:latency=2s@10%");
    parse_ok("all:http500@every100", "all:http500@every100");
    parse_ok("foldersync:truncate@1%", "foldersync:truncate@1%");
    parse_ok("sync:vanish=3@20%", "sync:vanish=3@20%");
    parse_ok("sync:resetkey@2%", "sync:resetkey@2%");
    parse_ok("Sync+PING:cut", "sync+ping:cut");
    parse_ok("all:http503=30@0.25%", "all:http503=30@0.25%");
    parse_ok("sendmail:http507@10s-20s", "sendmail:http507@10s-20s");
    parse_ok("itemoperations:trickle", "itemoperations:trickle=200ms");
    parse_ok("sync:trickle=1500ms@every3", "sync:trickle=1500ms@every3");
    parse_ok("sync:malformed@100%", "sync:malformed");
    parse_ok("sync:vanish", "sync:vanish=1");
    parse_ok("ping:latency=250ms@500ms-1s", "ping:latency=250ms@500ms-1s");
    parse_ok("sync:drop@0.0001%", "sync:drop@0.0001%");
}

static void bad_specs_are_refused_with_a_reason(void **state)
{
    (void)state;
    parse_bad("", "empty");
    parse_bad("drop", "COMMANDS:ACTION");
    parse_bad("sink:drop", "unknown command 'sink'");
    parse_bad("sync+:drop", "missing after '+'");
    parse_bad("sync:dorp", "unknown action 'dorp'");
    parse_bad("sync:latency", "latency needs");
    parse_bad("sync:latency=5", "latency needs");
    parse_bad("sync:latency=0ms", "latency needs");
    parse_bad("sync:latency=601s", "latency needs");
    parse_bad("sync:drop=3", "takes no value");
    parse_bad("sync:drop@0%", "probability");
    parse_bad("sync:drop@101%", "probability");
    parse_bad("sync:drop@1.23456%", "probability");
    parse_bad("sync:drop@every0", "everyN");
    parse_bad("sync:drop@20s-10s", "window");
    parse_bad("sync:drop@5%x", "unexpected");
    parse_bad("sync:vanish=0", "vanish=N");
    parse_bad("sync:http503=-1", "http503=SECONDS");
    parse_bad("sync:drop @5%", "blank");
    parse_bad("sync:drop@5\xff", "non-ASCII");
    char longspec[400];
    memset(longspec, 'a', sizeof(longspec) - 1);
    longspec[sizeof(longspec) - 1] = '\0';
    parse_bad(longspec, "longer than");
}

static struct el_srv_faults *set_of(uint64_t seed, const char *const *specs)
{
    struct el_srv_faults *s;
    assert_int_equal(el_srv_faults_new(seed, &s), 0);
    for (; *specs; specs++) {
        struct el_srv_fault f;
        assert_int_equal(el_srv_fault_parse(*specs, &f, NULL), 0);
        assert_int_equal(el_srv_faults_add(s, &f, 1000, NULL), 0);
    }
    return s;
}

static unsigned fired_of(uint64_t seed, const char *spec, int cmd, unsigned n, uint64_t *pattern)
{
    const char *specs[] = {spec, NULL};
    struct el_srv_faults *s = set_of(seed, specs);
    unsigned fired = 0;
    *pattern = 0;
    for (unsigned i = 0; i < n; i++) {
        struct el_srv_fx fx;
        el_srv_faults_draw(s, cmd, 1000, &fx);
        if (fx.action >= 0) {
            fired++;
            *pattern = *pattern * 31 + i;
        }
    }
    el_srv_faults_free(s);
    return fired;
}

static void draws_are_deterministic_per_seed_and_near_their_rate(void **state)
{
    (void)state;
    uint64_t p1, p2, p3;
    unsigned a = fired_of(7, "sync:drop@10%", EL_SRV_SYNC, 10000, &p1);
    unsigned b = fired_of(7, "sync:drop@10%", EL_SRV_SYNC, 10000, &p2);
    unsigned c = fired_of(8, "sync:drop@10%", EL_SRV_SYNC, 10000, &p3);
    assert_int_equal(a, b);
    assert_true(p1 == p2);
    assert_true(p1 != p3);
    assert_in_range(a, 800, 1200);
    assert_in_range(c, 800, 1200);
    /* other commands never match */
    assert_int_equal(fired_of(7, "sync:drop@10%", EL_SRV_PING, 1000, &p1), 0);
    /* every: exactly n / N */
    assert_int_equal(fired_of(1, "all:http500@every100", EL_SRV_PING, 1000, &p1), 10);
    assert_int_equal(fired_of(1, "sync:cut", EL_SRV_SYNC, 37, &p1), 37);
}

static void a_draw_adds_latency_and_keeps_the_first_action(void **state)
{
    (void)state;
    const char *specs[] = {
        "sync:latency=100ms", "all:latency=50ms", "sync:truncate",       "sync:drop",
        "sync:vanish=3",      "sync:vanish=2",    "foldersync:resetkey", NULL};
    struct el_srv_faults *s = set_of(1, specs);
    struct el_srv_fx fx;
    el_srv_faults_draw(s, EL_SRV_SYNC, 1000, &fx);
    assert_int_equal(fx.latency_ms, 150);
    assert_int_equal(fx.action, EL_SRV_FAULT_TRUNCATE);
    assert_int_equal(fx.vanish, 3);
    assert_int_equal(fx.resetkey, 0);
    el_srv_faults_draw(s, EL_SRV_FOLDERSYNC, 1000, &fx);
    assert_int_equal(fx.latency_ms, 50);
    assert_int_equal(fx.action, -1);
    assert_int_equal(fx.resetkey, 1);
    struct el_buf out;
    el_buf_init(&out, 1 << 16);
    assert_int_equal(el_srv_faults_json(s, &out), 0);
    assert_int_equal(el_buf_putc(&out, 0), 0);
    assert_non_null(strstr((char *)out.data, "{\"spec\":\"sync:latency=100ms\",\"matched\":1,"
                                             "\"fired\":1}"));
    assert_non_null(strstr((char *)out.data, "{\"spec\":\"all:latency=50ms\",\"matched\":2,"));
    el_buf_close(&out);
    el_srv_faults_clear(s);
    assert_int_equal(el_srv_faults_count(s), 0);
    el_srv_faults_draw(s, EL_SRV_SYNC, 1000, &fx);
    assert_int_equal(fx.action, -1);
    assert_int_equal(fx.latency_ms, 0);
    el_srv_faults_free(s);
}

static void a_window_fires_only_inside_it(void **state)
{
    (void)state;
    const char *specs[] = {"sync:http503@1s-2s", NULL};
    struct el_srv_faults *s = set_of(1, specs); /* added at t = 1000 ms */
    struct el_srv_fx fx;
    el_srv_faults_draw(s, EL_SRV_SYNC, 1999, &fx);
    assert_int_equal(fx.action, -1);
    el_srv_faults_draw(s, EL_SRV_SYNC, 2000, &fx);
    assert_int_equal(fx.action, EL_SRV_FAULT_HTTP503);
    el_srv_faults_draw(s, EL_SRV_SYNC, 2999, &fx);
    assert_int_equal(fx.action, EL_SRV_FAULT_HTTP503);
    el_srv_faults_draw(s, EL_SRV_SYNC, 3000, &fx);
    assert_int_equal(fx.action, -1);
    el_srv_faults_free(s);
}

/* ---- srv_limits.c ---------------------------------------------------------------------------- */

static void concurrency_is_per_user_and_slots_come_back(void **state)
{
    (void)state;
    struct el_srv_limits_config cfg = {.max_concurrency = 2, .retry_after_s = 7};
    struct el_srv_limits *l;
    assert_int_equal(el_srv_limits_new(3, &cfg, &l, NULL), 0);
    struct el_srv_admit a;
    el_srv_limits_admit(l, 0, 1, &a);
    assert_int_equal(a.http_status, 0);
    el_srv_limits_admit(l, 0, 1, &a);
    assert_int_equal(a.http_status, 0);
    el_srv_limits_admit(l, 0, 1, &a);
    assert_int_equal(a.http_status, 503);
    assert_int_equal(a.refusal, EL_SRV_REFUSED_CONCURRENCY);
    assert_int_equal(a.retry_after_s, 7);
    assert_string_equal(a.throttle, "OutOfBudgets");
    el_srv_limits_admit(l, 1, 1, &a); /* another user is not affected */
    assert_int_equal(a.http_status, 0);
    assert_int_equal(el_srv_limits_inflight(l, 0), 2);
    el_srv_limits_release(l, 0);
    el_srv_limits_admit(l, 0, 1, &a);
    assert_int_equal(a.http_status, 0);
    uint64_t counts[4];
    el_srv_limits_counts(l, counts);
    assert_int_equal(counts[EL_SRV_ADMITTED], 4);
    assert_int_equal(counts[EL_SRV_REFUSED_CONCURRENCY], 1);
    el_srv_limits_free(l);
}

static void a_budget_runs_out_and_refills_with_time(void **state)
{
    (void)state;
    struct el_srv_limits_config cfg = {.budget = 3, .budget_window_s = 60};
    struct el_srv_limits *l;
    assert_int_equal(el_srv_limits_new(1, &cfg, &l, NULL), 0);
    struct el_srv_admit a;
    for (int i = 0; i < 3; i++) {
        el_srv_limits_admit(l, 0, 1000, &a);
        assert_int_equal(a.http_status, 0);
        el_srv_limits_release(l, 0);
    }
    el_srv_limits_admit(l, 0, 1000, &a);
    assert_int_equal(a.http_status, 503);
    assert_int_equal(a.refusal, EL_SRV_REFUSED_BUDGET);
    assert_int_equal(a.retry_after_s, 20); /* one token per 20 s */
    el_srv_limits_admit(l, 0, 11000, &a);
    assert_int_equal(a.retry_after_s, 10);
    el_srv_limits_admit(l, 0, 21000, &a);
    assert_int_equal(a.http_status, 0);
    el_srv_limits_release(l, 0);
    /* a changed budget refills every bucket */
    cfg.budget = 1;
    assert_int_equal(el_srv_limits_set(l, &cfg, NULL), 0);
    el_srv_limits_admit(l, 0, 21000, &a);
    assert_int_equal(a.http_status, 0);
    el_srv_limits_free(l);
    unsigned n, w;
    assert_int_equal(el_srv_limits_parse_budget("100/60s", &n, &w), 0);
    assert_true(n == 100 && w == 60);
    assert_int_equal(el_srv_limits_parse_budget("5/2m", &n, &w), 0);
    assert_true(n == 5 && w == 120);
    assert_int_equal(el_srv_limits_parse_budget("7", &n, &w), 0);
    assert_true(n == 7 && w == 60);
    assert_int_equal(el_srv_limits_parse_budget("7/0s", &n, &w), -1);
    assert_int_equal(el_srv_limits_parse_budget("x/60s", &n, &w), -1);
    assert_int_equal(el_srv_limits_parse_budget("5/60sx", &n, &w), -1);
    assert_int_equal(el_srv_limits_parse_budget("5/99999999999999999999h", &n, &w), -1);
}

static void redirects_are_per_user_or_for_all_and_checked(void **state)
{
    (void)state;
    struct el_srv_limits_config cfg = {.redirect = "http://127.0.0.1:9000"};
    struct el_srv_limits *l;
    assert_int_equal(el_srv_limits_new(2, &cfg, &l, NULL), 0);
    struct el_srv_admit a;
    el_srv_limits_admit(l, 1, 1, &a);
    assert_int_equal(a.http_status, 451);
    assert_string_equal(a.location, "http://127.0.0.1:9000/Microsoft-Server-ActiveSync");
    assert_int_equal(el_srv_limits_redirect(l, 0, "https://b.example.test/eas", NULL), 0);
    el_srv_limits_admit(l, 0, 1, &a);
    assert_string_equal(a.location, "https://b.example.test/eas");
    assert_int_equal(el_srv_limits_redirect(l, UINT32_MAX, NULL, NULL), 0);
    el_srv_limits_admit(l, 1, 1, &a);
    assert_int_equal(a.http_status, 0);
    el_srv_limits_admit(l, 0, 1, &a);
    assert_int_equal(a.http_status, 451);
    assert_int_equal(el_srv_limits_redirect(l, 0, "http://x\r\nSet-Cookie: a", NULL), EL_EINVAL);
    assert_int_equal(el_srv_limits_redirect(l, 0, "ftp://x", NULL), EL_EINVAL);
    assert_int_equal(el_srv_limits_redirect(l, 5, "http://x", NULL), EL_EINVAL);
    el_srv_limits_free(l);
    cfg.redirect = "gopher://x";
    assert_int_equal(el_srv_limits_new(2, &cfg, &l, NULL), EL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(specs_of_the_issue_parse_to_their_canonical_form),
        cmocka_unit_test(bad_specs_are_refused_with_a_reason),
        cmocka_unit_test(draws_are_deterministic_per_seed_and_near_their_rate),
        cmocka_unit_test(a_draw_adds_latency_and_keeps_the_first_action),
        cmocka_unit_test(a_window_fires_only_inside_it),
        cmocka_unit_test(concurrency_is_per_user_and_slots_come_back),
        cmocka_unit_test(a_budget_runs_out_and_refills_with_time),
        cmocka_unit_test(redirects_are_per_user_or_for_all_and_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
