/* http.h - asynchronous HTTP(S) for simulated devices: libcurl multi (socket API) on a libuv
 * loop, one connection per device that no other device may use, timings and byte counts.
 * Uses: libuv, libcurl, OpenSSL, core/buf.h, core/error.h. Knows nothing of EAS.
 *
 * Shape (curl-notes.md): one struct el_http_loop per worker loop holds one shared X509_STORE
 * and devices grouped into multi handles of about 200 (one multi for thousands costs ms of CPU
 * per request in curl 7.88). Each device has one struct el_http_conn: its own easy handle,
 * reused keep-alive for its consecutive requests. Its connection is bound to it: on loopback
 * targets each device gets its own source address 127.x.y.z (also spreads ephemeral ports);
 * curl only reuses a bound connection for the same binding, so devices never swap connections.
 * Response buffers are borrowed from a per-loop pool when the first response byte arrives
 * and returned after the callback: an idle device, and one whose long poll is held, holds only
 * its easy handle and its connection. */
#ifndef EL_HTTP_H
#define EL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <uv.h>

#include "buf.h"
#include "error.h"

struct el_http_opts {
    const char *ca_file;         /* trusted roots (PEM); NULL = the system store */
    int insecure;                /* 1 = do not verify the server's certificate or name */
    unsigned group_size;         /* devices per multi handle; 0 = 200 */
    int bind_source;             /* 1 = a source address 127.x.y.z per device (loopback only) */
    size_t max_body_bytes;       /* cap of one response body; 0 = 64 MiB */
    int trust_none;              /* 1 = an empty CA store (a phone without the private root);
                                    overrides ca_file (issue 7) */
    struct curl_slist *resolve;  /* borrowed, outlives the loop: CURLOPT_RESOLVE entries
                                    "HOST:PORT:ADDR" for every connection; NULL = none */
};

struct el_http_loop;
struct el_http_conn;

/* Creates the HTTP side of one worker on loop (borrowed; must outlive it). Loads the CA store
 * once. 0 or EL_EINVAL (bad CA file) / EL_ENOMEM, with err. */
int el_http_loop_new(uv_loop_t *loop, const struct el_http_opts *opts, struct el_http_loop **out,
                     struct el_err *err);
/* Closes every multi handle and timer; all conns must be freed first. The loop must run
 * afterwards until its close callbacks have fired (uv_run(loop, UV_RUN_DEFAULT)). */
void el_http_loop_free(struct el_http_loop *hl);

/* What a device accepts of a server's certificate (issue 7; core/tls.h turns failures into
 * classes). Applied to the connections it opens from now on. */
struct el_http_tls_policy {
    int security_level;          /* OpenSSL security level; -1 = OpenSSL's default. 2 rejects
                                    SHA-1 signatures and RSA keys under 2048 bits */
    int no_wildcards;            /* 1 = a wildcard SAN does not cover the host (X509_V_ERR_
                                    HOSTNAME_MISMATCH with tls_wildcard_match set) */
};

/* A device's connection. device_index numbers devices globally (source address, group). */
int el_http_conn_new(struct el_http_loop *hl, uint32_t device_index, struct el_http_conn **out,
                     struct el_err *err);
/* Aborts a running request (its callback runs with EL_ECANCELED first), closes the
 * connection. NULL does nothing. */
void el_http_conn_free(struct el_http_conn *c);
/* Sets the device's TLS policy (copied). Without a call: security level -1, wildcards accepted. */
void el_http_conn_set_tls_policy(struct el_http_conn *c, const struct el_http_tls_policy *p);
/* The device's client certificate and key (PEM files; paths copied by curl), presented when a
 * server asks in the handshake (issue 7). NULL, NULL = none. */
void el_http_conn_set_client_cert(struct el_http_conn *c, const char *cert_file,
                                  const char *key_file);
/* NTLM (issue 7): libcurl answers the server's 401 challenges with these credentials (copied
 * by curl, never logged) and the connection stays authenticated. Callers send no
 * Authorization header of their own. */
