/* bench_hold.c - memory of `easload serve` with many held Pings; bench/server.sh runs it
 * against a server it started (it needs a running server, so bench/run.sh does not run it on
 * its own).
 *
 *   bench_hold --url http[s]://127.0.0.1:PORT --admin http://127.0.0.1:PORT --pid SERVER_PID
 *              [-n 19900] [--users 1000] [--rounds 2] [--timeout 300]
 *
 * Plain sockets and epoll (OpenSSL on them for an https URL, without a certificate check: it
 * is the bench's own throw-away certificate on loopback), requests built per connection.
 * N keep-alive connections from source addresses 127.0.0.2, .3, ... (5,000 each), one device
 * per connection: two-phase Provision (at most 256 connections in that phase at once), then
 * every connection sends a Ping (Inbox, HeartbeatInterval 600) and leaves it parked. Server
 * RSS (VmRSS of /proc/PID/status) is read at start, with every device provisioned and its
 * connection idle, and with every Ping parked (the admin API's holds_open says when). Round 2
 * closes everything, waits for the server to see the holds gone, opens N new connections for
 * the same devices (at most 256 connecting at once) and parks the Pings again, rounds 3..8
 * likewise: the RSS of each round against round 1 shows whether memory grows per request.
 * Prints `#` context lines and two figure lines (https instead of http for an https URL):
 *   bench=server_hold_ping_http unit=KB/held ours=... peer=none theirs=- ratio=-
 *   bench=server_hold_ping_http_total unit=KB/device ours=... peer=none theirs=- ratio=-
 * KB/held: RSS with the Pings parked minus RSS with the devices provisioned and their
 * connections idle; KB/device: the same from the RSS at start (device state, mailboxes,
 * connections and held requests).
 * A watchdog (alarm) ends the process after --timeout seconds whatever happens; closing the
 * process closes every connection. Exit 0, or 1 with a message on stderr. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr, IP_BIND_ADDRESS_NO_PORT (CMake defines it already) */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define PER_SOURCE 5000 /* connections per source address 127.0.0.x */
#define MAX_SETUP  256  /* connections in the Provision phase at once */
#define REQ_MAX    1024
#define MAX_ROUNDS 8

enum cstate {
    C_NONE,
    C_PROV1,
    C_PROV2,
    C_IDLE, /* provisioned, connection open, nothing in flight */
    C_PING, /* Ping sent: must stay unanswered */
    C_DONE, /* closed */
};

struct conn {
    int fd;
    enum cstate st;
    SSL *ssl;        /* NULL for plain HTTP */
    int hs_done;     /* TLS handshake finished */
    char policy[16]; /* final policy key */
    char *in;        /* response bytes so far (only while a response is expected) */
    size_t in_len, in_cap;
    const char *out; /* request being written */
    size_t out_len, out_off;
    char req[REQ_MAX];
};

struct bench {
    struct sockaddr_in srv;
    SSL_CTX *tls; /* NULL for plain HTTP */
    int ep;
    pid_t pid;
    unsigned n, users, tag;
    struct conn *c;
    char admin_host[64];
    int admin_port;
    unsigned provisioned, pinged, answered, failed;
};

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_hold: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* VmRSS of the server in KB, or -1 */
static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* "http://HOST:PORT" -> host and port */
static int parse_url(const char *url, char *host, size_t hostsz, int *port)
{
    const char *h;
    if (strncmp(url, "http://", 7) == 0)
        h = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        h = url + 8;
    else
        return -1;
    const char *colon = strrchr(h, ':');
    if (colon == NULL || (size_t)(colon - h) >= hostsz)
        return -1;
    memcpy(host, h, (size_t)(colon - h));
    host[colon - h] = '\0';
    *port = atoi(colon + 1);
    return *port > 0 && *port < 65536 ? 0 : -1;
}

/* One blocking GET /stats on the admin port; the number after "name": (the first one), or -1. */
static long admin_stat(const struct bench *b, const char *name)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b->admin_port)};
    inet_pton(AF_INET, b->admin_host, &a.sin_addr);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    long v = -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
        static const char rq[] = "GET /stats HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n";
        char buf[16384];
        size_t len = 0;
        if (write(fd, rq, sizeof(rq) - 1) == (ssize_t)(sizeof(rq) - 1)) {
            ssize_t r;
            while (len < sizeof(buf) - 1 && (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
                len += (size_t)r;
        }
        buf[len] = '\0';
        char key[64];
        snprintf(key, sizeof(key), "\"%s\"", name);
        const char *p = strstr(buf, key);
        if (p) {
            p += strlen(key);
            while (*p == ' ' || *p == ':')
                p++;
            v = strtol(p, NULL, 10);
        }
    }
    close(fd);
    return v;
}

