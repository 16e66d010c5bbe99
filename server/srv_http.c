/* srv_http.c - the HTTP side's lifecycle: h2o configuration, listening sockets (SO_REUSEPORT,
 * made by hand: h2o-notes 7), the TLS context (h2o-notes 6), one thread per worker with its own
 * uv loop and h2o context, an admin thread, the throttling knobs and fault set (issue 8), the
 * descriptor room and the line logged when accepts run out of descriptors (issue 9), and the
 * graceful stop.
 * Owns: struct el_srv_http and everything in it (see srv_http_int.h). Uses: h2o, libuv, OpenSSL,
 * srv.h (el_srv_set_wake), srv_http_req.c, srv_http_hold.c, srv_admin_http.c. */
#include "srv_http_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#define EL__SRV_REQ_TIMEOUT_MS (3660u * 1000u) /* longest heartbeat (3540 s) + margin */
#define EL__SRV_STOP_GRACE_MS  5000u           /* connections still open then are abandoned */
#define EL__SRV_SCRATCH_MAX    (64u << 20)     /* cap of one response body */
/* an NTLM connection's entry is refreshed at each request: one held for the longest heartbeat,
 * then idle until the request timeout, is closed by then (issue 7) */
#define EL__SRV_NTLM_IDLE_MS (2ull * EL__SRV_REQ_TIMEOUT_MS + 60u * 1000u)

/* ---- sanitizer builds ------------------------------------------------------------------------
 * libh2o 2.2.5 keeps freed pool chunks and socket buffers in per-thread recycle lists
 * (h2o_mem_alloc_recycle, thread-local in its lib/common/memory.c) and has no call to empty them;
 * when a worker thread exits they become unreachable and LeakSanitizer reports them at exit.
 * Built into the binary so every sanitized run of `easload serve` (tests of all helpers, `make
 * test`) is clean without LSAN_OPTIONS. Only that allocator is suppressed; our own allocations
 * (holds, connections, buffers, the EAS state) stay checked. Caveat: a request pool that h2o
 * itself failed to free would be hidden too. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EL__SRV_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(EL__SRV_ASAN)
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:h2o_mem_alloc_recycle\n";
}
/* ... and not listed at every exit (LSAN_OPTIONS still overrides). */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}
#endif

/* ---- addresses and sockets ----------------------------------------------------------------- */

static int parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen,
                      struct el_err *err)
{
    char host[128];
    const char *port;
    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (rb == NULL || rb[1] != ':' || (size_t)(rb - spec - 1) >= sizeof(host))
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s: expected [IPV6]:PORT", spec);
        memcpy(host, spec + 1, (size_t)(rb - spec - 1));
        host[rb - spec - 1] = '\0';
        port = rb + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s: expected HOST:PORT", spec);
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
        port = colon + 1;
    }
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    char *end;
    errno = 0;
    unsigned long p = strtoul(port, &end, 10);
    if (port[0] == '\0' || *end != '\0' || errno || p > 65535)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s: bad port '%s'", spec, port);
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)p);
        *sslen = sizeof(*a4);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)p);
        *sslen = sizeof(*a6);
    } else {
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s: '%s' is not a numeric address", spec,
                      host);
    }
    return 0;
}

static int is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;
        return (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
    }
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;
    return IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
}

/* A listening socket with SO_REUSEPORT, so every worker can have its own on the same port. */
static int listen_socket(const char *spec, struct sockaddr_storage *ss, socklen_t sslen, int *fd,
                         struct el_err *err)
{
    int s = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: socket: %s", spec, strerror(errno));
    int one = 1;
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        bind(s, (struct sockaddr *)ss, sslen) != 0 || listen(s, 4096) != 0) {
        int e = errno;
        close(s);
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: %s", spec, strerror(e));
    }
    *fd = s;
    return 0;
}

/* ---- TLS ------------------------------------------------------------------------------------ */

