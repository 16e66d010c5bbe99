/* engine.h - the load engine: a run of simulated phones, each a Lua coroutine with its own
 * connection, one libuv loop per worker process. The configuration (scenario fields overridden
 * by flags), the users table, one worker (el_engine_worker_run) and a whole run with forked
 * workers, merged results and the output files (el_engine_run).
 * Owns: the configuration's strings and users (el_engine_config_close).
 * Uses: core/eas.h, core/http.h, results/results.h, lua/ (scenario state, device bindings). */
#ifndef EL_ENGINE_H
#define EL_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct el_results;
struct el_eas_profile;
struct curl_slist;

/* One user of the target: credentials live here and in the device's precomputed header only;
 * the password is wiped (OPENSSL_cleanse) by el_engine_config_close. */
struct el_engine_user {
    char *name;     /* owned */
    char *password; /* owned, secret */
};

/* One stage of an arrival-rate schedule: the rate moves linearly from the previous stage's
 * rate (0 before the first) to rate_per_s over dur_us. */
struct el_engine_stage {
    int64_t dur_us;
    double rate_per_s;
};

struct el_engine_share {
    const struct el_eas_profile *profile; /* borrowed (static table) */
    double weight;
};

#define EL_ENGINE_STAGES_MAX     16
#define EL_ENGINE_SHARES_MAX     8
#define EL_ENGINE_THRESHOLDS_MAX 32
#define EL_ENGINE_VARS_MAX       32

/* How devices authenticate (--auth). */
enum {
    EL_ENGINE_AUTH_BASIC,  /* Authorization: Basic (the default) */
    EL_ENGINE_AUTH_BEARER, /* Authorization: Bearer <the user's token> */
    EL_ENGINE_AUTH_NTLM,   /* NTLM through libcurl (connection-based) */
    EL_ENGINE_AUTH_CERT,   /* no Authorization: the client certificate names the user */
};

struct el_engine_config {
    /* scenario (lua_scenario.c fills these from scenario{...}; flags override) */
    char scenario_path[1024];
    char scenario_dir[1024];
    char name[64];
    uint32_t devices; /* population (global); in arrival mode the pool size */
    int64_t ramp_us, duration_us;
    int64_t grace_us;   /* in-flight requests may finish after the end */
    int64_t timeout_us; /* per request (long polls add their heartbeat) */
    struct el_engine_stage stages[EL_ENGINE_STAGES_MAX];
    unsigned nstages; /* 0 = closed model: each device runs device(d) once */
    struct el_engine_share shares[EL_ENGINE_SHARES_MAX];
    unsigned nshares;                           /* 0 = android-14.1 */
    char *thresholds[EL_ENGINE_THRESHOLDS_MAX]; /* owned expressions "sync.p99<800ms" */
    unsigned nthresholds;
    char users_spec[1024]; /* scenario `users`: CSV path or 'user%d:pass%d' */
    uint32_t user_count;   /* for a pattern */
    uint64_t seed;
    /* target */
    char target[512];    /* base URL, no credentials */
    char admin_url[256]; /* `easload serve` admin API, "" = none */
    char ca_file[512];   /* "" = system store */
    int insecure;
    /* issue 7: how devices authenticate (EL_ENGINE_AUTH_*; bearer: the users' secret is their
     * token), the folder of per-user client certificates (DIR/<user>/{cert,key}.pem; "" =
     * none), CURLOPT_RESOLVE entries (borrowed, outlive the run), whether they send the target
     * to loopback (then devices bind their own source address, as for a loopback target), and
     * the scenario's --var KEY=VALUE strings (borrowed from argv; easload.var) */
    int auth;
    char client_cert_dir[512];
    struct curl_slist *resolve;
    int resolve_loopback;
    const char *vars[EL_ENGINE_VARS_MAX];
    unsigned nvars;
    /* users (owned) */
    struct el_engine_user *users;
    uint32_t nusers;
    /* process */
    unsigned workers;
    size_t lua_heap_max; /* bytes per worker's Lua state */
    char lua_dir[1024];  /* folder holding the easload/ Lua helpers */
    int log_level;       /* EL_LOG_* */
    int progress;        /* 0 none, 1 TTY line, 2 plain lines */
    /* --shard i/N: this process runs slice i (0-based, like a Kubernetes completion index) of
     * the global population, devices [devices * i / N, devices * (i + 1) / N), and arrivals
     * a with a % N == i; 0/1 = the whole run. Device numbers, users, seeds and profiles are
     * those of the unsharded run, so merged shard results equal it. */
    uint32_t shard, shards;
    /* one worker's part of the slice: every nworkers-th device of it from the worker_id-th */
    unsigned worker_id, nworkers;
    int progress_fd; /* >= 0: a worker sends progress records here */
};

enum {
    EL_LOG_ERROR,
    EL_LOG_WARN,
    EL_LOG_INFO,
    EL_LOG_DEBUG,
    EL_LOG_TRACE
};

/* Defaults: 10 devices, 60 s, no ramp, android-14.1, 5 s grace, 60 s request timeout, 1 GiB
 * Lua heap, seed 1. */
void el_engine_config_init(struct el_engine_config *c);
void el_engine_config_close(struct el_engine_config *c);
/* Adds a threshold expression (copied). 0 or EL_ELIMIT. */
int el_engine_config_threshold(struct el_engine_config *c, const char *expr, struct el_err *err);

/* Users: a CSV file with a header line `user,password[,email,...]` (or `user,token`: the
 * bearer tokens `easload serve --issue-tokens` writes), or a pattern
 * 'user%d:pass%d' expanded for 1..count (only %d and %% are allowed). 0 or EL_EINVAL/EL_EIO. */
int el_engine_users_csv(struct el_engine_config *c, const char *path, struct el_err *err);
int el_engine_users_pattern(struct el_engine_config *c, const char *pattern, uint32_t count,
                            struct el_err *err);

/* "30s", "5m", "1h", "250ms", "1m30s", or a plain number of seconds -> microseconds.
 * 0 or EL_EINVAL. */
int el_engine_parse_duration(const char *s, int64_t *out_us);
/* 1 when url's host is loopback (127.0.0.0/8, localhost, [::1]). */
int el_engine_url_is_loopback(const char *url);

/* The shard's slice of global device numbers: [*first, *end). */
void el_engine_shard_range(const struct el_engine_config *c, uint32_t *first, uint32_t *end);

/* Runs one worker in this process: its slice of the devices, until the duration ends, every
 * device has finished, or SIGINT/SIGTERM (graceful: in-flight requests are canceled, coroutines
 * closed). Records into res (caller's). 0, or a negative code when the worker could not run
 * (err says why); a run where requests failed is still 0. */
int el_engine_worker_run(const struct el_engine_config *c, struct el_results *res,
                         int64_t *start_unix_us, int64_t *end_unix_us, struct el_err *err);

/* A whole run: forks c->workers workers (1 = in this process), merges their results, evaluates
 * thresholds and checks, writes results.json, timeline.csv and junit.xml into out_dir (also
 * after Ctrl-C or a worker's failure) and prints the summary to stdout.
 * Returns the exit code: 0 ok, 1 a threshold or check failed, 3 fatal (a worker failed, the
 * outputs could not be written, or the target was unreachable). */
int el_engine_run(struct el_engine_config *c, const char *out_dir);
/* Writes results.json, timeline.csv and junit.xml of res into out_dir (made if missing); the
 * target is written without credentials. 0 or -1 (a line on stderr says why). */
int el_engine_write_outputs(const struct el_engine_config *c, struct el_results *res,
                            const char *out_dir, int64_t start_us, int64_t end_us);

#endif
