/* results_int.h - private parts of the results store shared by the results .c files: the
 * struct behind struct el_results, the name table, the timeline, thresholds, derived statistics.
 * Owns: nothing itself. Uses: results.h, hist.h. Not for other modules. */
#ifndef EL_RESULTS_INT_H
#define EL_RESULTS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "results.h"

/* Limits that keep a run's results bounded whatever a scenario does. */
#define EL__RS_NAME_MAX_BYTES    96      /* longer names are cut */
#define EL__RS_NAMES_MAX         4096    /* distinct names; further ones become "other" */
#define EL__RS_SERIES_MAX        256     /* (command, outcome) and value histograms (185 KB each) */
#define EL__RS_SECONDS_MAX       2678400 /* timeline seconds kept (31 days) */
#define EL__RS_THRESHOLDS_MAX    256
#define EL__RS_TIMELINE_SIG_FIGS 2 /* per-second latency: within 1% */

#define EL__RS_NONE UINT32_MAX

/* Interned names: commands, outcomes, counters, checks, value histograms. */
struct el__rs_names {
    char **str; /* owner: this table; each a malloc'd NUL-terminated copy */
    uint32_t n, cap;
    uint32_t *slots; /* owner: this table; open addressing, index + 1 (0 = empty) */
    uint32_t nslots; /* power of two, > 2 * n */
};

enum el__rs_kind {
    EL__RS_REQUEST, /* (command, outcome) latency of requests */
    EL__RS_VALUE,   /* el_results_record_value: a named histogram of its own */
};

struct el__rs_series {
    enum el__rs_kind kind;
    uint32_t cmd;         /* name id: command (REQUEST) or value name (VALUE) */
    uint32_t outcome;     /* name id (REQUEST); EL__RS_NONE (VALUE) */
    bool error;           /* REQUEST: the outcome counts as an error (el__rs_outcome_is_error) */
    bool throttled;       /* REQUEST: the outcome is "throttled" (the timeline counts it) */
    struct el_hist *hist; /* owner: this series (el_hist_new) */
    uint64_t late, bytes_in, bytes_out;
};

struct el__rs_counter {
    uint32_t name;
    uint64_t n;
};

struct el__rs_check {
    uint32_t name;
    uint64_t passed, failed;
};

struct el__rs_device {
    uint32_t id;
    uint32_t syncs;
    uint64_t bytes_in, bytes_out;
};

/* One latency class of a second: every sample whose bucket (timeline configuration) starts at
 * key_us. Kept sorted by key_us. */
struct el__rs_entry {
    int64_t key_us;
    uint64_t count;
};

struct el__rs_second {
    int64_t t; /* unix second */
    uint64_t requests, errors, bytes_in, bytes_out;
    uint64_t throttled;           /* requests of outcome "throttled" (0 when !timeline_throttled) */
    struct el__rs_entry *entries; /* owner: this second; sorted by key_us, n_entries used */
    uint32_t n_entries, cap_entries;
};

/* A parsed threshold: METRIC OP VALUE. */
enum el_threshold_stat {
    EL_THRESHOLD_P50,
    EL_THRESHOLD_P90,
    EL_THRESHOLD_P99,
    EL_THRESHOLD_P999,
    EL_THRESHOLD_MAX,
    EL_THRESHOLD_MEAN,
    EL_THRESHOLD_COUNT,
    EL_THRESHOLD_RATE,
    EL_THRESHOLD_FAILED,
};

enum el_threshold_op {
    EL_THRESHOLD_LT,
    EL_THRESHOLD_LE,
    EL_THRESHOLD_GT,
    EL_THRESHOLD_GE,
    EL_THRESHOLD_EQ,
    EL_THRESHOLD_NE,
};

#define EL_THRESHOLD_EXPR_MAX 160

