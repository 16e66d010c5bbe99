/* engine_int.h - private parts of the engine shared by core/engine_*.c and the Lua bindings in
 * lua/: the worker, a device, a request in flight, and the calls between them.
 * Not for other modules. */
#ifndef EL_ENGINE_INT_H
#define EL_ENGINE_INT_H

#include <stdint.h>

#include <lua.h>
#include <uv.h>

#include "buf.h"
#include "eas.h"
#include "engine.h"
#include "http.h"
#include "results.h"

/* A request in flight, borrowed by a device from the worker's pool while its command runs
 * (several round trips: Provision phase 2, reprovision, redirect, back-off retry). An idle
 * device holds none. */
struct el__eng_req {
    struct el__eng_req *next; /* pool free list */
    struct el_eas_call call;  /* what the script asked for; parameters point into strs */
    struct el_eas_call *prov; /* owned, made on first need: the Provision a PROVISION class
                                 triggered (reprovision, then the call is retried) */
    int in_prov;              /* the running round trip is prov's */
    struct el_buf body;       /* owned: request body, reused */
    char strs[512];           /* copies of the Lua strings call.in points to */
    size_t strs_len;
    uint8_t *raw;        /* owned: RAW body (d:raw) */
    int64_t intended_us; /* monotonic intended start of the command (0 = when sent) */
    int64_t sent_us;     /* monotonic start of the running round trip */
    int64_t first_us;    /* start of the command: intended, else first send */
    unsigned prov_rounds, redirects, throttle_retries, resyncs;
    int64_t backoff_from_us;      /* monotonic start of the running back-off wait, 0 = none */
    struct el_eas_stream *stream; /* borrowed from the worker's pool while a streamed answer
                                     (el_eas_streams) is read, from its first body byte */
    int event;                    /* EL__EV_* to hand to a d:on handler, or -1 */
    int late;
    int64_t latency_us; /* of the whole command, for the result table */
    uint64_t bytes_in, bytes_out;
    unsigned round_trips;
    /* admin call (easload.deliver ...): plain HTTP, the result is a status and a body */
    int admin;
    struct curl_slist *admin_headers; /* owned */
    long admin_status;
    int admin_rc;
    char admin_body[256];
};

/* Free requests the pool keeps: a ramp of thousands of devices in flight at once must not stay
 * in the idle phase's RSS (bench/engine.sh, bytes per idle device). */
#define EL__ENG_POOL_KEEP 64

/* d:on events. */
enum {
    EL__EV_WIPE,
    EL__EV_PROVISION,
    EL__EV_THROTTLED,
    EL__EV_REDIRECT,
    EL__EV_COUNT
};
extern const char *const el__eng_event_names[EL__EV_COUNT];

enum el__dev_state {
    EL__DEV_WAITING, /* not started yet (ramp) or idle between arrivals */
    EL__DEV_RUNNING, /* its coroutine is executing */
    EL__DEV_HTTP,    /* parked in an I/O call */
    EL__DEV_TIMER,   /* parked in d:think or a back-off wait */
    EL__DEV_DONE,    /* finished (closed model) */
};

enum el__timer_kind {
    EL__TK_NONE,
    EL__TK_START,
    EL__TK_THINK,
    EL__TK_BACKOFF,
    EL__TK_REAP
};

struct el_engine;

/* A Lua heap with a cap (lua_sandbox.c's allocator). */
struct el_lua_heap {
    size_t used, max;
    int64_t instr; /* instructions of the main thread and of coroutines that are not a
                      device's own, since the last resume of any device (count hook) */
};

struct el__eng_dev {
    struct el_engine *w; /* owner */
    uint32_t index;      /* global device number, 0-based */
    uint32_t gen;        /* bumped when a coroutine ends: stale handles go dead */
    int state;           /* enum el__dev_state */
    int timer_kind;      /* enum el__timer_kind */
    uv_timer_t timer;    /* embedded: start, think, back-off, reap */
    struct el_eas_device eas;
    int eas_ready;
    struct el_http_conn *conn; /* owned; opened on the first request */
    lua_State *co;             /* the running coroutine (anchored by co_ref) */
    int co_ref;                /* registry reference, LUA_NOREF when none */
    struct el__eng_req *req;   /* borrowed from the pool while a command runs */
    uint64_t rng;              /* d:rand state, seeded from the run seed and index */
    int64_t intended_us;       /* intended start of the next request (arrival, end of think) */
    int64_t slice_instr;       /* instructions since the last resume (count hook) */
    uint64_t bytes_in, bytes_out;
    uint32_t syncs;
    int wiped;
    int late;          /* the arrival that started this coroutine was late */
    unsigned handlers; /* bit per EL__EV_* with a d:on handler (the functions live in
                          the handle's user value) */
    uint32_t requests; /* round trips so far (reconnect accounting) */
};

