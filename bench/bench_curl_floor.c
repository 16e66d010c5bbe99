/* bench_curl_floor.c - the floor for anything built on libcurl (issue 5 item 7): a bare
 * libcurl multi + libuv loop sending the engine's steady-state FolderSync, closed loop, one
 * keep-alive connection per device, configured like core/http (multi handles of 200, a source
 * address 127.1.x.y per device, 16 KB receive buffer (64 KB for Sync answers, 1 KB under a
 * Ping), HTTP/1.1, TCP_NODELAY) but without Lua, WBXML decoding or accounting. bench/engine.sh runs it beside `easload run` and wrk.
 *
 *   bench_curl_floor loop URL N SECONDS [sync]
 *                                         provision N devices BF000000.. (users user1..userN),
 *                                         FolderSync once, then send their FolderSync for
 *                                         1 s of warm-up plus SECONDS; prints one line:
 *                                         bench=curl_floor cmd=foldersync conns=N requests=R
 *                                         cpu_s=C us_per_req=U
 *                                         sync: each device also primes its Inbox (SyncKey 0)
 *                                         and then sends the engine's d:sync("Inbox",
 *                                         {window = 50}) body with that key; against `easload
 *                                         serve --sync-replay` every answer has the same 50
 *                                         items (cmd=sync)
 *   bench_curl_floor setup URL DEVICE USER PASS BODY_FILE [sync]
 *                                         provision one device, FolderSync once (sync: prime
 *                                         the Inbox too), write the steady-state FolderSync
 *                                         (Sync) body to BODY_FILE and print "POLICY_KEY" (for
 *                                         wrk: bench/engine_wrk.lua)
 *   bench_curl_floor fixed URL N SECONDS CMD BODY_FILE [CA_FILE]
 *                                         bench/peers: no setup, no policy key (the server runs
 *                                         with --no-policy); device i (BF00000i, user i+1) sends
 *                                         Cmd=CMD with the bytes of BODY_FILE in a closed loop
 *                                         (a Ping body: each connection holds one long poll,
 *                                         1 KB receive buffer as the engine's Pings); HTTPS
 *                                         verified against CA_FILE; same output line
 *
 * Setup uses the e2e harness (tests/e2e/srv_harness.h: blocking curl, our WBXML encoder); the
 * measured loop is libuv + libcurl only. Loopback only. Every run is bounded by SECONDS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <uv.h>

#include "srv_harness.h"
#include "wbxml.h"

#define GROUP_SIZE 200
#define FS_XML                                                                                     \
    "<FolderHierarchy:FolderSync><FolderHierarchy:SyncKey>%s</FolderHierarchy:SyncKey>"            \
    "</FolderHierarchy:FolderSync>"
/* core/eas_sync.c's body for d:sync("Inbox", {window = 50}) (14.1: no Class; the Inbox is
 * collection 1 on easload serve), and its priming form with key 0 */
#define SYNC0_XML                                                                                  \
    "<AirSync:Sync><AirSync:Collections><AirSync:Collection><AirSync:SyncKey>0</AirSync:SyncKey>"  \
    "<AirSync:CollectionId>1</AirSync:CollectionId></AirSync:Collection></AirSync:Collections>"   \
    "</AirSync:Sync>"
#define SYNC_XML                                                                                   \
    "<AirSync:Sync><AirSync:Collections><AirSync:Collection><AirSync:SyncKey>%s</AirSync:SyncKey>" \
    "<AirSync:CollectionId>1</AirSync:CollectionId><AirSync:GetChanges/>"                         \
    "<AirSync:WindowSize>50</AirSync:WindowSize><AirSync:Options><AirSyncBase:BodyPreference>"    \
    "<AirSyncBase:Type>1</AirSyncBase:Type></AirSyncBase:BodyPreference></AirSync:Options>"       \
    "</AirSync:Collection></AirSync:Collections></AirSync:Sync>"

struct group {
    CURLM *multi;
    uv_timer_t timer;
    struct bench *b;
};

struct conn {
    CURL *easy;
    struct curl_slist *headers;
    struct group *g;
    char url[256];
    char source[32];
};

struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct group *g;
};

struct bench {
    uv_loop_t loop;
    uv_timer_t stop;
    struct group *groups;
    unsigned ngroups;
    struct conn *conns;
    unsigned n;
    struct el_buf body;
    int stopping;
    uint64_t requests, errors;
    int measuring;
    uint64_t window_requests;
};

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static size_t on_body(char *p, size_t size, size_t n, void *userp)
{
    (void)p;
    (void)userp;
    return size * n; /* the response is read, not kept: the floor */
}

static void drain(struct group *g)
{
    struct bench *b = g->b;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(g->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct conn *c = NULL;
        long status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        if (msg->data.result != CURLE_OK || status != 200)
            b->errors++;
        b->requests++;
        if (b->measuring)
            b->window_requests++;
        curl_multi_remove_handle(g->multi, c->easy);
        if (!b->stopping)
            curl_multi_add_handle(g->multi, c->easy); /* closed loop: the next one at once */
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock *s = p->data;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(s->g->multi, s->fd, flags, &running);
    drain(s->g);
}

static void on_group_timer(uv_timer_t *t)
{
    struct group *g = t->data;
    int running;
    curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(g);
}

static void on_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct group *g = userp;
    struct sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, on_sock_closed);
        }
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL || uv_poll_init_socket(&g->b->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->fd = fd;
        s->g = g;
        s->poll.data = s;
        curl_multi_assign(g->multi, fd, s);
    }
    int ev = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    return uv_poll_start(&s->poll, ev, on_poll) == 0 ? 0 : -1;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct group *g = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&g->timer);
    else
        uv_timer_start(&g->timer, on_group_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* Provisions one device and syncs its hierarchy once; key gets the policy key, body the
 * FolderSync it sends from then on (its current hierarchy key); sync: primes the Inbox and
 * body is the 50-item Sync with its key. 0 or -1. */
static int setup_device(const char *url, const char *device, const char *user, const char *pass,
                        char *key, size_t keycap, struct el_buf *body, int sync)
{
    struct el_srvh h;
    memset(&h, 0, sizeof(h));
    snprintf(h.url, sizeof(h.url), "%s", url);
    if (el_srvh_provision(&h, user, pass, device, "14.1", key, keycap) != 0)
        return -1;
    char xml[256], sync_key[80];
    snprintf(xml, sizeof(xml), FS_XML, "0");
    struct el_srvh_req rq = EL_SRVH_REQ("FolderSync", user, pass);
    rq.device_id = device;
    rq.policy_key = key;
    rq.xml = xml;
    struct el_srvh_resp r;
    int ok = el_srvh_do(&h, &rq, &r) == 0 && r.status == 200 &&
             el_srvh_text(&r, EL_FH_SYNCKEY, 0, sync_key, sizeof(sync_key)) == 1;
    el_srvh_resp_close(&r);
    if (!ok) {
        fprintf(stderr, "bench_curl_floor: FolderSync of %s failed\n", device);
        return -1;
    }
    char sxml[640];
    if (sync) {
        rq.cmd = "Sync";
        rq.xml = SYNC0_XML;
        ok = el_srvh_do(&h, &rq, &r) == 0 && r.status == 200 &&
             el_srvh_text(&r, EL_AS_SYNCKEY, 0, sync_key, sizeof(sync_key)) == 1 &&
             strcmp(sync_key, "0") != 0;
        el_srvh_resp_close(&r);
        if (!ok) {
            fprintf(stderr, "bench_curl_floor: Sync key 0 of %s failed\n", device);
            return -1;
        }
        snprintf(sxml, sizeof(sxml), SYNC_XML, sync_key);
    } else {
        snprintf(sxml, sizeof(sxml), FS_XML, sync_key);
    }
    el_buf_reset(body);
    return el_wbxml_from_xml(sxml, strlen(sxml), body, NULL) == 0 ? 0 : -1;
}

/* End of the warm-up (the loop returns, every transfer goes on) or of the window (no transfer
 * is started again). */
static void on_stop(uv_timer_t *t)
{
    struct bench *b = t->data;
    if (!b->measuring) {
        uv_stop(&b->loop);
        return;
    }
    b->stopping = 1;
    for (unsigned i = 0; i < b->ngroups; i++)
        uv_timer_stop(&b->groups[i].timer);
    uv_stop(&b->loop);
}

/* fixed mode (bench/peers): the command, its body and the CA file; NULL cmd = the engine's
 * steady-state FolderSync after a per-device setup */
struct fixed {
    const char *cmd, *body_file, *ca_file;
    int sync; /* loop mode: the 50-item Sync instead of the FolderSync */
};

static int run_loop(const char *url, unsigned n, double seconds, const struct fixed *fx)
{
    struct bench *b = calloc(1, sizeof(*b));
    b->n = n;
    b->conns = calloc(n, sizeof(*b->conns));
    b->ngroups = (n + GROUP_SIZE - 1) / GROUP_SIZE;
    b->groups = calloc(b->ngroups, sizeof(*b->groups));
    el_buf_init(&b->body, 4096);
    uv_loop_init(&b->loop);
    for (unsigned i = 0; i < b->ngroups; i++) {
        struct group *g = &b->groups[i];
        g->b = b;
        g->multi = curl_multi_init();
        uv_timer_init(&b->loop, &g->timer);
        g->timer.data = g;
        curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
        curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g);
        curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
        curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g);
        curl_multi_setopt(g->multi, CURLMOPT_MAXCONNECTS, (long)GROUP_SIZE + 8);
    }
    int rc = 0;
    if (fx->cmd) {
        FILE *f = fopen(fx->body_file, "rb");
        char tmp[4096];
        size_t got = f ? fread(tmp, 1, sizeof(tmp), f) : 0;
        if (f == NULL || got == 0 || el_buf_append(&b->body, tmp, got) != 0) {
            fprintf(stderr, "bench_curl_floor: cannot read %s\n", fx->body_file);
            if (f)
                fclose(f);
            rc = 1;
            goto out;
        }
        fclose(f);
    }
    for (unsigned i = 0; i < n; i++) {
        struct conn *c = &b->conns[i];
        char dev[32], user[32], pass[32], key[32], line[200];
        snprintf(dev, sizeof(dev), "BF%06u", i);
        snprintf(user, sizeof(user), "user%u", i + 1);
        snprintf(pass, sizeof(pass), "pass%u", i + 1);
        if (fx->cmd == NULL &&
            setup_device(url, dev, user, pass, key, sizeof(key), &b->body, fx->sync) != 0) {
            rc = 1;
            goto out;
        }
        snprintf(c->url, sizeof(c->url),
                 "%s/Microsoft-Server-ActiveSync?Cmd=%s&User=%s&DeviceId=%s"
                 "&DeviceType=Android",
                 url, fx->cmd ? fx->cmd : fx->sync ? "Sync" : "FolderSync", user, dev);
        c->headers = curl_slist_append(NULL, "Content-Type: application/vnd.ms-sync.wbxml");
        c->headers = curl_slist_append(c->headers, "MS-ASProtocolVersion: 14.1");
        if (fx->cmd == NULL) {
            snprintf(line, sizeof(line), "X-MS-PolicyKey: %s", key);
            c->headers = curl_slist_append(c->headers, line);
        }
        c->headers = curl_slist_append(c->headers, "User-Agent: Android-EAS/14.1 (floor)");
        c->headers = curl_slist_append(c->headers, "Expect:");
        /* a precomputed Basic header, as the engine's devices have */
        char cred[80], b64[120];
        int cl = snprintf(cred, sizeof(cred), "%s:%s", user, pass);
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)cred, cl);
        snprintf(line, sizeof(line), "Authorization: Basic %s", b64);
        c->headers = curl_slist_append(c->headers, line);
        c->g = &b->groups[i / GROUP_SIZE];
        CURL *e = c->easy = curl_easy_init();
        curl_easy_setopt(e, CURLOPT_PRIVATE, c);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_URL, c->url);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        int ping = fx->cmd && strcmp(fx->cmd, "Ping") == 0;
        /* as core/http: 1 KB under a held Ping, 64 KB for Sync answers (the engine's streamed
         * commands), else curl's default 16 KB */
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, ping ? 1024L : fx->sync ? 65536L : 16384L);
        if (fx->ca_file) {
            curl_easy_setopt(e, CURLOPT_CAINFO, fx->ca_file);
            curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
        }
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        /* the device's own body (its hierarchy key); the size first: WBXML holds NUL bytes */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->body.len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, (const char *)b->body.data);
        uint32_t a = (1u << 16) + 100000u + i; /* other addresses than the engine's devices */
        snprintf(c->source, sizeof(c->source), "host!127.%u.%u.%u", (a >> 16) & 255, (a >> 8) & 255,
                 a & 255);
        curl_easy_setopt(e, CURLOPT_INTERFACE, c->source);
    }
    for (unsigned i = 0; i < n; i++)
        curl_multi_add_handle(b->conns[i].g->multi, b->conns[i].easy);
    /* warm-up: every connection open and busy */
    uv_timer_init(&b->loop, &b->stop);
    b->stop.data = b;
    uv_timer_start(&b->stop, on_stop, 1000, 0);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    b->measuring = 1;
    double c0 = cpu_s();
    uv_timer_start(&b->stop, on_stop, (uint64_t)(seconds * 1000), 0);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    double c1 = cpu_s();
    printf("bench=curl_floor cmd=%s conns=%u requests=%llu errors=%llu cpu_s=%.3f "
           "us_per_req=%.2f\n",
           fx->sync ? "sync" : "foldersync", n, (unsigned long long)b->window_requests, (unsigned long long)b->errors, c1 - c0,
           b->window_requests ? (c1 - c0) * 1e6 / (double)b->window_requests : 0.0);
