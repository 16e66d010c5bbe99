/* srv_harness.h - end-to-end test harness for `easload serve`: starts the built binary on
 * ephemeral loopback ports, sends EAS requests with blocking libcurl, reads the admin API.
 * Owns: the server process, its temp dir (certificates, server.log), the buffers of each
 * response. Uses: libcurl (easy API), jansson, core/wbxml.h, core/buf.h.
 *
 * Typical test:
 *     struct el_srvh h;
 *     if (el_srvh_start(&h, NULL) != 0) return 1;          // plain + admin, 2 workers, 5 users
 *     char key[16];
 *     el_srvh_provision(&h, "user1", "pass1", "Dev1", "14.1", key, sizeof(key));
 *     struct el_srvh_req rq = EL_SRVH_REQ("FolderSync", "user1", "pass1");
 *     rq.device_id = "Dev1";
 *     rq.policy_key = key;
 *     rq.xml = "<FolderHierarchy:FolderSync><FolderHierarchy:SyncKey>0</FolderHierarchy:SyncKey>"
 *              "</FolderHierarchy:FolderSync>";
 *     struct el_srvh_resp r;
 *     el_srvh_do(&h, &rq, &r);        // r.status == 200, r.body is WBXML
 *     char st[8];
 *     el_srvh_text(&r, EL_FH_STATUS, 0, st, sizeof(st));   // "1"
 *     el_srvh_resp_close(&r);
 *     return el_srvh_stop(&h) == 0 ? 0 : 1;                  // SIGTERM, exit status
 *
 * Nothing here asserts a time: waits poll the admin API until a counter reaches a value and are
 * bounded only by ctest's timeout. Every function prints what went wrong on stderr. */
#ifndef EL_SRV_HARNESS_H
#define EL_SRV_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <pthread.h>

#include "buf.h"
#include "wbxml.h"

/* Path of the easload binary: compiled in by CMake ($<TARGET_FILE:easload>). */
#ifndef EL_SRVH_EASLOAD
#error "build with -DEL_SRVH_EASLOAD=\"/path/to/easload\""
#endif

struct el_srvh_opts {
    const char *const *args; /* extra `easload serve` arguments, NULL-terminated; may be NULL */
    int tls;      /* make a CA, an intermediate and a server certificate for 127.0.0.1 in the
                     temp dir (openssl CLI) and add --tls-listen 127.0.0.1:0 --cert --key --chain */
    int no_plain; /* with tls: no plain listener */
    const char *cert_fixture; /* with tls: serve this `easload certs make` chain (DIR/NAME) with
                                 --cert-fixture instead of making certificates (issue 7) */
    unsigned workers;         /* 0 = 2 */
    unsigned users;           /* 0 = 5 (user1..user5, passwords pass1..pass5) */
};

struct el_srvh {
    pid_t pid;          /* the server; 0 once stopped */
    char url[96];       /* "http://127.0.0.1:PORT" or "" */
    char tls_url[96];   /* "https://127.0.0.1:PORT" or "" */
    char admin_url[96]; /* always started */
    char dir[128];      /* temp dir: server.log, certificates; removed by el_srvh_stop */
    char ca_file[192];  /* root CA to verify tls_url against ("" without tls) */
    char log_file[192]; /* the server's stderr */
};

/* Starts the server and waits for its "listening on" lines. opts may be NULL. 0 or -1. */
int el_srvh_start(struct el_srvh *h, const struct el_srvh_opts *opts);
/* SIGTERM, waits, removes the temp dir. Returns the exit status (0 = clean stop), or -1 when
 * the process died of a signal (a crash or a sanitizer abort: the log is printed). */
int el_srvh_stop(struct el_srvh *h);
/* The server's stderr so far (malloc'd, NUL-terminated; caller frees). */
char *el_srvh_log(const struct el_srvh *h);

