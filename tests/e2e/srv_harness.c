/* srv_harness.c - end-to-end harness for `easload serve` (see srv_harness.h): process start and
 * stop, certificates made at test time, blocking libcurl requests, admin API helpers.
 * Owns: the child process and temp dir of each struct el_srvh; response buffers of each
 * struct el_srvh_resp. Uses: libcurl, jansson, core/wbxml.h. Traffic goes to 127.0.0.1 only. */
#include "srv_harness.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define ENDPOINT "/Microsoft-Server-ActiveSync"

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command (the openssl CLI); 0 when it exits 0. */
static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    if (st != 0) {
        fprintf(stderr, "srvh: command failed (%d): %s\n", st, cmd);
        return -1;
    }
    return 0;
}

/* Root CA -> intermediate CA -> server certificate for 127.0.0.1 (EC P-256, 2 days). The
 * server gets the leaf as --cert and the intermediate as --chain; clients trust the root. */
static int make_certs(struct el_srvh *h)
{
    const char *d = h->dir;
    const char *q = ">/dev/null 2>&1";
    if (run("cd %s && printf '%s' > ca.ext && printf '%s' > leaf.ext", d,
            "basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n"
            "subjectKeyIdentifier=hash\\nauthorityKeyIdentifier=keyid\\n",
            "basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\n"
            "extendedKeyUsage=serverAuth\\nsubjectAltName=IP:127.0.0.1,DNS:localhost\\n") != 0)
        return -1;
    if (run("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
            "-keyout ca.key -out ca.pem -days 2 -subj /CN=easload-test-root "
            "-addext basicConstraints=critical,CA:TRUE "
            "-addext keyUsage=critical,keyCertSign,cRLSign %s",
            d, q) != 0)
        return -1;
    if (run("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
            "-keyout int.key -out int.csr -subj /CN=easload-test-intermediate %s && "
            "openssl x509 -req -in int.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
            "-extfile ca.ext -out int.pem %s",
            d, q, q) != 0)
        return -1;
    if (run("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
            "-keyout srv.key -out srv.csr -subj /CN=127.0.0.1 %s && "
            "openssl x509 -req -in srv.csr -CA int.pem -CAkey int.key -CAcreateserial -days 2 "
            "-extfile leaf.ext -out srv.pem %s",
            d, q, q) != 0)
        return -1;
    snprintf(h->ca_file, sizeof(h->ca_file), "%s/ca.pem", d);
    return 0;
}

static void rm_dir(const char *dir)
{
    if (dir[0] == '\0' || strncmp(dir, "/tmp/easload-srvh-", 18) != 0)
        return;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "srvh: could not remove %s\n", dir);
}

char *el_srvh_log(const struct el_srvh *h)
{
    FILE *f = fopen(h->log_file, "rb");
    if (f == NULL)
        return NULL;
    struct el_buf b;
    el_buf_init(&b, 64u << 20);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        if (el_buf_append(&b, tmp, n) < 0)
            break;
    fclose(f);
    el_buf_putc(&b, 0);
    return (char *)b.data;
}

static void dump_log(const struct el_srvh *h)
{
    char *log = el_srvh_log(h);
    if (log && log[0])
        fprintf(stderr, "---- easload serve stderr ----\n%s---- end ----\n", log);
    free(log);
}

