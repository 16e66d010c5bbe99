/* test_results.c - unit tests of the results store and its files (results/results*.c,
 * report_*.c): shards merged through their JSON files write the same results.json as the unsplit
 * run, the JSON round trip, malformed files refused with one line naming the JSON path, the golden
 * file of each schema version still read, the timeline's throttled column, timeline.csv's shape,
 * junit.xml's test cases. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "results.h"
#include "results_int.h"

#define BASE_US 1700000000000000LL /* 2023-11-14T22:13:20Z */
#define RUN_S   40

/* --- helpers ------------------------------------------------------------------------------- */

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static struct el_results *new_results(void)
{
    struct el_results *r = NULL;
    struct el_err err;
    assert_int_equal(el_results_new(&r, &err), 0);
    return r;
}

/* Records the samples of a fixed run whose index i has i % shards == shard: three commands,
 * five outcome classes, a heavy latency tail (some out of range), late starts, counters, checks,
 * per-device bytes, a value histogram and thresholds. shards == 1 is the unsplit run. */
static void record_run(struct el_results *r, int shard, int shards)
{
    static const char *const cmds[] = {"sync", "foldersync", "ping"};
    static const char *const outcomes[] = {"ok", "ok", "ok",        "ok",      "ok",
                                           "ok", "ok", "throttled", "timeout", "http_status"};
    struct rng g = {42};
    for (int i = 0; i < 30000; i++) {
        uint64_t a = rng_next(&g), b = rng_next(&g);
        if (i % shards != shard)
            continue;
        const char *cmd = cmds[a % 3];
        const char *outcome = outcomes[(a >> 8) % 10];
        int64_t lat = (int64_t)(1 + b % 5000) << ((b >> 40) % 12);
        if (i % 5000 == 7)
            lat = 0; /* below range */
        int64_t start = BASE_US + (int64_t)i * (RUN_S * 1000000LL / 30000);
        el_results_record(r, cmd, outcome, lat, 100 + a % 900, 200 + b % 5000, start, i % 97 == 0);
        if (strcmp(outcome, "throttled") == 0)
            el_results_count(r, "http.503", 1);
        if (i % 11 == 0)
            el_results_check(r, "inbox has mail", i % 1000 != 0);
        if (i % 13 == 0)
            el_results_check(r, "login ok", 1);
        if (i % 7 == 0)
            el_results_record_value(r, "push", (int64_t)(b % 3000000));
        el_results_device_bytes(r, (uint32_t)(i % 64), 200 + b % 5000, 100 + a % 900,
                                strcmp(cmd, "sync") == 0);
    }
    struct el_err err;
    assert_int_equal(el_results_threshold_add(r, "sync.p99<800ms", &err), 0);
    assert_int_equal(el_results_threshold_add(r, "errors.rate<0.1%", &err), 0);
    assert_int_equal(el_results_threshold_add(r, "requests.count>=1000", &err), 0);
}

static struct el_results_meta run_meta(uint32_t devices)
{
    struct el_results_meta m = {
        .tool_version = "0.1.0",
        .scenario = "mixed",
        .scenario_file = "scenarios/mixed.lua",
        .target = "http://127.0.0.1:8080",
        .config_json = "{\"devices\": 64, \"duration_s\": 40, \"password\": \"[redacted]\"}",
        .start_unix_us = BASE_US,
        .end_unix_us = BASE_US + RUN_S * 1000000LL,
        .devices = devices,
        .shard = 0,
        .shards = 1,
    };
    return m;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "/tmp/test_results.%ld.%s", (long)getpid(), name);
}

static void write_run(const char *name, char *path, size_t n)
{
    struct el_results *r = new_results();
    record_run(r, 0, 1);
    struct el_results_meta m = run_meta(64);
    struct el_err err;
    tmp_path(path, n, name);
    assert_int_equal(el_results_write_json(r, &m, path, &err), 0);
    el_results_free(r);
}

/* --- merging --------------------------------------------------------------------------------- */

