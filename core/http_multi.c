/* http_multi.c - libcurl multi handles driven by a libuv loop (CURLMOPT_SOCKETFUNCTION and
 * TIMERFUNCTION with uv_poll and uv_timer), devices grouped ~200 per multi, the response
 * buffer pool and the shared CA store.
 * Owns: groups, their multi handles and timers, per-socket watchers (and the table of those of
 * connection sockets), the pool, the store,
 * the idle handle that runs zero libcurl timeouts on the next loop turn, the timer that frees
 * the upload buffer of held long polls.
 * Completions leave only from drain(), after libcurl has returned (never from inside a curl
 * callback), so a done callback may start the next request at once. */
#include "http_int.h"

#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_GROUP_SIZE 200
#define DEFAULT_MAX_BODY   (64u << 20)
#define EL__HTTP_POOL_KEEP_BYTES (16u << 10)
#define EL__HTTP_POOL_KEEP_BUFS  64

/* One watched socket. A connection socket (opened by el__http_open_socket: kept = 1) keeps its
 * watcher from its opening to its closing (el__http_close_socket), across the CURL_POLL_REMOVE
 * that ends each request on a kept-alive connection; other sockets (e.g. the threaded
 * resolver's) get one from curl's first interest to CURL_POLL_REMOVE, freed in the close
 * callback.
 * Why: libuv 1.44's uv_poll_start always stops first (epoll_ctl DEL) and adds at the next poll
 * (epoll_ctl ADD), uv_poll_init_socket sets O_NONBLOCK again (ioctl), and uv_close after
 * uv_poll_stop deletes twice: dropping the watcher at each CURL_POLL_REMOVE and making a new one
 * for the next request cost 6 epoll_ctl + 1 ioctl per request (perf, bench/peers workload).
 * Kept, and restarted only when the events curl asks for change, it costs none. Between
 * requests a kept watcher stays on readable (nothing arrives on an idle keep-alive connection);
 * if something does (the server closes it), the watcher stops and libcurl is not called: it
 * finds out when it next checks the connection, as when nothing watched idle sockets. An idle
 * watcher is unreferenced: it does not keep uv_run going, as no watcher did before. */
struct el__http_sock {
    uv_poll_t poll; /* embedded */
    curl_socket_t fd;
    struct el__http_group *g; /* of the transfer that last watched it */
    int events;               /* UV_READABLE | UV_WRITABLE libuv watches now; 0 = stopped */
    int assigned;             /* curl knows it (curl_multi_assign) */
    int kept;                 /* a connection socket: in hl->socks until its closing */
};

static void on_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Sets the events the watcher asks libuv for: no libuv call (no syscall) when unchanged. */
static int sock_watch(struct el__http_sock *s, int events, uv_poll_cb cb)
{
    if (events == s->events)
        return 0;
    s->events = events;
    if (events == 0)
        return uv_poll_stop(&s->poll);
    return uv_poll_start(&s->poll, events, cb);
}

static void drain(struct el__http_group *g)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(g->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct el_http_conn *c = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        el__http_conn_done(c, msg->data.result);
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct el__http_sock *s = p->data;
    struct el__http_group *g = s->g;
    int flags = 0;
    if (status < 0)
        s->events = 0; /* libuv stopped the watcher (POLLERR) */
    if (!s->assigned) {
        /* an idle kept-alive connection became readable (closed by the server, most likely):
         * stop watching it; libcurl checks it before it uses it again */
        sock_watch(s, 0, on_poll);
        return;
    }
    if (status < 0) {
        /* POLLERR (libuv: UV_EBADF), e.g. a reset after a server closed a kept-alive connection
         * without saying so (sogod): let libcurl read and write, so it meets the socket's real
         * error and retries a request that died on a reused connection on a fresh one. With
         * CURL_CSELECT_ERR alone it fails the transfer ("select/poll returned error"). */
        flags = CURL_CSELECT_ERR | CURL_CSELECT_IN | CURL_CSELECT_OUT;
    } else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running;
    g->actions++;
    curl_multi_socket_action(g->multi, s->fd, flags, &running);
    drain(g);
}

static void on_timer(uv_timer_t *t)
{
    struct el__http_group *g = t->data;
    int running;
    g->actions++;
    curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(g);
}