static void b64(const char *in, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
}

/* WBXML bodies (header 03 01 6A 00). Provision page 14: Provision 05 Policies 06 Policy 07
 * PolicyType 08 PolicyKey 09 Status 0B (+0x40 content, 01 END). Ping page 13: Ping 05
 * HeartbeatInterval 08 Folders 09 Folder 0A Id 0B Class 0C. */
#define PTYPE "MS-EAS-Provisioning-WBXML"
static const char PROV1[] = "\x03\x01\x6a\x00\x00\x0e\x45\x46\x47\x48\x03" PTYPE "\x00\x01\x01"
                            "\x01\x01";
static const char PING[] = "\x03\x01\x6a\x00\x00\x0d\x45\x48\x03"
                           "600\x00\x01\x49\x4a\x4b\x03"
                           "1\x00\x01\x4c\x03"
                           "Email\x00\x01\x01\x01\x01";

/* Builds the connection's next request into c->req. */
static void build(struct bench *b, unsigned i, const char *cmd, const char *body, size_t blen,
                  const char *key)
{
    struct conn *c = &b->c[i];
    unsigned u = i % b->users + 1;
    char cred[64], auth[96];
    snprintf(cred, sizeof(cred), "user%u:pass%u", u, u);
    b64(cred, auth);
    char keyh[48] = "";
    if (key)
        snprintf(keyh, sizeof(keyh), "X-MS-PolicyKey: %s\r\n", key);
    int h = snprintf(c->req, sizeof(c->req),
                     "POST /Microsoft-Server-ActiveSync?Cmd=%s&User=user%u&DeviceId=h%ux%u"
                     "&DeviceType=SmartPhone HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Basic %s\r\nMS-ASProtocolVersion: 14.1\r\n"
                     "Content-Type: application/vnd.ms-sync.wbxml\r\n%sContent-Length: %zu\r\n\r\n",
                     cmd, u, b->tag, i, auth, keyh, blen);
    if (h < 0 || (size_t)h + blen > sizeof(c->req))
        die("request too long");
    memcpy(c->req + h, body, blen);
    c->out = c->req;
    c->out_len = (size_t)h + blen;
    c->out_off = 0;
}

static void build_prov2(struct bench *b, unsigned i, const char *temp)
{
    char body[128];
    int n =
        snprintf(body, sizeof(body),
                 "\x03\x01\x6a%c%c\x0e\x45\x46\x47\x48\x03" PTYPE "%c\x01\x49\x03%s%c\x01\x4b\x03"
                 "1%c\x01\x01\x01\x01",
                 0, 0, 0, temp, 0, 0);
    build(b, i, "Provision", body, (size_t)n, NULL);
}