void el_http_conn_set_ntlm(struct el_http_conn *c, const char *user, const char *password);

/* Takes the body of a response piece by piece as it arrives (len > 0; p valid during the call
 * only), instead of a copy of it in el_http_result.body. At the first piece, status is the
 * response's HTTP status and the sink returns 1 to take this response's body or 0 to have it
 * kept as usual (and is not called again for it); afterwards status is 0 and the return value
 * is not used. */
typedef int el_http_sink_fn(void *ctx, long status, const void *p, size_t len);

struct el_http_req {
    const char *method;          /* "POST", "OPTIONS", "GET" */
    const char *url;             /* copied by curl */
    struct curl_slist *headers;  /* borrowed until the callback: "Name: value" lines */
    const void *body;            /* borrowed until the callback */
    size_t body_len;
    long timeout_ms;             /* whole request; 0 = none (long polls set their own bound) */
    long recv_buffer_bytes;      /* curl's receive buffer, held while the request runs: long
                                    polls keep it small (1024, curl's minimum); 0 = 16384 */
    int long_poll;               /* 1 = the answer may be held for minutes (Ping): once the
                                    body is sent, curl's upload buffer (16 KB per transfer on
                                    TLS connections) is freed within a second (bench/engine) */
    el_http_sink_fn *sink;       /* NULL = keep the body (el_http_result.body) */
    void *sink_ctx;
};

/* Timings are microseconds from the start of the request; -1 when the phase did not happen
 * (no DNS for an IP literal, no connect or TLS on a reused connection). */
struct el_http_result {
    int rc;                      /* 0 completed (any HTTP status), or EL_ECANCELED, EL_EIO */
    int curl_code;               /* CURLcode */
    const char *curl_error;      /* curl's error text, "" if none; valid during the callback */
    long status;                 /* HTTP status, 0 if none was received */
    long tls_verify_error;       /* X509 verify error seen in the handshake (X509_V_OK = 0) */
    int tls_error_depth;         /* chain depth of that error (0 = the leaf) */
    int tls_wildcard_match;      /* host name mismatch where the leaf matches only through a
                                    wildcard the policy rejects */
    int tls_cert_requested;      /* the server asked for a client certificate and the device
                                    had none to present (issue 7) */
    int64_t dns_us, connect_us, tls_us, ttfb_us, total_us;
    uint64_t bytes_out;          /* request headers + body */
    uint64_t bytes_in;           /* response headers + body */
    int new_connection;          /* 1 if this request opened a connection */
    const uint8_t *body;         /* valid during the callback only */
    size_t body_len;
    const char *content_type;    /* response headers of interest, "" when absent; valid during */
    const char *retry_after;     /* the callback only */
    const char *ms_location;     /* X-MS-Location (451) */
    const char *ms_throttle;     /* X-MS-ASThrottle */
    const char *ms_rp;           /* X-MS-RP */
    const char *ms_versions;     /* MS-ASProtocolVersions (OPTIONS; added for core/eas) */
    const char *ms_commands;     /* MS-ASProtocolCommands (OPTIONS; added for probe, issue 7) */
    const char *location;        /* Location (a redirect in front of EAS; probe) */
    const char *www_authenticate; /* WWW-Authenticate (401: which schemes; probe) */
};

typedef void el_http_done_fn(void *ctx, const struct el_http_result *r);

/* Starts rq on the device's connection. On 0 the callback runs exactly once, from the loop
 * (never from inside this call). On error (a request already running: EL_EINVAL) it never
 * runs. */
int el_http_start(struct el_http_conn *c, const struct el_http_req *rq, el_http_done_fn *fn,
                  void *ctx, struct el_err *err);

/* Counters of one loop (for tests and the engine's summary). */
struct el_http_stats {
    uint64_t requests, connections_opened, groups, running;
};
void el_http_get_stats(const struct el_http_loop *hl, struct el_http_stats *out);

#endif