/* CURLMOPT_SOCKETFUNCTION: translate interest into uv_poll. Only curl_multi_assign is called
 * here (allowed from this callback); curl forgets the socket itself after CURL_POLL_REMOVE. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct el__http_group *g = userp;
    struct el_http_loop *hl = g->hl;
    struct el__http_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s == NULL)
            return 0;
        s->assigned = 0;
        if (!s->kept) {
            uv_close((uv_handle_t *)&s->poll, on_sock_closed); /* stops it */
            return 0;
        }
        if (s->events != UV_READABLE)
            sock_watch(s, 0, on_poll); /* a socket is always writable: never watch that idle */
        uv_unref((uv_handle_t *)&s->poll); /* an idle connection does not keep the loop alive */
        return 0;
    }
    if (s == NULL) {
        s = fd >= 0 && (size_t)fd < hl->nsocks ? hl->socks[fd] : NULL;
        if (s == NULL) {
            s = calloc(1, sizeof(*s));
            if (s == NULL)
                return -1;
            s->fd = fd;
            if (uv_poll_init_socket(hl->loop, &s->poll, fd) != 0) {
                free(s);
                return -1;
            }
            s->poll.data = s;
        }
        s->g = g;
        s->assigned = 1;
        uv_ref((uv_handle_t *)&s->poll);
        curl_multi_assign(g->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    return sock_watch(s, events, on_poll) == 0 ? 0 : -1;
}

/* Drops the watcher of a connection socket (closing, or found stale). */
static void sock_drop(struct el_http_loop *hl, struct el__http_sock *s)
{
    hl->socks[s->fd] = NULL;
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

curl_socket_t el__http_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)purpose;
    struct el_http_loop *hl = clientp;
    /* what libcurl does without this callback */
    curl_socket_t fd = socket(a->family, a->socktype, a->protocol);
    if (fd == CURL_SOCKET_BAD)
        return fd;
    if ((size_t)fd >= hl->nsocks) {
        size_t n = hl->nsocks ? hl->nsocks : 256;
        while (n <= (size_t)fd)
            n *= 2;
        struct el__http_sock **ns = realloc(hl->socks, n * sizeof(*ns));
        if (ns == NULL) {
            close(fd);
            return CURL_SOCKET_BAD;
        }
        memset(ns + hl->nsocks, 0, (n - hl->nsocks) * sizeof(*ns));
        hl->socks = ns;
        hl->nsocks = n;
    }
    if (hl->socks[fd] != NULL) /* its socket was closed without el__http_close_socket */
        sock_drop(hl, hl->socks[fd]);
    struct el__http_sock *s = calloc(1, sizeof(*s));
    if (s == NULL || uv_poll_init_socket(hl->loop, &s->poll, fd) != 0) {
        free(s);
        close(fd);
        return CURL_SOCKET_BAD;
    }
    s->fd = fd;
    s->kept = 1;
    s->poll.data = s;
    hl->socks[fd] = s;
    return fd;
}

int el__http_close_socket(void *clientp, curl_socket_t fd)
{
    struct el_http_loop *hl = clientp;
    /* curl has sent CURL_POLL_REMOVE first if it watched the socket */
    if (fd >= 0 && (size_t)fd < hl->nsocks && hl->socks[fd] != NULL)
        sock_drop(hl, hl->socks[fd]);
    return close(fd);
}

/* The idle handle of a loop: the groups whose libcurl timeout was 0, once each. Groups kicked
 * again from inside these calls wait for the next turn, after libuv has polled. */
static void on_kick(uv_idle_t *idle)
{
    struct el_http_loop *hl = idle->data;
    struct el__http_group *g = hl->kicks;
    hl->kicks = NULL;
    uv_idle_stop(idle);
    while (g != NULL) {
        struct el__http_group *next = g->kick_next;
        g->kick_next = NULL;
        g->kick_pending = 0;
        int running;
        g->actions++;
        curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        drain(g);
        g = next;
    }
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer; 0 runs on the next loop turn (an idle handle,
 * not a zero uv timer: libuv 1.44 runs a timer re-armed to 0 inside a timer callback again in
 * the same pass, so requests that fail at once, e.g. refused connects in a scenario loop, would
 * starve the loop: no I/O, no signals). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct el__http_group *g = userp;
    struct el_http_loop *hl = g->hl;
    if (timeout_ms < 0) {
        uv_timer_stop(&g->timer);
    } else if (timeout_ms == 0 && hl->kick != NULL) {
        uv_timer_stop(&g->timer);
        if (!g->kick_pending) {
            g->kick_pending = 1;
            g->kick_next = hl->kicks;
            hl->kicks = g;
            uv_idle_start(hl->kick, on_kick);
        }
    } else {
        uv_timer_start(&g->timer, on_timer, (uint64_t)timeout_ms, 0);
    }
    return 0;
}

static void on_kick_closed(uv_handle_t *h)
{
    free(h);
}

static void on_group_closed(uv_handle_t *h)
{
    free(h->data);
}

static struct el__http_group *group_new(struct el_http_loop *hl)
{
    struct el__http_group *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->hl = hl;
    g->multi = curl_multi_init();
    if (g->multi == NULL || uv_timer_init(hl->loop, &g->timer) != 0) {
        if (g->multi)
            curl_multi_cleanup(g->multi);
        free(g);
        return NULL;
    }
    g->timer.data = g;
    curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g);
    curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g);
    /* Every device keeps its connection: the cache holds one per device of the group. */
    curl_multi_setopt(g->multi, CURLMOPT_MAXCONNECTS, (long)hl->opts.group_size + 8);
    hl->stats.groups++;
    return g;
}

