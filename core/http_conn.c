/* http_conn.c - one device's HTTP connection: its easy handle (reused keep-alive), the binding
 * that keeps its connection its own, the shared CA store attached per TLS context, response
 * headers and body capture, and the result handed to the done callback.
 * Owns: the easy handle. Borrows a pooled response buffer from the first response byte until
 * the done callback has run. */
#include "http_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/* OpenSSL verify callback: remember the first verification error for the result, where in the
 * chain it was, and whether a name mismatch is a wildcard the policy refused. */
static int on_verify(int ok, X509_STORE_CTX *xs)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct el_http_conn *c = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
    if (!ok && c && c->tls_verify_error == X509_V_OK) {
        int e = X509_STORE_CTX_get_error(xs);
        c->tls_verify_error = e;
        c->tls_error_depth = X509_STORE_CTX_get_error_depth(xs);
        X509 *leaf = X509_STORE_CTX_get0_cert(xs);
        if (e == X509_V_ERR_HOSTNAME_MISMATCH && leaf && c->tls_policy.no_wildcards)
            c->tls_wildcard_match = X509_check_host(leaf, c->tls_host, 0, 0, NULL) == 1;
    }
    return ok;
}

/* OpenSSL calls this only when the server asks for a client certificate and none is set: note
 * it, present none (h2o, for one, then closes the connection without an alert). Like on_verify
 * it runs only inside a handshake, while the conn is alive: no callback here may run at close
 * (curl keeps and closes connections after the conn is freed). */
static int on_client_cert(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    (void)x509;
    (void)pkey;
    struct el_http_conn *c = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (c)
        c->tls_cert_requested = 1;
    return 0;
}

/* Arms OpenSSL's own host check on ctx (so a mismatch is a verify error the callback sees, and
 * the policy can refuse wildcards): the host of the transfer's URL. */
static void set_verify_host(struct el_http_conn *c, CURL *easy, SSL_CTX *ctx)
{
    char *url = NULL;
    char *host = NULL;
    c->tls_host[0] = '\0';
    if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || url == NULL)
        return;
    CURLU *u = curl_url();
    if (u == NULL)
        return;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && strlen(host) < 256) {
        size_t n = strlen(host);
        X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);
        if (host[0] == '[' && n > 2) { /* IPv6 literal */
            memcpy(c->tls_host, host + 1, n - 2);
            c->tls_host[n - 2] = '\0';
            X509_VERIFY_PARAM_set1_ip_asc(vp, c->tls_host);
        } else {
            unsigned char a[4];
            memcpy(c->tls_host, host, n + 1);
            if (inet_pton(AF_INET, host, a) == 1) {
                X509_VERIFY_PARAM_set1_ip_asc(vp, host);
            } else {
                X509_VERIFY_PARAM_set1_host(vp, host, 0);
                X509_VERIFY_PARAM_set_hostflags(
                    vp, c->tls_policy.no_wildcards ? X509_CHECK_FLAG_NO_WILDCARDS : 0);
            }
        }
    }
    curl_free(host);
    curl_url_cleanup(u);
}

/* CURLOPT_SSL_CTX_FUNCTION: curl 7.88 makes an SSL_CTX per connection; give it the loop's
 * one CA store instead of letting it load its own copy (~830 KB each). */
static CURLcode on_ssl_ctx(CURL *easy, void *sslctx, void *userp)
{
    struct el_http_conn *c = userp;
    SSL_CTX *ctx = sslctx;
    SSL_CTX_set_app_data(ctx, c);
    SSL_CTX_set_client_cert_cb(ctx, on_client_cert);
    if (c->tls_policy.security_level >= 0)
        SSL_CTX_set_security_level(ctx, c->tls_policy.security_level);
    if (c->hl->opts.insecure)
        return CURLE_OK;
    SSL_CTX_set1_cert_store(ctx, c->hl->store);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, on_verify);
    set_verify_host(c, easy, ctx);
    return CURLE_OK;
}

/* The response buffer is borrowed at the first response byte, not when the request starts, so
 * a held long poll holds none. NULL: out of memory (the transfer is aborted). */