static void merged_shards_write_the_same_json_as_the_unsplit_run(void **state)
{
    (void)state;
    char whole_path[256], merged_path[256], shard_path[256];
    struct el_err err;
    write_run("whole.json", whole_path, sizeof(whole_path));

    /* Shards go through their files, as `easload merge` does; the third is merged first. */
    const int shards = 3;
    struct el_results *merged = new_results();
    for (int k = shards - 1; k >= 0; k--) {
        struct el_results *r = new_results();
        record_run(r, k, shards);
        struct el_results_meta m = run_meta(64);
        m.shard = (uint32_t)k;
        m.shards = shards;
        tmp_path(shard_path, sizeof(shard_path), "shard.json");
        assert_int_equal(el_results_write_json(r, &m, shard_path, &err), 0);
        el_results_free(r);
        struct el_results *back = NULL;
        struct el_results_meta mb;
        assert_int_equal(el_results_read_json(shard_path, &back, &mb, &err), 0);
        assert_int_equal(mb.shard, (uint32_t)k);
        assert_int_equal(el_results_merge(merged, back, &err), 0);
        el_results_meta_clear(&mb);
        el_results_free(back);
        unlink(shard_path);
    }
    struct el_results_meta m = run_meta(64);
    tmp_path(merged_path, sizeof(merged_path), "merged.json");
    assert_int_equal(el_results_write_json(merged, &m, merged_path, &err), 0);
    char *a = read_text(whole_path);
    char *b = read_text(merged_path);
    assert_string_equal(a, b);
    free(a);
    free(b);
    el_results_free(merged);
    unlink(whole_path);
    unlink(merged_path);
}

static void merge_refuses_another_histogram_configuration(void **state)
{
    (void)state;
    struct el_results *a = new_results();
    struct el_results *b = new_results();
    b->hist_cfg.sig_figs = 2;
    struct el_err err;
    assert_int_equal(el_results_merge(a, b, &err), EL_EINVAL);
    assert_non_null(strstr(err.msg, "histogram configurations differ"));
    el_results_free(a);
    el_results_free(b);
}

static void totals_add_every_command(void **state)
{
    (void)state;
    struct el_results *r = new_results();
    el_results_record(r, "sync", "ok", 1000, 1, 2, BASE_US, 0);
    el_results_record(r, "ping", "timeout", 5000, 1, 2, BASE_US, 1);
    el_results_record(r, "ping", "canceled", 7000, 1, 2, BASE_US, 0);
    uint64_t req, errs;
    int64_t p99;
    el_results_totals(r, &req, &errs, &p99);
    assert_int_equal(req, 3);
    assert_int_equal(errs, 1); /* canceled is not an error */
    assert_int_equal(p99, 7000);
    el_results_free(r);
}

/* --- JSON ------------------------------------------------------------------------------------ */

static void json_round_trip_keeps_every_number(void **state)
{
    (void)state;
    char p1[256], p2[256];
    struct el_err err;
    write_run("rt1.json", p1, sizeof(p1));
    struct el_results *r = NULL;
    struct el_results_meta m;
    assert_int_equal(el_results_read_json(p1, &r, &m, &err), 0);
    assert_string_equal(m.scenario, "mixed");
    assert_string_equal(m.target, "http://127.0.0.1:8080");
    assert_int_equal(m.start_unix_us, BASE_US);
    assert_int_equal(m.devices, 64);
    assert_non_null(strstr(m.config_json, "[redacted]"));
    tmp_path(p2, sizeof(p2), "rt2.json");
    assert_int_equal(el_results_write_json(r, &m, p2, &err), 0);
    char *a = read_text(p1);
    char *b = read_text(p2);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "\"schema\": \"easload.results/1\""));
    free(a);
    free(b);
    el_results_meta_clear(&m);
    el_results_free(r);
    unlink(p1);
    unlink(p2);
}

/* Writes the run, lets edit change its JSON tree, and expects the reader to refuse the file
 * with one line containing every string of want (NULL-terminated). */
