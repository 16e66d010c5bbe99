/* cli_probe.c - `easload probe URL --user U`: one device, every step traced the way Microsoft's
 * Remote Connectivity Analyzer does: DNS, TCP, TLS (certcheck's verdict for the profile),
 * OPTIONS (versions, commands, a proxy that blocks it), authentication (401, a forms login page,
 * a redirect in front of EAS), Provision, FolderSync, Sync of the Inbox, Ping. Requests go
 * through core/eas + core/http on a libuv loop, like a device of a load run.
 * Owns: the loop, the device and its connection for the run. Uses: cli.h, core/eas.h,
 * core/http.h, core/tls.h, core/wbxml.h. Secrets: the password lives only until the device has
 * made its Authorization header, is read from a flag, $EASLOAD_PASSWORD or the terminal, and
 * every header line printed passes through print_header(), which redacts Authorization and
 * Cookie. */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <uv.h>

#include "eas.h"
#include "http.h"
#include "tls.h"
#include "wbxml.h"

/* The EAS steps after TLS, in order. */
enum {
    S_OPTIONS,
    S_PROVISION,
    S_FOLDERSYNC,
    S_SYNC0,
    S_SYNC,
    S_PING,
    S_DONE
};

struct probe {
    uv_loop_t loop;
    struct el_http_loop *hl;   /* owned */
    struct el_http_conn *conn; /* owned */
    struct el_eas_device d;    /* owned (el_eas_device_close) */
    struct el_eas_call call;
    struct el_buf body; /* owned: the request body */
    char url[2048];
    struct el_http_req rq;
    int step;
    int verbose;
    int ping;
    unsigned heartbeat_s;
    int failed;
    int64_t total_us;
    const char *auth_label; /* "Basic", "bearer token", "NTLM", "client certificate" */
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void step_line(const char *name, int ok, int64_t us, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void step_line(const char *name, int ok, int64_t us, const char *fmt, ...)
{
    char t[32] = "";
    if (us >= 0)
        snprintf(t, sizeof(t), "%.1f ms", (double)us / 1000.0);
    printf("%-4s %-11s %10s  ", ok > 0 ? "ok" : ok == 0 ? "FAIL" : "warn", name, t);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* The one place header lines are printed: secrets become [redacted]. */
static void print_header(const char *prefix, const char *line)
{
    static const char *const secret[] = {"Authorization", "Proxy-Authorization", "Cookie",
                                         "Set-Cookie"};
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        size_t n = strlen(secret[i]);
        if (strncasecmp(line, secret[i], n) == 0 && line[n] == ':') {
            printf("%s%s: [redacted]\n", prefix, secret[i]);
            return;
        }
    }
    printf("%s%s\n", prefix, line);
}

static void print_body(const char *prefix, const void *p, size_t n, const char *ctype)
{
    if (n == 0)
        return;
    const unsigned char *b = p;
    if (n >= 4 && b[0] == 0x03 && b[1] == 0x01) {
        struct el_buf xml;
        el_buf_init(&xml, 1u << 20);
        struct el_err err;
        if (el_wbxml_to_xml(p, n, 0, &xml, &err) == 0 && el_buf_append(&xml, "", 1) == 0) {
            char *save = NULL;
            for (char *l = strtok_r((char *)xml.data, "\n", &save); l;
                 l = strtok_r(NULL, "\n", &save))
                printf("%s%s\n", prefix, l);
        } else {
            printf("%s(WBXML, %zu bytes, not decodable: %s)\n", prefix, n, err.msg);
        }
        el_buf_close(&xml);
        return;
    }
    int text = ctype && (strncasecmp(ctype, "text/", 5) == 0 || strstr(ctype, "xml") != NULL);
    if (text)
        printf("%s%.*s%s\n", prefix, (int)(n > 400 ? 400 : n), (const char *)p,
               n > 400 ? " ..." : "");
    else
        printf("%s(%zu bytes of %s)\n", prefix, n, ctype && ctype[0] ? ctype : "data");
}

static void trace_request(struct probe *pr)
{
    if (!pr->verbose)
        return;
    printf("  > %s %s\n", pr->rq.method, pr->rq.url);
    for (const struct curl_slist *h = pr->rq.headers; h; h = h->next)
        print_header("  > ", h->data);
    print_body("  > ", pr->rq.body, pr->rq.body_len, "application/vnd.ms-sync.wbxml");
}

static void trace_response(struct probe *pr, const struct el_http_result *r)
{
    if (!pr->verbose)
        return;
    printf("  < HTTP %ld%s%s\n", r->status, r->curl_code ? ", curl: " : "",
           r->curl_code ? r->curl_error : "");
    const struct {
        const char *name, *value;
    } hs[] = {
        {"Content-Type", r->content_type},         {"MS-ASProtocolVersions", r->ms_versions},
        {"MS-ASProtocolCommands", r->ms_commands}, {"Location", r->location},
        {"WWW-Authenticate", r->www_authenticate}, {"X-MS-Location", r->ms_location},
        {"Retry-After", r->retry_after},           {"X-MS-ASThrottle", r->ms_throttle},
    };
    char line[1200];
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
        if (hs[i].value && hs[i].value[0]) {
            snprintf(line, sizeof(line), "%s: %s", hs[i].name, hs[i].value);
            print_header("  < ", line);
        }
    }
    print_body("  < ", r->body, r->body_len, r->content_type);
}

/* What sits in front of EAS when the answer is not EAS: a redirect, a forms login page. */
static int front_end_trouble(const struct el_http_result *r, char *out, size_t cap)
{
    if (r->status >= 300 && r->status < 400) {
        snprintf(out, cap,
                 "HTTP %ld redirect to %.300s: something intercepts EAS (a forms-based "
                 "login or a proxy); phones do not follow it",
                 r->status, r->location[0] ? r->location : "(no Location)");
        return 1;
    }
    if (r->status == 200 && strncasecmp(r->content_type, "text/html", 9) == 0) {
        int form = r->body_len > 0 && (memmem(r->body, r->body_len, "<form", 5) != NULL ||
                                       memmem(r->body, r->body_len, "<FORM", 5) != NULL);
        snprintf(out, cap,
                 "HTTP 200 with an HTML page%s: a forms-based login (or a portal) "
                 "answers instead of EAS",
                 form ? " holding a login form" : "");
        return 1;
    }
    return 0;
}

static const char *step_name(int s)
{
    static const char *const n[] = {"OPTIONS",    "Provision",  "FolderSync",
                                    "Sync Inbox", "Sync Inbox", "Ping"};
    return s >= 0 && s < S_DONE ? n[s] : "?";
}

static void on_done(void *ctx, const struct el_http_result *r);

static void send_call(struct probe *pr)
{
    struct el_err err;
    const char *method;
    el_buf_reset(&pr->body);
    int rc = el_eas_build(&pr->d, &pr->call, &pr->body, pr->url, sizeof(pr->url), &method, &err);
    if (rc == 0) {
        memset(&pr->rq, 0, sizeof(pr->rq));
        pr->rq.method = method;
        pr->rq.url = pr->url;
        pr->rq.headers = el_eas_headers(&pr->d, &pr->call);
        pr->rq.body = pr->body.data;
        pr->rq.body_len = pr->body.len;
        pr->rq.timeout_ms =
            pr->call.cmd == EL_EAS_PING ? (long)(pr->heartbeat_s + 30) * 1000 : 30000;
        trace_request(pr);
        rc = el_http_start(pr->conn, &pr->rq, on_done, pr, &err);
    }
    if (rc != 0) {
        step_line(step_name(pr->step), 0, -1, "%s", err.msg);
        pr->failed = 1;
    }
}

/* Sets up the call for step s and sends it; S_DONE ends. */
static void start_step(struct probe *pr, int s)
{
    pr->step = s;
    pr->total_us = 0;
    struct el_eas_call *c = &pr->call;
    memset(c, 0, sizeof(*c));
    c->in.filter = -1;
    switch (s) {
    case S_OPTIONS:
        c->cmd = EL_EAS_OPTIONS;
        break;
    case S_PROVISION:
        c->cmd = EL_EAS_PROVISION;
        break;
    case S_FOLDERSYNC:
        c->cmd = EL_EAS_FOLDERSYNC;
        break;
    case S_SYNC0:
    case S_SYNC:
        c->cmd = EL_EAS_SYNC;
        c->in.folder = "inbox";
        c->in.window = 10;
        break;
    case S_PING:
        if (!pr->ping) {
            pr->step = S_DONE;
            return;
        }
        c->cmd = EL_EAS_PING;
        c->in.folders[0] = "inbox";
        c->in.nfolders = 1;
        c->in.heartbeat_s = pr->heartbeat_s;
        printf("     %-11s %10s  holding for up to %u s (HeartbeatInterval)\n", "Ping", "",
               pr->heartbeat_s);
        fflush(stdout);
        break;
    default:
        pr->step = S_DONE;
        return;
    }
    send_call(pr);
}

static void on_done(void *ctx, const struct el_http_result *r)
{
    struct probe *pr = ctx;
    trace_response(pr, r);
    pr->total_us += r->total_us > 0 ? r->total_us : 0;
    int tls = el_tls_classify(r);
    struct el_eas_call *c = &pr->call;
    int again = el_eas_parse(&pr->d, c, r);
    const char *name = step_name(pr->step);
    char why[512];
    if (tls != EL_TLS_OK) {
        step_line(name, 0, pr->total_us, "TLS %s, the phone shows 0x%08X: %s (%s)",
                  el_tls_class_name(tls), (unsigned)el_tls_class_code(tls), el_tls_class_text(tls),
                  c->out.detail);
        pr->failed = 1;
        return;
    }
    if (front_end_trouble(r, why, sizeof(why))) {
        step_line(pr->step == S_OPTIONS ? "auth" : name, 0, pr->total_us, "%s", why);
        pr->failed = 1;
        return;
    }
    if (pr->step == S_OPTIONS) {
        if (r->status == 401) {
            step_line("auth", 0, pr->total_us, "401: credentials refused (server offers %s)",
                      r->www_authenticate[0] ? r->www_authenticate : "no scheme");
            pr->failed = 1;
            return;
        }
        if (r->status == 200 && r->ms_versions[0]) {
            step_line("OPTIONS", 1, pr->total_us, "versions %s; using %u.%u", r->ms_versions,
                      pr->d.version / 10, pr->d.version % 10);
            step_line("OPTIONS", 1, -1, "commands %s",
                      r->ms_commands[0] ? r->ms_commands : "(none listed)");
            step_line("auth", 1, -1, "%s accepted for %s", pr->auth_label, pr->d.user);
        } else {
            step_line("OPTIONS", -1, pr->total_us,
                      "HTTP %ld without MS-ASProtocolVersions: a proxy or WAF blocks OPTIONS or "
                      "strips MS-AS headers; continuing with the profile's %u.%u",
                      r->status, pr->d.version / 10, pr->d.version % 10);
        }
        start_step(pr, S_PROVISION);
        return;
    }
    if (again) {
        if (pr->verbose)
            printf("     %-11s %10s  round trip %u done, next one\n", name, "", c->step);
        send_call(pr);
        return;
    }
    if (c->out.cls == EL_EAS_CLASS_AUTH) {
        step_line("auth", 0, pr->total_us, "HTTP %ld on %s: %s", r->status, name,
                  r->status == 401 ? "credentials refused" : "user or device not allowed");
        pr->failed = 1;
        return;
    }
    if (c->out.cls != EL_EAS_CLASS_OK) {
        step_line(name, 0, pr->total_us, "%s, HTTP %ld, status %d: %s",
                  el_eas_class_name(c->out.cls), r->status, c->out.status, c->out.detail);
        pr->failed = 1;
        return;
    }
    switch (pr->step) {
    case S_PROVISION:
        step_line(name, 1, pr->total_us, "policy key %u", (unsigned)pr->d.policy_key);
        break;
    case S_FOLDERSYNC:
        step_line(name, 1, pr->total_us, "%u folders", pr->d.nfolders);
        break;
    case S_SYNC0:
        step_line(name, 1, pr->total_us, "sync key 0 -> %s",
                  el_eas_device_folder(&pr->d, "inbox")
                      ? el_eas_device_folder(&pr->d, "inbox")->sync_key
                      : "?");
        break;
    case S_SYNC:
        step_line(name, 1, pr->total_us, "%u items%s", c->out.added,
                  c->out.more ? ", more available" : "");
        break;
    case S_PING:
        step_line(name, 1, pr->total_us, "status %d (%s)", c->out.status,
                  c->out.status == 1   ? "heartbeat expired, no changes"
                  : c->out.status == 2 ? "changes in the Inbox"
                                       : "see [MS-ASCMD] Ping");
        break;
    }
    start_step(pr, pr->step + 1);
}

/* ---- the steps before HTTP --------------------------------------------------------------- */

/* DNS (or the --resolve address) and a TCP connect; fills addr. 0 or -1 (step printed). */
static int probe_net(const struct el_cli_url *u, const char *resolved, char *addr, size_t cap)
{
    int64_t t0 = now_us();
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    char port[16];
    snprintf(port, sizeof(port), "%u", u->port);
    const char *host = resolved ? resolved : u->host;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g != 0) {
        step_line("DNS", 0, now_us() - t0, "%s: %s", u->host, gai_strerror(g));
        return -1;
    }
    char a[INET6_ADDRSTRLEN] = "?";
    if (ai->ai_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, a, sizeof(a));
    else if (ai->ai_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, a, sizeof(a));
    snprintf(addr, cap, "%s", a);
    step_line("DNS", 1, now_us() - t0, "%s -> %s%s", u->host, a, resolved ? " (--resolve)" : "");
    t0 = now_us();
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int ok = fd >= 0;
    int soerr = 0;
    if (ok && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            soerr = errno;
        } else {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            socklen_t sl = sizeof(soerr);
            if (poll(&p, 1, 10000) != 1)
                soerr = ETIMEDOUT;
            else
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        }
    }
    freeaddrinfo(ai);
    if (fd >= 0)
        close(fd);
    if (!ok || soerr) {
        step_line("TCP", 0, now_us() - t0, "connect %s port %u: %s", a, u->port,
                  strerror(ok ? soerr : errno));
        return -1;
    }
    step_line("TCP", 1, now_us() - t0, "connected to %s port %u", a, u->port);
    return 0;
}