static struct el__http_rbuf *rbuf_of(struct el_http_conn *c)
{
    if (c->rbuf == NULL)
        c->rbuf = el__http_rbuf_get(c->hl);
    return c->rbuf;
}

static size_t on_body(char *p, size_t size, size_t n, void *userp)
{
    struct el_http_conn *c = userp;
    size_t len = size * n;
    if (c->sinking > 0) {
        c->sink(c->sink_ctx, 0, p, len);
        return len;
    }
    if (c->sinking == 0 && c->sink != NULL) {
        long status = 0;
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
        c->sinking = c->sink(c->sink_ctx, status, p, len) ? 1 : -1;
        if (c->sinking > 0)
            return len;
    }
    if (rbuf_of(c) == NULL)
        return 0; /* CURLE_WRITE_ERROR */
    if (c->rbuf->body.len == 0) {
        /* the whole body at once when its length is known: no doubling from 256 bytes (a
         * 50-item Sync answer is ~700 KB: 12 reallocs and copies, bench/engine.sh sync) */
        curl_off_t cl = -1;
        if (curl_easy_getinfo(c->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
            cl > (curl_off_t)c->rbuf->body.cap && (uint64_t)cl <= c->rbuf->body.max)
            (void)el_buf_reserve(&c->rbuf->body, (size_t)cl); /* on failure append grows it */
    }
    if (el_buf_append(&c->rbuf->body, p, len) < 0) {
        c->rbuf->overflow = 1;
        return 0; /* CURLE_WRITE_ERROR */
    }
    return len;
}

/* Copies the value of header `name` from line p (length len) into dst if it is that header. */
static void take_header(const char *p, size_t len, const char *name, char *dst, size_t cap)
{
    size_t n = strlen(name);
    if (len <= n + 1 || strncasecmp(p, name, n) != 0 || p[n] != ':')
        return;
    p += n + 1;
    len -= n + 1;
    while (len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' '))
        len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, p, len);
    dst[len] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *userp)
{
    struct el_http_conn *c = userp;
    struct el__http_rbuf *b = rbuf_of(c);
    size_t len = size * n;
    if (b == NULL)
        return 0; /* CURLE_WRITE_ERROR */
    if (len > 0 && (p[0] == 'H' || p[0] == 'h') && len > 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* a new response (after 100 Continue or a redirect): forget earlier headers */
        b->content_type[0] = b->retry_after[0] = b->ms_location[0] = '\0';
        b->ms_throttle[0] = b->ms_rp[0] = b->ms_versions[0] = '\0';
        b->ms_commands[0] = b->location[0] = b->www_authenticate[0] = '\0';
        return len;
    }
    /* by first letter: most lines (Date, Server, Content-Length ...) cost one or two compares */
    switch (len > 0 ? p[0] | 0x20 : 0) {
    case 'c':
        take_header(p, len, "Content-Type", b->content_type, sizeof(b->content_type));
        break;
    case 'r':
        take_header(p, len, "Retry-After", b->retry_after, sizeof(b->retry_after));
        break;
    case 'x':
        take_header(p, len, "X-MS-Location", b->ms_location, sizeof(b->ms_location));
        take_header(p, len, "X-MS-ASThrottle", b->ms_throttle, sizeof(b->ms_throttle));
        take_header(p, len, "X-MS-RP", b->ms_rp, sizeof(b->ms_rp));
        break;
    case 'm':
        take_header(p, len, "MS-ASProtocolVersions", b->ms_versions, sizeof(b->ms_versions));
        take_header(p, len, "MS-ASProtocolCommands", b->ms_commands, sizeof(b->ms_commands));
        break;
    case 'l':
        take_header(p, len, "Location", b->location, sizeof(b->location));
        break;
    case 'w':
        take_header(p, len, "WWW-Authenticate", b->www_authenticate, sizeof(b->www_authenticate));
        break;
    default:
        break;
    }
    return len;
}