static void expect_refused(void (*edit)(json_t *root), int code, ...)
{
    char path[256], bad[256];
    struct el_err err;
    write_run("good.json", path, sizeof(path));
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    assert_non_null(root);
    edit(root);
    tmp_path(bad, sizeof(bad), "bad.json");
    assert_int_equal(json_dump_file(root, bad, JSON_INDENT(1)), 0);
    json_decref(root);
    struct el_results *r = NULL;
    assert_int_equal(el_results_read_json(bad, &r, NULL, &err), code);
    assert_null(r);
    assert_null(strchr(err.msg, '\n'));
    assert_non_null(strstr(err.msg, bad));
    va_list ap;
    va_start(ap, code);
    for (const char *w = va_arg(ap, const char *); w; w = va_arg(ap, const char *)) {
        if (strstr(err.msg, w) == NULL)
            fail_msg("'%s' lacks '%s'", err.msg, w);
    }
    va_end(ap);
    unlink(path);
    unlink(bad);
}

static json_t *at(json_t *root, const char *a, const char *b, const char *c, const char *d)
{
    json_t *v = json_object_get(root, a);
    if (b)
        v = json_object_get(v, b);
    if (c)
        v = json_object_get(v, c);
    if (d)
        v = json_object_get(v, d);
    assert_non_null(v);
    return v;
}

static void drop_histogram(json_t *root)
{
    json_object_del(at(root, "commands", "sync", "outcomes", "ok"), "histogram");
}

static void other_schema(json_t *root)
{
    json_object_set_new(root, "schema", json_string("easload.results/2"));
}

static void bad_encoding(json_t *root)
{
    json_object_set_new(at(root, "commands", "ping", "outcomes", "timeout"), "histogram",
                        json_string("v1:AYDIzrQNAw*AAAA="));
}

static void counter_not_integer(json_t *root)
{
    json_object_set_new(at(root, "counters", NULL, NULL, NULL), "http.503", json_string("12"));
}

static void bad_threshold(json_t *root)
{
    json_t *t = json_array_get(at(root, "thresholds", NULL, NULL, NULL), 1);
    json_object_set_new(t, "expr", json_string("errors.rate<5ms"));
}

static void short_timeline_row(json_t *root)
{
    json_t *rows = at(root, "timeline", "seconds", NULL, NULL);
    json_array_remove(json_array_get(rows, 3), 5);
}

static void more_throttled_than_errors(json_t *root)
{
    json_t *row = json_array_get(at(root, "timeline", "seconds", NULL, NULL), 2);
    json_array_set_new(row, 6, json_integer(json_integer_value(json_array_get(row, 2)) + 1));
}

static void no_commands(json_t *root)
{
    json_object_del(root, "commands");
}

static void reader_refuses_a_missing_field(void **state)
{
    (void)state;
    expect_refused(drop_histogram, EL_EFORMAT, "commands.sync.outcomes.ok.histogram",
                   "missing field", NULL);
    expect_refused(no_commands, EL_EFORMAT, ": commands: missing field", NULL);
}

static void reader_refuses_another_schema_version(void **state)
{
    (void)state;
    expect_refused(other_schema, EL_EFORMAT, "schema", "unsupported schema 'easload.results/2'",
                   "easload.results/1", NULL);
}

static void reader_refuses_a_bad_histogram_encoding(void **state)
{
    (void)state;
    expect_refused(bad_encoding, EL_EFORMAT, "commands.ping.outcomes.timeout.histogram",
                   "bad histogram encoding at offset 13", NULL);
}

static void reader_refuses_wrong_types_and_bad_rows(void **state)
{
    (void)state;
    expect_refused(counter_not_integer, EL_EFORMAT, "counters.http.503",
                   "must be an integer, not a string", NULL);
    expect_refused(bad_threshold, EL_EFORMAT, "thresholds[1].expr", "errors.rate<5ms", NULL);
    expect_refused(short_timeline_row, EL_EFORMAT, "timeline.seconds[3]", "must have 7 entries",
                   NULL);
    expect_refused(more_throttled_than_errors, EL_EFORMAT, "timeline.seconds[2][6]",
                   "out of range 0..", NULL);
}