/* Progress latencies of a forked worker: a coarse log-linear histogram (16 buckets per power of
 * two from 1 us, < 6.25% wide; the last bucket takes everything from 2^32 us up), counted since
 * the start, so the parent sums the workers' latest records and reads a merged p99 off it.
 * Only the live line uses it; results keep the exact histograms. */
#define EL__PROG_SUB     16
#define EL__PROG_BUCKETS (32 * EL__PROG_SUB)

static inline unsigned el__eng_prog_bucket(int64_t us)
{
    if (us < 1)
        return 0;
    unsigned m = 63u - (unsigned)__builtin_clzll((unsigned long long)us); /* 2^m <= us */
    if (m >= 32)
        return EL__PROG_BUCKETS - 1;
    unsigned sub = m >= 4 ? (unsigned)(us >> (m - 4)) & 15u : (unsigned)(us << (4 - m)) & 15u;
    return m * EL__PROG_SUB + sub;
}

/* The middle of bucket i in microseconds. */
static inline int64_t el__eng_prog_value(unsigned i)
{
    unsigned m = i / EL__PROG_SUB, sub = i % EL__PROG_SUB;
    double lo = (double)(1ull << m) * (1.0 + sub / 16.0);
    return (int64_t)(lo + (double)(1ull << m) / 32.0);
}

/* Progress record a forked worker writes to its pipe once a second: one write, atomic because
 * it is under PIPE_BUF; the pipe is non-blocking, so a parent that falls behind costs a record,
 * never a stalled worker. */
struct el__eng_progress {
    uint32_t worker;
    uint32_t active;
    uint64_t requests, errors;
    int64_t p99_us; /* this worker's own, exact */
    int done;
    uint32_t lat[EL__PROG_BUCKETS]; /* since the start: requests by latency bucket */
};
_Static_assert(sizeof(struct el__eng_progress) <= 4096, "a progress record fits in PIPE_BUF");

struct el_engine {
    const struct el_engine_config *cfg; /* borrowed */
    uv_loop_t loop;
    struct el_http_loop *http; /* owned */
    lua_State *L;              /* owned: the worker's one Lua state */
    struct el_lua_heap heap;   /* L's allocator: bytes in use and the cap */
    struct el_results *res;    /* borrowed */
    struct el__eng_dev *devs;  /* owned array */
    uint32_t ndevs;
    struct el__eng_req *free_reqs; /* owned pool */
    unsigned nreqs;                /* requests allocated (in use + free) */
    unsigned nfree_reqs;           /* in the pool; past EL__ENG_POOL_KEEP they are freed */
    struct el_eas_stream *free_streams[EL__ENG_POOL_KEEP]; /* owned pool of parse states */
    unsigned nfree_streams;
    uv_timer_t tick;      /* progress, once a second */
    uv_timer_t end_timer; /* duration, then grace */
    uv_timer_t arrivals;  /* arrival-rate schedule */
    uv_signal_t sigint, sigterm;
    char url[2048]; /* scratch: the URL of the request being started (curl copies) */
    int64_t t0_us;  /* monotonic start */
    int64_t t0_unix_us;
    int64_t end_us; /* monotonic end of the load phase */
    int stopping;   /* 1 load over: running() false, no new requests */
    int hard_stop;  /* 2nd signal or grace over: in-flight canceled */
    int closing;
    uint32_t active;   /* devices whose coroutine is alive */
    uint32_t finished; /* closed model: devices done */
    /* arrival mode */
    uint64_t next_arrival; /* global number of this worker's next arrival */
    uint32_t pending;      /* queued arrivals waiting for a free device */
    int64_t pending_intended[256];
    uint32_t pending_head;
    uint32_t rr; /* next device to try */
    /* progress */
    uint32_t *prog_lat; /* owned, EL__PROG_BUCKETS counts; only in a forked worker */
    uint64_t last_requests;
    int progress_tty_line;
    unsigned script_errors_logged;
    int fatal; /* the worker could not go on (out of memory) */
    char fatal_msg[256];
};

/* ---- engine_worker.c --------------------------------------------------------------------- */
int64_t el__eng_now_us(const struct el_engine *w); /* monotonic microseconds */
int64_t el__eng_unix_us(const struct el_engine *w, int64_t mono_us);
/* d:running(): load phase not over and device not wiped. */
int el__eng_running(const struct el__eng_dev *dev);
/* Starts the graceful stop (duration over, signal). */
void el__eng_stop(struct el_engine *w, const char *why);