static int probe_tls(const struct el_cli_url *u, const char *addr, const char *ca, int trust_none,
                     const struct el_eas_profile *p, int verbose, int client_cert_given)
{
    struct el_tls_policy pol = {p->name, p->tls_security_level, p->accepts_wildcard};
    const char *names[] = {u->host, NULL};
    struct el_tls_check_opts o = {.host = u->host,
                                  .port = u->port,
                                  .connect_addr = addr,
                                  .ca_file = ca,
                                  .trust_none = trust_none,
                                  .names = names,
                                  .policies = &pol,
                                  .npolicies = 1};
    struct el_tls_check *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -1;
    struct el_err err;
    int64_t t0 = now_us();
    int rc = el_tls_check_run(&o, c, &err);
    int64_t t = c->handshake_us >= 0 ? c->handshake_us : now_us() - t0;
    if (rc < 0) {
        step_line("TLS", 0, t, "%s", err.msg);
        free(c);
        return -1;
    }
    if (verbose)
        el_tls_check_print(c, stdout);
    const struct el_tls_verdict *v = &c->verdicts[0];
    if (c->handshake_error[0]) {
        step_line("TLS", 0, t, "handshake failed: %s", c->handshake_error);
        rc = -1;
    } else if (v->cls != EL_TLS_OK) {
        step_line("TLS", 0, t, "%s: %s %s, the phone shows 0x%08X (%s)", p->name,
                  el_tls_class_name(v->cls), v->name, (unsigned)v->code, el_tls_class_text(v->cls));
        rc = -1;
    } else {
        step_line("TLS", 1, t, "%s %s; chain of %u accepted by %s; leaf valid %ld more days",
                  c->protocol, c->cipher, c->ncerts, p->name, c->certs[0].days_left);
        if (c->wildcard_used)
            step_line("TLS", -1, -1, "wildcard certificate: legacy devices reject it");
        if (c->client_cert_requested)
            step_line("TLS", -1, -1, "the server asks for a client certificate%s",
                      client_cert_given ? "; presenting --client-cert"
                                        : "; none given (--client-cert), expect 0x80072F0C");
    }
    free(c);
    return rc;
}