/* One request. Every field has a default when 0/NULL, so EL_SRVH_REQ() is a complete request. */
struct el_srvh_req {
    const char *base;   /* NULL: h->url (or h->tls_url when tls is set) */
    int tls;            /* use h->tls_url, verified against h->ca_file */
    const char *path;   /* NULL: "/Microsoft-Server-ActiveSync" */
    const char *method; /* NULL: "POST" */
    const char *cmd;    /* plain form Cmd; the query is built from cmd, user, device_id,
                           device_type */
    const char *query;  /* raw query after '?', replaces the built one ("" = no query) */
    const char *user;   /* Basic auth; NULL = no Authorization header */
    const char *password;
    const char *device_id;    /* NULL: "Dev1" */
    const char *device_type;  /* NULL: "SmartPhone" */
    const char *version;      /* MS-ASProtocolVersion; NULL: "14.1"; "" = no header */
    const char *policy_key;   /* X-MS-PolicyKey; NULL = no header */
    const char *content_type; /* NULL: application/vnd.ms-sync.wbxml when there is a body;
                                 "" = no Content-Type header */
    const char *xml;          /* body as readable XML (see `easload wbxml`), encoded to WBXML by
                                 our encoder; or: */
    const void *body;         /* raw body bytes (when xml is NULL) */
    size_t body_len;
    CURL *curl; /* reuse this handle (keep-alive); NULL = a new one per call */
};
#define EL_SRVH_REQ(cmd_, user_, pass_)                                                            \
    {                                                                                              \
        .cmd = (cmd_), .user = (user_), .password = (pass_)                                        \
    }

struct el_srvh_resp {
    long status;           /* HTTP status, 0 if the transfer failed */
    int curl_rc;           /* CURLcode */
    long num_connects;     /* CURLINFO_NUM_CONNECTS: new connections this transfer made */
    struct el_buf headers; /* raw header block, NUL-terminated */
    struct el_buf body;    /* response body (not NUL-terminated) */
};

/* Sends one request and waits for the whole answer. out is initialised here; release it with
 * el_srvh_resp_close. Returns 0 when an HTTP answer came (whatever its status), -1 otherwise. */
int el_srvh_do(struct el_srvh *h, const struct el_srvh_req *rq, struct el_srvh_resp *out);
void el_srvh_resp_close(struct el_srvh_resp *r);
/* Value of a response header (case-insensitive name) copied into out; 1 found, 0 not. */
int el_srvh_header(const struct el_srvh_resp *r, const char *name, char *out, size_t cap);
/* Text of the nth (0-based) element `tag` (EL_FH_STATUS ...) in the WBXML body; 1 found, 0
 * not, -1 the body is not WBXML. */
int el_srvh_text(const struct el_srvh_resp *r, uint16_t tag, int nth, char *out, size_t cap);
/* The WBXML body as readable XML (malloc'd; NULL if not WBXML), for messages and greps. */
char *el_srvh_xml(const struct el_srvh_resp *r);

/* The same request on a thread: start, then join (which fills c->resp and returns its rc).
 * The strings rq points to must stay valid until the join. */
struct el_srvh_call {
    pthread_t thread;
    struct el_srvh *h;
    struct el_srvh_req rq;
    struct el_srvh_resp resp;
    int rc;
};
int el_srvh_call_start(struct el_srvh_call *c, struct el_srvh *h, const struct el_srvh_req *rq);
int el_srvh_call_join(struct el_srvh_call *c);

/* Admin API: method "GET"/"POST", path "/stats", JSON body or NULL. Same return as el_srvh_do. */
int el_srvh_admin(struct el_srvh *h, const char *method, const char *path, const char *json,
                  struct el_srvh_resp *out);
/* A number from GET /stats: section "http" or "eas", key "holds_open"; -1 on failure. */
long long el_srvh_stat(struct el_srvh *h, const char *section, const char *key);
/* Polls /stats until section.key == value (no time limit of its own). 0, or -1 on failure. */
int el_srvh_wait_stat(struct el_srvh *h, const char *section, const char *key, long long value);

/* Two-phase Provision for a device; key gets the final policy key. 0 or -1. */
int el_srvh_provision(struct el_srvh *h, const char *user, const char *pass, const char *device,
                      const char *version, char *key, size_t cap);

/* One case of a server test binary: its name (the last part of the ctest entry), what it runs
 * against the started server (it counts its own failures; its return value is not used) and the
 * server's options. */
struct el_srvh_case {
    const char *name;
    int (*fn)(struct el_srvh *h);
    struct el_srvh_opts opts;
};

/* main() of a server test binary `PROG CASE`: starts the server with that case's options, runs
 * it, stops the server (an unclean stop counts in *failures). Returns the exit code: 0 when
 * *failures is 0, 1 on failures, 2 on usage or an unknown case. */
int el_srvh_main(int argc, char **argv, const struct el_srvh_case *cases, size_t ncases,
                 int *failures);

#endif