static void reader_refuses_a_truncated_file(void **state)
{
    (void)state;
    char path[256];
    struct el_err err;
    write_run("trunc.json", path, sizeof(path));
    char *s = read_text(path);
    FILE *f = fopen(path, "wb");
    fwrite(s, 1, strlen(s) / 2, f);
    fclose(f);
    free(s);
    struct el_results *r = NULL;
    assert_int_equal(el_results_read_json(path, &r, NULL, &err), EL_EFORMAT);
    assert_non_null(strstr(err.msg, "line "));
    assert_int_equal(el_results_read_json("/nonexistent/x.json", &r, NULL, &err), EL_EIO);
    unlink(path);
}

static void golden_files_of_every_schema_version_still_read(void **state)
{
    (void)state;
    struct el_err err;
    struct el_results *r = NULL;
    struct el_results_meta m;
    assert_int_equal(el_results_read_json(EL_FIXTURE_DIR "/results-v1.json", &r, &m, &err), 0);
    /* The numbers of record_run(r, 0, 1), written once by easload 0.1.0. */
    uint64_t req, errs;
    int64_t p99;
    el_results_totals(r, &req, &errs, &p99);
    assert_int_equal(req, 30000);
    struct el_results *fresh = new_results();
    record_run(fresh, 0, 1);
    uint64_t req2, errs2;
    int64_t p992;
    el_results_totals(fresh, &req2, &errs2, &p992);
    assert_int_equal(errs, errs2);
    assert_int_equal(p99, p992);
    assert_string_equal(m.scenario, "mixed");
    assert_int_equal(el_results_evaluate(r), el_results_evaluate(fresh));
    /* v1 files written before the timeline's "throttled" column have 6 columns: read as unknown,
     * written back without it. */
    assert_false(r->timeline_throttled);
    assert_true(fresh->timeline_throttled);
    fresh->timeline_throttled = false;
    /* Written again by this build, the golden state gives the same file as a fresh run (without
     * the per-second throttled counts the golden file lacks). */
    char p1[256], p2[256];
    tmp_path(p1, sizeof(p1), "golden.json");
    tmp_path(p2, sizeof(p2), "fresh.json");
    assert_int_equal(el_results_write_json(r, &m, p1, &err), 0);
    assert_int_equal(el_results_write_json(fresh, &m, p2, &err), 0);
    char *a = read_text(p1);
    char *b = read_text(p2);
    assert_string_equal(a, b);
    free(a);
    free(b);
    unlink(p1);
    unlink(p2);
    el_results_meta_clear(&m);
    el_results_free(r);
    el_results_free(fresh);
}

/* The timeline's 7th column: throttled requests per second, written, read back, merged; a part
 * without the column (a file written before it existed) makes the merged counts unknown. */