/* ---- engine_sched.c ---------------------------------------------------------------------- */
void el__eng_sched_start(struct el_engine *w);
/* A coroutine ended (returned or raised): next arrival, reap, end of run. */
void el__eng_dev_ended(struct el__eng_dev *dev);
/* Parks the device in a timer (d:think, back-off). */
void el__eng_dev_sleep(struct el__eng_dev *dev, int kind, int64_t delay_us);
/* Wakes a device parked in d:think at once (stop). */
void el__eng_wake_thinkers(struct el_engine *w);
/* Every device done, or the load phase over with nothing in flight: close the worker. */
void el__eng_maybe_finish(struct el_engine *w);

/* ---- engine_resume.c --------------------------------------------------------------------- */
/* Starts device(d) in a new coroutine; intended_us is the arrival's intended start. */
int el__eng_dev_begin(struct el__eng_dev *dev, int64_t intended_us);
/* The one place devices resume: runs the coroutine until it yields or ends; a script error is
 * logged (file:line, device id), counted as outcome script_error and the coroutine closed. */
void el_engine_resume(struct el__eng_dev *dev, int nargs);
/* The error object an I/O call raises once the run is stopping: it ends the device's coroutine
 * quietly (not a script error). Its address is the token (a light userdata). */
extern const char el__eng_stop_token;
/* Counts and logs a script error of a device (or of the load, dev NULL). */
void el__eng_script_error(struct el_engine *w, struct el__eng_dev *dev, const char *msg);

/* ---- engine_req.c ------------------------------------------------------------------------ */
struct el__eng_req *el__eng_req_get(struct el_engine *w);
void el__eng_req_put(struct el_engine *w, struct el__eng_req *rq);
/* Copies a string into rq->strs; NULL when it does not fit. */
const char *el__eng_req_str(struct el__eng_req *rq, const char *s, size_t len);
/* Starts dev->req's call. 0 started (the device is parked: the coroutine resumes when the
 * command completes), 1 finished at once (device wiped: the class says so), 2 the run is
 * stopping (the caller ends the coroutine with el__eng_stop_token),
 * negative with err when the script's arguments are wrong (unknown folder). */
int el__eng_req_start(struct el__eng_dev *dev, struct el_err *err);
/* Starts an admin API request (POST path with a JSON body) for dev. Same returns. */
int el__eng_admin_start(struct el__eng_dev *dev, const char *path, const char *json,
                        struct el_err *err);
/* The timer of a back-off wait fired: send the call again. */
void el__eng_req_retry(struct el__eng_dev *dev);
/* Stop: cancels the device's request in flight (its result becomes class canceled). */
void el__eng_req_cancel(struct el__eng_dev *dev);

/* ---- engine_log.c ------------------------------------------------------------------------ */
/* "+12.304 W w3 d4711 eas: message" on stderr; dev_index -1 prints "-". */
void el__eng_log(const struct el_engine *w, int64_t dev_index, int level, const char *module,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- lua/ -------------------------------------------------------------------------------- */
/* lua_sandbox.c: the worker's state with the sandboxed libraries, require limited to the
 * scenario's folder and lua_dir/easload, the heap capped by heap (caller memory: used, max;
 * must outlive the state). NULL on allocation failure. */
lua_State *el_lua_sandbox_new(const struct el_engine_config *cfg, struct el_lua_heap *heap);
/* Loads and runs a file as a text chunk (errors: "file:line: message"). 0 or EL_EINVAL. */
int el_lua_sandbox_dofile(lua_State *L, const char *path, struct el_err *err);
/* The allocator of a capped heap (ud: struct el_lua_heap). */
void *el_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* The device a coroutine belongs to (its extra space), NULL for none. */
struct el__eng_dev *el_lua_dev_of(lua_State *L);
/* lua_device.c: turns the return of a start call (el__eng_req_start, el__eng_admin_start: <0
 * error in err, 2 stopping, 1 finished at once, 0 started) into the binding's return: a Lua
 * error, the stop token, k called directly, or a yield continued by k. */
int el_lua_started(lua_State *L, struct el__eng_dev *dev, int rc, const struct el_err *err,
                   lua_KFunction k);
void el_lua_set_dev(lua_State *L, struct el__eng_dev *dev);

/* lua_scenario.c: scenario{...} -> configuration. */
int el_lua_open_scenario(lua_State *L);
/* Reads the table scenario{} stored into c (only fields present); 0 or EL_EINVAL naming the
 * field. Fails when the script called no scenario{} only if require_call. */
int el_lua_scenario_read(lua_State *L, struct el_engine_config *c, struct el_err *err);

/* lua_device.c: the easload.device userdata. */
int el_lua_open_device(lua_State *L);
/* Pushes a new handle for dev on L. */
void el_lua_push_device(lua_State *L, struct el__eng_dev *dev);

/* lua_admin.c: the easload table (deliver, wipe, policy, now_us, user, users). */
int el_lua_open_admin(lua_State *L);

#endif
