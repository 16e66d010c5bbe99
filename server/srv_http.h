/* srv_http.h - the HTTP side of `easload serve` as the CLI sees it: start listeners and worker
 * threads over an EAS state, stop them, read the counters.
 * Owns: the server context (struct el_srv_http), its threads, loops, sockets and TLS context.
 * Uses: srv.h (the EAS side it calls), core/error.h. h2o and libuv stay behind srv_http_int.h. */
#ifndef EL_SRV_HTTP_H
#define EL_SRV_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "srv.h"
#include "srv_fault.h"
#include "srv_limits.h"

/* Listener address "HOST:PORT" (IPv4 or [IPv6]); port 0 = the kernel picks one. */
struct el_srv_http_config {
    const char *listen;     /* plain HTTP EAS listener, NULL = none */
    const char *tls_listen; /* HTTPS EAS listener, NULL = none (then cert/key unused) */
    const char *cert_file;  /* PEM certificate (may hold the chain too) */
    const char *key_file;   /* PEM private key */
    const char *chain_file; /* extra PEM intermediates, NULL = none */
    const char *admin;      /* admin JSON API listener, NULL = none */
    int allow_remote;       /* 0: refuse addresses other than loopback */
    unsigned workers;       /* worker threads, each with its own loop (>= 1) */
    size_t max_body_bytes;  /* request bodies above this get 413 */
    /* Added for issue 8 (throttling and fault injection; all zero/NULL = off): */
    struct el_srv_limits_config limits; /* per-user concurrency, budget, redirect */
    const char *const *faults;          /* --fault SPECs, NULL-terminated; NULL = none */
    uint64_t seed;                      /* --seed: fault draws are deterministic per seed */
    /* Added for issue 7: write one bearer token per user to this file ("user,token" CSV) and
     * accept "Authorization: Bearer <token>" besides Basic; NULL = Basic only. */
    const char *tokens_file;
    /* Issue 7: require a client certificate issued by this CA (PEM) in the TLS handshake; a
     * client without one fails the handshake. NULL = none asked. */
    const char *client_ca_file;
    /* Issue 7: also accept NTLM (NTLMv2, srv_ntlm.h): 401s offer "WWW-Authenticate: NTLM"
     * besides Basic and an authenticated connection keeps its user. 0 = off. */
    int ntlm;
};

/* Counters summed over all workers (read while running, so approximate across threads). */
struct el_srv_http_stats {
    uint64_t connections;      /* accepted, all EAS listeners */
    uint64_t connections_open; /* currently open */
    uint64_t requests;         /* EAS endpoint requests seen (all methods) */
    uint64_t responses[6];     /* by class: [1] 1xx .. [5] 5xx, [0] other */
    uint64_t rejected;         /* answered by the HTTP side without reaching el_srv_handle */
    uint64_t holds_started;    /* long polls parked */
    uint64_t holds_open;       /* currently parked */
    uint64_t holds_woken;      /* answered because a watched folder changed */
    uint64_t holds_expired;    /* answered at the end of their heartbeat */
    uint64_t holds_gone;       /* client went away while parked */
    uint64_t admin_requests;
    /* Added for issue 8: refusals by enum el_srv_refusal ([0] = admitted POSTs) and applied
     * faults by enum el_srv_fault_kind. */
    uint64_t refused[4];
    uint64_t faults[EL_SRV_FAULT_KINDS];
};

struct el_srv_http;

/* Binds every listener (so a port conflict or a bad certificate fails here, before any thread
 * starts), then starts the worker threads and the admin thread. st stays owned by the caller and
 * must outlive el_srv_http_free(). 0, or EL_EINVAL (bad address, non-loopback without
 * allow_remote, a bad --fault SPEC or limit) with err naming the listener, SPEC or file. */
int el_srv_http_start(const struct el_srv_http_config *cfg, struct el_srv_state *st,
                      struct el_srv_http **out, struct el_err *err);

/* Actual URL of a listener once started ("http://127.0.0.1:41234"), NULL if not configured.
 * which: 0 plain, 1 TLS, 2 admin. Valid until el_srv_http_free(). */
const char *el_srv_http_url(const struct el_srv_http *h, int which);

/* Stops gracefully: closes the listeners, answers every parked long poll as if its heartbeat
 * had expired, lets in-flight responses finish, closes idle keep-alive connections and joins
 * the threads. Idempotent. Call from the thread that called el_srv_http_start(). */
void el_srv_http_stop(struct el_srv_http *h);

void el_srv_http_get_stats(struct el_srv_http *h, struct el_srv_http_stats *out);

/* Issue 9: how many connections the descriptor limit (RLIMIT_NOFILE) leaves room for once the
 * server is listening (0 = unlimited). Past it, accepts fail with EMFILE: the server logs one
 * line about it every 10 s at most and goes on serving the connections it has. */
uint64_t el_srv_http_conn_room(const struct el_srv_http *h);

/* Stops (if still running) and frees. NULL does nothing. */
void el_srv_http_free(struct el_srv_http *h);

#endif