struct el_threshold {
    char expr[EL_THRESHOLD_EXPR_MAX]; /* as given, spaces removed */
    char name[EL__RS_NAME_MAX_BYTES]; /* "sync", "errors", "requests", "throttled", "checks" */
    enum el_threshold_stat stat;
    enum el_threshold_op op;
    double limit; /* us for latency stats, a fraction for rate, a number for count/failed */
};

/* What a threshold measured. */
struct el_threshold_result {
    bool passed;
    bool has_value; /* false: nothing to measure (a latency of a command without samples) */
    double value;   /* same unit as el_threshold.limit */
    char message[256];
};

struct el_results {
    struct el_hist_config hist_cfg;     /* of every series histogram */
    struct el_hist_config timeline_cfg; /* of the per-second latency classes */
    struct el_hist *timeline_scratch;   /* owner: r; timeline_cfg, for bucket arithmetic */
    struct el__rs_names names;
    struct el__rs_series *series; /* owner: r */
    uint32_t n_series, cap_series;
    struct el__rs_counter *counters; /* owner: r */
    uint32_t n_counters, cap_counters;
    struct el__rs_check *checks; /* owner: r */
    uint32_t n_checks, cap_checks;
    struct el__rs_device *devices; /* owner: r; in order of first report */
    uint32_t n_devices, cap_devices;
    uint32_t *device_slots; /* owner: r; open addressing on id, index + 1 (0 = empty) */
    uint32_t n_device_slots;
    struct el__rs_second *seconds; /* owner: r; sorted by t */
    uint32_t n_seconds, cap_seconds;
    uint64_t timeline_dropped;       /* records outside the kept timeline */
    bool timeline_throttled;         /* seconds count throttled requests: true unless read from (or
                                        merged with) a file written before that column existed */
    struct el_threshold *thresholds; /* owner: r */
    struct el_threshold_result *threshold_results; /* owner: r; filled by el_results_evaluate */
    uint32_t n_thresholds, cap_thresholds;
};

/* --- results.c ------------------------------------------------------------------------------ */

/* Allocation failure after start-up: one line on stderr, then abort (style.md, Errors). */
_Noreturn void el__rs_oom(const char *what);
/* Grows *arr (elements of size) so that index n fits; aborts on allocation failure. */
void el__rs_grow(void **arr, uint32_t *cap, uint32_t n, size_t size, const char *what);
/* Name id of s (interned on first use); "other" once the table is full. */
uint32_t el__rs_intern(struct el_results *r, const char *s);
/* Name id of s, or EL__RS_NONE if s was never interned. */
uint32_t el__rs_lookup(const struct el_results *r, const char *s);
static inline const char *el__rs_name(const struct el_results *r, uint32_t id)
{
    return r->names.str[id];
}
/* True for outcomes that are not errors: "ok", "canceled", "wipe". */
bool el__rs_outcome_is_error(const char *outcome);
/* The series of (kind, cmd, outcome), created on first use; past EL__RS_SERIES_MAX - 2 the
 * overflow series of "other". Never NULL. */
struct el__rs_series *el__rs_series_get(struct el_results *r, enum el__rs_kind kind, uint32_t cmd,
                                        uint32_t outcome);
struct el__rs_counter *el__rs_counter_get(struct el_results *r, uint32_t name);
struct el__rs_check *el__rs_check_get(struct el_results *r, uint32_t name);
struct el__rs_device *el__rs_device_get(struct el_results *r, uint32_t id);
/* Sorted index arrays (caller frees): name ids of commands / outcomes / values in name order;
 * *n receives the count. */
uint32_t *el__rs_sorted_names(const struct el_results *r, int which, uint32_t *n);
enum {
    EL__RS_COMMANDS,
    EL__RS_OUTCOMES,
    EL__RS_VALUES,
    EL__RS_COUNTERS,
    EL__RS_CHECKS
};
/* Indices of r->devices sorted by device id (caller frees). */
uint32_t *el__rs_sorted_devices(const struct el_results *r);

