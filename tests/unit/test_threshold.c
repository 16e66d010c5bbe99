/* test_threshold.c - unit tests of results/threshold.c: every operator, the time units and %,
 * errors.rate/count, OUTCOME.count/rate, requests.count, checks.failed, value histograms and
 * counters, a latency with no samples, and bad expressions refused with the bad part named. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "results.h"
#include "results_int.h"

#define T0 1700000000000000LL

/* sync: 1..100 ms once each (ok) and 5 ms twice (throttled); ping: 10 ms once (timeout);
 * 106 requests, 3 errors; push values 2 s and 4 s; counter http.503 = 2; one failed check. */
static struct el_results *fixture(void)
{
    struct el_results *r = NULL;
    struct el_err err;
    assert_int_equal(el_results_new(&r, &err), 0);
    for (int i = 1; i <= 100; i++)
        el_results_record(r, "sync", "ok", i * 1000LL, 10, 20, T0 + i * 1000LL, 0);
    el_results_record(r, "sync", "throttled", 5000, 10, 20, T0, 0);
    el_results_record(r, "sync", "throttled", 5000, 10, 20, T0, 1);
    el_results_record(r, "ping", "timeout", 10000, 10, 20, T0, 0);
    el_results_record(r, "ping", "canceled", 10000, 10, 20, T0, 0);
    el_results_record(r, "ping", "ok", 10000, 10, 20, T0, 0);
    el_results_record(r, "ping", "ok", 10000, 10, 20, T0, 0);
    el_results_record_value(r, "push", 2000000);
    el_results_record_value(r, "push", 4000000);
    el_results_count(r, "http.503", 2);
    el_results_check(r, "login ok", 1);
    el_results_check(r, "inbox", 0);
    return r;
}

/* Parses expr, evaluates it on r and checks the verdict. */
static void expect(struct el_results *r, const char *expr, bool passed)
{
    struct el_threshold t;
    struct el_threshold_result res;
    struct el_err err;
    if (el_threshold_parse(expr, &t, &err) != 0)
        fail_msg("'%s' refused: %s", expr, err.msg);
    el_threshold_eval(r, &t, &res);
    if (res.passed != passed)
        fail_msg("'%s' %s, expected %s: %s", expr, res.passed ? "passed" : "failed",
                 passed ? "pass" : "fail", res.message);
}

static void every_operator_compares_as_written(void **state)
{
    (void)state;
    struct el_results *r = fixture();
    /* sync.max is exactly 100 ms. */
    expect(r, "sync.max<100ms", false);
    expect(r, "sync.max<100.001ms", true);
    expect(r, "sync.max<=100ms", true);
    expect(r, "sync.max<=99.999ms", false);
    expect(r, "sync.max>100ms", false);
    expect(r, "sync.max>99ms", true);
    expect(r, "sync.max>=100ms", true);
    expect(r, "sync.max>=101ms", false);
    expect(r, "sync.max==100ms", true);
    expect(r, "sync.max==99ms", false);
    expect(r, "sync.max!=99ms", true);
    expect(r, "sync.max!=100ms", false);
    expect(r, " sync.max  ==  100 ms ", true);
    el_results_free(r);
}

static void time_units_are_us_ms_s_and_m(void **state)
{
    (void)state;
    struct el_results *r = fixture();
    expect(r, "sync.max==100000us", true);
    expect(r, "sync.max==0.1s", true);
    expect(r, "push.max==4s", true);
    expect(r, "push.max<0.1m", true);  /* 6 s */
    expect(r, "push.max>0.06m", true); /* 3.6 s */
    expect(r, "push.mean>2.9s", true);
    expect(r, "push.mean<3.1s", true);
    /* sync: 102 samples; the 51st smallest is 49 ms (bucket 48.992..49.023 ms). */
    expect(r, "sync.p50>49ms", true);
    expect(r, "sync.p50<49.1ms", true);
    expect(r, "sync.p90<=92.1ms", true);
    expect(r, "sync.p99>=98ms", true);
    expect(r, "sync.p99.9==100ms", true);
    expect(r, "requests.p50<50ms", true);
    expect(r, "timeout.p99==10ms", true); /* an outcome's latency over all commands */
    el_results_free(r);
}

