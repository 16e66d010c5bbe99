/* cli_serve.c - `easload serve`: flags, the EAS state, the HTTP listeners, then wait for
 * SIGTERM/SIGINT or --duration and stop gracefully.
 * Owns: the state and the server for the run. Uses: cli.h, server/srv.h, server/srv_http.h.
 * The only place that writes the "listening on" lines to stdout (tests parse them). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "srv.h"
#include "srv_http.h"

/* Unsigned number with an optional suffix from `units` ("k" = 1024 ...); -1 if malformed. */
static int parse_num(const char *s, const char *what, unsigned long long max,
                     unsigned long long *out)
{
    char *end;
    errno = 0;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    unsigned long long mul = 1;
    if (strcmp(what, "bytes") == 0) {
        if (*end == 'k' || *end == 'K')
            mul = 1024, end++;
        else if (*end == 'm' || *end == 'M')
            mul = 1024 * 1024, end++;
    } else if (strcmp(what, "seconds") == 0) {
        if (*end == 's')
            end++;
        else if (*end == 'm')
            mul = 60, end++;
        else if (*end == 'h')
            mul = 3600, end++;
    }
    if (*end != '\0' || v > max / mul)
        return -1;
    *out = v * mul;
    return 0;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The self-pipe the signal handler writes to: the one piece of process-wide state, because a
 * signal handler can reach nothing else. Set before the handler is installed. */
static int stop_pipe_wr = -1;

static void on_stop_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (write(stop_pipe_wr, &b, 1) < 0) {
        /* nothing to do in a handler */
    }
    errno = saved;
}

/* Waits for SIGTERM/SIGINT (through the pipe) or the end of the duration (0 = none). Signals
 * are caught with a handler rather than sigwait, since sanitizer runtimes start threads of their
 * own that would not have the signals blocked. Returns the signal number or 0. */
static int wait_for_stop(int rd, unsigned long long duration_s)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += (time_t)duration_s;
    for (;;) {
        int timeout_ms = -1;
        if (duration_s) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long long left =
                (long long)(end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
            if (left <= 0)
                return 0;
            timeout_ms = left > 1000000 ? 1000000 : (int)left;
        }
        struct pollfd p = {.fd = rd, .events = POLLIN};
        int n = poll(&p, 1, timeout_ms);
        if (n > 0) {
            unsigned char b = 0;
            if (read(rd, &b, 1) == 1)
                return b;
        }
    }
}