static int tls_fail(struct el_err *err, const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char buf[160];
    ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s %s: %s", what, file ? file : "", buf);
}

static int tls_setup(struct el_srv_http *h, struct el_err *err)
{
    const struct el_srv_http_config *c = &h->cfg;
    if (c->cert_file == NULL || c->key_file == NULL)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "--tls-listen needs --cert and --key");
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return tls_fail(err, "SSL_CTX_new", NULL);
    h->ssl_ctx = ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* A test server serves whatever chain it is given, also the weak fixtures (SHA-1, RSA-1024)
     * OpenSSL's default level refuses to load: judging them is the client's job (issue 7). */
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, c->cert_file) != 1)
        return tls_fail(err, "certificate", c->cert_file);
    if (c->chain_file) {
        FILE *f = fopen(c->chain_file, "r");
        if (f == NULL)
            return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "chain %s: %s", c->chain_file,
                          strerror(errno));
        int n = 0;
        X509 *x;
        while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
            if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
                X509_free(x);
                fclose(f);
                return tls_fail(err, "chain", c->chain_file);
            }
            n++;
        }
        fclose(f);
        ERR_clear_error(); /* the end of the file reads as an error */
        if (n == 0)
            return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "chain %s: no PEM certificate in it",
                          c->chain_file);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, c->key_file, SSL_FILETYPE_PEM) != 1)
        return tls_fail(err, "key", c->key_file);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return tls_fail(err, "key does not match certificate", c->key_file);
    if (c->client_ca_file) {
        /* issue 7: client-certificate authentication as IIS configures it ("require"): the
         * handshake asks for a certificate from this CA and fails without one */
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(c->client_ca_file);
        if (names == NULL || SSL_CTX_load_verify_locations(ctx, c->client_ca_file, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            return tls_fail(err, "client CA", c->client_ca_file);
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        int rc = el__srv_certids_new(ctx, &h->certids, err); /* certificate -> user */
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- connections ---------------------------------------------------------------------------- */

static void worker_finish(struct el__srv_worker *w);

static void on_conn_closed(uv_handle_t *handle)
{
    struct el__srv_worker *w = H2O_STRUCT_FROM_MEMBER(struct el__srv_worker, loop, handle->loop);
    free(handle);
    atomic_fetch_sub_explicit(&w->n_conn_open, 1, memory_order_relaxed);
    if (w->stopping && atomic_load(&w->n_conn_open) == 0)
        worker_finish(w);
}

/* Issue 9: descriptors used at start, so the room left for connections can be said. */
static uint64_t fds_open(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 0;
    uint64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* minus the directory's own descriptor */
}

static uint64_t conn_room_now(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    uint64_t used = fds_open();
    return rl.rlim_cur > used ? (uint64_t)rl.rlim_cur - used : 1;
}

static uint64_t conns_open(const struct el_srv_http *h)
{
    uint64_t n = 0;
    for (unsigned i = 0; h->workers && i < h->cfg.workers; i++)
        n += atomic_load_explicit(&h->workers[i].n_conn_open, memory_order_relaxed);
    return n;
}

/* Issue 9: out of descriptors, accept fails (libuv then accepts and closes the waiting
 * connections with its reserve descriptor, so clients see resets): one line every 10 s at most
 * for the whole process, instead of dropping them silently. */
static void log_fd_limit(struct el__srv_worker *w, const char *why)
{
    struct el_srv_http *h = w->h;
    uint64_t now = el__srv_mono_ms();
    uint_fast64_t last = atomic_load_explicit(&h->fdlimit_log_ms, memory_order_relaxed);
    if (last != 0 && now - last < 10000)
        return;
    if (!atomic_compare_exchange_strong(&h->fdlimit_log_ms, &last, now))
        return;
    struct rlimit rl;
    unsigned long long lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 0;
    el__srv_log(h, NULL, w->id, EL__SRV_LOG_WARN, NULL,
                "accept: %s: %llu connections open, descriptor limit %llu (room for %llu "
                "connections): new connections are refused until some close; raise ulimit -n "
                "or split the devices over more server processes",
                why, (unsigned long long)conns_open(h), lim, (unsigned long long)h->conn_room);
}

static void on_accept(uv_stream_t *server, int status)
{
    struct el__srv_listener *lis = H2O_STRUCT_FROM_MEMBER(struct el__srv_listener, tcp, server);
    struct el__srv_worker *w = lis->w;
    if (status == UV_EMFILE || status == UV_ENFILE)
        log_fd_limit(w, uv_strerror(status));
    if (status != 0 || w->stopping)
        return;
    uv_tcp_t *conn = malloc(sizeof(*conn));
    if (conn == NULL)
        return;
    uv_tcp_init(&w->loop, conn);
    if (uv_accept(server, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(conn, 1);
    atomic_fetch_add_explicit(&w->n_conn, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->n_conn_open, 1, memory_order_relaxed);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)conn, on_conn_closed);
    h2o_accept(&lis->actx, sock);
}

/* ---- one worker's loop ---------------------------------------------------------------------- */

static void on_sweep(uv_timer_t *t)
{
    struct el__srv_worker *w = H2O_STRUCT_FROM_MEMBER(struct el__srv_worker, sweep, t);
    el__srv_hold_sweep(w);
    uint64_t now = el__srv_mono_ms();
    if (w->ntlm && now > EL__SRV_NTLM_IDLE_MS) /* idle past that: the connection is closed */
        el_srv_ntlm_conns_sweep(w->ntlm, now - EL__SRV_NTLM_IDLE_MS);
    /* libuv's reserve-descriptor trick hides most EMFILEs from on_accept: near the room, try
     * to take one descriptor */
    if (w->h->conn_room && w->nlis > 0 && !w->stopping && conns_open(w->h) + 8 >= w->h->conn_room) {
        int fd = fcntl(w->lis[0].fd, F_DUPFD_CLOEXEC, 0);
        if (fd >= 0)
            close(fd);
        else if (errno == EMFILE || errno == ENFILE)
            log_fd_limit(w, strerror(errno));
    }
}

static void on_walk_shutdown(uv_handle_t *handle, void *arg)
{
    struct el__srv_worker *w = arg;
    if (handle->type != UV_TCP || uv_is_closing(handle))
        return;
    for (unsigned i = 0; i < w->nlis; i++)
        if (handle == (uv_handle_t *)&w->lis[i].tcp)
            return;
    uv_os_fd_t fd;
    /* An idle keep-alive connection: its next read sees the end and h2o closes it. */
    if (uv_fileno(handle, &fd) == 0)
        shutdown(fd, SHUT_RD);
}

static void on_grace(uv_timer_t *t)
{
    struct el__srv_worker *w = H2O_STRUCT_FROM_MEMBER(struct el__srv_worker, grace, t);
    el__srv_log(w->h, NULL, w->id, EL__SRV_LOG_WARN, NULL,
                "stop: %llu connections still open after %u ms, abandoned",
                (unsigned long long)atomic_load(&w->n_conn_open), EL__SRV_STOP_GRACE_MS);
    w->forced = 1;
    uv_stop(&w->loop);
}

static void worker_begin_stop(struct el__srv_worker *w)
{
    if (w->stopping)
        return;
    w->stopping = 1;
    for (unsigned i = 0; i < w->nlis; i++)
        uv_close((uv_handle_t *)&w->lis[i].tcp, NULL);
    uv_timer_stop(&w->sweep);
    el__srv_hold_finish_all(w);
    el__srv_timed_finish_all(w);
    uv_walk(&w->loop, on_walk_shutdown, w);
    uv_timer_start(&w->grace, on_grace, EL__SRV_STOP_GRACE_MS, 0);
    if (atomic_load(&w->n_conn_open) == 0)
        worker_finish(w);
}

/* No connection left: close our handles and h2o's; uv_run then returns. */
static void worker_finish(struct el__srv_worker *w)
{
    if (w->ctx_disposed)
        return;
    w->ctx_disposed = 1;
    uv_close((uv_handle_t *)&w->sweep, NULL);
    uv_close((uv_handle_t *)&w->grace, NULL);
    uv_close((uv_handle_t *)&w->async, NULL);
    h2o_context_dispose(&w->ctx);
}

static void on_async(uv_async_t *a)
{
    struct el__srv_worker *w = H2O_STRUCT_FROM_MEMBER(struct el__srv_worker, async, a);
    if (!w->is_admin)
        el__srv_hold_drain(w);
    if (atomic_load(&w->stop_requested))
        worker_begin_stop(w);
}

static void *worker_main(void *arg)
{
    struct el__srv_worker *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    return NULL;
}

static int worker_add_listener(struct el__srv_worker *w, int kind, const char *spec,
                               struct sockaddr_storage *ss, socklen_t sslen, struct el_err *err)
{
    struct el__srv_listener *lis = &w->lis[w->nlis];
    int rc = listen_socket(spec, ss, sslen, &lis->fd, err);
    if (rc < 0)
        return rc;
    lis->kind = kind;
    lis->w = w;
    lis->actx.ctx = &w->ctx;
    lis->actx.hosts = w->is_admin ? w->h->admin_conf.hosts : w->h->conf.hosts;
    lis->actx.ssl_ctx = kind == 1 ? w->h->ssl_ctx : NULL;
    uv_tcp_init(&w->loop, &lis->tcp);
    w->nlis++;
    int e = uv_tcp_open(&lis->tcp, lis->fd);
    if (e == 0)
        e = uv_listen((uv_stream_t *)&lis->tcp, 4096, on_accept);
    if (e != 0)
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: %s", spec, uv_strerror(e));
    return 0;
}

static int worker_init(struct el_srv_http *h, struct el__srv_worker *w, unsigned id, int admin)
{
    w->h = h;
    w->id = id;
    w->is_admin = admin;
    if (uv_loop_init(&w->loop) != 0)
        return EL_ENOMEM;
    h2o_context_init(&w->ctx, &w->loop, admin ? &h->admin_conf : &h->conf);
    w->ctx_inited = 1;
    uv_async_init(&w->loop, &w->async, on_async);
    uv_timer_init(&w->loop, &w->sweep);
    uv_timer_init(&w->loop, &w->grace);
    pthread_mutex_init(&w->wake_mu, NULL);
    el_buf_init(&w->scratch, EL__SRV_SCRATCH_MAX);
    if (!admin)
        uv_timer_start(&w->sweep, on_sweep, 1000, 1000);
    if (!admin && h->cfg.ntlm && (w->ntlm = el_srv_ntlm_conns_new()) == NULL)
        return EL_ENOMEM;
    return 0;
}

static void worker_close(struct el__srv_worker *w)
{
    if (!w->ctx_inited || w->forced)
        return; /* forced: h2o still owns connections on this loop; the process is exiting */
    if (!w->ctx_disposed) {
        /* never ran (start failed): close what we opened and run the loop once to free it */
        for (unsigned i = 0; i < w->nlis; i++)
            uv_close((uv_handle_t *)&w->lis[i].tcp, NULL);
        worker_finish(w);
        uv_run(&w->loop, UV_RUN_DEFAULT);
    }
    if (uv_loop_close(&w->loop) != 0)
        el__srv_log(w->h, NULL, w->id, EL__SRV_LOG_WARN, NULL, "stop: loop still has handles");
    pthread_mutex_destroy(&w->wake_mu);
    el_buf_close(&w->scratch);
    free(w->wakeq);
    free(w->wake_spare);
    free(w->sweep_arr);
    el_srv_ntlm_conns_free(w->ntlm);
    w->ntlm = NULL;
    w->ctx_inited = 0;
}

/* ---- public --------------------------------------------------------------------------------- */

static int check_addr(const struct el_srv_http_config *c, const char *spec,
                      struct sockaddr_storage *ss, socklen_t *sslen, struct el_err *err)
{
    int rc = parse_addr(spec, ss, sslen, err);
    if (rc < 0)
        return rc;
    if (!c->allow_remote && !is_loopback(ss))
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "%s is not a loopback address (load stays on loopback; --allow-remote to "
                      "override)",
                      spec);
    return 0;
}

/* After the first bind, later workers reuse the port the kernel picked. */
static uint16_t bound_port(int fd, struct sockaddr_storage *ss)
{
    struct sockaddr_storage got;
    socklen_t len = sizeof(got);
    if (getsockname(fd, (struct sockaddr *)&got, &len) != 0)
        return 0;
    uint16_t port = got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
                                             : ((struct sockaddr_in6 *)&got)->sin6_port;
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = port;
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = port;
    return ntohs(port);
}

static void make_url(char *out, size_t cap, const char *scheme, const struct sockaddr_storage *ss,
                     uint16_t port)
{
    char host[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
        snprintf(out, cap, "%s://%s:%u", scheme, host, port);
    } else {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof(host));
        snprintf(out, cap, "%s://[%s]:%u", scheme, host, port);
    }
}

static void conf_init(h2o_globalconf_t *conf, size_t max_body)
{
    h2o_config_init(conf);
    conf->server_name = h2o_iovec_init(H2O_STRLIT("easload/" EL_VERSION));
    conf->max_request_entity_size = max_body;
    conf->http1.req_timeout = EL__SRV_REQ_TIMEOUT_MS;
    conf->http1.upgrade_to_http2 = 0;
}

int el_srv_http_start(const struct el_srv_http_config *cfg, struct el_srv_state *st,
                      struct el_srv_http **out, struct el_err *err)
{
    *out = NULL;
    if (cfg->workers == 0 || cfg->workers > 256)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "--workers must be 1..256");
    if (cfg->listen == NULL && cfg->tls_listen == NULL)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "no listener (--listen or --tls-listen)");
    struct sockaddr_storage addr[3];
    socklen_t alen[3];
    const char *spec[3] = {cfg->listen, cfg->tls_listen, cfg->admin};
    for (int i = 0; i < 3; i++) {
        if (spec[i] == NULL)
            continue;
        int rc = check_addr(cfg, spec[i], &addr[i], &alen[i], err);
        if (rc < 0)
            return rc;
    }
    if (cfg->admin) {
        const struct sockaddr_storage *a = &addr[2];
        if (!is_loopback(a))
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                          "--admin %s: the admin API listens on loopback only", cfg->admin);
    }

    struct el_srv_http *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "out of memory");
    h->cfg = *cfg;
    h->st = st;
    h->start_ms = el__srv_mono_ms();
    pthread_mutex_init(&h->owner_mu, NULL);
    int rc = 0;
    conf_init(&h->conf, cfg->max_body_bytes);
    conf_init(&h->admin_conf, 1u << 20);
    h->host = h2o_config_register_host(&h->conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    el__srv_autodiscover_register(h, h->host); /* before "/": first match wins */
    rc = el__srv_eas_register(h, h2o_config_register_path(h->host, "/", 0));
    if (rc < 0) {
        EL_ERR(err, rc, EL_NO_OFFSET, "command table too long for MS-ASProtocolCommands");
        goto fail;
    }
    /* issue 8: throttling knobs and faults, checked before anything listens */
    rc = el_srv_limits_new(el_srv_user_count(st), &cfg->limits, &h->limits, err);
    if (rc < 0)
        goto fail;
    rc = el_srv_faults_new(cfg->seed, &h->faults);
    if (rc < 0) {
        EL_ERR(err, rc, EL_NO_OFFSET, "faults: out of memory");
        goto fail;
    }
    for (const char *const *f = cfg->faults; f && *f; f++) {
        struct el_srv_fault fault;
        rc = el_srv_fault_parse(*f, &fault, err);
        if (rc == 0)
            rc = el_srv_faults_add(h->faults, &fault, h->start_ms, err);
        if (rc < 0)
            goto fail;
    }
    h->admin_host =
        h2o_config_register_host(&h->admin_conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    el__srv_admin_register(h, h2o_config_register_path(h->admin_host, "/", 0));
    if (cfg->tls_listen) {
        rc = tls_setup(h, err);
        if (rc < 0)
            goto fail;
    }
    if (cfg->tokens_file) {
        rc = el__srv_tokens_issue(st, cfg->tokens_file, &h->tokens, err);
        if (rc < 0)
            goto fail;
    }
    h->workers = calloc(cfg->workers, sizeof(*h->workers));
    if (h->workers == NULL) {
        rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < cfg->workers; i++) {
        struct el__srv_worker *w = &h->workers[i];
        rc = worker_init(h, w, i + 1, 0);
        if (rc < 0) {
            EL_ERR(err, rc, EL_NO_OFFSET, "worker %u: cannot create its loop", i + 1);
            goto fail;
        }
        for (int k = 0; k < 2; k++) {
            if (spec[k] == NULL)
                continue;
            rc = worker_add_listener(w, k, spec[k], &addr[k], alen[k], err);
            if (rc < 0)
                goto fail;
            if (i == 0) {
                uint16_t port = bound_port(w->lis[w->nlis - 1].fd, &addr[k]);
                make_url(h->url[k], sizeof(h->url[k]), k ? "https" : "http", &addr[k], port);
            }
        }
    }
    if (cfg->admin) {
        h->has_admin = 1;
        rc = worker_init(h, &h->admin, 0, 1);
        if (rc < 0) {
            EL_ERR(err, rc, EL_NO_OFFSET, "admin: cannot create its loop");
            goto fail;
        }
        rc = worker_add_listener(&h->admin, 2, spec[2], &addr[2], alen[2], err);
        if (rc < 0)
            goto fail;
        uint16_t port = bound_port(h->admin.lis[0].fd, &addr[2]);
        make_url(h->url[2], sizeof(h->url[2]), "http", &addr[2], port);
    }
    h->conn_room = conn_room_now(); /* every listener and loop is open, no connection yet */
    el_srv_set_wake(st, el__srv_hold_wake, h);
    for (unsigned i = 0; i < cfg->workers; i++) {
        struct el__srv_worker *w = &h->workers[i];
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            rc = EL_ERR(err, EL_EIO, EL_NO_OFFSET, "cannot start worker thread %u", i + 1);
            goto fail;
        }
        w->thread_started = 1;
    }
    if (h->has_admin) {
        if (pthread_create(&h->admin.thread, NULL, worker_main, &h->admin) != 0) {
            rc = EL_ERR(err, EL_EIO, EL_NO_OFFSET, "cannot start the admin thread");
            goto fail;
        }
        h->admin.thread_started = 1;
    }
    h->running = 1;
    *out = h;
    return 0;
fail:
    /* threads that did start are stopped and joined by el_srv_http_free */
    for (unsigned i = 0; h->workers && i < cfg->workers; i++)
        h->running |= h->workers[i].thread_started;
    el_srv_http_free(h);
    return rc;
}

