/* results.h - what a run measured, in a form that merges exactly: per command and outcome a
 * latency histogram (hist.h), counters, checks, per-device byte statistics, a per-second
 * timeline; written as results.json (versioned schema, results/README.md), timeline.csv and
 * junit.xml; read back and merged for `easload report` and `easload merge`; thresholds.
 * Knows nothing of EAS beyond names: commands, outcome classes and counters are strings.
 * Uses: hist.h, core/error.h, core/buf.h, jansson (JSON). Not thread-safe: one per worker. */
#ifndef EL_RESULTS_H
#define EL_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "error.h"
#include "hist.h"

struct el_results;

/* Describes the run; strings are copied. Secrets never go here (the caller redacts). */
struct el_results_meta {
    const char *tool_version;
    const char *scenario;       /* scenario name */
    const char *scenario_file;
    const char *target;         /* URL, without credentials */
    const char *config_json;    /* the effective configuration as a JSON object text, redacted */
    int64_t start_unix_us, end_unix_us;
    uint32_t devices;
    uint32_t shard, shards;     /* 0/1 for an unsharded run */
};

int el_results_new(struct el_results **out, struct el_err *err);
void el_results_free(struct el_results *r); /* NULL ok */

/* One finished request. cmd ("sync", "foldersync", ...) and outcome ("ok", "throttled", ...)
 * are names; latency from the intended start (no coordinated omission); `late` says the request
 * started later than intended (arrival-rate schedules). start_unix_us places it in the
 * timeline (one bucket per second). Never fails: out-of-range latencies are counted.
 * (Results layer: every outcome but "ok", "canceled" and "wipe" counts as an error; names are
 * cut to 95 bytes, bytes outside printable ASCII become '_'.) */
void el_results_record(struct el_results *r, const char *cmd, const char *outcome,
                       int64_t latency_us, uint64_t bytes_out, uint64_t bytes_in,
                       int64_t start_unix_us, int late);
/* Adds n to a named counter ("http.503", "eas.status.3", "tls.untrusted_root",
 * "push_latency" is a histogram: use el_results_record_value). */
void el_results_count(struct el_results *r, const char *counter, uint64_t n);
/* A latency-like value in its own histogram (e.g. "push" latency, ms of a think time). */
void el_results_record_value(struct el_results *r, const char *name, int64_t value_us);
/* A scenario check (d:check): counted passes and failures per name. */
void el_results_check(struct el_results *r, const char *name, int passed);
/* Bytes a device moved in total; the run's per-device statistics (mean, max, per sync, MB per
 * device per day extrapolated from the run's duration) are derived from these.
 * (Results layer: repeated calls for one device add up.) */
void el_results_device_bytes(struct el_results *r, uint32_t device, uint64_t bytes_in,
                             uint64_t bytes_out, uint32_t syncs);

/* Adds src into dst (histograms bucket by bucket, counters, checks, timeline, devices). */
int el_results_merge(struct el_results *dst, const struct el_results *src, struct el_err *err);

/* Thresholds: "sync.p99<800ms", "errors.rate<0.1%", "throttled.count==0",
 * "requests.count>=1000"; metric = CMD.(p50|p90|p99|p99.9|max|mean|count|rate) or
 * errors.(count|rate), OUTCOME.(count|rate), checks.failed. 0 or EL_EINVAL naming the bad part. */
int el_results_threshold_add(struct el_results *r, const char *expr, struct el_err *err);
/* Evaluates every threshold and check; returns the number that failed. (Results layer: the
 * writers and the summary evaluate again themselves, so calling this first is not required;
 * grammar and metric meanings in results/README.md.) */
int el_results_evaluate(struct el_results *r);

/* Output. write_json writes the canonical, mergeable file; read_json reads one back (also one
 * written by another machine: shards). */
int el_results_write_json(const struct el_results *r, const struct el_results_meta *meta,
                          const char *path, struct el_err *err);
int el_results_read_json(const char *path, struct el_results **out,
                         struct el_results_meta *meta_out, struct el_err *err);
/* Added by the results layer: read_json fills meta_out with strings it allocates (the config as
 * compact JSON text); this frees them and zeroes *meta. */
void el_results_meta_clear(struct el_results_meta *meta);
int el_results_write_timeline_csv(const struct el_results *r, const char *path,
                                  struct el_err *err);
int el_results_write_junit(const struct el_results *r, const struct el_results_meta *meta,
                           const char *path, struct el_err *err);
/* Added by the results layer (`easload report --html`): one self-contained page (inline SVG, no
 * script, nothing fetched): the report text, latency p50/p99 and requests/errors per second over
 * time, latency percentiles per command, outcome classes, bytes per device; when the run had
 * them, the share throttled per second, the back-off waits and faults by class. Atomic. */
int el_results_write_html(const struct el_results *r, const struct el_results_meta *meta,
                          const char *path, struct el_err *err);
/* The end-of-run table: one row per command (requests, errors, p50/p90/p99/max, bytes), and
 * when the server throttled one line: throttled share, back-off p50/p99, Retry-After honoured. */
void el_results_print_summary(const struct el_results *r, FILE *out);
/* Added by the results layer (`easload report`): a header from meta (scenario, target, start,
 * duration, devices), the summary table, outcome classes, per-device bytes (MB per device per
 * day needs meta's duration), checks and thresholds with PASS/FAIL. */
void el_results_print_report(const struct el_results *r, const struct el_results_meta *meta,
                             FILE *out);
/* Live progress figures since the start: requests, errors and p99 so far of all commands. */
void el_results_totals(const struct el_results *r, uint64_t *requests, uint64_t *errors,
                       int64_t *p99_us);

#endif