/* --- results_timeline.c --------------------------------------------------------------------- */

/* Adds one request to second floor(start_unix_us / 1e6). */
void el__rs_timeline_record(struct el_results *r, int64_t start_unix_us, int64_t latency_us,
                            bool error, bool throttled, uint64_t bytes_out, uint64_t bytes_in);
/* The second t, created (empty) on first use; NULL past EL__RS_SECONDS_MAX. */
struct el__rs_second *el__rs_second_get(struct el_results *r, int64_t t);
/* Adds count samples of class key_us to s. */
void el__rs_second_add(struct el__rs_second *s, int64_t key_us, uint64_t count);
/* Fills scratch (timeline configuration) with s's latency classes. */
void el__rs_second_fill(const struct el__rs_second *s, struct el_hist *scratch);
void el__rs_timeline_free(struct el_results *r);

/* --- results_stats.c: numbers derived from the stored state ------------------------------- */

struct el__rs_stats {
    uint64_t requests, errors, late, bytes_in, bytes_out;
};

/* Merges into h (emptied first, r->hist_cfg) every REQUEST series of command cmd
 * (EL__RS_NONE: all commands) and outcome outcome (EL__RS_NONE: all); fills st if not NULL. */
void el__rs_collect(const struct el_results *r, uint32_t cmd, uint32_t outcome, struct el_hist *h,
                    struct el__rs_stats *st);
/* Total of all REQUEST series of outcome id (any command). */
void el__rs_outcome_stats(const struct el_results *r, uint32_t outcome, struct el__rs_stats *st);

/* What a run saw of server throttling, from the outcome "throttled", the counters the engine
 * keeps (http.503, http.451, eas.CMD.status.177, throttle.waits, throttle.retry_after_honoured,
 * throttle.backoff_exponential) and the value histogram "backoff" (each wait's length). */
struct el__rs_throttling {
    uint64_t requests, throttled;            /* every request; of outcome "throttled" */
    uint64_t http_503, http_451, status_177; /* status_177: summed over commands */
    uint64_t waits, retry_after, exponential;
    const struct el_hist *backoff; /* borrowed from r: the "backoff" histogram, NULL if none */
};
/* Fills t; returns true if the run was throttled at all (a throttled request, a 503, a wait). */
bool el__rs_throttling(const struct el_results *r, struct el__rs_throttling *t);

struct el__rs_device_stats {
    uint64_t devices, syncs;
    double in_mean, out_mean, total_mean;
    uint64_t in_max, out_max, total_max;
    double bytes_per_sync;        /* 0 without syncs */
    double mb_per_device_per_day; /* mean total bytes per device over duration_s, x 86400 / 1e6 */
};
void el__rs_device_stats(const struct el_results *r, double duration_s,
                         struct el__rs_device_stats *out);

/* --- threshold.c ---------------------------------------------------------------------------- */

/* Parses "sync.p99<800ms"; spaces are ignored. 0 or EL_EINVAL naming the bad part. */
int el_threshold_parse(const char *expr, struct el_threshold *out, struct el_err *err);
/* Measures t against r (does not change r). */
void el_threshold_eval(const struct el_results *r, const struct el_threshold *t,
                       struct el_threshold_result *out);
/* "<", "<=", ... */
const char *el_threshold_op_name(enum el_threshold_op op);
/* Formats a value of t's stat with its unit ("812.3 ms", "0.12%", "17"). */
void el_threshold_format(const struct el_threshold *t, double value, char *buf, size_t n);

/* --- results_json.c ------------------------------------------------------------------------- */

#define EL_RESULTS_SCHEMA "easload.results/1"

/* Writes n bytes to path through path.tmp.PID, fsync and rename(2): readers see the old file or
 * the whole new one. 0 or EL_EIO / EL_EINVAL with err. */
int el__rs_write_atomic(const char *path, const void *p, size_t n, struct el_err *err);

#endif