const char *el_srv_http_url(const struct el_srv_http *h, int which)
{
    if (which < 0 || which > 2 || h->url[which][0] == '\0')
        return NULL;
    return h->url[which];
}

static void stop_worker(struct el__srv_worker *w)
{
    if (!w->thread_started)
        return;
    atomic_store(&w->stop_requested, 1);
    uv_async_send(&w->async);
}

void el_srv_http_stop(struct el_srv_http *h)
{
    if (h == NULL || !h->running || h->stopped)
        return;
    h->stopped = 1;
    if (h->has_admin)
        stop_worker(&h->admin);
    for (unsigned i = 0; h->workers && i < h->cfg.workers; i++)
        stop_worker(&h->workers[i]);
    for (unsigned i = 0; h->workers && i < h->cfg.workers; i++)
        if (h->workers[i].thread_started)
            pthread_join(h->workers[i].thread, NULL);
    if (h->has_admin && h->admin.thread_started)
        pthread_join(h->admin.thread, NULL);
    struct el_srv_http_stats s;
    el_srv_http_get_stats(h, &s);
    el__srv_log(h, NULL, 0, EL__SRV_LOG_INFO, NULL,
                "stopped: %llu connections, %llu requests (2xx %llu, 4xx %llu, 5xx %llu, "
                "%llu rejected by HTTP checks), long polls %llu (woken %llu, expired %llu, "
                "client gone %llu), admin requests %llu",
                (unsigned long long)s.connections, (unsigned long long)s.requests,
                (unsigned long long)s.responses[2], (unsigned long long)s.responses[4],
                (unsigned long long)s.responses[5], (unsigned long long)s.rejected,
                (unsigned long long)s.holds_started, (unsigned long long)s.holds_woken,
                (unsigned long long)s.holds_expired, (unsigned long long)s.holds_gone,
                (unsigned long long)s.admin_requests);
}