static void errors_outcomes_requests_and_checks_count(void **state)
{
    (void)state;
    struct el_results *r = fixture();
    /* 106 requests; errors: 2 throttled + 1 timeout (canceled is not an error). */
    expect(r, "requests.count==106", true);
    expect(r, "requests.count>=1000", false);
    expect(r, "errors.count==3", true);
    expect(r, "errors.rate<2.83%", false); /* 2.8302% */
    expect(r, "errors.rate<2.84%", true);
    expect(r, "errors.rate<0.029", true);
    expect(r, "errors.rate>0.028", true);
    expect(r, "throttled.count==2", true);
    expect(r, "throttled.count==0", false);
    expect(r, "throttled.rate<1.9%", true);
    expect(r, "throttled.rate>1.8%", true);
    expect(r, "never_seen.count==0", true);
    expect(r, "never_seen.rate==0", true);
    expect(r, "sync.count==102", true);
    expect(r, "ping.count==4", true);
    expect(r, "http.503.count==2", true); /* counters by name */
    expect(r, "push.count==2", true);
    expect(r, "checks.failed==0", false);
    expect(r, "checks.failed==1", true);
    el_results_free(r);
}

static void latency_without_samples_fails_with_a_message(void **state)
{
    (void)state;
    struct el_results *r = fixture();
    struct el_threshold t;
    struct el_threshold_result res;
    struct el_err err;
    assert_int_equal(el_threshold_parse("search.p99<1s", &t, &err), 0);
    el_threshold_eval(r, &t, &res);
    assert_false(res.passed);
    assert_false(res.has_value);
    assert_non_null(strstr(res.message, "search.p99: no samples"));
    el_results_free(r);
}

static void evaluate_counts_failed_thresholds_and_checks(void **state)
{
    (void)state;
    struct el_results *r = fixture();
    struct el_err err;
    assert_int_equal(el_results_evaluate(r), 1); /* the check "inbox" */
    assert_int_equal(el_results_threshold_add(r, "sync.p99<800ms", &err), 0);
    assert_int_equal(el_results_threshold_add(r, "throttled.count==0", &err), 0);
    assert_int_equal(el_results_threshold_add(r, "errors.rate<0.1%", &err), 0);
    assert_int_equal(el_results_threshold_add(r, "errors.rate < 0.1%", &err), 0); /* same */
    assert_int_equal(r->n_thresholds, 3);
    assert_int_equal(el_results_evaluate(r), 3);
    assert_true(r->threshold_results[0].passed);
    assert_false(r->threshold_results[1].passed);
    el_results_free(r);
}

static void bad_expressions_are_refused_naming_the_bad_part(void **state)
{
    (void)state;
    static const struct {
        const char *expr;
        const char *want;
    } bad[] = {
        {"", "empty expression"},
        {"sync.p99", "no operator"},
        {"sync.p99<", "no value after '<'"},
        {"<800ms", "no metric before '<'"},
        {"sync<800ms", "metric 'sync' is not NAME.STAT"},
        {"sync.p98<800ms", "metric 'sync.p98'"},
        {"sync.p99<800", "latency '800' needs a unit"},
        {"sync.p99<800xs", "unit 'xs' is not a time unit"},
        {"sync.p99<800%", "unit '%' is not a time unit"},
        {"sync.p99<<800ms", "operator '<<'"},
        {"sync.p99=800ms", "operator '=8'"},
        {"sync.p99=<800ms", "operator '=<'"},
        {"sync.p99<ms", "value 'ms' does not start with a number"},
        {"sync.p99<-5ms", "value '-5ms' does not start with a number"},
        {"errors.rate<5ms", "unit 'ms' does not fit a rate"},
        {"errors.rate<150%", "rate '150%' above 1"},
        {"errors.p99<5ms", "errors has only .count and .rate"},
        {"sync.count<5ms", "a .count takes a plain number, not unit 'ms'"},
        {"checks.count==0", "checks has only .failed"},
        {"sync.failed==0", ".failed exists only as checks.failed"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct el_threshold t;
        struct el_err err;
        int rc = el_threshold_parse(bad[i].expr, &t, &err);
        if (rc != EL_EINVAL)
            fail_msg("'%s' accepted", bad[i].expr);
        if (strstr(err.msg, bad[i].want) == NULL)
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].expr, err.msg, bad[i].want);
        assert_null(strchr(err.msg, '\n'));
    }
    struct el_results *r = fixture();
    struct el_err err;
    assert_int_equal(el_results_threshold_add(r, "sync.p99<800", &err), EL_EINVAL);
    assert_int_equal(r->n_thresholds, 0);
    el_results_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_operator_compares_as_written),
        cmocka_unit_test(time_units_are_us_ms_s_and_m),
        cmocka_unit_test(errors_outcomes_requests_and_checks_count),
        cmocka_unit_test(latency_without_samples_fails_with_a_message),
        cmocka_unit_test(evaluate_counts_failed_thresholds_and_checks),
        cmocka_unit_test(bad_expressions_are_refused_naming_the_bad_part),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