static void ep_mod(struct bench *b, unsigned i, unsigned events)
{
    struct epoll_event ev = {.events = events, .data.u32 = i};
    if (epoll_ctl(b->ep, EPOLL_CTL_MOD, b->c[i].fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
}

static void conn_open(struct bench *b, unsigned i)
{
    struct conn *c = &b->c[i];
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket (connection %u): %s", i, strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000002u + i / PER_SOURCE);
    if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) < 0)
        die("bind 127.0.0.%u: %s", 2 + i / PER_SOURCE, strerror(errno));
    if (connect(c->fd, (struct sockaddr *)&b->srv, sizeof(b->srv)) < 0 && errno != EINPROGRESS)
        die("connect: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u32 = i};
    if (epoll_ctl(b->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
    c->hs_done = 0;
    if (b->tls) {
        c->ssl = SSL_new(b->tls);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
            die("SSL_new failed");
        SSL_set_connect_state(c->ssl);
    }
}

static void conn_close(struct bench *b, unsigned i)
{
    struct conn *c = &b->c[i];
    if (c->ssl)
        SSL_free(c->ssl);
    c->ssl = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_cap = 0;
}

/* A whole response in c->in? Returns its total length and sets *status, *body; 0 if not yet. */
static size_t response_complete(struct conn *c, int *status, const char **body, size_t *blen)
{
    if (c->in_len < 12)
        return 0;
    c->in[c->in_len] = '\0';
    char *end = strstr(c->in, "\r\n\r\n");
    if (end == NULL)
        return 0;
    *status = atoi(c->in + 9);
    char *cl = strcasestr(c->in, "\r\ncontent-length:");
    if (cl == NULL || cl > end)
        die("response without Content-Length");
    size_t len = strtoul(cl + 17, NULL, 10);
    size_t head = (size_t)(end + 4 - c->in);
    if (c->in_len < head + len)
        return 0;
    *body = end + 4;
    *blen = len;
    return head + len;
}

/* PolicyKey (0x49 STR_I) out of a Provision response */
static int policy_key(const char *body, size_t len, char out[16])
{
    for (size_t i = 0; i + 3 < len; i++) {
        if ((unsigned char)body[i] != 0x49 || body[i + 1] != 0x03)
            continue;
        size_t j = i + 2, k = 0;
        while (j < len && body[j] >= '0' && body[j] <= '9' && k < 15)
            out[k++] = body[j++];
        if (k > 0 && j < len && body[j] == 0) {
            out[k] = '\0';
            return 0;
        }
    }
    return -1;
}

static void on_response(struct bench *b, unsigned i, int status, const char *body, size_t blen)
{
    struct conn *c = &b->c[i];
    char key[16];
    if (c->st == C_PING) {
        b->answered++; /* a Ping should not be answered while we hold it */
        c->st = C_IDLE;
        return;
    }
    if (status != 200 || policy_key(body, blen, key) < 0) {
        if (b->failed++ < 5)
            fprintf(stderr, "bench_hold: connection %u: Provision answered %d\n", i, status);
        c->st = C_DONE;
        conn_close(b, i);
        return;
    }
    if (c->st == C_PROV1) {
        c->st = C_PROV2;
        build_prov2(b, i, key);
        ep_mod(b, i, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    } else {
        memcpy(c->policy, key, sizeof(key));
        c->st = C_IDLE;
        b->provisioned++;
        free(c->in);
        c->in = NULL;
        c->in_cap = c->in_len = 0;
    }
}

/* write/read on the socket or through TLS: -1 with errno EAGAIN when it would block */
static ssize_t io(struct conn *c, int wr, void *buf, size_t len)
{
    if (c->ssl == NULL)
        return wr ? write(c->fd, buf, len) : read(c->fd, buf, len);
    int n = len > 1 << 30 ? 1 << 30 : (int)len;
    int r = wr ? SSL_write(c->ssl, buf, n) : SSL_read(c->ssl, buf, n);
    if (r > 0)
        return r;
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    ERR_clear_error();
    errno = EIO;
    return -1;
}

static void on_event(struct bench *b, unsigned i, unsigned ev)
{
    struct conn *c = &b->c[i];
    if (c->fd < 0)
        return;
    if (c->ssl && !c->hs_done) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                ep_mod(b, i, EPOLLIN | EPOLLRDHUP | (e == SSL_ERROR_WANT_WRITE ? EPOLLOUT : 0));
                return;
            }
            if (b->failed++ < 5)
                fprintf(stderr, "bench_hold: connection %u: TLS handshake failed (%s)\n", i,
                        ERR_reason_error_string(ERR_peek_last_error()));
            ERR_clear_error();
            c->st = C_DONE;
            conn_close(b, i);
            return;
        }
        c->hs_done = 1;
    }
    if (c->out) {
        while (c->out_off < c->out_len) {
            ssize_t w = io(c, 1, (char *)c->out + c->out_off, c->out_len - c->out_off);
            if (w < 0 && errno == EAGAIN) {
                ep_mod(b, i, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
                return;
            }
            if (w < 0) {
                if (b->failed++ < 5)
                    fprintf(stderr, "bench_hold: connection %u: write: %s\n", i, strerror(errno));
                c->st = C_DONE;
                conn_close(b, i);
                return;
            }
            c->out_off += (size_t)w;
        }
        c->out = NULL;
        if (c->st == C_PING)
            b->pinged++;
        ep_mod(b, i, EPOLLIN | EPOLLRDHUP);
    }
    if (c->ssl || (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        for (;;) {
            if (c->in_cap - c->in_len < 4097) {
                size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
                char *p = realloc(c->in, cap);
                if (p == NULL)
                    die("out of memory");
                c->in = p;
                c->in_cap = cap;
            }
            ssize_t r = io(c, 0, c->in + c->in_len, c->in_cap - c->in_len - 1);
            if (r < 0 && errno == EAGAIN)
                break;
            if (r <= 0) {
                if (b->failed++ < 5)
                    fprintf(stderr, "bench_hold: connection %u closed by the server (state %d)\n",
                            i, (int)c->st);
                c->st = C_DONE;
                conn_close(b, i);
                return;
            }
            c->in_len += (size_t)r;
            int status;
            const char *body;
            size_t blen, used = response_complete(c, &status, &body, &blen);
            if (used) {
                on_response(b, i, status, body, blen);
                if (c->fd < 0 || c->in == NULL)
                    return;
                memmove(c->in, c->in + used, c->in_len - used);
                c->in_len -= used;
            }
        }
    }
}

static void pump(struct bench *b, int timeout_ms)
{
    struct epoll_event evs[512];
    int n = epoll_wait(b->ep, evs, 512, timeout_ms);
    for (int k = 0; k < n; k++)
        on_event(b, evs[k].data.u32, evs[k].events);
}

/* Waits (pumping the sockets) until the server's holds_open is `want`; -1 after `secs`. */
static long wait_holds(struct bench *b, long want, double secs)
{
    double end = now_s() + secs;
    long h = -1;
    while (now_s() < end) {
        pump(b, 200);
        h = admin_stat(b, "holds_open");
        if (h == want)
            return h;
    }
    return -h - 2;
}

static void close_all(struct bench *b)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->c[i].fd >= 0) {
            epoll_ctl(b->ep, EPOLL_CTL_DEL, b->c[i].fd, NULL);
            conn_close(b, i);
        }
}

int main(int argc, char **argv)
{
    const char *url = NULL, *admin = NULL;
    struct bench b;
    memset(&b, 0, sizeof(b));
    b.n = 19900;
    b.users = 1000;
    unsigned rounds = 2, timeout = 300;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            die("%s needs a value", a);
        if (strcmp(a, "--url") == 0)
            url = v;
        else if (strcmp(a, "--admin") == 0)
            admin = v;
        else if (strcmp(a, "--pid") == 0)
            b.pid = (pid_t)atoi(v);
        else if (strcmp(a, "-n") == 0)
            b.n = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--users") == 0)
            b.users = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--rounds") == 0)
            rounds = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--timeout") == 0)
            timeout = (unsigned)strtoul(v, NULL, 10);
        else
            die("unknown argument %s (see the comment at the top of bench/bench_hold.c)", a);
    }
    char host[64];
    int port;
    if (url == NULL || admin == NULL || b.pid <= 0 || b.n == 0 || b.users == 0 || rounds == 0 ||
        rounds > MAX_ROUNDS)
        die("usage: bench_hold --url http://127.0.0.1:P --admin http://127.0.0.1:P --pid PID "
            "[-n N] [--users U] [--rounds 1-8] [--timeout S]");
    if (parse_url(url, host, sizeof(host), &port) < 0 ||
        parse_url(admin, b.admin_host, sizeof(b.admin_host), &b.admin_port) < 0)
        die("--url and --admin are http://HOST:PORT");
    if (strncmp(url, "https://", 8) == 0) {
        b.tls = SSL_CTX_new(TLS_client_method());
        if (b.tls == NULL)
            die("SSL_CTX_new failed");
        SSL_CTX_set_verify(b.tls, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_mode(b.tls, SSL_MODE_RELEASE_BUFFERS);
    }
    b.srv.sin_family = AF_INET;
    b.srv.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &b.srv.sin_addr) != 1 || strncmp(host, "127.", 4) != 0)
        die("%s: loopback IPv4 addresses only", host);

    setvbuf(stdout, NULL, _IOLBF, 0); /* lines in order with stderr's */
    alarm(timeout); /* the watchdog: SIGALRM ends the process, which closes every socket */
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < b.n + 16)
            die("RLIMIT_NOFILE is %llu, %u connections need %u", (unsigned long long)rl.rlim_cur,
                b.n, b.n + 16);
    }
    b.tag = (unsigned)getpid();
    b.ep = epoll_create1(EPOLL_CLOEXEC);
    b.c = calloc(b.n, sizeof(*b.c));
    if (b.ep < 0 || b.c == NULL)
        die("epoll_create1 or calloc failed");
    for (unsigned i = 0; i < b.n; i++)
        b.c[i].fd = -1;

    long rss0 = rss_kb(b.pid);
    double t0 = now_s();
    /* phase 1: provision every device, at most MAX_SETUP at once */
    unsigned next = 0;
    while (b.provisioned + b.failed < b.n) {
        while (next < b.n && next - b.provisioned - b.failed < MAX_SETUP) {
            conn_open(&b, next);
            b.c[next].st = C_PROV1;
            build(&b, next, "Provision", PROV1, sizeof(PROV1) - 1, NULL);
            next++;
        }
        pump(&b, 1000);
    }
    if (b.failed)
        die("%u of %u devices could not be provisioned", b.failed, b.n);
    sleep_ms(500);
    long rss1 = rss_kb(b.pid);
    double t1 = now_s();
    printf("# bench_hold: %u devices provisioned on %u keep-alive %s connections in %.1f s from "
           "127.0.0.2-127.0.0.%u; server RSS %ld KB at start, %ld KB now\n",
           b.n, b.n, b.tls ? "https" : "http", t1 - t0, 2 + (b.n - 1) / PER_SOURCE, rss0, rss1);

    long rss_hold[MAX_ROUNDS] = {0}, rss_closed[MAX_ROUNDS] = {0};
    for (unsigned r = 0; r < rounds; r++) {
        b.pinged = b.answered = 0;
        double tp = now_s();
        if (r == 0) {
            /* the provisioned connections are open and idle: a Ping on each at once */
            for (unsigned i = 0; i < b.n; i++) {
                b.c[i].st = C_PING;
                build(&b, i, "Ping", PING, sizeof(PING) - 1, b.c[i].policy);
                ep_mod(&b, i, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
            }
        } else {
            /* new connections for the same devices, paced like round 1's (at most MAX_SETUP
             * connecting at once): all at once, the TLS handshakes queue behind each other
             * past the server's handshake timeout */
            unsigned opened = 0;
            while (opened < b.n) {
                while (opened < b.n && opened - b.pinged - b.failed < MAX_SETUP) {
                    conn_open(&b, opened);
                    b.c[opened].st = C_PING;
                    build(&b, opened, "Ping", PING, sizeof(PING) - 1, b.c[opened].policy);
                    opened++;
                }
                pump(&b, 1000);
                if (b.failed)
                    die("round %u: %u connections failed", r + 1, b.failed);
            }
        }
        long h = wait_holds(&b, (long)b.n, 60);
        if (h < 0)
            die("round %u: %ld of %u Pings held after 60 s (%u sent, %u answered, %u failed)",
                r + 1, -h - 2, b.n, b.pinged, b.answered, b.failed);
        sleep_ms(1000);
        rss_hold[r] = rss_kb(b.pid);
        printf("# bench_hold: round %u: %u Pings held (admin holds_open) %.1f s after the first; "
               "server RSS %ld KB; Pings answered early: %u\n",
               r + 1, b.n, now_s() - tp, rss_hold[r], b.answered);
        close_all(&b);
        if (wait_holds(&b, 0, 30) < 0)
            die("round %u: the server still holds Pings 30 s after the clients closed", r + 1);
        sleep_ms(500);
        rss_closed[r] = rss_kb(b.pid);
        printf("# bench_hold: round %u: all closed, the server noticed; server RSS %ld KB\n", r + 1,
               rss_closed[r]);
    }
    long dev_bytes = admin_stat(&b, "device_bytes"), mb_bytes = admin_stat(&b, "mailbox_bytes");
    double per_held = (double)(rss_hold[0] - rss1) / b.n;
    double per_dev = (double)(rss_hold[0] - rss0) / b.n;
    printf("# bench_hold: KB/held counts RSS with the Pings held minus RSS with the same "
           "devices provisioned and their connections idle; with device state and connections "
           "(from the start RSS): %.1f KB per device\n",
           per_dev);
    if (dev_bytes >= 0 && mb_bytes >= 0)
        printf("# bench_hold: the server's own accounting (admin /stats): device_bytes %ld, "
               "mailbox_bytes %ld; without them: %.1f KB per device for the connection and its "
               "held Ping\n",
               dev_bytes, mb_bytes,
               ((double)(rss_hold[0] - rss0) - (double)(dev_bytes + mb_bytes) / 1024) / b.n);
    for (unsigned r = 1; r < rounds; r++)
        printf("# bench_hold: round %u against round 1: held %+ld KB, closed %+ld KB\n", r + 1,
               rss_hold[r] - rss_hold[0], rss_closed[r] - rss_closed[0]);
    const char *proto = b.tls ? "https" : "http";
    printf("bench=server_hold_ping_%s unit=KB/held ours=%.1f peer=none theirs=- ratio=-\n", proto,
           per_held);
    printf("bench=server_hold_ping_%s_total unit=KB/device ours=%.1f peer=none theirs=- "
           "ratio=-\n",
           proto, per_dev);
    if (b.tls)
        SSL_CTX_free(b.tls);
    close(b.ep);
    free(b.c);
    return 0;
}