void el_srv_http_get_stats(struct el_srv_http *h, struct el_srv_http_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; h->workers && i < h->cfg.workers; i++) {
        struct el__srv_worker *w = &h->workers[i];
        out->connections += atomic_load_explicit(&w->n_conn, memory_order_relaxed);
        out->connections_open += atomic_load_explicit(&w->n_conn_open, memory_order_relaxed);
        out->requests += atomic_load_explicit(&w->n_req, memory_order_relaxed);
        for (int k = 0; k < 6; k++)
            out->responses[k] += atomic_load_explicit(&w->n_resp[k], memory_order_relaxed);
        out->rejected += atomic_load_explicit(&w->n_rejected, memory_order_relaxed);
        out->holds_started += atomic_load_explicit(&w->n_hold, memory_order_relaxed);
        out->holds_open += atomic_load_explicit(&w->n_hold_open, memory_order_relaxed);
        out->holds_woken += atomic_load_explicit(&w->n_hold_woken, memory_order_relaxed);
        out->holds_expired += atomic_load_explicit(&w->n_hold_expired, memory_order_relaxed);
        out->holds_gone += atomic_load_explicit(&w->n_hold_gone, memory_order_relaxed);
    }
    out->admin_requests = atomic_load_explicit(&h->n_admin, memory_order_relaxed);
    if (h->limits)
        el_srv_limits_counts(h->limits, out->refused);
    if (h->faults)
        el_srv_faults_counts(h->faults, out->faults);
}

uint64_t el_srv_http_conn_room(const struct el_srv_http *h)
{
    return h->conn_room;
}

void el_srv_http_free(struct el_srv_http *h)
{
    if (h == NULL)
        return;
    el_srv_http_stop(h);
    for (unsigned i = 0; h->workers && i < h->cfg.workers; i++)
        worker_close(&h->workers[i]);
    if (h->has_admin || h->admin.ctx_inited)
        worker_close(&h->admin);
    free(h->workers);
    h2o_config_dispose(&h->conf);
    h2o_config_dispose(&h->admin_conf);
    SSL_CTX_free(h->ssl_ctx);
    el__srv_certids_free(h->certids);
    el__srv_tokens_free(h->tokens);
    el_srv_limits_free(h->limits);
    el_srv_faults_free(h->faults);
    pthread_mutex_destroy(&h->owner_mu);
    free(h->orphans);
    free(h);
}
