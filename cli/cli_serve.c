/* cli_serve.c - `easload serve`: flags (incl. the throttling knobs and --fault SPECs of issue 8,
 * docs/server.md), the EAS state, the HTTP listeners, then wait for SIGTERM/SIGINT or --duration
 * and stop gracefully.
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
        else if (*end == 'g' || *end == 'G')
            mul = 1024ull * 1024 * 1024, end++;
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

/* The flags' values, handed from el_cli_serve to serve(). Strings borrowed from argv. */
struct serve_args {
    const char *listen, *tls_listen, *cert, *key, *chain, *cert_fixture, *admin, *users;
    const char *users_file;
    const char *tokens_file; /* --issue-tokens (issue 7) */
    const char *client_ca;   /* --client-ca (issue 7) */
    int ntlm;                /* --ntlm (issue 7) */
    int allow_remote;
    int no_policy; /* --no-policy (bench/peers) */
    int sync_replay; /* --sync-replay (bench/engine.sh) */
    unsigned long long n_users, n_seed, n_workers, n_body, n_dur, n_items, n_max_dev, n_quota;
    struct el_srv_limits_config limits;
    const char *const *faults; /* NULL-terminated */
};

static int serve(const struct el_cli_cmd *cmd, const struct serve_args *a);

int el_cli_serve(const struct el_cli_cmd *cmd, int argc, char **argv)
{
    const char *listen = NULL, *tls_listen = NULL, *cert = NULL, *key = NULL, *chain = NULL;
    const char *admin = NULL, *users = NULL, *users_file = NULL, *seed = NULL, *workers = NULL;
    const char *max_body = NULL, *duration = NULL, *items = NULL, *max_devices = NULL;
    const char *cert_fixture = NULL, *tokens_file = NULL, *client_ca = NULL;
    const char *max_dev_user = NULL, *max_conc = NULL, *budget = NULL, *retry_after = NULL;
    const char *quota = NULL, *redirect = NULL, *fault = NULL;
    int allow_remote = 0, no_policy = 0, sync_replay = 0, ntlm = 0;
    const struct el_cli_flag flags[] = {
        {"--listen", 0, 1, &listen, NULL},
        {"--tls-listen", 0, 1, &tls_listen, NULL},
        {"--cert", 0, 1, &cert, NULL},
        {"--key", 0, 1, &key, NULL},
        {"--chain", 0, 1, &chain, NULL},
        {"--cert-fixture", 0, 1, &cert_fixture, NULL},
        {"--issue-tokens", 0, 1, &tokens_file, NULL},
        {"--client-ca", 0, 1, &client_ca, NULL},
        {"--ntlm", 0, 0, NULL, &ntlm},
        {"--admin", 0, 1, &admin, NULL},
        {"--users", 0, 1, &users, NULL},
        {"--users-file", 0, 1, &users_file, NULL},
        {"--seed", 0, 1, &seed, NULL},
        {"--items", 0, 1, &items, NULL},
        {"--max-devices", 0, 1, &max_devices, NULL},
        {"--max-devices-per-user", 0, 1, &max_dev_user, NULL},
        {"--max-concurrency-per-user", 0, 1, &max_conc, NULL},
        {"--budget-per-user", 0, 1, &budget, NULL},
        {"--retry-after", 0, 1, &retry_after, NULL},
        {"--mailbox-quota", 0, 1, &quota, NULL},
        {"--redirect", 0, 1, &redirect, NULL},
        {"--fault", 0, 1, &fault, NULL},
        {"--workers", 0, 1, &workers, NULL},
        {"--max-body", 0, 1, &max_body, NULL},
        {"--duration", 0, 1, &duration, NULL},
        {"--allow-remote", 0, 0, NULL, &allow_remote},
        {"--no-policy", 0, 0, NULL, &no_policy},
        {"--sync-replay", 0, 0, NULL, &sync_replay},
        {NULL, 0, 0, NULL, NULL},
    };
    const char *pos[1];
    int npos = 0;
    int prc = el_cli_parse(cmd, argc, argv, flags, pos, 0, &npos);
    if (prc != 0)
        return prc > 0 ? EL_EXIT_OK : EL_EXIT_USAGE;

    unsigned long long n_users = 100, n_seed = 1, n_workers = 0, n_body = 16u << 20, n_dur = 0;
    /* 10 device partnerships per mailbox, as Exchange (EASMaxDevices); 0 = no limit */
    unsigned long long n_items = 0, n_max_dev = 10, n_conc = 0, n_retry = 5, n_quota = 0;
    if (max_devices && max_dev_user) {
        el_cli_error(cmd, "--max-devices and --max-devices-per-user are the same flag: give one");
        return EL_EXIT_USAGE;
    }
    if (max_dev_user)
        max_devices = max_dev_user;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    n_workers = cores > 0 ? (unsigned long long)cores : 1;
    struct {
        const char *val, *flag, *what;
        unsigned long long min, max, *out;
    } nums[] = {
        {users, "--users", "count", 1, 10000000, &n_users},
        {seed, "--seed", "count", 0, UINT64_MAX, &n_seed},
        {items, "--items", "count", 0, 100000, &n_items},
        {max_devices, "--max-devices-per-user", "count", 0, 1000000, &n_max_dev},
        {max_conc, "--max-concurrency-per-user", "count", 0, 1000000, &n_conc},
        {retry_after, "--retry-after", "seconds", 0, 86400, &n_retry},
        {quota, "--mailbox-quota", "bytes", 0, 1ull << 50, &n_quota},
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
                         strcmp(nums[i].what, "count") == 0 ? "" : ", suffix k/M/G or s/m/h");
            return EL_EXIT_USAGE;
        }
        *nums[i].out = v;
    }
    unsigned n_budget = 0, n_window = 60;
    if (budget && el_srv_limits_parse_budget(budget, &n_budget, &n_window) < 0) {
        el_cli_error(cmd, "--budget-per-user: bad value '%s' (N/60s, N/5m, N/1h or N per 60 s)",
                     budget);
        return EL_EXIT_USAGE;
    }
    /* --fault is repeatable: gather every occurrence (el_cli_parse keeps the last) */
    const char **faults = calloc((size_t)argc + 1, sizeof(*faults));
    if (faults == NULL) {
        el_cli_error(cmd, "out of memory");
        return EL_EXIT_FATAL;
    }
    size_t nfaults = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fault") == 0 && i + 1 < argc)
            faults[nfaults++] = argv[++i];
        else if (strncmp(argv[i], "--fault=", 8) == 0)
            faults[nfaults++] = argv[i] + 8;
    }
    (void)fault;
    int code = serve(cmd, &(struct serve_args){
                              .listen = listen,
                              .tls_listen = tls_listen,
                              .cert = cert,
                              .key = key,
                              .chain = chain,
                              .cert_fixture = cert_fixture,
                              .tokens_file = tokens_file,
                              .client_ca = client_ca,
                              .ntlm = ntlm,
                              .admin = admin,
                              .users = users,
                              .users_file = users_file,
                              .allow_remote = allow_remote,
                              .no_policy = no_policy,
                              .sync_replay = sync_replay,
                              .n_users = n_users,
                              .n_seed = n_seed,
                              .n_workers = n_workers,
                              .n_body = n_body,
                              .n_dur = n_dur,
                              .n_items = n_items,
                              .n_max_dev = n_max_dev,
                              .n_quota = n_quota,
                              .limits = {.max_concurrency = (unsigned)n_conc,
                                         .budget = n_budget,
                                         .budget_window_s = n_window,
                                         .retry_after_s = (unsigned)n_retry,
                                         .redirect = redirect},
                              .faults = faults,
                          });
    free(faults);
    return code;
}

