/* test_run.c - end-to-end tests of `easload run` against `easload serve`: each shipped scenario
 * for a few seconds with a few dozen devices, every Lua API call (tests/e2e/scenarios/api.lua),
 * a deliberate Lua error (file:line and device id on stderr, counted, the run goes on), a
 * scenario that does not load, SIGINT mid-run (results.json still written and valid), more
 * devices than users, one connection per device on the server, --workers 2 merged, remote wipe.
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

#include "srv_harness.h"

#ifndef EL_SRC_DIR
#error "build with -DEL_SRC_DIR=\"/path/to/source\""
#endif

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond);                       \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

struct run {
    char out[256];     /* --out DIR */
    char errfile[300]; /* stderr of easload run */
    int status;        /* exit code, or -1 killed by a signal */
    json_t *res;       /* results.json, NULL if unreadable */
};

/* Starts `easload run SCENARIO --target ... ARGS...`; returns the pid (stderr to r->errfile). */
static pid_t run_start(struct el_srvh *h, struct run *r, const char *scenario, const char **extra)
{
    snprintf(r->out, sizeof(r->out), "%s/out", h->dir);
    snprintf(r->errfile, sizeof(r->errfile), "%s/run.err", h->dir);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", EL_SRC_DIR, scenario);
    const char *argv[64];
    int n = 0;
    argv[n++] = EL_SRVH_EASLOAD;
    argv[n++] = "run";
    argv[n++] = path;
    argv[n++] = "--target";
    argv[n++] = h->url;
    argv[n++] = "--admin";
    argv[n++] = h->admin_url;
    argv[n++] = "--out";
    argv[n++] = r->out;
    argv[n++] = "--no-progress";
    for (int i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(r->errfile, "w", stderr);
        (void)f;
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void run_wait(pid_t pid, struct run *r)
{
    int st;
    waitpid(pid, &st, 0);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    char path[300];
    snprintf(path, sizeof(path), "%s/results.json", r->out);
    json_error_t je;
    r->res = json_load_file(path, 0, &je);
    if (r->res == NULL)
        fprintf(stderr, "results.json: %s (line %d)\n", je.text, je.line);
    if (r->status != 0 && r->status != 1) {
        char *log = NULL;
        FILE *f = fopen(r->errfile, "r");
        if (f) {
            char buf[4096];
            size_t k = fread(buf, 1, sizeof(buf) - 1, f);
            buf[k] = '\0';
            fclose(f);
            fprintf(stderr, "easload run exited %d; stderr:\n%s\n", r->status, buf);
        }
        free(log);
    }
}

static void run_sync(struct el_srvh *h, struct run *r, const char *scenario, const char **extra)
{
    run_wait(run_start(h, r, scenario, extra), r);
}

/* Integer at a path of object keys ("commands", "sync", "requests", NULL); -1 when absent. */
static long long jnum(json_t *root, ...)
{
    va_list ap;
    va_start(ap, root);
    json_t *v = root;
    const char *k;
    while (v && (k = va_arg(ap, const char *)) != NULL)
        v = json_object_get(v, k);
    va_end(ap);
    if (v == NULL)
        return -1;
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    if (json_is_true(v))
        return 1;
    if (json_is_false(v))
        return 0;
    return -1;
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
    struct run r;
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
    struct run r;
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
    struct run r;
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
    struct run r;
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
    struct run r;
    pid_t pid = run_start(&h, &r, "tests/e2e/scenarios/forever.lua", extra);
    /* wait until the devices are working, then Ctrl-C */
    el_srvh_wait_stat(&h, "http", "connections", 12);
    while (el_srvh_stat(&h, "http", "requests") < 60)
        usleep(20000);
    kill(pid, SIGINT);
    run_wait(pid, &r);
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
    struct run r;
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
    struct run r;
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
    struct run r;
    run_sync(&h, &r, "tests/e2e/scenarios/wipe.lua", extra);
    CHECK(r.status == 0, "exit %d", r.status);
    if (r.res) {
        checks_passed(r.res);
        CHECK(jnum(r.res, "counters", "devices.wiped", NULL) == 1, "devices.wiped");
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
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
    else {
        fprintf(stderr, "unknown case %s\n", c);
        return 2;
    }
    if (failures == 0)
        printf("test_run %s: ok\n", c);
    return failures ? 1 : 0;
}