/* The password: --password, else $EASLOAD_PASSWORD, else the terminal without echo. */
static int read_password(const char *flag, char *out, size_t cap)
{
    const char *env = getenv("EASLOAD_PASSWORD");
    const char *src = flag ? flag : env;
    if (src) {
        if (strlen(src) >= cap)
            return -1;
        snprintf(out, cap, "%s", src);
        return 0;
    }
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct termios old, t;
    int have = tcgetattr(fd, &old) == 0;
    if (have) {
        t = old;
        t.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fd, TCSAFLUSH, &t);
    }
    static const char prompt[] = "password: ";
    ssize_t w = write(fd, prompt, sizeof(prompt) - 1);
    ssize_t n = read(fd, out, cap - 1);
    if (have)
        tcsetattr(fd, TCSAFLUSH, &old);
    w = write(fd, "\n", 1);
    (void)w;
    close(fd);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

/* --token-file F: the token for user from a "user,token" CSV (as `easload serve --issue-tokens`
 * writes), or the first line of a file holding just the token. 0 or -1. */
static int read_token(const char *file, const char *user, char *out, size_t cap)
{
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return -1;
    char line[1024];
    int rc = -1, first = 1, csv = 0;
    size_t ul = strlen(user);
    while (rc != 0 && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (first && strcmp(line, "user,token") == 0) {
            csv = 1;
            first = 0;
            continue;
        }
        if (!csv) {
            if (line[0] && strlen(line) < cap) {
                snprintf(out, cap, "%s", line);
                rc = 0;
            }
            break;
        }
        if (strncmp(line, user, ul) == 0 && line[ul] == ',' && strlen(line + ul + 1) < cap) {
            snprintf(out, cap, "%s", line + ul + 1);
            rc = 0;
        }
    }
    OPENSSL_cleanse(line, sizeof(line));
    fclose(f);
    return rc;
}