int el_srvh_start(struct el_srvh *h, const struct el_srvh_opts *opts)
{
    static const struct el_srvh_opts none;
    if (opts == NULL)
        opts = &none;
    memset(h, 0, sizeof(*h));
    snprintf(h->dir, sizeof(h->dir), "/tmp/easload-srvh-XXXXXX");
    if (mkdtemp(h->dir) == NULL) {
        fprintf(stderr, "srvh: mkdtemp: %s\n", strerror(errno));
        h->dir[0] = '\0';
        return -1;
    }
    snprintf(h->log_file, sizeof(h->log_file), "%s/server.log", h->dir);
    if (opts->tls && opts->cert_fixture == NULL && make_certs(h) != 0)
        goto fail;

    char workers[16], users[16], cert[192], key[192], chain[192];
    snprintf(workers, sizeof(workers), "%u", opts->workers ? opts->workers : 2);
    snprintf(users, sizeof(users), "%u", opts->users ? opts->users : 5);
    snprintf(cert, sizeof(cert), "%s/srv.pem", h->dir);
    snprintf(key, sizeof(key), "%s/srv.key", h->dir);
    snprintf(chain, sizeof(chain), "%s/int.pem", h->dir);
    const char *argv[64];
    int n = 0;
    argv[n++] = EL_SRVH_EASLOAD;
    argv[n++] = "serve";
    if (!(opts->tls && opts->no_plain)) {
        argv[n++] = "--listen";
        argv[n++] = "127.0.0.1:0";
    }
    if (opts->tls && opts->cert_fixture) {
        argv[n++] = "--tls-listen";
        argv[n++] = "127.0.0.1:0";
        argv[n++] = "--cert-fixture";
        argv[n++] = opts->cert_fixture;
    } else if (opts->tls) {
        argv[n++] = "--tls-listen";
        argv[n++] = "127.0.0.1:0";
        argv[n++] = "--cert";
        argv[n++] = cert;
        argv[n++] = "--key";
        argv[n++] = key;
        argv[n++] = "--chain";
        argv[n++] = chain;
    }
    argv[n++] = "--admin";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--workers";
    argv[n++] = workers;
    argv[n++] = "--users";
    argv[n++] = users;
    argv[n++] = "--seed";
    argv[n++] = "1";
    for (int i = 0; opts->args && opts->args[i] && n < 62; i++)
        argv[n++] = opts->args[i];
    argv[n] = NULL;

    int pfd[2];
    if (pipe(pfd) != 0)
        goto fail;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        goto fail;
    }
    if (pid == 0) {
        FILE *log = fopen(h->log_file, "w");
        if (log)
            dup2(fileno(log), 2);
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "srvh: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    h->pid = pid;
    FILE *out = fdopen(pfd[0], "r");
    int want = (opts->tls && opts->no_plain ? 0 : 1) + (opts->tls ? 1 : 0) + 1, got = 0;
    char line[256];
    while (got < want && out && fgets(line, sizeof(line), out)) {
        line[strcspn(line, "\n")] = '\0';
        const char *p;
        if ((p = strstr(line, "listening on admin ")) != NULL)
            snprintf(h->admin_url, sizeof(h->admin_url), "%s", p + 19);
        else if ((p = strstr(line, "listening on https://")) != NULL)
            snprintf(h->tls_url, sizeof(h->tls_url), "%s", p + 13);
        else if ((p = strstr(line, "listening on http://")) != NULL)
            snprintf(h->url, sizeof(h->url), "%s", p + 13);
        else
            continue;
        got++;
    }
    if (out)
        fclose(out); /* the server's later stdout writes (none expected) would get EPIPE */
    if (got < want) {
        fprintf(stderr, "srvh: easload serve did not print its listening lines\n");
        el_srvh_stop(h);
        return -1;
    }
    return 0;
fail:
    rm_dir(h->dir);
    return -1;
}

int el_srvh_stop(struct el_srvh *h)
{
    int rc = -1;
    if (h->pid > 0) {
        kill(h->pid, SIGTERM);
        int st = 0;
        while (waitpid(h->pid, &st, 0) < 0 && errno == EINTR)
            ;
        h->pid = 0;
        if (WIFEXITED(st))
            rc = WEXITSTATUS(st);
        if (rc != 0) {
            fprintf(stderr, "srvh: easload serve ended with %s %d\n",
                    WIFEXITED(st) ? "exit status" : "signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            dump_log(h);
        }
    }
    rm_dir(h->dir);
    h->dir[0] = '\0';
    return rc;
}

/* ---- requests -------------------------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct el_buf *b = ud;
    return el_buf_append(b, p, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct el_buf *b = ud;
    if (n * size > 5 && strncmp(p, "HTTP/", 5) == 0)
        el_buf_reset(b); /* a new response (after 100 Continue): keep the last one only */
    return el_buf_append(b, p, size * n) == 0 ? size * n : 0;
}

static void resp_init(struct el_srvh_resp *r)
{
    memset(r, 0, sizeof(*r));
    el_buf_init(&r->headers, 1u << 20);
    el_buf_init(&r->body, 256u << 20);
}

void el_srvh_resp_close(struct el_srvh_resp *r)
{
    el_buf_close(&r->headers);
    el_buf_close(&r->body);
}

