/* srv_fault.h - fault injection of `easload serve` (issue 8): the SPEC language of `--fault` and
 * `POST /faults` ("sync:drop@5%", "ping:latency=2000ms@10%", "all:http500@every100"), the set
 * of active faults, and the draw that says which of them fire for one request.
 * Owns: the set (struct el_srv_faults) and its entries. Uses: srv.h (command names), core/error.h.
 * No h2o here: the HTTP side (srv_http_fault.c) applies what a draw returns, the EAS side gets
 * vanish/resetkey through struct el_srv_request. Draws are deterministic per --seed: whether
 * the n-th request matching an entry fires is a pure function of seed, entry and n.
 *
 * SPEC     := COMMANDS ':' ACTION [ '@' WHEN ]
 * COMMANDS := 'all' | NAME ('+' NAME)*          (command names, any case: sync+ping)
 * ACTION   := 'latency=' DUR                    (answer DUR later; DUR = N 'ms' | N 's')
 *           | 'http500' | 'http503' ['=' SECONDS] | 'http507'  (that status instead, the command
 *                                                not run; http503=S adds Retry-After: S)
 *           | 'drop'                            (command run, connection closed, no answer)
 *           | 'cut'                             (headers and half the body, then closed)
 *           | 'truncate'                        (a complete answer with half the WBXML body)
 *           | 'malformed'                       (WBXML version byte and one more byte inverted)
 *           | 'trickle' ['=' DUR]               (body in about 20 chunks DUR apart; 200ms)
 *           | 'vanish' ['=' N]                  (Sync: N held items per collection deleted on
 *                                                the server first; default 1)
 *           | 'resetkey'                        (Sync status 3 / FolderSync status 9)
 * WHEN     := P '%'                             (each matching request with probability P,
 *                                                0.0001-100, up to 4 decimals)
 *           | 'every' N                         (the N-th, 2N-th, ... matching request)
 *           | DUR '-' DUR                       (every matching request in that window, counted
 *                                                from when the fault was added)
 *           (no WHEN: every matching request) */
#ifndef EL_SRV_FAULT_H
#define EL_SRV_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

enum el_srv_fault_kind {
    EL_SRV_FAULT_LATENCY,
    EL_SRV_FAULT_HTTP500,
    EL_SRV_FAULT_HTTP503,
    EL_SRV_FAULT_HTTP507,
    EL_SRV_FAULT_DROP,
    EL_SRV_FAULT_CUT,
    EL_SRV_FAULT_TRUNCATE,
    EL_SRV_FAULT_MALFORMED,
    EL_SRV_FAULT_TRICKLE,
    EL_SRV_FAULT_VANISH,
    EL_SRV_FAULT_RESETKEY,
    EL_SRV_FAULT_KINDS
};

/* "latency", "http500", ... (the ACTION keyword); NULL out of range. */
const char *el_srv_fault_kind_name(int kind);

enum el_srv_fault_when {
    EL_SRV_WHEN_ALWAYS,
    EL_SRV_WHEN_PROB,
    EL_SRV_WHEN_EVERY,
    EL_SRV_WHEN_WINDOW
};

#define EL_SRV_FAULT_SPEC_MAX 160 /* longest SPEC accepted */
#define EL_SRV_FAULTS_MAX     64  /* entries in one set */

struct el_srv_fault {
    uint32_t cmds;    /* bit (1 << enum el_srv_cmd) per command; 0xFFFFFF = all */
    int kind;         /* enum el_srv_fault_kind */
    unsigned value;   /* latency/trickle: ms; http503: Retry-After s (0 none); vanish: items */
    int when;         /* enum el_srv_fault_when */
    uint32_t ppm;     /* PROB: parts per million, 1..1000000 */
    uint64_t every;   /* EVERY: >= 1 */
    uint64_t from_ms; /* WINDOW: [from_ms, to_ms) after the fault was added */
    uint64_t to_ms;
};

/* Parses one SPEC. 0, or EL_EINVAL with err saying what is wrong and where ("sync:dorp@5%:
 * byte 5: unknown action 'dorp' (latency, http500, ...)"). Never reads past the NUL. */
int el_srv_fault_parse(const char *spec, struct el_srv_fault *out, struct el_err *err);
/* The canonical SPEC of f into out (cap >= EL_SRV_FAULT_SPEC_MAX). Returns out. */
char *el_srv_fault_format(const struct el_srv_fault *f, char *out, size_t cap);

/* What fires for one request (a draw). latency adds up; of the other HTTP-side actions the
 * first entry in the set wins (one answer can only fail one way). */
struct el_srv_fx {
    unsigned latency_ms;
    int action;            /* -1 none, else HTTP500..TRICKLE */
    unsigned action_value; /* its value (http503 Retry-After, trickle ms) */
    unsigned vanish;       /* items per collection, 0 none */
    int resetkey;
    uint64_t rnd; /* random bits for the action (malformed: which byte) */
};

/* A set of active faults. Thread-safe (one mutex); no global state. */
struct el_srv_faults;

/* 0 or EL_ENOMEM. seed: --seed. */
int el_srv_faults_new(uint64_t seed, struct el_srv_faults **out);
void el_srv_faults_free(struct el_srv_faults *s);
/* Adds an entry whose window starts at now_ms. 0, or EL_ELIMIT past EL_SRV_FAULTS_MAX. */
int el_srv_faults_add(struct el_srv_faults *s, const struct el_srv_fault *f, uint64_t now_ms,
                      struct el_err *err);
void el_srv_faults_clear(struct el_srv_faults *s);
/* Number of entries (0 = fault injection off: el_srv_faults_draw then returns at once). */
unsigned el_srv_faults_count(struct el_srv_faults *s);
/* Draws for a request of command cmd (enum el_srv_cmd) at now_ms; fills fx (all zero and
 * action -1 when nothing fires). */
void el_srv_faults_draw(struct el_srv_faults *s, int cmd, uint64_t now_ms, struct el_srv_fx *fx);

/* Counts one applied fault of a kind (the HTTP side calls it when the effect really reached
 * the wire: a truncate of an empty body is not counted). */
void el_srv_faults_note(struct el_srv_faults *s, int kind);
/* Applied counts per kind into out[EL_SRV_FAULT_KINDS]. */
void el_srv_faults_counts(struct el_srv_faults *s, uint64_t out[EL_SRV_FAULT_KINDS]);
/* The entries as a JSON array into out: [{"spec":"sync:drop@5%","matched":N,"fired":N}, ...].
 * 0 or EL_ELIMIT/EL_ENOMEM. */
int el_srv_faults_json(struct el_srv_faults *s, struct el_buf *out);

#endif
