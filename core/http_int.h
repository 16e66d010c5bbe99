/* http_int.h - private parts shared by http_multi.c (loop, multi groups, libuv glue) and
 * http_conn.c (a device's easy handle and its request). Not for other modules. */
#ifndef EL_HTTP_INT_H
#define EL_HTTP_INT_H

#include <openssl/ssl.h>

#include "http.h"

/* A response buffer and the headers of interest, borrowed from the loop's pool while a
 * request runs. */
struct el__http_rbuf {
    struct el__http_rbuf *next; /* pool free list */
    struct el_buf body;         /* owned */
    char content_type[128];
    char retry_after[64];
    char ms_location[1024];
    char ms_throttle[128];
    char ms_rp[64];
    char ms_versions[96];
    char ms_commands[512];
    char location[512];
    char www_authenticate[256];
    int overflow;               /* body passed the cap */
};

struct el__http_sock;

/* One multi handle and its timer; devices are assigned to groups by index. */
struct el__http_group {
    struct el_http_loop *hl; /* owner */
    CURLM *multi;            /* owned */
    uv_timer_t timer;        /* embedded; the group is freed after its close callback */
    unsigned nconns;
    int closing;
    struct el__http_group *kick_next; /* in the loop's kick list (a zero libcurl timeout) */
    int kick_pending;
    uint64_t actions; /* curl_multi_socket_action calls so far (long polls: see held_after) */
};

struct el_http_loop {
    uv_loop_t *loop;          /* borrowed */
    struct el_http_opts opts;
    char *ca_file;            /* owned copy */
    X509_STORE *store;        /* owned: one CA store for every connection */
    struct el__http_group **groups; /* owned array of owned groups, grown on demand */
    unsigned ngroups;
    struct el__http_rbuf *free_bufs; /* owned pool */
    unsigned nfree_bufs;             /* in the pool; past 64 returned buffers are freed */
    struct el_http_stats stats;
    uv_idle_t *kick;                 /* owned, freed in its close callback: runs the groups whose
                                        libcurl timeout was 0 on the next loop turn */
    struct el__http_group *kicks;    /* those groups */
    struct el_http_conn *held;       /* long polls whose upload buffer is still to be freed
                                        (doubly linked through held_prev/held_next) */
    uv_timer_t *held_timer;          /* owned, freed in its close callback: sweeps held */
    char errbuf[CURL_ERROR_SIZE];    /* scratch for the callback in flight */
    struct el__http_sock **socks;    /* owned array: the watcher of each connection socket by
                                        fd, kept from its opening to its closing (http_multi.c) */
    size_t nsocks;
};

struct el_http_conn {
    struct el_http_loop *hl;      /* borrowed */
    struct el__http_group *group; /* borrowed */
    CURL *easy;                   /* owned */
    uint32_t device_index;
    char source[32];              /* "host!127.x.y.z" or "" */
    long tls_verify_error;        /* set by the verify callback during a handshake */
    int tls_error_depth;          /* and where in the chain */
    int tls_wildcard_match;
    int tls_cert_requested;       /* set by the client-certificate callback */
    struct el_http_tls_policy tls_policy;
    char tls_host[256];           /* host name the handshake checks (set in on_ssl_ctx) */
    struct el__http_rbuf *rbuf;   /* borrowed from the pool while a request runs */
    el_http_done_fn *fn;
    void *ctx;
    el_http_sink_fn *sink;        /* the request's body sink, NULL = none */
    void *sink_ctx;
    int sinking;                  /* this response's body: 0 undecided, 1 to sink, -1 kept */
    uint64_t bytes_out;
    int running;
    /* long poll (el_http_req.long_poll) in hl->held until its body is sent */
    struct el_http_conn *held_prev, *held_next;
    curl_off_t held_body_len;
    uint64_t held_after; /* group->actions when it started: until libcurl has run the group once
                            more, SIZE_UPLOAD_T still counts the previous transfer */
    int in_held;
};

/* http_conn.c: builds the result of a finished transfer and runs the callback. */
void el__http_conn_done(struct el_http_conn *c, CURLcode code);
/* http_multi.c: the pool and the multi handle membership. */
struct el__http_rbuf *el__http_rbuf_get(struct el_http_loop *hl);
void el__http_rbuf_put(struct el_http_loop *hl, struct el__http_rbuf *b);
int el__http_group_for(struct el_http_loop *hl, uint32_t device_index,
                       struct el__http_group **out);
void el__http_group_release(struct el__http_group *g);
/* http_multi.c: puts c in the loop's list of long polls whose upload buffer is to be freed once
 * their body is sent (checked every 250 ms); takes it out (done, canceled, freed). */
void el__http_held_add(struct el_http_conn *c);
void el__http_held_remove(struct el_http_conn *c);
/* http_multi.c: CURLOPT_OPENSOCKETFUNCTION and CURLOPT_CLOSESOCKETFUNCTION of every easy handle
 * (clientp: the loop), so a connection socket keeps its watcher between requests. */
curl_socket_t el__http_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a);
int el__http_close_socket(void *clientp, curl_socket_t fd);

#endif