int el_http_conn_new(struct el_http_loop *hl, uint32_t device_index, struct el_http_conn **out,
                     struct el_err *err)
{
    *out = NULL;
    struct el_http_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "http: out of memory");
    c->hl = hl;
    c->device_index = device_index;
    c->tls_policy.security_level = -1;
    c->easy = curl_easy_init();
    if (c->easy == NULL || el__http_group_for(hl, device_index, &c->group) < 0) {
        if (c->easy)
            curl_easy_cleanup(c->easy);
        free(c);
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "http: out of memory for device %u",
                      device_index);
    }
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, hl->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    /* the loop keeps each connection socket's watcher while the connection lives */
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, el__http_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, hl);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, el__http_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, hl);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 16384L);
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
    /* TLS: one shared store attached in on_ssl_ctx; curl's own verification of the chain is
     * off (the store does it, with SSL_VERIFY_PEER), its host name check stays on. */
    curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, hl->opts.insecure ? 0L : 2L);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, c);
    if (hl->opts.resolve)
        curl_easy_setopt(e, CURLOPT_RESOLVE, hl->opts.resolve);
    if (hl->opts.bind_source) {
        /* 127.1.0.0 + index: one source address per device, so curl never hands one
         * device's connection to another (it only reuses a bound connection for the same
         * binding) and ephemeral ports never run short. */
        uint32_t a = (1u << 16) + device_index;
        snprintf(c->source, sizeof(c->source), "host!127.%u.%u.%u", (a >> 16) & 255,
                 (a >> 8) & 255, a & 255);
        curl_easy_setopt(e, CURLOPT_INTERFACE, c->source);
    }
    *out = c;
    return 0;
}

int el_http_start(struct el_http_conn *c, const struct el_http_req *rq, el_http_done_fn *fn,
                  void *ctx, struct el_err *err)
{
    if (c->running)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "http: device %u already has a request running", c->device_index);
    c->rbuf = NULL; /* borrowed at the first response byte (rbuf_of) */
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_URL, rq->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, rq->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE,
                     rq->recv_buffer_bytes > 0 ? rq->recv_buffer_bytes : 16384L);
    if (strcmp(rq->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        /* POST with an explicit length (never chunked), also for an empty body */
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body_len ? rq->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
                         strcmp(rq->method, "POST") == 0 ? NULL : rq->method);
    }
    c->tls_verify_error = X509_V_OK;
    c->tls_error_depth = 0;
    c->tls_wildcard_match = 0;
    c->tls_cert_requested = 0;
    c->fn = fn;
    c->ctx = ctx;
    c->sink = rq->sink;
    c->sink_ctx = rq->sink_ctx;
    c->sinking = 0;
    CURLMcode mc = curl_multi_add_handle(c->group->multi, e);
    if (mc != CURLM_OK) {
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "http: device %u: %s", c->device_index,
                      curl_multi_strerror(mc));
    }
    c->running = 1;
    c->hl->stats.requests++;
    c->hl->stats.running++;
    if (rq->long_poll && rq->body_len > 0) {
        c->held_body_len = (curl_off_t)rq->body_len;
        c->held_after = c->group->actions;
        el__http_held_add(c);
    }
    return 0;
}

static int64_t info_us(CURL *e, CURLINFO what)
{
    curl_off_t v = -1;
    if (curl_easy_getinfo(e, what, &v) != CURLE_OK)
        return -1;
    return (int64_t)v;
}

