/* bench_tls.c - the client-side cost of TLS (issue 7): full handshakes per CPU-second of the
 * client against `easload serve --cert-fixture` on loopback, for an ECDSA P-256 and an RSA-2048
 * leaf, session resumption off and on; the named peer is `openssl s_time` against the same
 * server in the same run. Ours connects as a phone does: SNI, verification of chain and name
 * against the fixture root (as core/http does), one small HTTP request per connection (so TLS
 * 1.3 session tickets are read), then close_notify and close. CPU is this process's getrusage (user
 * and user+sys); s_time reports connections per user-CPU second. Owns: a temp dir of fixtures and
 * one server process at a time. Uses: core/tls.h (fixtures), OpenSSL, the easload binary
 * (EL_BENCH_EASLOAD) and openssl(1). Loopback only. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"

#ifndef EL_BENCH_EASLOAD
#error "build with -DEL_BENCH_EASLOAD=\"/path/to/easload\""
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cpu_s(double *user, double *total)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *total = *user + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Starts `easload serve` on the fixture; returns its pid and TLS port, or -1. */
static pid_t start_server(const char *fixture, unsigned *port)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        if (freopen("/dev/null", "w", stderr) == NULL)
            _exit(127);
        execl(EL_BENCH_EASLOAD, EL_BENCH_EASLOAD, "serve", "--tls-listen", "127.0.0.1:0",
              "--cert-fixture", fixture, "--workers", "1", "--users", "5", "--duration", "600",
              (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    FILE *f = fdopen(pfd[0], "r");
    char line[256];
    *port = 0;
    while (f && *port == 0 && fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, "https://127.0.0.1:");
        if (p)
            *port = (unsigned)atoi(p + 18);
    }
    if (f)
        fclose(f);
    if (*port == 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

struct run {
    unsigned long n, reused, failed;
    double wall, user, total;
};

/* Handshakes for `secs`: connect, verified handshake, one request, close. resume: offer the
 * previous connection's session. */
static void client_loop(SSL_CTX *ctx, unsigned port, double secs, int resume, struct run *out)
{
    memset(out, 0, sizeof(*out));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    SSL_SESSION *sess = NULL;
    double u0, t0, w0 = now_s();
    cpu_s(&u0, &t0);
    /* keep-alive, then our close_notify: a server that closes first (Connection: close) drops
     * the session from its cache (h2o 2.2 here), so resumption would never happen */
    static const char req[] = "OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\n"
                              "Host: owa.example.com\r\n\r\n";
    while (now_s() - w0 < secs) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
            close(fd);
            out->failed++;
            continue;
        }
        SSL *ssl = SSL_new(ctx);
        SSL_set_tlsext_host_name(ssl, "owa.example.com");
        SSL_set1_host(ssl, "owa.example.com");
        if (resume && sess)
            SSL_set_session(ssl, sess);
        SSL_set_fd(ssl, fd);
        char buf[4096];
        if (SSL_connect(ssl) == 1 && SSL_write(ssl, req, sizeof(req) - 1) > 0) {
            /* the first read brings the TLS 1.3 tickets with the answer: keep the session
             * now, before the server's close (without close_notify) makes it unresumable */
            int got = SSL_read(ssl, buf, sizeof(buf));
            if (resume && got > 0) {
                SSL_SESSION_free(sess);
                sess = SSL_get1_session(ssl);
            }
            SSL_shutdown(ssl); /* the 401 answer fits one read; then an orderly close */
            out->n++;
            if (SSL_session_reused(ssl))
                out->reused++;
        } else {
            out->failed++;
        }
        ERR_clear_error();
        SSL_free(ssl);
        close(fd);
    }
    SSL_SESSION_free(sess);
    double u1, t1;
    cpu_s(&u1, &t1);
    out->wall = now_s() - w0;
    out->user = u1 - u0;
    out->total = t1 - t0;
}

/* openssl s_time: connections per user-CPU second, or -1. */
static double s_time(unsigned port, const char *ca, int reuse, unsigned secs, double *wall_rate)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "openssl s_time -connect 127.0.0.1:%u -CAfile %s -verify 1 -time %u %s 2>&1", port, ca,
             secs, reuse ? "-reuse" : "-new");
    FILE *f = popen(cmd, "r");
    if (f == NULL)
        return -1;
    char line[512];
    double per_user = -1;
    *wall_rate = -1;
    while (fgets(line, sizeof(line), f)) {
        unsigned long n;
        double t, r;
        /* "1234 connections in 2.10s; 587.62 connections/user sec, bytes read 0" */
        if (sscanf(line, "%lu connections in %lfs; %lf connections/user sec", &n, &t, &r) == 3)
            per_user = r;
        /* "1234 connections in 5 real seconds, 0 bytes read per connection" */
        unsigned long n2, rs;
        if (sscanf(line, "%lu connections in %lu real seconds", &n2, &rs) == 2 && rs > 0)
            *wall_rate = (double)n2 / (double)rs;
    }
    pclose(f);
    return per_user;
}

int main(void)
{
    const char *env = getenv("BENCH_SECONDS");
    double secs = env ? atof(env) : 2.0;
    if (secs <= 0)
        secs = 2.0;
    unsigned isecs = secs < 1 ? 1 : (unsigned)secs;
    char dir[] = "/tmp/easload-bench-tls-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    struct el_err err;
    if (el_tls_fixtures_make(dir, &err) != 0) {
        fprintf(stderr, "bench_tls: %s\n", err.msg);
        return 1;
    }
    char ca[256];
    snprintf(ca, sizeof(ca), "%s/root.pem", dir);
    signal(SIGPIPE, SIG_IGN);
    static const struct {
        const char *fixture, *leaf;
    } leaves[] = {{"valid", "ecdsa-p256"}, {"valid-rsa2048", "rsa-2048"}};
    int rc = 0;
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        char fx[300];
        snprintf(fx, sizeof(fx), "%s/%s", dir, leaves[i].fixture);
        unsigned port = 0;
        pid_t pid = start_server(fx, &port);
        if (pid < 0) {
            fprintf(stderr, "bench_tls: cannot start easload serve on %s\n", fx);
            rc = 1;
            break;
        }
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_load_verify_locations(ctx, ca, NULL);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
        for (int resume = 0; resume <= 1; resume++) {
            struct run warm, r;
            client_loop(ctx, port, secs / 4, resume, &warm);
            client_loop(ctx, port, secs, resume, &r);
            double peer_wall = -1;
            double peer = s_time(port, ca, resume, isecs, &peer_wall);
            double ours_user = r.user > 0 ? (double)r.n / r.user : 0;
            double ours_total = r.total > 0 ? (double)r.n / r.total : 0;
            printf("bench=tls_handshake leaf=%s resume=%s unit=conn/user-cpu-s ours=%.0f "
                   "peer=openssl-s_time theirs=%.0f ratio=%.2f\n",
                   leaves[i].leaf, resume ? "on" : "off", ours_user, peer,
                   peer > 0 ? ours_user / peer : 0);
            printf("bench=tls_handshake leaf=%s resume=%s unit=conn/cpu-s(user+sys) ours=%.0f "
                   "wall_conn_per_s=%.0f reused=%lu/%lu failed=%lu peer_wall_conn_per_s=%.0f\n",
                   leaves[i].leaf, resume ? "on" : "off", ours_total, (double)r.n / r.wall,
                   r.reused, r.n, r.failed, peer_wall);
            fflush(stdout);
        }
        SSL_CTX_free(ctx);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
