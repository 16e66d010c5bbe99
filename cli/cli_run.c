/* cli_run.c - `easload run SCENARIO`: loads the scenario once to read scenario{...}, applies
 * the flags over it (flags win), checks the target is loopback unless --allow-remote, builds
 * the users table (CSV or pattern), takes --shard I/N (the slice this process runs), checks
 * that each worker can get a file descriptor per device (issue 9) and hands the run to the
 * engine.
 * Owns: the run's configuration. Uses: cli.h, core/engine.h, lua/ (scenario reading). */
#include "cli.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "engine_int.h"

#ifndef EL_LUA_DIR
#define EL_LUA_DIR "lua"
#endif

#define DEFAULT_USERS 100
#define SHARDS_MAX    100000
#define RESOLVE_MAX   16

/* --auth NAME (issue 7): the command line's names are the engine's modes */
_Static_assert((int)EL_CLI_AUTH_BASIC == (int)EL_ENGINE_AUTH_BASIC &&
                   (int)EL_CLI_AUTH_BEARER == (int)EL_ENGINE_AUTH_BEARER &&
                   (int)EL_CLI_AUTH_NTLM == (int)EL_ENGINE_AUTH_NTLM &&
                   (int)EL_CLI_AUTH_CERT == (int)EL_ENGINE_AUTH_CERT,
               "--auth names map to the engine's modes");

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* "I/N" -> shard I of N (0-based). 0 or -1. */
static int parse_shard(const char *s, uint32_t *i, uint32_t *n)
{
    char a[16];
    const char *slash = strchr(s, '/');
    if (slash == NULL || (size_t)(slash - s) >= sizeof(a))
        return -1;
    memcpy(a, s, (size_t)(slash - s));
    a[slash - s] = '\0';
    if (parse_u32(a, 0, SHARDS_MAX - 1, i) < 0 || parse_u32(slash + 1, 1, SHARDS_MAX, n) < 0)
        return -1;
    return *i < *n ? 0 : -1;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* --var KEY=VALUE, repeatable: KEY is letters, digits, '_', '.', '-'; a KEY given twice is
 * refused. 0, or -1 after printing the error. */
static int take_vars(const struct el_cli_cmd *cmd, int argc, char **argv,
                     struct el_engine_config *c)
{
    int n = el_cli_collect(argc, argv, "--var", c->vars, EL_ENGINE_VARS_MAX);
    if (n < 0) {
        el_cli_error(cmd, "--var: at most %d", EL_ENGINE_VARS_MAX);
        return -1;
    }
    c->nvars = (unsigned)n;
    for (unsigned i = 0; i < c->nvars; i++) {
        const char *v = c->vars[i];
        size_t k = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");
        if (k == 0 || v[k] != '=') {
            el_cli_error(cmd, "--var '%s': expected KEY=VALUE (KEY: letters, digits, _ . -)", v);
            return -1;
        }
        for (unsigned j = 0; j < i; j++)
            if (strncmp(c->vars[j], v, k + 1) == 0) {
                el_cli_error(cmd, "--var: %.*s given twice", (int)k, v);
                return -1;
            }
    }
    return 0;
}

/* "HOST:PORT:ADDR": HOST and ADDR not empty, PORT 1..65535. */
static int resolve_well_formed(const char *s)
{
    const char *c1 = strchr(s, ':');
    if (c1 == NULL || c1 == s)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long port = strtoul(c1 + 1, &end, 10);
    return errno == 0 && end != c1 + 1 && *end == ':' && end[1] != '\0' && port >= 1 &&
           port <= 65535;
}

/* --resolve HOST:PORT:ADDR, repeatable (as curl's): the entries go to every connection; when one
 * sends the target's host and port to a loopback address, the target counts as loopback.
 * 0, or -1 after printing the error. */
static int take_resolves(const struct el_cli_cmd *cmd, int argc, char **argv, const char *target,
                         struct el_engine_config *c)
{
    const char *rs[RESOLVE_MAX];
    int n = el_cli_collect(argc, argv, "--resolve", rs, RESOLVE_MAX);
    if (n < 0) {
        el_cli_error(cmd, "--resolve: at most %d", RESOLVE_MAX);
        return -1;
    }
    struct el_cli_url u;
    int have_url = target && el_cli_split_url(target, &u) == 0;
    for (int i = 0; i < n; i++) {
        char addr[128], url[160];
        int m = resolve_well_formed(rs[i]) ? 0 : -1;
        if (m == 0 && have_url)
            m = el_cli_resolve_addr(rs[i], u.host, u.port, addr, sizeof(addr));
        if (m < 0) {
            el_cli_error(cmd, "--resolve '%s': expected HOST:PORT:ADDR", rs[i]);
            return -1;
        }
        if (m == 1) {
            snprintf(url, sizeof(url), strchr(addr, ':') ? "http://[%s]/" : "http://%s/", addr);
            c->resolve_loopback = el_engine_url_is_loopback(url);
        }
        struct curl_slist *l = curl_slist_append(c->resolve, rs[i]);
        if (l == NULL) {
            el_cli_error(cmd, "out of memory");
            return -1;
        }
        c->resolve = l;
    }
    return 0;
}

/* --client-certs DIR: every user's DIR/<user>/cert.pem and key.pem must be readable.
 * 0, or -1 after naming the first missing file. */
static int check_client_certs(const struct el_cli_cmd *cmd, const struct el_engine_config *c)
{
    for (uint32_t i = 0; i < c->nusers; i++) {
        static const char *const files[] = {"cert.pem", "key.pem"};
        for (int f = 0; f < 2; f++) {
            char path[1400];
            snprintf(path, sizeof(path), "%s/%s/%s", c->client_cert_dir, c->users[i].name,
                     files[f]);
            if (access(path, R_OK) != 0) {
                el_cli_error(cmd, "--client-certs: %s: %s (user %s)", path, strerror(errno),
                             c->users[i].name);
                return -1;
            }
        }
    }
    return 0;
}

/* The configuration's borrowed --resolve list is freed with it. */
static void config_free(struct el_engine_config *c)
{
    curl_slist_free_all(c->resolve);
    c->resolve = NULL;
    el_engine_config_close(c);
    free(c);
}

/* File descriptors one worker process needs for `devices` devices: one connection each, plus
 * two per libcurl multi handle (groups of 200 devices), plus the loop, the admin connection,
 * the output files and the Lua scripts (a generous fixed margin). */
static unsigned long long fds_needed(uint32_t devices)
{
    return (unsigned long long)devices + 2ull * ((devices + 199) / 200) + 64;
}

/* After raise_nofile: refuses a run whose busiest worker cannot get a descriptor per device,
 * with one line saying what to do (a run that hits EMFILE half-way would only count network
 * errors). 0 when it fits. */
static int check_nofile(const struct el_cli_cmd *cmd, uint32_t devices, unsigned workers)
{
    struct rlimit rl;
    if (workers == 0 || devices == 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
        rl.rlim_cur == RLIM_INFINITY)
        return 0;
    uint32_t per = (devices + workers - 1) / workers;
    unsigned long long need = fds_needed(per);
    if (need <= rl.rlim_cur)
        return 0;
    unsigned long long hard = rl.rlim_max == RLIM_INFINITY ? rl.rlim_cur : rl.rlim_max;
    unsigned long long w = workers;
    while (w < devices && fds_needed((uint32_t)((devices + w - 1) / w)) > rl.rlim_cur)
        w++;
    char hint[80] = "";
    if (fds_needed((uint32_t)((devices + w - 1) / w)) <= rl.rlim_cur && w <= 256)
        snprintf(hint, sizeof(hint), "use --workers %llu or ", w);
    el_cli_error(cmd,
                 "%u devices in %u worker(s) need ~%llu file descriptors per worker, the %s "
                 "limit is %llu: %sraise it (ulimit -Hn)",
                 devices, workers, need, rl.rlim_cur < hard ? "soft" : "hard",
                 (unsigned long long)rl.rlim_cur, hint);
    return -1;
}

/* A scenario that cannot load still leaves results in --out: one script_error. */
static int load_failed(const struct el_cli_cmd *cmd, struct el_engine_config *c, const char *out,
                       const char *msg)
{
    el_cli_error(cmd, "%s", msg);
    curl_slist_free_all(c->resolve);
    c->resolve = NULL;
    struct el_results *res = NULL;
    if (el_results_new(&res, NULL) == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        el_results_record(res, "script", "script_error", 0, 0, 0, now, 0);
        el_engine_write_outputs(c, res, out, now, now);
        el_results_free(res);
    }
    el_engine_config_close(c);
    return EL_EXIT_USAGE;
}

int el_cli_run(const struct el_cli_cmd *cmd, int argc, char **argv)
{
    const char *target = NULL, *devices = NULL, *ramp = NULL, *duration = NULL, *users = NULL;
    const char *pattern = NULL, *user_count = NULL, *out = "results", *workers = NULL;
    const char *ca = NULL, *admin = NULL, *profile = NULL, *seed = NULL, *log = NULL;
    const char *threshold = NULL, *shard = NULL, *resolve = NULL, *var = NULL, *auth = NULL;
    const char *token_file = NULL, *client_certs = NULL;
    int insecure = 0, allow_remote = 0, no_progress = 0;
    const struct el_cli_flag flags[] = {
        {"--target", 't', 1, &target, NULL},
        {"--devices", 'd', 1, &devices, NULL},
        {"--ramp", 0, 1, &ramp, NULL},
        {"--duration", 0, 1, &duration, NULL},
        {"--users", 'u', 1, &users, NULL},
        {"--user-pattern", 0, 1, &pattern, NULL},
        {"--user-count", 0, 1, &user_count, NULL},
        {"--out", 'o', 1, &out, NULL},
        {"--workers", 'w', 1, &workers, NULL},
        {"--ca", 0, 1, &ca, NULL},
        {"--insecure", 'k', 0, NULL, &insecure},
        {"--threshold", 0, 1, &threshold, NULL},
        {"--admin", 0, 1, &admin, NULL},
        {"--profile", 0, 1, &profile, NULL},
        {"--seed", 0, 1, &seed, NULL},
        {"--log", 0, 1, &log, NULL},
        {"--allow-remote", 0, 0, NULL, &allow_remote},
        {"--no-progress", 0, 0, NULL, &no_progress},
        {"--shard", 0, 1, &shard, NULL},
        {"--resolve", 0, 1, &resolve, NULL},
        {"--var", 0, 1, &var, NULL},
        {"--auth", 0, 1, &auth, NULL},
        {"--token-file", 0, 1, &token_file, NULL},
        {"--client-certs", 0, 1, &client_certs, NULL},
        {NULL, 0, 0, NULL, NULL},
    };
    const char *pos[1];
    int npos = 0;
    int prc = el_cli_parse(cmd, argc, argv, flags, pos, 1, &npos);
    if (prc == 1)
        return EL_EXIT_OK;
    if (prc < 0)
        return EL_EXIT_USAGE;
    if (npos != 1) {
        el_cli_error(cmd, "give one scenario file (see --help)");
        return EL_EXIT_USAGE;
    }
    if (ca && insecure) {
        el_cli_error(cmd, "--ca and --insecure exclude each other");
        return EL_EXIT_USAGE;
    }
    if (users && pattern) {
        el_cli_error(cmd, "--users and --user-pattern exclude each other");
        return EL_EXIT_USAGE;
    }
    (void)resolve;
    (void)var; /* repeatable: gathered below */
    int auth_mode = token_file ? EL_ENGINE_AUTH_BEARER : EL_ENGINE_AUTH_BASIC;
    if (auth) {
        auth_mode = el_cli_auth_lookup(auth);
        if (auth_mode < 0) {
            el_cli_error(cmd, "--auth: basic, bearer, ntlm or cert (not '%s')", auth);
            return EL_EXIT_USAGE;
        }
    }
    if ((auth_mode == EL_ENGINE_AUTH_BEARER) != (token_file != NULL)) {
        el_cli_error(cmd, "--auth bearer and --token-file F go together (F: the user,token CSV "
                          "of `easload serve --issue-tokens`)");
        return EL_EXIT_USAGE;
    }
    if (token_file && (users || pattern)) {
        el_cli_error(cmd, "--token-file names the users: no --users or --user-pattern with it");
        return EL_EXIT_USAGE;
    }
    if (auth_mode == EL_ENGINE_AUTH_CERT && client_certs == NULL) {
        el_cli_error(cmd, "--auth cert needs --client-certs DIR (DIR/<user>/cert.pem, key.pem)");
        return EL_EXIT_USAGE;
    }

    struct el_engine_config *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return EL_EXIT_FATAL;
    el_engine_config_init(c);
    c->auth = auth_mode;
    if (take_vars(cmd, argc, argv, c) < 0 || take_resolves(cmd, argc, argv, target, c) < 0) {
        config_free(c);
        return EL_EXIT_USAGE;
    }
    snprintf(c->scenario_path, sizeof(c->scenario_path), "%s", pos[0]);
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", pos[0]);
    snprintf(c->scenario_dir, sizeof(c->scenario_dir), "%s", dirname(tmp));
    const char *ld = getenv("EASLOAD_LUA_DIR");
    snprintf(c->lua_dir, sizeof(c->lua_dir), "%s", ld && *ld ? ld : EL_LUA_DIR);
    snprintf(tmp, sizeof(tmp), "%s", pos[0]);
    char *base = basename(tmp);
    char *dot = strrchr(base, '.');
    if (dot)
        *dot = '\0';
    snprintf(c->name, sizeof(c->name), "%s", base);

    /* the scenario first: flags override its fields */
    struct el_lua_heap heap = {0, (size_t)256 << 20, 0};
    lua_State *L = el_lua_sandbox_new(c, &heap);
    if (L == NULL) {
        config_free(c);
        return EL_EXIT_FATAL;
    }
    struct el_err err = {0};
    int rc = el_lua_sandbox_dofile(L, c->scenario_path, &err);
    if (rc == 0)
        rc = el_lua_scenario_read(L, c, &err);
    if (rc == 0) {
        lua_getglobal(L, "device");
        if (lua_type(L, -1) != LUA_TFUNCTION)
            rc = EL_ERR(&err, EL_EINVAL, EL_NO_OFFSET, "%s: defines no function device(d)",
                        c->scenario_path);
        lua_pop(L, 1);
    }
    lua_close(L);
    if (rc < 0) {
        int x = load_failed(cmd, c, out, err.msg);
        free(c);
        return x;
    }

    int bad = 0;
    int64_t us;
    uint32_t u;
    if (devices) {
        if (parse_u32(devices, 1, 10000000, &u) == 0)
            c->devices = u;
        else {
            el_cli_error(cmd, "--devices: an integer 1..10000000");
            bad = 1;
        }
    }
    if (ramp) {
        if (el_engine_parse_duration(ramp, &us) == 0)
            c->ramp_us = us;
        else {
            el_cli_error(cmd, "--ramp: a duration like 30s");
            bad = 1;
        }
    }
    if (duration) {
        if (el_engine_parse_duration(duration, &us) == 0 && us > 0)
            c->duration_us = us;
        else {
            el_cli_error(cmd, "--duration: a duration like 5m");
            bad = 1;
        }
    }
    if (workers) {
        if (parse_u32(workers, 1, 256, &u) == 0)
            c->workers = u;
        else {
            el_cli_error(cmd, "--workers: 1..256");
            bad = 1;
        }
    } else {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->workers = n > 0 ? (unsigned)n : 1;
    }
    if (seed) {
        if (parse_u32(seed, 0, UINT32_MAX, &u) == 0)
            c->seed = u;
        else {
            el_cli_error(cmd, "--seed: an integer");
            bad = 1;
        }
    }
    if (profile) {
        const struct el_eas_profile *p = el_eas_profile_lookup(profile);
        if (p == NULL) {
            {
                el_cli_error(cmd,
                             "--profile: unknown profile '%s' (android-14.1, ios-16.1, "
                             "outlook-16.1, wm-12.1)",
                             profile);
                bad = 1;
            }
        } else {
            c->shares[0].profile = p;
            c->shares[0].weight = 1;
            c->nshares = 1;
        }
    }
    if (log) {
        static const char *const levels[] = {"error", "warn", "info", "debug", "trace"};
        int lv = -1;
        for (int i = 0; i < 5; i++)
            if (strcmp(log, levels[i]) == 0)
                lv = i;
        if (lv < 0) {
            el_cli_error(cmd, "--log: error, warn, info, debug or trace");
            bad = 1;
        } else
            c->log_level = lv;
    }
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(argv[i], "--threshold=", 12) == 0)
            v = argv[i] + 12;
        if (v && el_engine_config_threshold(c, v, &err) < 0) {
            el_cli_error(cmd, "%s", err.msg);
            bad = 1;
        }
    }
    if (target == NULL) {
        {
            el_cli_error(cmd, "--target URL is required (e.g. http://127.0.0.1:8080)");
            bad = 1;
        }
    } else if (strncmp(target, "http://", 7) != 0 && strncmp(target, "https://", 8) != 0) {
        {
            el_cli_error(cmd, "--target: an http:// or https:// URL");
            bad = 1;
        }
    } else if (!allow_remote && !el_engine_url_is_loopback(target) && !c->resolve_loopback) {
        {
            el_cli_error(cmd,
                         "--target %s is not a loopback address; load goes only to "
                         "127.0.0.1 (or a name --resolve sends there) unless --allow-remote "
                         "is given",
                         target);
            bad = 1;
        }
    } else if (strchr(target + 8, '@') != NULL) {
        {
            el_cli_error(cmd, "--target: credentials go in --users, not in the URL");
            bad = 1;
        }
    } else {
        snprintf(c->target, sizeof(c->target), "%s", target);
    }
    if (admin) {
        if (!el_engine_url_is_loopback(admin) && !allow_remote) {
            el_cli_error(cmd, "--admin must be a loopback URL");
            bad = 1;
        }
        snprintf(c->admin_url, sizeof(c->admin_url), "%s", admin);
        size_t n = strlen(c->admin_url);
        while (n > 0 && c->admin_url[n - 1] == '/')
            c->admin_url[--n] = '\0';
    }
    if (shard && parse_shard(shard, &c->shard, &c->shards) < 0) {
        el_cli_error(cmd, "--shard: I/N with 0 <= I < N <= %u (e.g. 0/4)", SHARDS_MAX);
        bad = 1;
    }
    if (ca)
        snprintf(c->ca_file, sizeof(c->ca_file), "%s", ca);
    c->insecure = insecure;
    if (client_certs) {
        if (strncmp(c->target, "https://", 8) != 0) {
            el_cli_error(cmd, "--client-certs: client certificates need an https:// --target");
            bad = 1;
        } else if (strlen(client_certs) >= sizeof(c->client_cert_dir)) {
            el_cli_error(cmd, "--client-certs: path longer than %zu bytes",
                         sizeof(c->client_cert_dir) - 1);
            bad = 1;
        } else {
            snprintf(c->client_cert_dir, sizeof(c->client_cert_dir), "%s", client_certs);
        }
    }
    if (bad) {
        config_free(c);
        return EL_EXIT_USAGE;
    }

    /* users: flags, else the scenario's `users`, else user%d:pass%d (easload serve's) */
    uint32_t count = c->user_count ? c->user_count : DEFAULT_USERS;
    if (user_count && parse_u32(user_count, 1, 10000000, &count) < 0) {
        el_cli_error(cmd, "--user-count: 1..10000000");
        config_free(c);
        return EL_EXIT_USAGE;
    }
    if (token_file) {
        rc = el_engine_users_csv(c, token_file, &err);
    } else if (users) {
        rc = el_engine_users_csv(c, users, &err);
    } else if (pattern) {
        rc = el_engine_users_pattern(c, pattern, count, &err);
    } else if (c->users_spec[0] && strstr(c->users_spec, "%d") != NULL) {
        rc = el_engine_users_pattern(c, c->users_spec, count, &err);
    } else if (c->users_spec[0]) {
        char path[2100];
        if (c->users_spec[0] == '/')
            snprintf(path, sizeof(path), "%s", c->users_spec);
        else
            snprintf(path, sizeof(path), "%s/%s", c->scenario_dir, c->users_spec);
        rc = el_engine_users_csv(c, path, &err);
    } else {
        rc = el_engine_users_pattern(c, "user%d:pass%d", count, &err);
    }
    if (rc < 0) {
        el_cli_error(cmd, "users: %s", err.msg);
        config_free(c);
        return EL_EXIT_USAGE;
    }
    if (c->client_cert_dir[0] && check_client_certs(cmd, c) < 0) {
        config_free(c);
        return EL_EXIT_USAGE;
    }
    c->progress = no_progress ? 0 : isatty(STDERR_FILENO) ? 1 : 2;
    raise_nofile();
    uint32_t first, end;
    el_engine_shard_range(c, &first, &end);
    if (check_nofile(cmd, end - first, c->workers < end - first ? c->workers : end - first) < 0) {
        config_free(c);
        return EL_EXIT_USAGE;
    }
    char shard_note[96] = "";
    if (c->shards > 1)
        snprintf(shard_note, sizeof(shard_note), " (shard %u/%u: devices %u..%u)", c->shard,
                 c->shards, first + 1, end);
    fprintf(stderr,
            "easload run: %s: %u devices%s, %u users, %u worker(s), ramp %.0fs, duration %.0fs, "
            "target %s\n",
            c->name, c->devices, shard_note, c->nusers,
            c->workers < end - first ? c->workers : end - first, (double)c->ramp_us / 1e6,
            (double)c->duration_us / 1e6, c->target);
    int x = el_engine_run(c, out);
    config_free(c);
    return x;
}