void el__http_conn_done(struct el_http_conn *c, CURLcode code)
{
    static const struct el__http_rbuf no_response; /* empty headers, no body */
    CURL *e = c->easy;
    struct el__http_rbuf *owned = c->rbuf; /* NULL when no response byte came */
    const struct el__http_rbuf *b = owned ? owned : &no_response;
    struct el_http_result r;
    memset(&r, 0, sizeof(r));
    long num_connects = 0, hdr_in = 0, req_size = 0;
    curl_off_t body_in = 0, up = 0;
    /* read everything before removing the handle */
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &num_connects);
    curl_easy_getinfo(e, CURLINFO_HEADER_SIZE, &hdr_in);
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &req_size);
    curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &body_in);
    curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &up);
    int64_t dns = info_us(e, CURLINFO_NAMELOOKUP_TIME_T);
    int64_t conn = info_us(e, CURLINFO_CONNECT_TIME_T);
    int64_t app = info_us(e, CURLINFO_APPCONNECT_TIME_T);
    r.ttfb_us = info_us(e, CURLINFO_STARTTRANSFER_TIME_T);
    r.total_us = info_us(e, CURLINFO_TOTAL_TIME_T);
    r.new_connection = num_connects > 0;
    /* Phases: on a reused connection curl reports 0 for them; say "did not happen". */
    r.dns_us = r.new_connection && dns > 0 ? dns : -1;
    r.connect_us = r.new_connection && conn > 0 ? conn - (dns > 0 ? dns : 0) : -1;
    r.tls_us = r.new_connection && app > 0 ? app - conn : -1;
    r.bytes_in = (uint64_t)hdr_in + (uint64_t)(body_in > 0 ? body_in : 0);
    r.bytes_out = (uint64_t)req_size;
    r.curl_code = code;
    r.curl_error = code == CURLE_OK ? "" : (c->hl->errbuf[0] ? c->hl->errbuf
                                                              : curl_easy_strerror(code));
    r.tls_verify_error = c->tls_verify_error;
    r.tls_error_depth = c->tls_error_depth;
    r.tls_wildcard_match = c->tls_wildcard_match;
    r.tls_cert_requested = c->tls_cert_requested;
    r.rc = code == CURLE_OK ? 0 : EL_EIO;
    if (b->overflow)
        r.curl_error = "response body larger than the cap";
    r.body = b->body.data;
    r.body_len = b->body.len;
    r.content_type = b->content_type;
    r.retry_after = b->retry_after;
    r.ms_location = b->ms_location;
    r.ms_throttle = b->ms_throttle;
    r.ms_rp = b->ms_rp;
    r.ms_versions = b->ms_versions;
    r.ms_commands = b->ms_commands;
    r.location = b->location;
    r.www_authenticate = b->www_authenticate;
    curl_multi_remove_handle(c->group->multi, e);
    el__http_held_remove(c);
    c->hl->stats.running--;
    if (r.new_connection)
        c->hl->stats.connections_opened++;
    c->running = 0;
    c->rbuf = NULL;
    el_http_done_fn *fn = c->fn;
    void *ctx = c->ctx;
    c->fn = NULL;
    c->ctx = NULL;
    fn(ctx, &r);
    c->hl->errbuf[0] = '\0';
    if (owned)
        el__http_rbuf_put(c->hl, owned);
}

void el_http_conn_set_tls_policy(struct el_http_conn *c, const struct el_http_tls_policy *p)
{
    c->tls_policy = *p;
}

void el_http_conn_set_client_cert(struct el_http_conn *c, const char *cert_file,
                                  const char *key_file)
{
    curl_easy_setopt(c->easy, CURLOPT_SSLCERT, cert_file);
    curl_easy_setopt(c->easy, CURLOPT_SSLKEY, key_file);
}

void el_http_conn_set_ntlm(struct el_http_conn *c, const char *user, const char *password)
{
    curl_easy_setopt(c->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_NTLM);
    curl_easy_setopt(c->easy, CURLOPT_USERNAME, user);
    curl_easy_setopt(c->easy, CURLOPT_PASSWORD, password);
}

void el_http_conn_free(struct el_http_conn *c)
{
    if (c == NULL)
        return;
    if (c->running) {
        struct el_http_result r;
        memset(&r, 0, sizeof(r));
        r.rc = EL_ECANCELED;
        r.curl_error = "canceled";
        r.content_type = r.retry_after = r.ms_location = r.ms_throttle = r.ms_rp = "";
        r.ms_versions = r.ms_commands = r.location = r.www_authenticate = "";
        r.dns_us = r.connect_us = r.tls_us = r.ttfb_us = r.total_us = -1;
        curl_multi_remove_handle(c->group->multi, c->easy);
        el__http_held_remove(c);
        c->hl->stats.running--;
        c->running = 0;
        if (c->fn)
            c->fn(c->ctx, &r);
        if (c->rbuf)
            el__http_rbuf_put(c->hl, c->rbuf);
        c->rbuf = NULL;
    }
    curl_easy_cleanup(c->easy);
    el__http_group_release(c->group);
    free(c);
}
