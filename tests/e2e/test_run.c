/* test_run.c - end-to-end tests of `easload run` against `easload serve`: each shipped scenario
 * for a few seconds with a few dozen devices, every Lua API call (tests/e2e/scenarios/api.lua),
 * a deliberate Lua error (file:line and device id on stderr, counted, the run goes on), a
 * scenario that does not load, SIGINT mid-run (results.json still written and valid), more
 * devices than users, one connection per device on the server, --workers 2 merged, remote wipe,
 * https (verified with --ca, untrusted roots counted as tls, --insecure), --shard I/N merged
 * equal to the unsharded run, an arrival-rate run through a server stall (coordinated omission),
 * the parent's progress line summing three workers, SIGINT while every connect is refused.
 * Asserts on results.json counters and the server's /stats, never on timings.
 * usage: test_run CASE   (ctest runs each case; see CMakeLists.txt) */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "run_harness.h"
#include "srv_harness.h"

#ifndef EL_SRC_DIR
#error "build with -DEL_SRC_DIR=\"/path/to/source\""
#endif

static int failures;
static int with_progress; /* run_start_at leaves out --no-progress: plain lines on stderr */

#define jnum(...) el_runh_num(-1, __VA_ARGS__)

/* Starts `easload run SCENARIO --target TARGET --out h->dir/OUT ARGS...`; TARGET NULL = the
 * server's plain URL (else its https URL), OUT NULL = "out". Returns the pid (stderr to
 * r->errfile, OUT.err). */
static pid_t run_start_at(struct el_srvh *h, struct el_runh *r, const char *target, const char *out,
                          const char *scenario, const char **extra)
{
    if (out == NULL)
        out = "out";
    if (target == NULL)
        target = h->url[0] ? h->url : h->tls_url;
    snprintf(r->out, sizeof(r->out), "%s/%s", h->dir, out);
    snprintf(r->errfile, sizeof(r->errfile), "%s/%s.err", h->dir, out);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", EL_SRC_DIR, scenario);
    const char *argv[64];
    int n = 0;
    argv[n++] = EL_SRVH_EASLOAD;
    argv[n++] = "run";
    argv[n++] = path;
    argv[n++] = "--target";
    argv[n++] = target;
    argv[n++] = "--admin";
    argv[n++] = h->admin_url;
    argv[n++] = "--out";
    argv[n++] = r->out;
    if (!with_progress)
        argv[n++] = "--no-progress";
    for (int i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return el_runh_spawn(argv, r);
}

static pid_t run_start(struct el_srvh *h, struct el_runh *r, const char *scenario,
                       const char **extra)
{
    return run_start_at(h, r, NULL, NULL, scenario, extra);
}

static void run_sync(struct el_srvh *h, struct el_runh *r, const char *scenario, const char **extra)
{
    el_runh_wait(run_start(h, r, scenario, extra), r);
}

static int file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, needle) != NULL;
}

/* Every check of the run passed, and there was at least one. */
static void checks_passed(json_t *res)
{
    json_t *checks = json_object_get(res, "checks");
    CHECK(checks && json_object_size(checks) > 0, "no checks recorded");
    const char *name;
    json_t *c;
    json_object_foreach(checks, name, c)
    {
        CHECK(jnum(c, "failed", NULL) == 0, "check '%s' failed %lld times", name,
              jnum(c, "failed", NULL));
    }
}

static int start_server(struct el_srvh *h, unsigned users)
{
    struct el_srvh_opts o = {0};
    o.users = users;
    if (el_srvh_start(h, &o) != 0) {
        fprintf(stderr, "cannot start easload serve\n");
        return -1;
    }
    return 0;
}