/* The run itself, once the flags are read. */
static int serve(const struct el_cli_cmd *cmd, const struct serve_args *a)
{
    const char *listen = a->listen, *tls_listen = a->tls_listen, *cert = a->cert, *key = a->key;
    const char *chain = a->chain, *admin = a->admin, *users = a->users;
    const char *users_file = a->users_file, *cert_fixture = a->cert_fixture;
    int allow_remote = a->allow_remote;
    unsigned long long n_users = a->n_users, n_seed = a->n_seed, n_workers = a->n_workers;
    unsigned long long n_body = a->n_body, n_dur = a->n_dur, n_items = a->n_items;
    unsigned long long n_max_dev = a->n_max_dev;
    if (users && users_file) {
        el_cli_error(cmd, "--users and --users-file exclude each other");
        return EL_EXIT_USAGE;
    }
    /* --cert-fixture DIR/NAME: a chain of `easload certs make` (cert.pem holds the leaf and what
     * the server sends after it, key.pem its key) */
    char fx_cert[1024], fx_key[1024];
    if (cert_fixture) {
        if (cert || key || chain) {
            el_cli_error(cmd, "--cert-fixture excludes --cert, --key and --chain");
            return EL_EXIT_USAGE;
        }
        if ((size_t)snprintf(fx_cert, sizeof(fx_cert), "%s/cert.pem", cert_fixture) >=
                sizeof(fx_cert) ||
            (size_t)snprintf(fx_key, sizeof(fx_key), "%s/key.pem", cert_fixture) >=
                sizeof(fx_key)) {
            el_cli_error(cmd, "--cert-fixture: path too long");
            return EL_EXIT_USAGE;
        }
        cert = fx_cert;
        key = fx_key;
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
    scfg.mailbox_quota_bytes = a->n_quota;
    scfg.no_policy = a->no_policy;
    scfg.sync_replay = a->sync_replay;
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
        .limits = a->limits,
        .faults = a->faults,
        .seed = n_seed,
        .tokens_file = a->tokens_file,
        .client_ca_file = a->client_ca,
        .ntlm = a->ntlm,
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
    /* issue 9: what the descriptor limit allows (stderr: stdout is parsed by tests) */
    struct rlimit nofile;
    uint64_t room = el_srv_http_conn_room(h);
    if (room && getrlimit(RLIMIT_NOFILE, &nofile) == 0)
        fprintf(stderr,
                "easload serve: descriptor limit %llu (hard %llu): room for %llu connections\n",
                (unsigned long long)nofile.rlim_cur, (unsigned long long)nofile.rlim_max,
                (unsigned long long)room);

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