int el__http_group_for(struct el_http_loop *hl, uint32_t device_index,
                       struct el__http_group **out)
{
    unsigned gi = device_index / hl->opts.group_size;
    if (gi >= hl->ngroups) {
        struct el__http_group **ng = realloc(hl->groups, (gi + 1) * sizeof(*ng));
        if (ng == NULL)
            return EL_ENOMEM;
        memset(ng + hl->ngroups, 0, (gi + 1 - hl->ngroups) * sizeof(*ng));
        hl->groups = ng;
        hl->ngroups = gi + 1;
    }
    if (hl->groups[gi] == NULL) {
        hl->groups[gi] = group_new(hl);
        if (hl->groups[gi] == NULL)
            return EL_ENOMEM;
    }
    hl->groups[gi]->nconns++;
    *out = hl->groups[gi];
    return 0;
}

void el__http_group_release(struct el__http_group *g)
{
    g->nconns--;
}

/* ---- long polls: curl's upload buffer --------------------------------------------------- *
 * On a TLS connection curl 7.88 copies each request into a per-transfer upload buffer
 * (data->state.ulbuf, CURLOPT_UPLOAD_BUFFERSIZE bytes, 16 KB at the least: Curl_buffer_send,
 * so that OpenSSL sees the same pointer when a write is retried) and frees it only when the
 * transfer ends (multi_done). A held Ping would keep 16 KB for minutes. Setting
 * CURLOPT_UPLOAD_BUFFERSIZE frees it (setopt.c: "force a realloc next opportunity"), and that
 * is safe once every body byte has been written (CURLINFO_SIZE_UPLOAD_T = the body length):
 * nothing is then pending in the buffer nor in an OpenSSL write retry, and every later use
 * (the read of the end of the upload, a resend after a 401 or a redirect, the next request)
 * first calls Curl_get_upload_buffer, which allocates it again. The check runs from a timer,
 * between libcurl calls, never from inside a curl callback. Bodyless requests are not listed
 * (nothing tells when their headers are all sent). The counter is read only after libcurl has
 * run the transfer's group at least once since el_http_start (group->actions). */
#define EL__HTTP_HELD_SWEEP_MS 250