/* A shipped scenario: requests made, no errors (beyond what the case allows), checks passed. */
static void shipped(const char *name, const char *devices, const char *cmd, int expect_push)
{
    struct el_srvh h;
    if (start_server(&h, 30) != 0) {
        failures++;
        return;
    }
    char path[64];
    snprintf(path, sizeof(path), "scenarios/%s.lua", name);
    const char *extra[] = {"--devices", devices, "--ramp",       "1s", "--duration", "4s",
                           "--workers", "1",     "--user-count", "30", NULL};
    struct el_runh r;
    run_sync(&h, &r, path, extra);
    CHECK(r.status == 0, "%s: exit %d", name, r.status);
    CHECK(r.res != NULL, "%s: no results.json", name);
    if (r.res) {
        CHECK(jnum(r.res, "totals", "requests", NULL) > 0, "%s: no requests", name);
        CHECK(jnum(r.res, "totals", "errors", NULL) == 0, "%s: %lld errors", name,
              jnum(r.res, "totals", "errors", NULL));
        CHECK(jnum(r.res, "commands", cmd, "requests", NULL) > 0, "%s: no %s requests", name, cmd);
        CHECK(jnum(r.res, "commands", "provision", "requests", NULL) >= atoi(devices),
              "%s: not every device provisioned", name);
        if (json_object_size(json_object_get(r.res, "checks")) > 0)
            checks_passed(r.res);
        if (expect_push)
            CHECK(jnum(r.res, "values", "push", "latency_us", "count", NULL) > 0,
                  "%s: no push latency recorded", name);
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

static void case_api(void)
{
    struct el_srvh h;
    if (start_server(&h, 4) != 0) {
        failures++;
        return;
    }
    const char *extra[] = {"--workers", "1", "--user-count", "4", NULL};
    struct el_runh r;
    run_sync(&h, &r, "tests/e2e/scenarios/api.lua", extra);
    CHECK(r.status == 0, "exit %d", r.status);
    if (r.res) {
        checks_passed(r.res);
        static const char *const want[] = {
            "checks",   "provision", "foldersync", "sync items",  "fetch",   "search",
            "sendmail", "move",      "settings",   "raw tree",    "raw xml", "deliver",
            "ping",     "rand",      "fields",     "must raises", NULL};
        for (int i = 1; want[i]; i++)
            CHECK(jnum(r.res, "checks", want[i], "passed", NULL) > 0, "check '%s' never ran",
                  want[i]);
        CHECK(jnum(r.res, "outcomes", "script_error", "requests", NULL) <= 0,
              "script errors in api.lua");
        CHECK(jnum(r.res, "commands", "ping", "requests", NULL) >= 3, "pings");
        CHECK(jnum(r.res, "commands", "getitemestimate", "requests", NULL) == 4, "estimates");
        CHECK(jnum(r.res, "commands", "moveitems", "requests", NULL) == 4, "moves");
        json_decref(r.res);
    }
    CHECK(file_has(r.errfile, "script: api scenario done"), "d:log line missing");
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

static void case_script_error(void)
{
    struct el_srvh h;
    if (start_server(&h, 6) != 0) {
        failures++;
        return;
    }
    const char *extra[] = {"--workers", "1", "--user-count", "6", NULL};
    struct el_runh r;
    run_sync(&h, &r, "tests/e2e/scenarios/script_error.lua", extra);
    CHECK(r.status == 0, "exit %d (a script error is counted, not fatal)", r.status);
    CHECK(file_has(r.errfile, "script_error.lua:9:"), "no file:line in the error line");
    CHECK(file_has(r.errfile, " d3 lua: "), "no device id in the error line");
    if (r.res) {
        CHECK(jnum(r.res, "outcomes", "script_error", "requests", NULL) == 1,
              "script_error counted %lld times",
              jnum(r.res, "outcomes", "script_error", "requests", NULL));
        CHECK(jnum(r.res, "checks", "before", "passed", NULL) == 6, "before");
        CHECK(jnum(r.res, "checks", "after", "passed", NULL) == 5, "the others went on");
        CHECK(jnum(r.res, "commands", "sync", "requests", NULL) >= 5, "syncs");
        CHECK(jnum(r.res, "commands", "sync", "errors", NULL) == 0, "sync errors");
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

static void case_syntax_error(void)
{
    struct el_srvh h;
    if (start_server(&h, 2) != 0) {
        failures++;
        return;
    }
    struct el_runh r;
    run_sync(&h, &r, "tests/e2e/scenarios/syntax_error.lua", NULL);
    CHECK(r.status == 2, "exit %d, expected 2", r.status);
    CHECK(file_has(r.errfile, "syntax_error.lua:5:"), "no file:line for the syntax error");
    CHECK(r.res != NULL, "results.json not written after a load error");
    if (r.res) {
        CHECK(jnum(r.res, "outcomes", "script_error", "requests", NULL) == 1, "not counted");
        json_decref(r.res);
    }
    CHECK(el_srvh_stat(&h, "http", "requests") == 0, "requests were sent");
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

static void case_sigint(const char *workers)
{
    struct el_srvh h;
    if (start_server(&h, 12) != 0) {
        failures++;
        return;
    }
    const char *extra[] = {"--workers", workers, "--user-count", "12", NULL};
    struct el_runh r;
    pid_t pid = run_start(&h, &r, "tests/e2e/scenarios/forever.lua", extra);
    /* wait until the devices are working, then Ctrl-C */
    el_srvh_wait_stat(&h, "http", "connections", 12);
    while (el_srvh_stat(&h, "http", "requests") < 60)
        usleep(20000);
    kill(pid, SIGINT);
    el_runh_wait(pid, &r);
    CHECK(r.status == 0, "exit %d after SIGINT", r.status);
    CHECK(r.res != NULL, "results.json missing or not valid JSON after SIGINT");
    if (r.res) {
        CHECK(jnum(r.res, "commands", "sync", "requests", NULL) > 0, "no syncs recorded");
        CHECK(jnum(r.res, "outcomes", "script_error", "requests", NULL) <= 0, "script errors");
        json_decref(r.res);
    }
    char p[300];
    snprintf(p, sizeof(p), "%s/junit.xml", r.out);
    CHECK(access(p, R_OK) == 0, "junit.xml missing");
    snprintf(p, sizeof(p), "%s/timeline.csv", r.out);
    CHECK(access(p, R_OK) == 0, "timeline.csv missing");
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* 12 devices on 3 users, each device its own connection; also: no password in the outputs */
static void case_users_and_connections(void)
{
    struct el_srvh h;
    if (start_server(&h, 3) != 0) {
        failures++;
        return;
    }
    const char *extra[] = {"--devices", "12",           "--duration", "2s", "--workers",
                           "1",         "--user-count", "3",          NULL};
    struct el_runh r;
    run_sync(&h, &r, "tests/e2e/scenarios/forever.lua", extra);
    CHECK(r.status == 0, "exit %d", r.status);
    CHECK(el_srvh_stat(&h, "eas", "devices") == 12, "server saw %lld devices",
          el_srvh_stat(&h, "eas", "devices"));
    CHECK(el_srvh_stat(&h, "eas", "users") == 3, "users");
    long long conns = el_srvh_stat(&h, "http", "connections");
    CHECK(conns == 12, "%lld connections for 12 devices (one each, kept alive)", conns);
    long long reqs = el_srvh_stat(&h, "http", "requests");
    CHECK(reqs > 12 * 4, "only %lld requests", reqs);
    if (r.res) {
        CHECK(jnum(r.res, "totals", "errors", NULL) == 0, "errors");
        CHECK(jnum(r.res, "counters", "connections.opened", NULL) == 12, "connections.opened");
        json_decref(r.res);
    }
    char p[300];
    snprintf(p, sizeof(p), "%s/results.json", r.out);
    CHECK(!file_has(p, "pass1") && !file_has(p, "pass2"), "a password in results.json");
    CHECK(!file_has(r.errfile, "pass1"), "a password on stderr");
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

static void case_workers(void)
{
    struct el_srvh h;
    if (start_server(&h, 10) != 0) {
        failures++;
        return;
    }
    const char *extra[] = {"--devices", "10",           "--ramp", "1s", "--workers",
                           "2",         "--user-count", "10",     NULL};
    struct el_runh r;
    run_sync(&h, &r, "scenarios/provision.lua", extra);
    CHECK(r.status == 0, "exit %d", r.status);
    if (r.res) {
        /* both workers' devices are in the merged results: 2 round trips each */
        CHECK(jnum(r.res, "commands", "provision", "requests", NULL) == 20, "provision %lld",
              jnum(r.res, "commands", "provision", "requests", NULL));
        CHECK(jnum(r.res, "commands", "settings", "requests", NULL) == 10, "settings");
        CHECK(jnum(r.res, "checks", "provisioned", "passed", NULL) == 10, "checks merged");
        CHECK(jnum(r.res, "config", "workers", NULL) == 2, "config.workers");
        json_decref(r.res);
    }
    CHECK(el_srvh_stat(&h, "eas", "devices") == 10, "devices");
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

static void case_wipe(void)
{
    struct el_srvh h;
    if (start_server(&h, 2) != 0) {
        failures++;
        return;
    }
    const char *extra[] = {"--workers", "1", "--user-count", "2", NULL};
    struct el_runh r;
    run_sync(&h, &r, "tests/e2e/scenarios/wipe.lua", extra);
    CHECK(r.status == 0, "exit %d", r.status);
    if (r.res) {
        checks_passed(r.res);
        CHECK(jnum(r.res, "counters", "devices.wiped", NULL) == 1, "devices.wiped");
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* ---- TLS ---------------------------------------------------------------------------------- */

/* Requests of fixed.lua per device: Provision (2), FolderSync, 4 Syncs (5 round trips: the
 * first one starts with sync key 0), Settings. */
#define FIXED_PER_DEVICE_OK 9
/* ... when every request fails: Provision, FolderSync, 4 FolderSyncs, Settings */
#define FIXED_PER_DEVICE_FAILED 7

static int start_tls_server(struct el_srvh *h, unsigned users)
{
    struct el_srvh_opts o = {0};
    o.users = users;
    o.tls = 1;
    o.no_plain = 1;
    if (el_srvh_start(h, &o) != 0) {
        fprintf(stderr, "cannot start easload serve with TLS\n");
        return -1;
    }
    return 0;
}

/* A root the server's chain does not lead to (openssl CLI, in the harness's temp dir). */
static int make_wrong_root(const struct el_srvh *h, char *path, size_t cap)
{
    snprintf(path, cap, "%s/wrong-root.pem", h->dir);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout %s/wrong-root.key -out %s -days 2 -subj /CN=easload-wrong-root "
             "-addext basicConstraints=critical,CA:TRUE "
             "-addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1",
             h->dir, path);
    return system(cmd) == 0 ? 0 : -1;
}

/* Every request of the run failed with class tls, counted under counter `tls_counter`. */
static void all_tls(const struct el_runh *r, const char *what, long long expect,
                    const char *tls_counter)
{
    CHECK(r->status == 0 || r->status == 1, "%s: exit %d (a TLS failure is counted, not fatal)",
          what, r->status);
    CHECK(r->res != NULL, "%s: no results.json", what);
    if (r->res == NULL)
        return;
    long long total = jnum(r->res, "totals", "requests", NULL);
    CHECK(total == expect, "%s: %lld requests, expected %lld", what, total, expect);
    CHECK(jnum(r->res, "outcomes", "tls", "requests", NULL) == total, "%s: %lld of %lld are tls",
          what, jnum(r->res, "outcomes", "tls", "requests", NULL), total);
    CHECK(json_object_size(json_object_get(r->res, "outcomes")) == 1, "%s: other outcomes", what);
    CHECK(jnum(r->res, "totals", "errors", NULL) == total, "%s: tls not counted as errors", what);
    CHECK(jnum(r->res, "counters", tls_counter, NULL) == total, "%s: counter %s = %lld", what,
          tls_counter, jnum(r->res, "counters", tls_counter, NULL));
    CHECK(jnum(r->res, "checks", "provisioned", "failed", NULL) == expect / 7,
          "%s: check provisioned", what);
}

/* https verified against the root given with --ca: everything works, one connection per
 * device (the server counts TLS connections like plain ones), two workers. */
static void case_tls(void)
{
    struct el_srvh h;
    if (start_tls_server(&h, 6) != 0) {
        failures++;
        return;
    }
    const char *extra[] = {"--devices",    "6", "--workers", "2", "--ca", h.ca_file,
                           "--user-count", "6", NULL};
    struct el_runh r;
    run_sync(&h, &r, "tests/e2e/scenarios/fixed.lua", extra);
    CHECK(r.status == 0, "exit %d", r.status);
    if (r.res) {
        CHECK(jnum(r.res, "totals", "requests", NULL) == 6 * FIXED_PER_DEVICE_OK, "requests %lld",
              jnum(r.res, "totals", "requests", NULL));
        CHECK(jnum(r.res, "totals", "errors", NULL) == 0, "errors %lld",
              jnum(r.res, "totals", "errors", NULL));
        CHECK(jnum(r.res, "commands", "sync", "outcomes", "ok", "requests", NULL) == 30, "syncs");
        CHECK(jnum(r.res, "checks", "provisioned", "passed", NULL) == 6, "provisioned");
        CHECK(jnum(r.res, "counters", "connections.opened", NULL) == 6, "connections.opened %lld",
              jnum(r.res, "counters", "connections.opened", NULL));
        json_decref(r.res);
    }
    CHECK(el_srvh_stat(&h, "http", "connections") == 6, "server saw %lld connections",
          el_srvh_stat(&h, "http", "connections"));
    CHECK(el_srvh_stat(&h, "http", "requests") == 6 * FIXED_PER_DEVICE_OK, "server requests");
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* scenarios/ping.lua over TLS: Pings are held (by --admin deliveries, every 2 s) longer than
 * core/http's 250 ms sweep that frees curl's upload buffer of a sent long poll; the answer,
 * the Sync after it and the next Ping on the same connection must then work (ASan build: no
 * use of the freed buffer). */
static void case_ping_tls(void)
{
    struct el_srvh h;
    if (start_tls_server(&h, 10) != 0) {
        failures++;
        return;
    }
    const char *extra[] = {"--devices",    "10",        "--ramp", "1s",   "--duration",
                           "5s",           "--workers", "1",      "--ca", h.ca_file,
                           "--user-count", "10",        NULL};
    struct el_runh r;
    run_sync(&h, &r, "scenarios/ping.lua", extra);
    CHECK(r.status == 0, "ping_tls: exit %d", r.status);
    CHECK(r.res != NULL, "ping_tls: no results.json");
    if (r.res) {
        CHECK(jnum(r.res, "totals", "errors", NULL) == 0, "ping_tls: %lld errors",
              jnum(r.res, "totals", "errors", NULL));
        CHECK(jnum(r.res, "commands", "ping", "outcomes", "ok", "requests", NULL) >= 1,
              "ping_tls: %lld pings answered",
              jnum(r.res, "commands", "ping", "outcomes", "ok", "requests", NULL));
        CHECK(jnum(r.res, "values", "push", "latency_us", "count", NULL) > 0,
              "ping_tls: no push latency recorded");
        CHECK(jnum(r.res, "counters", "connections.opened", NULL) == 10,
              "ping_tls: connections.opened %lld",
              jnum(r.res, "counters", "connections.opened", NULL));
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* A root that is not the server's, and the system store (no --ca): verification is on by
 * default, so every request fails with class tls, counted as tls.untrusted_root; the run ends
 * normally. --insecure then works without any root. */
static void case_tls_untrusted(void)
{
    struct el_srvh h;
    if (start_tls_server(&h, 4) != 0) {
        failures++;
        return;
    }
    char wrong[256];
    CHECK(make_wrong_root(&h, wrong, sizeof(wrong)) == 0, "openssl could not make a root");
    const char *wrong_ca[] = {"--devices",    "4", "--workers", "2", "--ca", wrong,
                              "--user-count", "4", NULL};
    struct el_runh r;
    el_runh_wait(run_start_at(&h, &r, NULL, "wrong", "tests/e2e/scenarios/fixed.lua", wrong_ca),
                 &r);
    all_tls(&r, "wrong --ca", 4 * FIXED_PER_DEVICE_FAILED, "tls.untrusted_root");
    json_decref(r.res);

    const char *system_store[] = {"--devices", "4", "--workers", "1", "--user-count", "4", NULL};
    el_runh_wait(
        run_start_at(&h, &r, NULL, "default", "tests/e2e/scenarios/fixed.lua", system_store), &r);
    all_tls(&r, "system store", 4 * FIXED_PER_DEVICE_FAILED, "tls.untrusted_root");
    json_decref(r.res);
    CHECK(el_srvh_stat(&h, "http", "requests") == 0, "a request got through an untrusted chain");

    const char *insecure[] = {"--devices",    "4", "--workers", "2", "--insecure",
                              "--user-count", "4", NULL};
    el_runh_wait(run_start_at(&h, &r, NULL, "insecure", "tests/e2e/scenarios/fixed.lua", insecure),
                 &r);
    CHECK(r.status == 0, "--insecure: exit %d", r.status);
    if (r.res) {
        CHECK(jnum(r.res, "totals", "requests", NULL) == 4 * FIXED_PER_DEVICE_OK,
              "--insecure: requests %lld", jnum(r.res, "totals", "requests", NULL));
        CHECK(jnum(r.res, "totals", "errors", NULL) == 0, "--insecure: errors");
        CHECK(jnum(r.res, "config", "insecure", NULL) == 1, "--insecure not in the config");
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* ---- shards ------------------------------------------------------------------------------- */

/* {command: {outcome: requests}} of a results file (owned by the caller). */
static json_t *requests_by_outcome(json_t *res)
{
    json_t *out = json_object();
    const char *cmd, *oc;
    json_t *cv, *ov;
    json_object_foreach(json_object_get(res, "commands"), cmd, cv)
    {
        json_t *m = json_object();
        json_object_foreach(json_object_get(cv, "outcomes"), oc, ov)
        {
            json_object_set_new(m, oc, json_integer(jnum(ov, "requests", NULL)));
        }
        json_object_set_new(out, cmd, m);
    }
    return out;
}

/* `easload merge A B C -o OUT`; the exit code, or -1. */
static int merge(const char *const *in, int n, const char *out)
{
    const char *argv[16];
    int k = 0;
    argv[k++] = EL_SRVH_EASLOAD;
    argv[k++] = "merge";
    for (int i = 0; i < n && k < 12; i++)
        argv[k++] = in[i];
    argv[k++] = "-o";
    argv[k++] = out;
    argv[k] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* --shard I/3 as three processes at once, merged, against one unsharded run of the same
 * deterministic scenario on a server of its own: equal requests per command and outcome,
 * counters, checks (one per device naming its number, device id, user, profile and first
 * random number: the same devices were made) and device counts. */
static void case_shards(void)
{
    struct el_srvh hs, hu;
    if (start_server(&hs, 12) != 0) {
        failures++;
        return;
    }
    if (start_server(&hu, 12) != 0) {
        el_srvh_stop(&hs);
        failures++;
        return;
    }
    static const char *const ids[] = {"0/3", "1/3", "2/3"};
    struct el_runh rs[3];
    pid_t pids[3];
    char paths[3][2048];
    const char *files[3];
    for (int i = 0; i < 3; i++) {
        char out[16];
        snprintf(out, sizeof(out), "shard%d", i);
        const char *extra[] = {"--devices",    "11", "--workers", "2",
                               "--user-count", "12", "--shard",   ids[i],
                               "--ramp",       "1s", NULL};
        pids[i] = run_start_at(&hs, &rs[i], NULL, out, "tests/e2e/scenarios/fixed.lua", extra);
    }
    for (int i = 0; i < 3; i++) {
        el_runh_wait(pids[i], &rs[i]);
        CHECK(rs[i].status == 0, "shard %d: exit %d", i, rs[i].status);
        snprintf(paths[i], sizeof(paths[i]), "%s/results.json", rs[i].out);
        files[i] = paths[i];
    }
    long long devs = 0;
    for (int i = 0; i < 3; i++) {
        if (rs[i].res == NULL)
            continue;
        CHECK(jnum(rs[i].res, "shard", NULL) == i, "shard %d: shard %lld", i,
              jnum(rs[i].res, "shard", NULL));
        CHECK(jnum(rs[i].res, "shards", NULL) == 3, "shard %d: shards", i);
        CHECK(jnum(rs[i].res, "config", "devices", NULL) == 11, "shard %d: population", i);
        devs += jnum(rs[i].res, "devices", NULL);
        json_decref(rs[i].res);
    }
    CHECK(devs == 11, "the shards ran %lld devices, not 11", devs);

    const char *extra[] = {"--devices", "11",     "--workers", "2", "--user-count",
                           "12",        "--ramp", "1s",        NULL};
    struct el_runh ru;
    el_runh_wait(run_start_at(&hu, &ru, NULL, "whole", "tests/e2e/scenarios/fixed.lua", extra),
                 &ru);
    CHECK(ru.status == 0, "unsharded: exit %d", ru.status);

    char merged_path[300];
    snprintf(merged_path, sizeof(merged_path), "%s/merged.json", hs.dir);
    CHECK(merge(files, 3, merged_path) == 0, "easload merge failed");
    json_error_t je;
    json_t *merged = json_load_file(merged_path, 0, &je);
    CHECK(merged != NULL, "merged.json: %s", je.text);
    if (merged && ru.res) {
        json_t *a = requests_by_outcome(merged), *b = requests_by_outcome(ru.res);
        char *as = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
        char *bs = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
        CHECK(json_equal(a, b), "requests per command and outcome differ:\n merged %s\n whole  %s",
              as, bs);
        CHECK(json_object_size(a) >= 4, "too few commands: %s", as);
        free(as);
        free(bs);
        json_decref(a);
        json_decref(b);
        CHECK(jnum(merged, "totals", "requests", NULL) == 11 * FIXED_PER_DEVICE_OK &&
                  jnum(ru.res, "totals", "requests", NULL) == 11 * FIXED_PER_DEVICE_OK,
              "requests %lld / %lld", jnum(merged, "totals", "requests", NULL),
              jnum(ru.res, "totals", "requests", NULL));
        CHECK(json_equal(json_object_get(merged, "counters"), json_object_get(ru.res, "counters")),
              "counters differ");
        CHECK(json_equal(json_object_get(merged, "checks"), json_object_get(ru.res, "checks")),
              "checks differ (not the same devices)");
        CHECK(json_object_size(json_object_get(ru.res, "checks")) == 12, "checks: %zu",
              json_object_size(json_object_get(ru.res, "checks")));
        CHECK(jnum(merged, "devices", NULL) == jnum(ru.res, "devices", NULL), "devices");
    }
    json_decref(merged);
    json_decref(ru.res);
    CHECK(el_srvh_stat(&hs, "eas", "devices") == 11 && el_srvh_stat(&hu, "eas", "devices") == 11,
          "servers saw %lld and %lld devices", el_srvh_stat(&hs, "eas", "devices"),
          el_srvh_stat(&hu, "eas", "devices"));
    CHECK(el_srvh_stop(&hu) == 0, "server did not stop cleanly");
    CHECK(el_srvh_stop(&hs) == 0, "server did not stop cleanly");
}

/* ---- coordinated omission ----------------------------------------------------------------- */

/* An open model (tests/e2e/scenarios/arrival.lua: 40 arrivals/s on a pool of 4 devices) while
 * the server stalls: once requests flow, every request arriving at the server in the next
 * second waits 1000 ms (`all:latency=1000ms@0s-1s` through POST /faults). The pool runs dry,
 * arrivals wait and start late; latency counts from the intended start, so the stall is in
 * p99 and the late starts are reported. No timing is asserted beyond what the stall forces:
 * at least four requests (one per device) took >= 1000 ms from their start at the server. */
static void case_arrival_stall(void)
{
    struct el_srvh h;
    if (start_server(&h, 4) != 0) {
        failures++;
        return;
    }
    const char *extra[] = {"--workers", "1", "--user-count", "4", NULL};
    struct el_runh r;
    pid_t pid = run_start(&h, &r, "tests/e2e/scenarios/arrival.lua", extra);
    while (el_srvh_stat(&h, "http", "requests") < 20)
        usleep(20000);
    struct el_srvh_resp resp;
    int arc =
        el_srvh_admin(&h, "POST", "/faults", "{\"add\":[\"all:latency=1000ms@0s-1s\"]}", &resp);
    CHECK(arc == 0 && resp.status == 200, "POST /faults: %ld", resp.status);
    el_srvh_resp_close(&resp);
    el_runh_wait(pid, &r);
    CHECK(r.status == 0, "exit %d", r.status);
    long long delayed = 0;
    if (el_srvh_admin(&h, "GET", "/stats", NULL, &resp) == 0) {
        json_t *st = json_loadb((const char *)resp.body.data, resp.body.len, 0, NULL);
        delayed = jnum(st, "faults", "latency", NULL);
        json_decref(st);
    }
    el_srvh_resp_close(&resp);
    CHECK(delayed >= 4, "the server delayed only %lld requests", delayed);
    if (r.res) {
        long long fs = jnum(r.res, "commands", "foldersync", "requests", NULL);
        long long late = jnum(r.res, "commands", "foldersync", "late", NULL);
        long long p99 = jnum(r.res, "commands", "foldersync", "latency_us", "p99", NULL);
        long long arrivals_late = jnum(r.res, "counters", "arrivals.late", NULL);
        CHECK(fs > 40, "only %lld FolderSyncs", fs);
        CHECK(jnum(r.res, "totals", "errors", NULL) == 0, "errors %lld",
              jnum(r.res, "totals", "errors", NULL));
        CHECK(p99 >= 1000000, "foldersync p99 %lld us does not show the 1 s stall", p99);
        CHECK(late > 0, "no late FolderSync reported");
        /* arrivals that queued behind the stall count too, not only what the server delayed */
        CHECK(late > delayed, "%lld late starts, %lld requests delayed by the server", late,
              delayed);
        CHECK(arrivals_late > 0, "counter arrivals.late missing");
        CHECK(jnum(r.res, "values", "uncorrected", "latency_us", "count", NULL) > 0,
              "no uncorrected (service time) histogram");
        fprintf(stderr,
                "arrival_stall: %lld FolderSyncs, %lld late, %lld arrivals late, p99 %lld us, "
                "uncorrected p99 %lld us, %lld delayed by the server\n",
                fs, late, arrivals_late, p99,
                jnum(r.res, "values", "uncorrected", "latency_us", "p99", NULL), delayed);
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* ---- progress with several workers -------------------------------------------------------- */

/* The parent's last progress line (stderr is not a TTY: plain lines) sums the workers: its
 * requests and errors equal results.json's totals exactly (a worker counted twice or not at all
 * would show), and its p99, read off the merged coarse histograms, is within one bucket
 * (6.25%) of the exact p99 of the merged results. */
static void case_progress_workers(void)
{
    struct el_srvh h;
    if (start_server(&h, 9) != 0) {
        failures++;
        return;
    }
    const char *extra[] = {"--devices", "9", "--workers", "3", "--user-count", "9", NULL};
    struct el_runh r;
    with_progress = 1;
    run_sync(&h, &r, "tests/e2e/scenarios/fixed.lua", extra);
    with_progress = 0;
    CHECK(r.status == 0, "exit %d", r.status);
    FILE *f = fopen(r.errfile, "r");
    char line[512], last[512] = "";
    int lines = 0;
    while (f && fgets(line, sizeof(line), f)) {
        if (line[0] == '[' && strstr(line, " requests ")) {
            snprintf(last, sizeof(last), "%s", line);
            lines++;
        }
    }
    if (f)
        fclose(f);
    CHECK(lines > 0, "no progress line on stderr");
    unsigned long long req = 0, errs = 0;
    unsigned workers = 0;
    double p99_ms = -1;
    const char *p = strstr(last, " requests ");
    const char *e = strstr(last, " errors ");
    const char *q = strstr(last, " p99 ");
    const char *wk = strstr(last, " workers ");
    CHECK(p && e && q && wk, "progress line without requests/errors/p99/workers: %s", last);
    if (p && e && q && wk && r.res) {
        req = strtoull(p + 10, NULL, 10);
        errs = strtoull(e + 8, NULL, 10);
        p99_ms = strtod(q + 5, NULL);
        workers = (unsigned)strtoul(wk + 9, NULL, 10);
        CHECK(workers == 3, "workers %u in: %s", workers, last);
        CHECK((long long)req == jnum(r.res, "totals", "requests", NULL),
              "progress says %llu requests, results %lld: %s", req,
              jnum(r.res, "totals", "requests", NULL), last);
        CHECK(req == 9 * FIXED_PER_DEVICE_OK, "requests %llu", req);
        CHECK((long long)errs == jnum(r.res, "totals", "errors", NULL), "errors %llu", errs);
        double exact_ms = (double)jnum(r.res, "totals", "latency_us", "p99", NULL) / 1000.0;
        CHECK(p99_ms >= exact_ms / 1.0625 - 0.1 && p99_ms <= exact_ms * 1.0625 + 0.1,
              "progress p99 %.1f ms, results p99 %.3f ms: %s", p99_ms, exact_ms, last);
    }
    json_decref(r.res);
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* ---- a target that refuses every connection ----------------------------------------------- */

/* Devices in a tight FolderSync loop against a port nothing listens on (a stopped server's):
 * every request fails at once, yet SIGINT stops the run (libcurl's zero timeouts run on the
 * next loop turn, so the loop still polls signals), failures are counted as network. */
static void case_refused_sigint(void)
{
    struct el_srvh h;
    if (start_server(&h, 2) != 0) {
        failures++;
        return;
    }
    char url[96];
    snprintf(url, sizeof(url), "%s", h.url);
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
    /* the harness removed its dir: keep the run's files in one of ours */
    snprintf(h.dir, sizeof(h.dir), "/tmp/easload-srvh-XXXXXX");
    CHECK(mkdtemp(h.dir) != NULL, "mkdtemp");
    const char *extra[] = {"--workers", "1", "--user-count", "2", NULL};
    struct el_runh r;
    pid_t pid = run_start_at(&h, &r, url, NULL, "tests/e2e/scenarios/refused.lua", extra);
    sleep(1);
    kill(pid, SIGINT);
    el_runh_wait(pid, &r);
    CHECK(r.status == 0 || r.status == 1, "exit %d after SIGINT", r.status);
    if (r.res) {
        CHECK(jnum(r.res, "outcomes", "network", "requests", NULL) > 0, "no network failures");
        json_decref(r.res);
    }
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h.dir);
    CHECK(system(cmd) == 0, "rm");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_run CASE\n");
        return 2;
    }
    const char *c = argv[1];
    if (strcmp(c, "provision") == 0)
        shipped("provision", "20", "settings", 0);
    else if (strcmp(c, "sync") == 0)
        shipped("sync", "20", "sync", 0);
    else if (strcmp(c, "ping") == 0)
        shipped("ping", "30", "ping", 1);
    else if (strcmp(c, "search") == 0)
        shipped("search", "20", "search", 0);
    else if (strcmp(c, "sendmail") == 0)
        shipped("sendmail", "20", "sendmail", 0);
    else if (strcmp(c, "mixed") == 0)
        shipped("mixed", "30", "sync", 0);
    else if (strcmp(c, "api") == 0)
        case_api();
    else if (strcmp(c, "script_error") == 0)
        case_script_error();
    else if (strcmp(c, "syntax_error") == 0)
        case_syntax_error();
    else if (strcmp(c, "sigint") == 0)
        case_sigint("1");
    else if (strcmp(c, "sigint_workers") == 0)
        case_sigint("2");
    else if (strcmp(c, "users_connections") == 0)
        case_users_and_connections();
    else if (strcmp(c, "workers") == 0)
        case_workers();
    else if (strcmp(c, "wipe") == 0)
        case_wipe();
    else if (strcmp(c, "tls") == 0)
        case_tls();
    else if (strcmp(c, "ping_tls") == 0)
        case_ping_tls();
    else if (strcmp(c, "tls_untrusted") == 0)
        case_tls_untrusted();
    else if (strcmp(c, "shards") == 0)
        case_shards();
    else if (strcmp(c, "arrival_stall") == 0)
        case_arrival_stall();
    else if (strcmp(c, "progress_workers") == 0)
        case_progress_workers();
    else if (strcmp(c, "refused_sigint") == 0)
        case_refused_sigint();
    else {
        fprintf(stderr, "unknown case %s\n", c);
        return 2;
    }
    if (failures == 0)
        printf("test_run %s: ok\n", c);
    return failures ? 1 : 0;
}
