/* test_throttle_client.c - issue 8, client side: `easload run` against `easload serve` with one
 * throttling knob or fault each, asserting the classes the client counted in results.json
 * against the server's GET /stats, and the device's recovery: partnership limit (exactly the
 * 11th and 12th phone of a user get 177), per-user concurrency (503 + Retry-After waited, the
 * retried Sync passes), dropped connections (the device reconnects, its next Sync succeeds),
 * 451 to a second server (devices follow and stay there), remote wipe (counted, the device
 * stops), Sync status 3 (resync from key 0), and the shipped throttle.lua and chaos.lua.
 * Scenarios: tests/e2e/scenarios/tc_*.lua and scenarios/{throttle,chaos,wipe}.lua. Bounded runs
 * (a few seconds, at most 24 devices); no assertion on time.
 * usage: test_throttle_client CASE   (ctest runs each case; see CMakeLists.txt) */
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

#define jnum(...) el_runh_num(0, __VA_ARGS__)

/* Runs `easload run EL_SRC_DIR/SCENARIO --target h's URL --admin h's admin --out h->dir/out
 * --no-progress --workers 1 ARGS...` to the end; results.json in r->res. */
static void run(struct el_srvh *h, struct el_runh *r, const char *scenario, const char **extra)
{
    snprintf(r->out, sizeof(r->out), "%s/out", h->dir);
    snprintf(r->errfile, sizeof(r->errfile), "%s/out.err", h->dir);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", EL_SRC_DIR, scenario);
    const char *argv[48] = {EL_SRVH_EASLOAD, "run",           path,         "--target",
                            h->url,          "--admin",       h->admin_url, "--out",
                            r->out,          "--no-progress", "--workers",  "1"};
    int n = 12;
    for (int i = 0; extra && extra[i] && n < 46; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    el_runh_wait(el_runh_spawn(argv, r), r);
}

static long long counter(json_t *res, const char *name)
{
    return jnum(res, "counters", name, NULL);
}

static long long passed(json_t *res, const char *check)
{
    return jnum(res, "checks", check, "passed", NULL);
}

/* No check of the run failed. */
static void no_failed_checks(json_t *res)
{
    const char *name;
    json_t *c;
    json_object_foreach(json_object_get(res, "checks"), name, c)
    {
        CHECK(jnum(c, "failed", NULL) == 0, "check '%s' failed %lld times", name,
              jnum(c, "failed", NULL));
    }
}

static int start(struct el_srvh *h, unsigned users, const char *const *args)
{
    struct el_srvh_opts o = {0};
    o.users = users;
    o.args = args;
    if (el_srvh_start(h, &o) != 0) {
        fprintf(stderr, "cannot start easload serve\n");
        failures++;
        return -1;
    }
    return 0;
}

/* ---- knobs -------------------------------------------------------------------------------- */

/* 12 phones of one user, partnership limit 10: exactly two get 177, counted once each, as the
 * server counted; the ten others sync. */
static void case_max_devices(void)
{
    static const char *const sargs[] = {"--max-devices-per-user", "10", NULL};
    struct el_srvh h;
    if (start(&h, 1, sargs) != 0)
        return;
    const char *extra[] = {"--user-count", "1", NULL};
    struct el_runh r;
    run(&h, &r, "tests/e2e/scenarios/tc_partners.lua", extra);
    CHECK(r.status == 0, "exit %d", r.status);
    if (r.res) {
        no_failed_checks(r.res);
        CHECK(counter(r.res, "eas.provision.status.177") == 2, "177 counted %lld times",
              counter(r.res, "eas.provision.status.177"));
        CHECK(passed(r.res, "refused (177)") == 2, "refused phones %lld",
              passed(r.res, "refused (177)"));
        CHECK(passed(r.res, "partnered phone syncs") == 10, "partnered phones %lld",
              passed(r.res, "partnered phone syncs"));
        CHECK(jnum(r.res, "commands", "provision", "outcomes", "eas_status", "requests", NULL) == 2,
              "provision eas_status outcomes");
        CHECK(el_srvh_stat(&h, "throttle", "max_devices") == 2, "server refused %lld",
              el_srvh_stat(&h, "throttle", "max_devices"));
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* Concurrency 1 per user, held by a Ping: the other phone's Sync gets one 503 with Retry-After,
 * the engine waits, the slot frees meanwhile and the retried Sync passes. */
static void case_concurrency(void)
{
    static const char *const sargs[] = {"--max-concurrency-per-user", "1", "--retry-after", "2",
                                        NULL};
    struct el_srvh h;
    if (start(&h, 1, sargs) != 0)
        return;
    const char *extra[] = {"--user-count", "1", NULL};
    struct el_runh r;
    run(&h, &r, "tests/e2e/scenarios/tc_concurrency.lua", extra);
    CHECK(r.status == 0, "exit %d", r.status);
    long long srv = el_srvh_stat(&h, "throttle", "concurrency");
    CHECK(srv == 1, "server throttled %lld requests", srv);
    if (r.res) {
        no_failed_checks(r.res);
        CHECK(passed(r.res, "throttled sync passed after Retry-After") == 1, "retried sync");
        CHECK(passed(r.res, "later sync ok") == 1, "later sync");
        CHECK(counter(r.res, "http.503") == srv, "client counted %lld 503s, server %lld",
              counter(r.res, "http.503"), srv);
        CHECK(jnum(r.res, "outcomes", "throttled", "requests", NULL) == srv, "throttled class");
        CHECK(counter(r.res, "throttle.waits") == 1, "waits %lld",
              counter(r.res, "throttle.waits"));
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* The shipped throttle.lua past both limits: the client's 503s and 177s equal the server's. */
static void case_throttle_scenario(void)
{
    static const char *const sargs[] = {"--max-concurrency-per-user",
                                        "3",
                                        "--max-devices-per-user",
                                        "6",
                                        "--retry-after",
                                        "1",
                                        NULL};
    struct el_srvh h;
    if (start(&h, 2, sargs) != 0)
        return;
    const char *extra[] = {"--devices", "16", "--ramp", "4s", "--duration", "7s", NULL};
    struct el_runh r;
    run(&h, &r, "scenarios/throttle.lua", extra);
    CHECK(r.status == 0, "exit %d", r.status);
    if (r.res) {
        no_failed_checks(r.res);
        long long conc = el_srvh_stat(&h, "throttle", "concurrency");
        long long md = el_srvh_stat(&h, "throttle", "max_devices");
        CHECK(counter(r.res, "http.503") == conc, "503: client %lld, server %lld",
              counter(r.res, "http.503"), conc);
        CHECK(jnum(r.res, "outcomes", "throttled", "requests", NULL) == conc, "throttled class");
        CHECK(counter(r.res, "eas.provision.status.177") == md, "177: client %lld, server %lld",
              counter(r.res, "eas.provision.status.177"), md);
        CHECK(jnum(r.res, "commands", "sync", "outcomes", "ok", "requests", NULL) > 0,
              "no Sync passed");
        fprintf(stderr, "throttle.lua: %lld throttled, %lld refused partnerships\n", conc, md);
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* 451 to a second server: each device follows once, remembers the URL, succeeds there. */
static void case_redirect(void)
{
    struct el_srvh b;
    if (start(&b, 4, NULL) != 0)
        return;
    const char *const sargs[] = {"--redirect", b.url, NULL};
    struct el_srvh a;
    if (start(&a, 4, sargs) != 0) {
        el_srvh_stop(&b);
        return;
    }
    const char *extra[] = {"--user-count", "4", NULL};
    struct el_runh r;
    run(&a, &r, "tests/e2e/scenarios/tc_syncs.lua", extra);
    CHECK(r.status == 0, "exit %d", r.status);
    long long redirected = el_srvh_stat(&a, "throttle", "redirect");
    CHECK(redirected == 4, "server A redirected %lld requests", redirected);
    CHECK(el_srvh_stat(&a, "throttle", "admitted") == 0, "server A ran commands");
    if (r.res) {
        no_failed_checks(r.res);
        CHECK(counter(r.res, "redirects") == 4, "redirects %lld", counter(r.res, "redirects"));
        CHECK(counter(r.res, "http.451") == redirected, "451 counted %lld",
              counter(r.res, "http.451"));
        CHECK(jnum(r.res, "outcomes", "redirect", "requests", NULL) == 4, "redirect class");
        CHECK(passed(r.res, "sync ok") == 4 * 15, "syncs at B %lld", passed(r.res, "sync ok"));
        long long ok = jnum(r.res, "outcomes", "ok", "requests", NULL);
        CHECK(el_srvh_stat(&b, "throttle", "admitted") == ok,
              "server B admitted %lld, client ok %lld", el_srvh_stat(&b, "throttle", "admitted"),
              ok);
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&a) == 0, "server A did not stop cleanly");
    CHECK(el_srvh_stop(&b) == 0, "server B did not stop cleanly");
}

/* scenarios/wipe.lua with 8 phones: phones 4 and 8 are wiped, acknowledge, stop. */
static void case_wipe(void)
{
    struct el_srvh h;
    if (start(&h, 8, NULL) != 0)
        return;
    const char *extra[] = {"--devices", "8", "--duration", "6s", "--user-count", "8", NULL};
    struct el_runh r;
    run(&h, &r, "scenarios/wipe.lua", extra);
    CHECK(r.status == 0, "exit %d", r.status);
    long long srv = el_srvh_stat(&h, "throttle", "wipe");
    CHECK(srv == 2, "server sent %lld wipes", srv);
    if (r.res) {
        no_failed_checks(r.res);
        CHECK(counter(r.res, "devices.wiped") == 2, "devices.wiped %lld",
              counter(r.res, "devices.wiped"));
        CHECK(passed(r.res, "lost phone wiped and stopped") == 2, "wiped phones");
        CHECK(passed(r.res, "other phones not wiped") == 6, "other phones");
        CHECK(jnum(r.res, "outcomes", "wipe", "requests", NULL) == srv, "wipe class");
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* ---- faults ------------------------------------------------------------------------------- */

/* Starts the server with sargs (one user) and runs tc_syncs.lua with one phone against it. */
static int one_phone_syncs(struct el_srvh *h, struct el_runh *r, const char *const *sargs)
{
    if (start(h, 1, sargs) != 0)
        return -1;
    const char *extra[] = {"--devices", "1", "--user-count", "1", NULL};
    run(h, r, "tests/e2e/scenarios/tc_syncs.lua", extra);
    return 0;
}

/* Every 3rd Sync answer of one phone dropped (one phone: the request after a drop is never
 * dropped too). libcurl re-sends a request whose reused connection died before any answer (the
 * drop then shows only as a reconnect); on a fresh connection the Sync ends in class network.
 * Either way the device reconnects and its next Sync succeeds. */
static void case_drop(void)
{
    static const char *const sargs[] = {"--fault", "sync:drop@every3", NULL};
    struct el_srvh h;
    struct el_runh r;
    if (one_phone_syncs(&h, &r, sargs) != 0)
        return;
    CHECK(r.status == 0, "exit %d", r.status);
    long long drops = el_srvh_stat(&h, "faults", "drop");
    CHECK(drops >= 4, "only %lld drops", drops);
    if (r.res) {
        no_failed_checks(r.res);
        long long net = jnum(r.res, "outcomes", "network", "requests", NULL);
        CHECK(counter(r.res, "connections.reopened") == drops, "reconnects %lld, drops %lld",
              counter(r.res, "connections.reopened"), drops);
        CHECK(net <= drops, "network %lld > drops %lld", net, drops);
        CHECK(passed(r.res, "sync failed: network") == net, "network results %lld",
              passed(r.res, "sync failed: network"));
        CHECK(passed(r.res, "ok after a failure") == net, "recoveries %lld of %lld",
              passed(r.res, "ok after a failure"), net);
        CHECK(passed(r.res, "sync ok") >= 15 - net, "ok syncs %lld", passed(r.res, "sync ok"));
        /* what the server ran: every round trip the client recorded, plus libcurl's re-sends */
        long long rt = jnum(r.res, "totals", "requests", NULL);
        CHECK(el_srvh_stat(&h, "throttle", "admitted") == rt + (drops - net),
              "server admitted %lld, client recorded %lld round trips",
              el_srvh_stat(&h, "throttle", "admitted"), rt);
        fprintf(stderr, "drop: %lld drops, %lld network results\n", drops, net);
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* Every 3rd Sync of one phone finds its state reset (status 3): the engine resyncs from key 0
 * once and the script sees an ok Sync every time. */
static void case_resetkey(void)
{
    static const char *const sargs[] = {"--fault", "sync:resetkey@every3", NULL};
    struct el_srvh h;
    struct el_runh r;
    if (one_phone_syncs(&h, &r, sargs) != 0)
        return;
    CHECK(r.status == 0, "exit %d", r.status);
    long long resets = el_srvh_stat(&h, "faults", "resetkey");
    CHECK(resets >= 5, "only %lld resets", resets);
    if (r.res) {
        no_failed_checks(r.res);
        CHECK(counter(r.res, "eas.sync.status.3") == resets, "status 3 counted %lld, resets %lld",
              counter(r.res, "eas.sync.status.3"), resets);
        CHECK(counter(r.res, "resyncs") == resets, "resyncs %lld", counter(r.res, "resyncs"));
        CHECK(passed(r.res, "sync ok") == 15, "ok syncs %lld", passed(r.res, "sync ok"));
        CHECK(jnum(r.res, "commands", "sync", "outcomes", "eas_status", "requests", NULL) == resets,
              "eas_status round trips");
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* Sync answers cut short (truncate: a complete HTTP answer with half the WBXML), broken
 * (malformed: version byte inverted) and trickled (about 20 pieces, 20 ms apart): the engine
 * reads Sync answers as they arrive (el_eas_stream), so each piece goes to the decoder. A
 * broken answer is class malformed and changes nothing (the next Sync with the same key is ok);
 * a trickled one is as good as a whole one. */
static void case_broken_answers(void)
{
    static const char *const sargs[] = {
        "--fault", "sync:truncate@every4",     "--fault", "sync:malformed@every6",
        "--fault", "sync:trickle=20ms@every3", NULL};
    struct el_srvh h;
    struct el_runh r;
    if (one_phone_syncs(&h, &r, sargs) != 0)
        return;
    CHECK(r.status == 0, "exit %d", r.status);
    long long broken =
        el_srvh_stat(&h, "faults", "truncate") + el_srvh_stat(&h, "faults", "malformed");
    long long trickled = el_srvh_stat(&h, "faults", "trickle");
    CHECK(broken >= 4 && el_srvh_stat(&h, "faults", "malformed") >= 1, "only %lld broken", broken);
    CHECK(trickled >= 3, "only %lld trickled", trickled);
    if (r.res) {
        no_failed_checks(r.res);
        CHECK(passed(r.res, "sync failed: malformed") == broken, "malformed results %lld of %lld",
              passed(r.res, "sync failed: malformed"), broken);
        CHECK(passed(r.res, "ok after a failure") == broken, "recoveries %lld of %lld",
              passed(r.res, "ok after a failure"), broken);
        CHECK(passed(r.res, "sync ok") >= 15 - broken, "ok syncs %lld", passed(r.res, "sync ok"));
        CHECK(jnum(r.res, "commands", "sync", "outcomes", "malformed", "requests", NULL) == broken,
              "malformed round trips");
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

/* scenarios/chaos.lua against 503s, drops and resets: thresholds hold (exit 0), every phone
 * kept syncing, the client's 503s equal the server's. */
static void case_chaos(void)
{
    static const char *const sargs[] = {"--fault", "all:http503@2%",   "--fault", "sync:drop@2%",
                                        "--fault", "sync:resetkey@2%", NULL};
    struct el_srvh h;
    if (start(&h, 10, sargs) != 0)
        return;
    const char *extra[] = {"--devices", "10", "--duration", "6s", "--user-count", "10", NULL};
    struct el_runh r;
    run(&h, &r, "scenarios/chaos.lua", extra);
    CHECK(r.status == 0, "exit %d", r.status);
    if (r.res) {
        no_failed_checks(r.res);
        CHECK(passed(r.res, "kept syncing") == 10, "kept syncing %lld",
              passed(r.res, "kept syncing"));
        long long s503 = el_srvh_stat(&h, "faults", "http503");
        CHECK(counter(r.res, "http.503") == s503, "503: client %lld, server %lld",
              counter(r.res, "http.503"), s503);
        CHECK(counter(r.res, "eas.sync.status.3") >= el_srvh_stat(&h, "faults", "resetkey"),
              "status 3 below resets");
        /* a drop closes the connection; libcurl may re-send on a new one several times within
         * one round trip, so not every drop shows as its own reconnect */
        long long reopened = counter(r.res, "connections.reopened");
        long long drops = el_srvh_stat(&h, "faults", "drop");
        CHECK(reopened > 0 && reopened <= drops, "reconnects %lld, drops %lld", reopened, drops);
        json_decref(r.res);
    }
    CHECK(el_srvh_stop(&h) == 0, "server did not stop cleanly");
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        {"max_devices", case_max_devices},
        {"concurrency", case_concurrency},
        {"throttle_scenario", case_throttle_scenario},
        {"redirect", case_redirect},
        {"wipe", case_wipe},
        {"drop", case_drop},
        {"resetkey", case_resetkey},
        {"broken_answers", case_broken_answers},
        {"chaos", case_chaos},
    };
    if (argc != 2) {
        fprintf(stderr, "usage: test_throttle_client CASE\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (strcmp(argv[1], cases[i].name) == 0) {
            cases[i].fn();
            if (failures == 0)
                printf("test_throttle_client %s: ok\n", argv[1]);
            return failures ? 1 : 0;
        }
    }
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
}
