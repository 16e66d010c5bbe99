/* test_tls_fixtures.c - every certificate fixture x device profile over loopback: `easload
 * serve --cert-fixture` serves the chain; certcheck's judgement (el_tls_check_run), the
 * certcheck command (--json, exit code) and a real request through core/http with the
 * profile's TLS policy (el_tls_classify) must all give the expected class and phone code.
 * Certificates are made at test time in a temp dir. One ctest case per fixture (argv[1]), plus
 * valid_trust_none (a phone without the private root) and probe cases in test_probe.sh.
 * Uses: srv_harness.h, core/tls.h, core/http.h, core/eas.h (profiles). */
#include "srv_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "eas.h"
#include "http.h"
#include "tls.h"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* expected class: modern profiles (security level 2, wildcards accepted) and wm-12.1 */
static const struct {
    const char *fixture;
    int modern, legacy;
} expect[] = {
    {"valid", EL_TLS_OK, EL_TLS_OK},
    {"expired-root", EL_TLS_EXPIRED, EL_TLS_EXPIRED},
    {"expired-leaf", EL_TLS_EXPIRED, EL_TLS_EXPIRED},
    {"not-yet-valid", EL_TLS_NOT_YET_VALID, EL_TLS_NOT_YET_VALID},
    {"self-signed", EL_TLS_UNTRUSTED_ROOT, EL_TLS_UNTRUSTED_ROOT},
    {"san-missing", EL_TLS_NAME_MISMATCH, EL_TLS_NAME_MISMATCH},
    {"wildcard", EL_TLS_OK, EL_TLS_WILDCARD_REJECTED},
    {"incomplete-chain", EL_TLS_INCOMPLETE_CHAIN, EL_TLS_INCOMPLETE_CHAIN},
    {"sha1", EL_TLS_WEAK_SIGNATURE, EL_TLS_OK},
    {"rsa1024", EL_TLS_WEAK_KEY, EL_TLS_OK},
};

#define HOST "owa.example.com"

/* ---- one request through core/http ---------------------------------------------------------- */
struct req_ctx {
    int calls;
    int cls;
    long status;
    long verify_error;
    char curl_error[256];
};

static void on_done(void *ctx, const struct el_http_result *r)
{
    struct req_ctx *q = ctx;
    q->calls++;
    q->cls = el_tls_classify(r);
    q->status = r->status;
    q->verify_error = r->tls_verify_error;
    snprintf(q->curl_error, sizeof(q->curl_error), "%s", r->curl_error ? r->curl_error : "");
}

static int http_class(const char *ca, int trust_none, unsigned port, const struct el_eas_profile *p,
                      struct req_ctx *q)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char resolve_entry[96], url[128];
    snprintf(resolve_entry, sizeof(resolve_entry), HOST ":%u:127.0.0.1", port);
    snprintf(url, sizeof(url), "https://" HOST ":%u/Microsoft-Server-ActiveSync", port);
    struct curl_slist *resolve = curl_slist_append(NULL, resolve_entry);
    struct el_http_opts o = {.ca_file = ca, .trust_none = trust_none, .resolve = resolve};
    struct el_http_loop *hl = NULL;
    struct el_http_conn *c = NULL;
    struct el_err err;
    memset(q, 0, sizeof(*q));
    int rc = el_http_loop_new(&loop, &o, &hl, &err);
    if (rc == 0)
        rc = el_http_conn_new(hl, 0, &c, &err);
    if (rc == 0) {
        struct el_http_tls_policy pol;
        el_eas_profile_tls_policy(p, &pol);
        el_http_conn_set_tls_policy(c, &pol);
        struct el_http_req rq = {.method = "OPTIONS", .url = url, .timeout_ms = 20000};
        rc = el_http_start(c, &rq, on_done, q, &err);
    }
    if (rc == 0)
        uv_run(&loop, UV_RUN_DEFAULT);
    else
        fprintf(stderr, "http: %s\n", err.msg);
    el_http_conn_free(c);
    el_http_loop_free(hl);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    curl_slist_free_all(resolve);
    return rc == 0 && q->calls == 1 ? 0 : -1;
}