static void timeline_throttled_column_survives_json_and_merge(void **state)
{
    (void)state;
    struct el_results *r = new_results();
    static const char *const outcomes[] = {"ok", "throttled", "timeout", "throttled", "canceled"};
    for (int i = 0; i < 50; i++) /* second 0: 10 throttled, second 1: 10, seconds 2-4: none */
        el_results_record(r, "sync", outcomes[i % 5], 1000 + i, 1, 2,
                          BASE_US + (int64_t)(i < 40 ? i / 20 : 2 + (i - 40) / 4) * 1000000, 0);
    assert_true(r->timeline_throttled);
    assert_int_equal(r->n_seconds, 5);
    assert_int_equal(r->seconds[0].throttled, 8);
    assert_int_equal(r->seconds[1].throttled, 8);
    assert_int_equal(r->seconds[2].throttled, 2);
    char p1[256], p2[256];
    struct el_err err;
    struct el_results_meta m = run_meta(4);
    tmp_path(p1, sizeof(p1), "thr.json");
    assert_int_equal(el_results_write_json(r, &m, p1, &err), 0);
    json_error_t je;
    json_t *root = json_load_file(p1, 0, &je);
    assert_non_null(root);
    json_t *cols = at(root, "timeline", "columns", NULL, NULL);
    assert_int_equal(json_array_size(cols), 7);
    assert_string_equal(json_string_value(json_array_get(cols, 6)), "throttled");
    json_t *row0 = json_array_get(at(root, "timeline", "seconds", NULL, NULL), 0);
    assert_int_equal(json_integer_value(json_array_get(row0, 6)), 8);

    struct el_results *back = NULL;
    assert_int_equal(el_results_read_json(p1, &back, NULL, &err), 0);
    assert_true(back->timeline_throttled);
    assert_int_equal(back->n_seconds, r->n_seconds);
    for (uint32_t i = 0; i < r->n_seconds; i++)
        assert_int_equal(back->seconds[i].throttled, r->seconds[i].throttled);
    assert_int_equal(el_results_merge(back, r, &err), 0);
    assert_true(back->timeline_throttled);
    assert_int_equal(back->seconds[0].throttled, 16);

    /* the same file without the column (as a file written before it) */
    json_array_remove(cols, 6);
    size_t i;
    json_t *row;
    json_array_foreach(at(root, "timeline", "seconds", NULL, NULL), i, row)
        json_array_remove(row, 6);
    tmp_path(p2, sizeof(p2), "thr6.json");
    assert_int_equal(json_dump_file(root, p2, JSON_INDENT(1)), 0);
    json_decref(root);
    struct el_results *old = NULL;
    assert_int_equal(el_results_read_json(p2, &old, NULL, &err), 0);
    assert_false(old->timeline_throttled);
    assert_int_equal(old->seconds[0].throttled, 0);
    assert_int_equal(old->seconds[0].requests, 20);
    assert_int_equal(el_results_merge(back, old, &err), 0);
    assert_false(back->timeline_throttled);
    assert_int_equal(el_results_write_json(old, &m, p1, &err), 0);
    char *text = read_text(p1);
    assert_null(strstr(text, "\"throttled\"]"));
    free(text);
    el_results_free(old);
    el_results_free(back);
    el_results_free(r);
    unlink(p1);
    unlink(p2);
}

/* --- timeline.csv and junit.xml ------------------------------------------------------------------
 */

static void timeline_csv_has_a_row_per_second_with_seven_columns(void **state)
{
    (void)state;
    struct el_results *r = new_results();
    record_run(r, 0, 1);
    el_results_record(r, "sync", "ok", 2000, 1, 1, BASE_US + (RUN_S + 5) * 1000000LL, 0);
    char path[256];
    struct el_err err;
    tmp_path(path, sizeof(path), "timeline.csv");
    assert_int_equal(el_results_write_timeline_csv(r, path, &err), 0);
    char *s = read_text(path);
    char *save = NULL;
    char *line = strtok_r(s, "\n", &save);
    assert_string_equal(line, "second,requests,errors,p50_ms,p99_ms,bytes_in,bytes_out");
    int rows = 0;
    uint64_t requests = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        int commas = 0;
        for (const char *p = line; *p; p++)
            commas += *p == ',';
        assert_int_equal(commas, 6);
        assert_int_equal(atoi(line), rows); /* second since the first, no gaps */
        requests += strtoull(strchr(line, ',') + 1, NULL, 10);
        if (rows >= RUN_S && rows < RUN_S + 5)
            assert_string_equal(strchr(line, ','), ",0,0,,,0,0");
        if (rows == RUN_S + 5)
            assert_string_equal(strchr(line, ','), ",1,0,2.000,2.000,1,1");
        rows++;
    }
    assert_int_equal(rows, RUN_S + 6);
    assert_int_equal(requests, 30001);
    free(s);
    unlink(path);
    el_results_free(r);
}

static void junit_has_a_testcase_per_check_and_threshold(void **state)
{
    (void)state;
    struct el_results *r = new_results();
    record_run(r, 0, 1);
    struct el_results_meta m = run_meta(64);
    char path[256];
    struct el_err err;
    tmp_path(path, sizeof(path), "junit.xml");
    assert_int_equal(el_results_write_junit(r, &m, path, &err), 0);
    char *s = read_text(path);
    assert_non_null(strstr(s, "<testsuites name=\"easload\" tests=\"5\" failures=\"3\""));
    assert_non_null(strstr(s, "classname=\"easload.thresholds\" name=\"sync.p99&lt;800ms\""));
    assert_non_null(strstr(s, "name=\"login ok\" time=\"0\"/>"));
    assert_non_null(strstr(s, "<failure message=\"check failed 3 of 2728 times\""));
    assert_non_null(strstr(s, "<failure message=\"errors.rate = "));
    assert_int_equal(el_results_evaluate(r), 3);
    free(s);
    unlink(path);
    el_results_free(r);
}