out:
    for (unsigned i = 0; i < n; i++) {
        struct conn *c = &b->conns[i];
        if (c->easy) {
            curl_multi_remove_handle(c->g->multi, c->easy);
            curl_easy_cleanup(c->easy);
        }
        curl_slist_free_all(c->headers);
    }
    for (unsigned i = 0; i < b->ngroups; i++) {
        curl_multi_cleanup(b->groups[i].multi);
        uv_close((uv_handle_t *)&b->groups[i].timer, NULL);
    }
    uv_close((uv_handle_t *)&b->stop, NULL);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    uv_loop_close(&b->loop);
    el_buf_close(&b->body);
    free(b->groups);
    free(b->conns);
    free(b);
    return rc;
}

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 2;
    int sync = argc > 2 && strcmp(argv[argc - 1], "sync") == 0;
    if (argc == 5 + sync && strcmp(argv[1], "loop") == 0) {
        rc = run_loop(argv[2], (unsigned)atoi(argv[3]), atof(argv[4]),
                      &(struct fixed){.sync = sync});
    } else if ((argc == 7 || argc == 8) && strcmp(argv[1], "fixed") == 0) {
        struct fixed fx = {argv[5], argv[6], argc == 8 ? argv[7] : NULL, 0};
        rc = run_loop(argv[2], (unsigned)atoi(argv[3]), atof(argv[4]), &fx);
    } else if (argc == 7 + sync && strcmp(argv[1], "setup") == 0) {
        struct el_buf body;
        char key[32];
        el_buf_init(&body, 4096);
        rc = setup_device(argv[2], argv[3], argv[4], argv[5], key, sizeof(key), &body, sync) == 0
                 ? 0
                 : 1;
        FILE *f = rc == 0 ? fopen(argv[6], "wb") : NULL;
        if (f && fwrite(body.data, 1, body.len, f) == body.len && fclose(f) == 0)
            printf("%s\n", key);
        else
            rc = 1;
        el_buf_close(&body);
    } else {
        fprintf(stderr, "usage: bench_curl_floor loop URL N SECONDS [sync]\n"
                        "       bench_curl_floor setup URL DEVICE USER PASS BODY_FILE [sync]\n"
                        "       bench_curl_floor fixed URL N SECONDS CMD BODY_FILE [CA_FILE]\n");
    }
    curl_global_cleanup();
    return rc;
}