/* ---- the certcheck command --------------------------------------------------------------- */
static int run_certcheck(const char *ca, unsigned port, const char *profile, char *out, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "%s certcheck https://" HOST ":%u --names " HOST " --ca %s --profile %s "
             "--resolve " HOST ":%u:127.0.0.1 --json",
             EL_SRVH_EASLOAD, port, ca, profile, port);
    FILE *f = popen(cmd, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_case(const char *dir, const char *fixture, int trust_none)
{
    int idx = -1;
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
        if (strcmp(expect[i].fixture, fixture) == 0)
            idx = (int)i;
    if (idx < 0) {
        fprintf(stderr, "unknown fixture %s\n", fixture);
        return 1;
    }
    char fx[512], ca[512];
    snprintf(fx, sizeof(fx), "%s/%s", dir, fixture);
    snprintf(ca, sizeof(ca), "%s/root.pem", dir);
    struct el_srvh h;
    struct el_srvh_opts so = {
        .tls = 1, .no_plain = 1, .workers = 1, .users = 2, .cert_fixture = fx};
    if (el_srvh_start(&h, &so) != 0)
        return 1;
    const char *colon = strrchr(h.tls_url, ':');
    unsigned port = colon ? (unsigned)atoi(colon + 1) : 0;
    CHECK(port > 0);
    for (const struct el_eas_profile *p = el_eas_profiles; p->name; p++) {
        int want = trust_none
                       ? EL_TLS_UNTRUSTED_ROOT
                       : (p->tls_security_level == 0 ? expect[idx].legacy : expect[idx].modern);
        /* certcheck's judgement */
        struct el_tls_policy pol = {p->name, p->tls_security_level, p->accepts_wildcard};
        const char *names[] = {HOST, NULL};
        struct el_tls_check_opts co = {.host = HOST,
                                       .port = port,
                                       .connect_addr = "127.0.0.1",
                                       .ca_file = ca,
                                       .trust_none = trust_none,
                                       .names = names,
                                       .policies = &pol,
                                       .npolicies = 1};
        struct el_tls_check *chk = calloc(1, sizeof(*chk));
        struct el_err err;
        CHECK(chk && el_tls_check_run(&co, chk, &err) == 0);
        if (chk) {
            CHECK(chk->nverdicts == 1);
            if (chk->verdicts[0].cls != want)
                fprintf(stderr, "%s/%s: certcheck says %s, expected %s\n", fixture, p->name,
                        el_tls_class_name(chk->verdicts[0].cls), el_tls_class_name(want));
            CHECK(chk->verdicts[0].cls == want);
            CHECK(chk->verdicts[0].code == el_tls_class_code(want));
            CHECK(el_tls_check_passed(chk) == (want == EL_TLS_OK));
        }
        free(chk);
        /* a real request through core/http */
        struct req_ctx q;
        CHECK(http_class(trust_none ? NULL : ca, trust_none, port, p, &q) == 0);
        if (q.cls != want)
            fprintf(stderr,
                    "%s/%s: core/http request is %s (verify error %ld, curl '%s'), "
                    "expected %s\n",
                    fixture, p->name, el_tls_class_name(q.cls), q.verify_error, q.curl_error,
                    el_tls_class_name(want));
        CHECK(q.cls == want);
        if (want == EL_TLS_OK)
            CHECK(q.status > 0);
        /* the command line */
        if (!trust_none) {
            char out[16384], needle[128];
            int ex = run_certcheck(ca, port, p->name, out, sizeof(out));
            CHECK(ex == (want == EL_TLS_OK ? 0 : 1));
            snprintf(needle, sizeof(needle), "\"class\":\"%s\",\"code\":\"0x%08X\"",
                     el_tls_class_name(want), (unsigned)el_tls_class_code(want));
            if (strstr(out, needle) == NULL)
                fprintf(stderr, "%s/%s: certcheck --json lacks %s:\n%s\n", fixture, p->name, needle,
                        out);
            CHECK(strstr(out, needle) != NULL);
        }
    }
    CHECK(el_srvh_stop(&h) == 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_tls_fixtures FIXTURE|valid_trust_none\n");
        return 2;
    }
    char dir[] = "/tmp/easload-tls-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    struct el_err err;
    int rc = el_tls_fixtures_make(dir, &err);
    CHECK(rc == 0);
    if (rc == 0) {
        if (strcmp(argv[1], "valid_trust_none") == 0)
            rc = run_case(dir, "valid", 1);
        else
            rc = run_case(dir, argv[1], 0);
    }
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        failures++;
    if (rc != 0 || failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    return 0;
}