static void on_held_sweep(uv_timer_t *t)
{
    struct el_http_loop *hl = t->data;
    struct el_http_conn *c = hl->held;
    while (c != NULL) { /* the last removal stops the timer */
        struct el_http_conn *next = c->held_next;
        curl_off_t up = 0;
        /* only once libcurl has run the group since the start: any socket action runs the
         * transfers whose timeout expired, and a new one's is 0; its pretransfer step resets the
         * counter, which until then holds the previous transfer's (it may be as large: without
         * this check, under valgrind, 83 of 300 Pings kept their buffer) */
        if (c->group->actions > c->held_after &&
            curl_easy_getinfo(c->easy, CURLINFO_SIZE_UPLOAD_T, &up) == CURLE_OK &&
            up >= c->held_body_len) {
            curl_easy_setopt(c->easy, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
            el__http_held_remove(c);
        }
        c = next;
    }
}

void el__http_held_add(struct el_http_conn *c)
{
    struct el_http_loop *hl = c->hl;
    if (c->in_held)
        return;
    c->in_held = 1;
    c->held_prev = NULL;
    c->held_next = hl->held;
    if (hl->held != NULL)
        hl->held->held_prev = c;
    hl->held = c;
    if (!uv_is_active((uv_handle_t *)hl->held_timer))
        uv_timer_start(hl->held_timer, on_held_sweep, EL__HTTP_HELD_SWEEP_MS,
                       EL__HTTP_HELD_SWEEP_MS);
}

void el__http_held_remove(struct el_http_conn *c)
{
    if (!c->in_held)
        return;
    if (c->held_prev != NULL)
        c->held_prev->held_next = c->held_next;
    else
        c->hl->held = c->held_next;
    if (c->held_next != NULL)
        c->held_next->held_prev = c->held_prev;
    c->held_prev = c->held_next = NULL;
    c->in_held = 0;
    if (c->hl->held == NULL)
        uv_timer_stop(c->hl->held_timer); /* an idle loop has no active handle of ours */
}

struct el__http_rbuf *el__http_rbuf_get(struct el_http_loop *hl)
{
    struct el__http_rbuf *b = hl->free_bufs;
    if (b) {
        hl->free_bufs = b->next;
        hl->nfree_bufs--;
    } else {
        b = malloc(sizeof(*b));
        if (b == NULL)
            return NULL;
        el_buf_init(&b->body, hl->opts.max_body_bytes);
    }
    b->next = NULL;
    b->body.len = 0;
    b->content_type[0] = b->retry_after[0] = b->ms_location[0] = '\0';
    b->ms_throttle[0] = b->ms_rp[0] = b->ms_versions[0] = '\0';
    b->ms_commands[0] = b->location[0] = b->www_authenticate[0] = '\0';
    b->overflow = 0;
    return b;
}

void el__http_rbuf_put(struct el_http_loop *hl, struct el__http_rbuf *b)
{
    /* The pool keeps small buffers only: a buffer grown by a large Sync must not stay
     * attached to the next request, which may be a Ping held for minutes. A fresh buffer
     * allocates nothing until the first body byte arrives. */
    if (hl->nfree_bufs >= EL__HTTP_POOL_KEEP_BUFS) {
        /* a burst (thousands of devices ramping up) must not stay in the idle RSS */
        el_buf_close(&b->body);
        free(b);
        return;
    }
    if (b->body.cap > EL__HTTP_POOL_KEEP_BYTES)
        el_buf_close(&b->body);
    b->next = hl->free_bufs;
    hl->free_bufs = b;
    hl->nfree_bufs++;
}

int el_http_loop_new(uv_loop_t *loop, const struct el_http_opts *opts, struct el_http_loop **out,
                     struct el_err *err)
{
    *out = NULL;
    struct el_http_loop *hl = calloc(1, sizeof(*hl));
    if (hl == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "http: out of memory");
    hl->loop = loop;
    hl->opts = *opts;
    if (hl->opts.group_size == 0)
        hl->opts.group_size = DEFAULT_GROUP_SIZE;
    if (hl->opts.max_body_bytes == 0)
        hl->opts.max_body_bytes = DEFAULT_MAX_BODY;
    hl->opts.ca_file = NULL;
    int rc = 0;
    hl->store = X509_STORE_new();
    if (hl->store == NULL) {
        rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "http: out of memory for the CA store");
        goto fail;
    }
    if (opts->trust_none) {
        /* an empty store: every chain is untrusted */
    } else if (opts->ca_file) {
        hl->ca_file = strdup(opts->ca_file);
        hl->opts.ca_file = hl->ca_file;
        if (hl->ca_file == NULL || X509_STORE_load_file(hl->store, opts->ca_file) != 1) {
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                        "http: cannot load CA certificates from %s", opts->ca_file);
            goto fail;
        }
    } else if (X509_STORE_set_default_paths(hl->store) != 1) {
        rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "http: cannot load the system CA store");
        goto fail;
    }
    /* last, so a failure above leaves no handle for the caller's loop to close */
    hl->kick = malloc(sizeof(*hl->kick));
    hl->held_timer = malloc(sizeof(*hl->held_timer));
    if (hl->kick == NULL || hl->held_timer == NULL) {
        free(hl->kick);
        free(hl->held_timer);
        rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "http: out of memory");
        goto fail;
    }
    uv_idle_init(loop, hl->kick);
    hl->kick->data = hl;
    uv_timer_init(loop, hl->held_timer);
    hl->held_timer->data = hl;
    *out = hl;
    return 0;
fail:
    X509_STORE_free(hl->store);
    free(hl->ca_file);
    free(hl);
    return rc;
}

void el_http_loop_free(struct el_http_loop *hl)
{
    if (hl == NULL)
        return;
    for (unsigned i = 0; i < hl->ngroups; i++) {
        struct el__http_group *g = hl->groups[i];
        if (g == NULL)
            continue;
        curl_multi_cleanup(g->multi); /* closes cached connections: CURL_POLL_REMOVE first */
        uv_close((uv_handle_t *)&g->timer, on_group_closed);
    }
    /* every connection socket was closed above (el__http_close_socket); any left was closed
     * without it: drop its watcher */
    for (size_t fd = 0; fd < hl->nsocks; fd++) {
        if (hl->socks[fd] != NULL)
            sock_drop(hl, hl->socks[fd]);
    }
    free(hl->socks);
    hl->socks = NULL;
    hl->nsocks = 0;
    uv_idle_stop(hl->kick);
    uv_close((uv_handle_t *)hl->kick, on_kick_closed);
    hl->kicks = NULL;
    uv_timer_stop(hl->held_timer);
    uv_close((uv_handle_t *)hl->held_timer, on_kick_closed);
    hl->held = NULL;
    while (hl->free_bufs) {
        struct el__http_rbuf *b = hl->free_bufs;
        hl->free_bufs = b->next;
        el_buf_close(&b->body);
        free(b);
    }
    free(hl->groups);
    X509_STORE_free(hl->store);
    free(hl->ca_file);
    free(hl);
}

void el_http_get_stats(const struct el_http_loop *hl, struct el_http_stats *out)
{
    *out = hl->stats;
}