static void names_are_interned_once_and_cleaned(void **state)
{
    (void)state;
    struct el_results *r = new_results();
    el_results_count(r, "caf\xc3\xa9", 1);
    el_results_count(r, "caf\xc3\xa9", 2);
    assert_int_equal(r->n_counters, 1);
    assert_string_equal(el__rs_name(r, r->counters[0].name), "caf__");
    assert_int_equal(r->counters[0].n, 3);
    for (int i = 0; i < EL__RS_SERIES_MAX + 20; i++) {
        char name[32];
        snprintf(name, sizeof(name), "cmd%d", i);
        el_results_record(r, name, "ok", 10, 0, 0, BASE_US, 0);
    }
    assert_true(r->n_series <= EL__RS_SERIES_MAX);
    uint64_t req;
    el_results_totals(r, &req, NULL, NULL);
    assert_int_equal(req, EL__RS_SERIES_MAX + 20);
    el_results_free(r);
}

/* `test_results --write-golden PATH` writes the golden file of the current schema version
 * (tests/fixtures/results/results-vN.json); older versions' files are kept as they are. */
static int write_golden(const char *path)
{
    struct el_results *r = new_results();
    record_run(r, 0, 1);
    struct el_results_meta m = run_meta(64);
    struct el_err err;
    int rc = el_results_write_json(r, &m, path, &err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err.msg);
    el_results_free(r);
    return rc < 0;
}

/* `test_results --write-shards DIR` writes DIR/whole.json (the unsplit run) and
 * DIR/shard-0.json .. shard-2.json for tests/e2e/test_report_merge.sh. */
static int write_shards(const char *dir)
{
    char path[512];
    struct el_err err;
    int rc = 0;
    for (int k = -1; k < 3 && rc == 0; k++) {
        struct el_results *r = new_results();
        record_run(r, k < 0 ? 0 : k, k < 0 ? 1 : 3);
        struct el_results_meta m = run_meta(k < 0 ? 64 : k == 0 ? 22 : 21);
        if (k >= 0) {
            m.shard = (uint32_t)k;
            m.shards = 3;
            snprintf(path, sizeof(path), "%s/shard-%d.json", dir, k);
        } else {
            snprintf(path, sizeof(path), "%s/whole.json", dir);
        }
        rc = el_results_write_json(r, &m, path, &err);
        if (rc < 0)
            fprintf(stderr, "%s\n", err.msg);
        el_results_free(r);
    }
    return rc < 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-golden") == 0)
        return write_golden(argv[2]);
    if (argc == 3 && strcmp(argv[1], "--write-shards") == 0)
        return write_shards(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merged_shards_write_the_same_json_as_the_unsplit_run),
        cmocka_unit_test(merge_refuses_another_histogram_configuration),
        cmocka_unit_test(totals_add_every_command),
        cmocka_unit_test(json_round_trip_keeps_every_number),
        cmocka_unit_test(reader_refuses_a_missing_field),
        cmocka_unit_test(reader_refuses_another_schema_version),
        cmocka_unit_test(reader_refuses_a_bad_histogram_encoding),
        cmocka_unit_test(reader_refuses_wrong_types_and_bad_rows),
        cmocka_unit_test(reader_refuses_a_truncated_file),
        cmocka_unit_test(golden_files_of_every_schema_version_still_read),
        cmocka_unit_test(timeline_throttled_column_survives_json_and_merge),
        cmocka_unit_test(timeline_csv_has_a_row_per_second_with_seven_columns),
        cmocka_unit_test(junit_has_a_testcase_per_check_and_threshold),
        cmocka_unit_test(names_are_interned_once_and_cleaned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