#define MAX_RESOLVE 8

int el_cli_probe(const struct el_cli_cmd *cmd, int argc, char **argv)
{
    const char *user = NULL, *password = NULL, *profile = "android-14.1", *ca = NULL;
    const char *resolve = NULL, *heartbeat = NULL, *email = NULL, *ad_port = NULL;
    const char *token_file = NULL, *client_cert = NULL, *client_key = NULL, *auth = NULL;
    int verbose = 0, no_ping = 0;
    const char *pr_auth_label = "Basic";
    const struct el_cli_flag flags[] = {
        {"--user", 0, 1, &user, NULL},
        {"--password", 0, 1, &password, NULL},
        {"--profile", 0, 1, &profile, NULL},
        {"--ca", 0, 1, &ca, NULL},
        {"--resolve", 0, 1, &resolve, NULL},
        {"--heartbeat", 0, 1, &heartbeat, NULL},
        {"--email", 0, 1, &email, NULL},
        {"--autodiscover-port", 0, 1, &ad_port, NULL},
        {"--no-ping", 0, 0, NULL, &no_ping},
        {"--verbose", 'v', 0, NULL, &verbose},
        {"--token-file", 0, 1, &token_file, NULL},
        {"--client-cert", 0, 1, &client_cert, NULL},
        {"--client-key", 0, 1, &client_key, NULL},
        {"--auth", 0, 1, &auth, NULL},
        {NULL, 0, 0, NULL, NULL},
    };
    const char *pos[1];
    int npos = 0;
    int prc = el_cli_parse(cmd, argc, argv, flags, pos, 1, &npos);
    if (prc != 0)
        return prc > 0 ? EL_EXIT_OK : EL_EXIT_USAGE;
    /* --resolve is repeatable (the parser keeps the last): gather every one */
    const char *resolves[MAX_RESOLVE];
    unsigned nres = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--resolve") == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(argv[i], "--resolve=", 10) == 0)
            v = argv[i] + 10;
        if (v && nres < MAX_RESOLVE)
            resolves[nres++] = v;
    }
    (void)resolve;
    if (user == NULL) {
        el_cli_error(cmd, "--user is required");
        return EL_EXIT_USAGE;
    }
    if (npos != 1 && email == NULL) {
        el_cli_error(cmd, "expected one http:// or https:// URL, or --email (see --help)");
        return EL_EXIT_USAGE;
    }
    const struct el_eas_profile *p = el_eas_profile_lookup(profile);
    if (p == NULL) {
        el_cli_error(cmd, "--profile: unknown profile '%s'", profile);
        return EL_EXIT_USAGE;
    }
    unsigned long hb = heartbeat ? strtoul(heartbeat, NULL, 10) : 60;
    unsigned long adp = ad_port ? strtoul(ad_port, NULL, 10) : 443;
    if (hb == 0 || hb > 3540 || adp == 0 || adp > 65535) {
        el_cli_error(cmd, "--heartbeat: 1..3540 seconds; --autodiscover-port: 1..65535");
        return EL_EXIT_USAGE;
    }
    /* --auth (issue 7): basic by default, bearer with --token-file, ntlm through libcurl, cert:
     * no Authorization, the --client-cert names the user */
    int mode = token_file ? EL_CLI_AUTH_BEARER : EL_CLI_AUTH_BASIC;
    if (auth && (mode = el_cli_auth_lookup(auth)) < 0) {
        el_cli_error(cmd, "--auth: basic, bearer, ntlm or cert (not '%s')", auth);
        return EL_EXIT_USAGE;
    }
    if ((mode == EL_CLI_AUTH_BEARER) != (token_file != NULL) ||
        (mode == EL_CLI_AUTH_CERT && client_cert == NULL)) {
        el_cli_error(cmd, "--auth bearer goes with --token-file F, --auth cert with "
                          "--client-cert F");
        return EL_EXIT_USAGE;
    }
    if (email && (mode == EL_CLI_AUTH_NTLM || mode == EL_CLI_AUTH_CERT)) {
        el_cli_error(cmd, "--email: probe's Autodiscover step speaks Basic or a bearer token only; "
                          "give the EAS URL with --auth %s",
                     auth);
        return EL_EXIT_USAGE;
    }
    pr_auth_label = mode == EL_CLI_AUTH_BEARER ? "bearer token"
                    : mode == EL_CLI_AUTH_NTLM ? "NTLM"
                    : mode == EL_CLI_AUTH_CERT ? "client certificate"
                                               : "Basic";
    int trust_none = ca && strcmp(ca, "none") == 0;
    const char *ca_file = ca && !trust_none && strcmp(ca, "system") != 0 ? ca : NULL;
    char pw[256], token[512];
    token[0] = '\0';
    if (token_file && read_token(token_file, user, token, sizeof(token)) != 0) {
        el_cli_error(cmd, "--token-file %s: no token for %s", token_file, user);
        return EL_EXIT_USAGE;
    }
    pw[0] = '\0';
    if ((mode == EL_CLI_AUTH_BASIC || mode == EL_CLI_AUTH_NTLM) &&
        read_password(password, pw, sizeof(pw)) != 0) {
        el_cli_error(cmd, "no password: give --password, set EASLOAD_PASSWORD or run on a "
                          "terminal");
        return EL_EXIT_USAGE;
    }
    struct curl_slist *rs = NULL;
    for (unsigned i = 0; i < nres; i++)
        rs = curl_slist_append(rs, resolves[i]);

    char ad_url[512] = "";
    if (email) {
        printf("probe Autodiscover for %s as %s (profile %s)\n", email, user, p->name);
        struct el__cli_ad_opts ao = {.email = email,
                                     .user = user,
                                     .password = pw,
                                     .token = token[0] ? token : NULL,
                                     .port = (unsigned)adp,
                                     .resolve = rs,
                                     .ca_file = ca_file,
                                     .trust_none = trust_none,
                                     .profile = p,
                                     .verbose = verbose};
        if (el__cli_autodiscover(&ao, ad_url, sizeof(ad_url)) != 0 && npos == 0) {
            OPENSSL_cleanse(pw, sizeof(pw));
            curl_slist_free_all(rs);
            printf("result: FAIL (no Autodiscover endpoint gave an EAS URL)\n");
            return EL_EXIT_FAIL;
        }
        if (npos == 1 && ad_url[0] && strcasecmp(ad_url, pos[0]) != 0)
            printf("warn %-11s %10s  Autodiscover gives %s, probing %s as asked\n", "Autodiscover",
                   "", ad_url, pos[0]);
    }
    const char *target = npos == 1 ? pos[0] : ad_url;
    struct el_cli_url u;
    if (el_cli_split_url(target, &u) != 0) {
        OPENSSL_cleanse(pw, sizeof(pw));
        curl_slist_free_all(rs);
        el_cli_error(cmd, "not an http:// or https:// URL: %s", target);
        return EL_EXIT_USAGE;
    }
    char resolved[128];
    int rr = 0;
    for (unsigned i = 0; i < nres && rr == 0; i++)
        rr = el_cli_resolve_addr(resolves[i], u.host, u.port, resolved, sizeof(resolved));
    if (rr < 0) {
        OPENSSL_cleanse(pw, sizeof(pw));
        curl_slist_free_all(rs);
        el_cli_error(cmd, "--resolve: expected HOST:PORT:ADDR");
        return EL_EXIT_USAGE;
    }

    printf("probe %s as %s (profile %s)\n", target, user, p->name);
    char addr[INET6_ADDRSTRLEN + 1];
    int failed = probe_net(&u, rr > 0 ? resolved : NULL, addr, sizeof(addr)) != 0;
    if (!failed && u.https)
        failed = probe_tls(&u, addr, ca_file, trust_none, p, verbose, client_cert != NULL) != 0;
    if (failed) {
        OPENSSL_cleanse(pw, sizeof(pw));
        curl_slist_free_all(rs);
        printf("result: FAIL\n");
        return EL_EXIT_FAIL;
    }

    struct probe *pr = calloc(1, sizeof(*pr));
    if (pr == NULL) {
        OPENSSL_cleanse(pw, sizeof(pw));
        curl_slist_free_all(rs);
        el_cli_error(cmd, "out of memory");
        return EL_EXIT_FATAL;
    }
    pr->verbose = verbose;
    pr->auth_label = pr_auth_label;
    pr->ping = !no_ping;
    pr->heartbeat_s = (unsigned)hb;
    el_buf_init(&pr->body, 1u << 20);
    uv_loop_init(&pr->loop);
    struct el_http_opts ho = {.ca_file = ca_file, .trust_none = trust_none, .resolve = rs};
    struct el_err err;
    memset(&err, 0, sizeof(err));
    int rc = el_eas_device_init(&pr->d, p, 0, user, mode == EL_CLI_AUTH_BASIC ? pw : NULL, target,
                                &err);
    if (rc == 0 && token[0])
        rc = el_eas_device_set_bearer(&pr->d, token, &err);
    OPENSSL_cleanse(token, sizeof(token));
    if (rc == 0)
        rc = el_http_loop_new(&pr->loop, &ho, &pr->hl, &err);
    if (rc == 0)
        rc = el_http_conn_new(pr->hl, 0, &pr->conn, &err);
    int exit_code = EL_EXIT_OK;
    if (rc == 0) {
        struct el_http_tls_policy pol;
        el_eas_profile_tls_policy(p, &pol);
        el_http_conn_set_tls_policy(pr->conn, &pol);
        if (client_cert)
            el_http_conn_set_client_cert(pr->conn, client_cert,
                                         client_key ? client_key : client_cert);
        if (mode == EL_CLI_AUTH_NTLM)
            el_http_conn_set_ntlm(pr->conn, user, pw); /* curl keeps its own copy */
        OPENSSL_cleanse(pw, sizeof(pw));
        start_step(pr, S_OPTIONS);
        uv_run(&pr->loop, UV_RUN_DEFAULT);
        exit_code = pr->failed || pr->step != S_DONE ? EL_EXIT_FAIL : EL_EXIT_OK;
        printf("result: %s\n", exit_code == EL_EXIT_OK ? "ok" : "FAIL");
    } else {
        OPENSSL_cleanse(pw, sizeof(pw));
        el_cli_error(cmd, "%s", err.msg);
        exit_code = EL_EXIT_FATAL;
    }
    el_http_conn_free(pr->conn);
    el_http_loop_free(pr->hl);
    uv_run(&pr->loop, UV_RUN_DEFAULT);
    uv_loop_close(&pr->loop);
    el_eas_device_close(&pr->d);
    el_buf_close(&pr->body);
    curl_slist_free_all(rs);
    free(pr);
    return exit_code;
}
