/* cli_run.c - `easload run SCENARIO`: loads the scenario once to read scenario{...}, applies
 * the flags over it (flags win), checks the target is loopback unless --allow-remote, builds
 * the users table (CSV or pattern), takes --shard I/N (the slice this process runs) and hands
 * the run to the engine.
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

#include <lauxlib.h>

#include "engine_int.h"

#ifndef EL_LUA_DIR
#define EL_LUA_DIR "lua"
#endif

#define DEFAULT_USERS 100
#define SHARDS_MAX    100000

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

/* A scenario that cannot load still leaves results in --out: one script_error. */
static int load_failed(const struct el_cli_cmd *cmd, struct el_engine_config *c, const char *out,
                       const char *msg)
{
    el_cli_error(cmd, "%s", msg);
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
    const char *threshold = NULL, *shard = NULL;
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

    struct el_engine_config *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return EL_EXIT_FATAL;
    el_engine_config_init(c);
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
        el_engine_config_close(c);
        free(c);
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
    } else if (!allow_remote && !el_engine_url_is_loopback(target)) {
        {
            el_cli_error(cmd,
                         "--target %s is not a loopback address; load goes only to "
                         "127.0.0.1 unless --allow-remote is given",
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
    if (bad) {
        el_engine_config_close(c);
        free(c);
        return EL_EXIT_USAGE;
    }

    /* users: flags, else the scenario's `users`, else user%d:pass%d (easload serve's) */
    uint32_t count = c->user_count ? c->user_count : DEFAULT_USERS;
    if (user_count && parse_u32(user_count, 1, 10000000, &count) < 0) {
        el_cli_error(cmd, "--user-count: 1..10000000");
        el_engine_config_close(c);
        free(c);
        return EL_EXIT_USAGE;
    }
    if (users) {
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
        el_engine_config_close(c);
        free(c);
        return EL_EXIT_USAGE;
    }
    c->progress = no_progress ? 0 : isatty(STDERR_FILENO) ? 1 : 2;
    raise_nofile();
    uint32_t first, end;
    el_engine_shard_range(c, &first, &end);
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
    el_engine_config_close(c);
    free(c);
    return x;
}