/* Performs the configured transfer on c and fills out. */
static int perform(CURL *c, struct curl_slist *hdrs, struct el_srvh_resp *out)
{
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    CURLcode rc = curl_easy_perform(c);
    out->curl_rc = (int)rc;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &out->num_connects);
    el_buf_putc(&out->headers, 0);
    if (out->headers.len)
        out->headers.len--; /* keep the NUL outside len */
    if (rc != CURLE_OK) {
        fprintf(stderr, "srvh: transfer failed: %s\n", curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

static void url_escape_into(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            c == '-' || c == '_' || c == '.') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

int el_srvh_do(struct el_srvh *h, const struct el_srvh_req *rq, struct el_srvh_resp *out)
{
    resp_init(out);
    struct el_buf body;
    el_buf_init(&body, 256u << 20);
    const void *bp = rq->body;
    size_t blen = rq->body_len;
    if (rq->xml) {
        struct el_err err;
        if (el_wbxml_from_xml(rq->xml, strlen(rq->xml), &body, &err) != 0) {
            fprintf(stderr, "srvh: request XML: %s\n", err.msg);
            el_buf_close(&body);
            return -1;
        }
        bp = body.data;
        blen = body.len;
    }
    char url[2048], user[256];
    const char *base = rq->base ? rq->base : rq->tls ? h->tls_url : h->url;
    const char *path = rq->path ? rq->path : ENDPOINT;
    if (rq->query) {
        snprintf(url, sizeof(url), "%s%s%s%s", base, path, rq->query[0] ? "?" : "", rq->query);
    } else if (rq->cmd) {
        char u[128];
        url_escape_into(u, sizeof(u), rq->user ? rq->user : "");
        snprintf(url, sizeof(url), "%s%s?Cmd=%s&User=%s&DeviceId=%s&DeviceType=%s", base, path,
                 rq->cmd, u, rq->device_id ? rq->device_id : "Dev1",
                 rq->device_type ? rq->device_type : "SmartPhone");
    } else {
        snprintf(url, sizeof(url), "%s%s", base, path);
    }
    CURL *c = rq->curl ? rq->curl : curl_easy_init();
    if (rq->curl)
        curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    const char *method = rq->method ? rq->method : "POST";
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, blen ? bp : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    if (rq->user) {
        snprintf(user, sizeof(user), "%s", rq->user);
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, rq->password ? rq->password : "");
    }
    if (rq->tls || strncmp(base, "https:", 6) == 0) {
        curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    struct curl_slist *hdrs = NULL;
    char line[256];
    hdrs = curl_slist_append(hdrs, "Expect:");
    const char *ver = rq->version ? rq->version : "14.1";
    if (ver[0]) {
        snprintf(line, sizeof(line), "MS-ASProtocolVersion: %s", ver);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (rq->policy_key) {
        snprintf(line, sizeof(line), "X-MS-PolicyKey: %s", rq->policy_key);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (rq->content_type && rq->content_type[0] == '\0') {
        hdrs = curl_slist_append(hdrs, "Content-Type:");
    } else if (rq->content_type || blen) {
        snprintf(line, sizeof(line), "Content-Type: %s",
                 rq->content_type ? rq->content_type : "application/vnd.ms-sync.wbxml");
        hdrs = curl_slist_append(hdrs, line);
    }
    hdrs = curl_slist_append(hdrs, "User-Agent: easload-test/1.0");
    int rc = perform(c, hdrs, out);
    curl_slist_free_all(hdrs);
    if (rq->curl == NULL)
        curl_easy_cleanup(c);
    el_buf_close(&body);
    return rc;
}

int el_srvh_header(const struct el_srvh_resp *r, const char *name, char *out, size_t cap)
{
    const char *p = (const char *)r->headers.data;
    size_t n = strlen(name);
    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            size_t vl = len - (size_t)(v - p);
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 1;
        }
        if (eol == NULL)
            break;
        p = eol + 2;
    }
    return 0;
}

int el_srvh_text(const struct el_srvh_resp *r, uint16_t tag, int nth, char *out, size_t cap)
{
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    if (el_wbxml_decoder_init(&d, r->body.data, r->body.len, 0, NULL) != 0)
        return -1;
    int rc;
    while ((rc = el_wbxml_next(&d, &ev, NULL)) == 1) {
        if (ev.type == EL_WBXML_EV_STR && ev.tag == tag && nth-- == 0) {
            size_t n = ev.len < cap - 1 ? ev.len : cap - 1;
            memcpy(out, ev.data, n);
            out[n] = '\0';
            return 1;
        }
    }
    return rc < 0 ? -1 : 0;
}

char *el_srvh_xml(const struct el_srvh_resp *r)
{
    struct el_buf b;
    el_buf_init(&b, 64u << 20);
    if (el_wbxml_to_xml(r->body.data, r->body.len, 0, &b, NULL) != 0 || el_buf_putc(&b, 0) != 0) {
        el_buf_close(&b);
        return NULL;
    }
    return (char *)b.data;
}

static void *call_main(void *arg)
{
    struct el_srvh_call *c = arg;
    c->rc = el_srvh_do(c->h, &c->rq, &c->resp);
    return NULL;
}

int el_srvh_call_start(struct el_srvh_call *c, struct el_srvh *h, const struct el_srvh_req *rq)
{
    memset(c, 0, sizeof(*c));
    c->h = h;
    c->rq = *rq;
    c->rq.curl = NULL; /* a handle belongs to one thread */
    return pthread_create(&c->thread, NULL, call_main, c) == 0 ? 0 : -1;
}

int el_srvh_call_join(struct el_srvh_call *c)
{
    pthread_join(c->thread, NULL);
    return c->rc;
}

/* ---- admin API ------------------------------------------------------------------------------- */

int el_srvh_admin(struct el_srvh *h, const char *method, const char *path, const char *json,
                  struct el_srvh_resp *out)
{
    resp_init(out);
    char url[512];
    snprintf(url, sizeof(url), "%s%s", h->admin_url, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json ? json : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(json ? strlen(json) : 0));
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    int rc = perform(c, hdrs, out);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return rc;
}

long long el_srvh_stat(struct el_srvh *h, const char *section, const char *key)
{
    struct el_srvh_resp r;
    long long v = -1;
    if (el_srvh_admin(h, "GET", "/stats", NULL, &r) == 0 && r.status == 200) {
        json_t *o = json_loadb((const char *)r.body.data, r.body.len, 0, NULL);
        json_t *x = json_object_get(json_object_get(o, section), key);
        if (json_is_integer(x))
            v = json_integer_value(x);
        else
            fprintf(stderr, "srvh: /stats has no %s.%s\n", section, key);
        json_decref(o);
    }
    el_srvh_resp_close(&r);
    return v;
}

int el_srvh_wait_stat(struct el_srvh *h, const char *section, const char *key, long long value)
{
    for (;;) {
        long long v = el_srvh_stat(h, section, key);
        if (v < 0)
            return -1;
        if (v == value)
            return 0;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* ---- provisioning ---------------------------------------------------------------------------- */

int el_srvh_provision(struct el_srvh *h, const char *user, const char *pass, const char *device,
                      const char *version, char *key, size_t cap)
{
    static const char phase1[] =
        "<Provision:Provision>"
        "<Settings:DeviceInformation><Settings:Set>"
        "<Settings:Model>easload-test</Settings:Model>"
        "<Settings:FriendlyName>srv harness</Settings:FriendlyName>"
        "<Settings:OS>easload</Settings:OS>"
        "<Settings:UserAgent>easload-test/1.0</Settings:UserAgent>"
        "</Settings:Set></Settings:DeviceInformation>"
        "<Provision:Policies><Provision:Policy>"
        "<Provision:PolicyType>MS-EAS-Provisioning-WBXML</Provision:PolicyType>"
        "</Provision:Policy></Provision:Policies></Provision:Provision>";
    char phase2[512];
    struct el_srvh_req rq = EL_SRVH_REQ("Provision", user, pass);
    rq.device_id = device;
    rq.version = version;
    rq.xml = phase1;
    struct el_srvh_resp r;
    char tmp[64];
    if (el_srvh_do(h, &rq, &r) != 0 || r.status != 200 ||
        el_srvh_text(&r, EL_PROV_POLICYKEY, 0, tmp, sizeof(tmp)) != 1) {
        char *x = el_srvh_xml(&r);
        fprintf(stderr, "srvh: provision phase 1: HTTP %ld\n%s\n", r.status, x ? x : "");
        free(x);
        el_srvh_resp_close(&r);
        return -1;
    }
    el_srvh_resp_close(&r);
    snprintf(phase2, sizeof(phase2),
             "<Provision:Provision><Provision:Policies><Provision:Policy>"
             "<Provision:PolicyType>MS-EAS-Provisioning-WBXML</Provision:PolicyType>"
             "<Provision:PolicyKey>%s</Provision:PolicyKey>"
             "<Provision:Status>1</Provision:Status>"
             "</Provision:Policy></Provision:Policies></Provision:Provision>",
             tmp);
    rq.xml = phase2;
    rq.policy_key = tmp;
    if (el_srvh_do(h, &rq, &r) != 0 || r.status != 200 ||
        el_srvh_text(&r, EL_PROV_POLICYKEY, 0, key, cap) != 1) {
        char *x = el_srvh_xml(&r);
        fprintf(stderr, "srvh: provision phase 2: HTTP %ld\n%s\n", r.status, x ? x : "");
        free(x);
        el_srvh_resp_close(&r);
        return -1;
    }
    el_srvh_resp_close(&r);
    return 0;
}

int el_srvh_main(int argc, char **argv, const struct el_srvh_case *cases, size_t ncases,
                 int *failures)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CASE\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < ncases; i++) {
        if (strcmp(cases[i].name, argv[1]) != 0)
            continue;
        struct el_srvh h;
        if (el_srvh_start(&h, &cases[i].opts) != 0)
            return 1;
        cases[i].fn(&h);
        if (h.pid > 0 && el_srvh_stop(&h) != 0) {
            fprintf(stderr, "easload serve did not stop cleanly\n");
            (*failures)++;
        }
        if (*failures)
            fprintf(stderr, "%s: %d check(s) failed\n", argv[1], *failures);
        return *failures ? 1 : 0;
    }
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
}