int el_cli_serve(const struct el_cli_cmd *cmd, int argc, char **argv)
{
    const char *listen = NULL, *tls_listen = NULL, *cert = NULL, *key = NULL, *chain = NULL;
    const char *admin = NULL, *users = NULL, *users_file = NULL, *seed = NULL, *workers = NULL;
    const char *max_body = NULL, *duration = NULL, *items = NULL, *max_devices = NULL;
    int allow_remote = 0;
    const struct el_cli_flag flags[] = {
        {"--listen", 0, 1, &listen, NULL},
        {"--tls-listen", 0, 1, &tls_listen, NULL},
        {"--cert", 0, 1, &cert, NULL},
        {"--key", 0, 1, &key, NULL},
        {"--chain", 0, 1, &chain, NULL},
        {"--admin", 0, 1, &admin, NULL},
        {"--users", 0, 1, &users, NULL},
        {"--users-file", 0, 1, &users_file, NULL},
        {"--seed", 0, 1, &seed, NULL},
        {"--items", 0, 1, &items, NULL},
        {"--max-devices", 0, 1, &max_devices, NULL},
        {"--workers", 0, 1, &workers, NULL},
        {"--max-body", 0, 1, &max_body, NULL},
        {"--duration", 0, 1, &duration, NULL},
        {"--allow-remote", 0, 0, NULL, &allow_remote},
        {NULL, 0, 0, NULL, NULL},
    };
    const char *pos[1];
    int npos = 0;
    int prc = el_cli_parse(cmd, argc, argv, flags, pos, 0, &npos);
    if (prc != 0)
        return prc > 0 ? EL_EXIT_OK : EL_EXIT_USAGE;

    unsigned long long n_users = 100, n_seed = 1, n_workers = 0, n_body = 16u << 20, n_dur = 0;
    unsigned long long n_items = 0, n_max_dev = 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    n_workers = cores > 0 ? (unsigned long long)cores : 1;
    struct {
        const char *val, *flag, *what;
        unsigned long long min, max, *out;
    } nums[] = {
        {users, "--users", "count", 1, 10000000, &n_users},
        {seed, "--seed", "count", 0, UINT64_MAX, &n_seed},
        {items, "--items", "count", 0, 100000, &n_items},
        {max_devices, "--max-devices", "count", 0, 1000000, &n_max_dev},
        {workers, "--workers", "count", 1, 256, &n_workers},
        {max_body, "--max-body", "bytes", 1, 1ull << 30, &n_body},
        {duration, "--duration", "seconds", 1, 365ull * 86400, &n_dur},
    };
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        if (nums[i].val == NULL)
            continue;
        unsigned long long v;
        if (parse_num(nums[i].val, nums[i].what, nums[i].max, &v) < 0 || v < nums[i].min) {
            el_cli_error(cmd, "%s: bad value '%s' (%llu..%llu%s)", nums[i].flag, nums[i].val,
                         nums[i].min, nums[i].max,
                         strcmp(nums[i].what, "count") == 0 ? "" : ", suffix k/M or s/m/h");
            return EL_EXIT_USAGE;
        }
        *nums[i].out = v;
    }
    if (users && users_file) {
        el_cli_error(cmd, "--users and --users-file exclude each other");
        return EL_EXIT_USAGE;
    }
    if (tls_listen && (cert == NULL || key == NULL)) {
        el_cli_error(cmd, "--tls-listen needs --cert and --key");
        return EL_EXIT_USAGE;
    }
    if (listen == NULL && tls_listen == NULL)
        listen = "127.0.0.1:8080";

    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    /* Worker threads never see SIGTERM/SIGINT: blocked while they start, unblocked in this
     * thread once the handler is in place. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old);

    struct el_err err;
    memset(&err, 0, sizeof(err));
    struct el_srv_config scfg;
    memset(&scfg, 0, sizeof(scfg));
    scfg.nusers = (unsigned)n_users;
    scfg.users_file = users_file;
    scfg.seed = n_seed;
    scfg.items_per_folder = (unsigned)n_items;
    scfg.max_devices = (unsigned)n_max_dev;
    struct el_srv_state *st = NULL;
    int rc = el_srv_state_new(&scfg, &st, &err);
    if (rc < 0) {
        el_cli_error(cmd, "%s", err.msg[0] ? err.msg : el_strerror(rc));
        return rc == EL_EIO ? EL_EXIT_FATAL : EL_EXIT_USAGE;
    }
    struct el_srv_http_config hcfg = {
        .listen = listen,
        .tls_listen = tls_listen,
        .cert_file = cert,
        .key_file = key,
        .chain_file = chain,
        .admin = admin,
        .allow_remote = allow_remote,
        .workers = (unsigned)n_workers,
        .max_body_bytes = (size_t)n_body,
    };
    struct el_srv_http *h = NULL;
    rc = el_srv_http_start(&hcfg, st, &h, &err);
    if (rc < 0) {
        el_cli_error(cmd, "%s", err.msg[0] ? err.msg : el_strerror(rc));
        el_srv_state_free(st);
        return rc == EL_EINVAL ? EL_EXIT_USAGE : EL_EXIT_FATAL;
    }
    int pfd[2] = {-1, -1};
    if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) == 0) {
        stop_pipe_wr = pfd[1];
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
    } else {
        el_cli_error(cmd, "pipe: %s (signals will end the server without a summary)",
                     strerror(errno));
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    static const char *const prefix[3] = {"", "", "admin "};
    for (int i = 0; i < 3; i++) {
        const char *url = el_srv_http_url(h, i);
        if (url)
            printf("easload serve: listening on %s%s\n", prefix[i], url);
    }
    fflush(stdout);

    wait_for_stop(pfd[0], n_dur);
    el_srv_http_stop(h);
    el_srv_http_free(h);
    el_srv_state_free(st);
    if (pfd[0] >= 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        stop_pipe_wr = -1;
        close(pfd[0]);
        close(pfd[1]);
    }
    return EL_EXIT_OK;
}
