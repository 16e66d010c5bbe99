/* tls_check.c - `easload certcheck`'s judgement: fetch a server's chain with one handshake that
 * accepts anything (as a phone receives it: no intermediate fetching), then check it step by step
 * (chain complete, root trusted and current, validity, names, wildcard, signature and key
 * strength) and give a verdict per device policy by running OpenSSL's verification as that
 * device would (its trust store, security level, wildcard rule), so the verdict is the class a
 * real request through core/http gets. Printing is in tls_check_print.c.
 * Owns: the socket, SSL objects and store while it runs. Uses: tls.h, OpenSSL. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define DAY_S 86400

/* ---- certificate facts ------------------------------------------------------------------- */

static void name_text(const X509_NAME *n, char *out, size_t cap)
{
    out[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return;
    if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        int len = BIO_read(b, out, (int)cap - 1);
        out[len > 0 ? len : 0] = '\0';
    }
    BIO_free(b);
}

static int64_t asn1_unix(const ASN1_TIME *t)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

static void sans_text(X509 *x, char *out, size_t cap)
{
    out[0] = '\0';
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    size_t len = 0;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char one[300];
        one[0] = '\0';
        if (g->type == GEN_DNS) {
            snprintf(one, sizeof(one), "DNS:%.*s", ASN1_STRING_length(g->d.dNSName),
                     (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        } else if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 4) {
            const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
            snprintf(one, sizeof(one), "IP:%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
        } else if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 16) {
            char a6[INET6_ADDRSTRLEN];
            if (inet_ntop(AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), a6, sizeof(a6)))
                snprintf(one, sizeof(one), "IP:%s", a6);
        }
        if (one[0] == '\0')
            continue;
        int n = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", one);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
    GENERAL_NAMES_free(gens);
}

static void cert_info(X509 *x, int sent, time_t now, struct el_tls_cert_info *ci)
{
    memset(ci, 0, sizeof(*ci));
    name_text(X509_get_subject_name(x), ci->subject, sizeof(ci->subject));
    name_text(X509_get_issuer_name(x), ci->issuer, sizeof(ci->issuer));
    int nid = X509_get_signature_nid(x);
    snprintf(ci->sig_alg, sizeof(ci->sig_alg), "%s", nid ? OBJ_nid2ln(nid) : "unknown");
    ci->sig_secbits = -1;
    int secbits = 0;
    if (X509_get_signature_info(x, NULL, NULL, &secbits, NULL) == 1)
        ci->sig_secbits = secbits;
    EVP_PKEY *k = X509_get0_pubkey(x);
    if (k) {
        const char *tn = EVP_PKEY_get0_type_name(k);
        snprintf(ci->key_type, sizeof(ci->key_type), "%s", tn ? tn : "?");
        ci->key_bits = EVP_PKEY_get_bits(k);
        ci->key_secbits = EVP_PKEY_get_security_bits(k);
    }
    ci->not_before = asn1_unix(X509_get0_notBefore(x));
    ci->not_after = asn1_unix(X509_get0_notAfter(x));
    int64_t left = ci->not_after - (int64_t)now;
    ci->days_left = (long)(left >= 0 ? left / DAY_S : -((-left + DAY_S - 1) / DAY_S));
    ci->self_signed = X509_self_signed(x, 0) == 1;
    ci->is_ca = X509_check_ca(x) > 0;
    ci->sent = sent;
    sans_text(x, ci->sans, sizeof(ci->sans));
}

/* The address of an IP literal host ("127.0.0.1", "::1", "[::1]") without brackets: 1, or 0
 * for a DNS name. Names of IP hosts are checked against IP SANs, never as DNS names. */
static int ip_literal(const char *host, char *out, size_t cap)
{
    unsigned char a[16];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n == 0 || n >= cap)
        return 0;
    memcpy(out, host, n);
    out[n] = '\0';
    return inet_pton(AF_INET, out, a) == 1 || inet_pton(AF_INET6, out, a) == 1;
}

static int has_wildcard_san(X509 *x)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int found = 0;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS && ASN1_STRING_length(g->d.dNSName) > 1 &&
            ASN1_STRING_get0_data(g->d.dNSName)[0] == '*')
            found = 1;
    }
    GENERAL_NAMES_free(gens);
    return found;
}

/* ---- verification as a device would ------------------------------------------------------ */

static int load_store(const struct el_tls_check_opts *o, X509_STORE **out, struct el_err *err)
{
    X509_STORE *st = X509_STORE_new();
    if (st == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "tls: out of memory");
    int ok = 1;
    if (o->trust_none)
        ok = 1;
    else if (o->ca_file)
        ok = X509_STORE_load_file(st, o->ca_file) == 1;
    else
        ok = X509_STORE_set_default_paths(st) == 1;
    if (!ok) {
        X509_STORE_free(st);
        ERR_clear_error();
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "tls: cannot load CA certificates from %s",
                      o->ca_file ? o->ca_file : "the system store");
    }
    *out = st;
    return 0;
}

/* One verification: the sent chain against the store, for host (NULL = no name check) at a
 * security level, wildcards allowed or not. Returns the first error and its depth; when ctx_out
 * is given the context stays alive for the caller (who frees it). */
static long verify_once(X509_STORE *st, STACK_OF(X509) * sent, const char *host, int level,
                        int no_wildcards, int *depth, X509_STORE_CTX **ctx_out)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL || X509_STORE_CTX_init(ctx, st, sk_X509_value(sent, 0), sent) != 1) {
        X509_STORE_CTX_free(ctx);
        *depth = 0;
        return X509_V_ERR_OUT_OF_MEM;
    }
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set_auth_level(vp, level);
    char ip[64];
    if (host && ip_literal(host, ip, sizeof(ip))) {
        X509_VERIFY_PARAM_set1_ip_asc(vp, ip);
    } else if (host) {
        X509_VERIFY_PARAM_set1_host(vp, host, 0);
        X509_VERIFY_PARAM_set_hostflags(vp, no_wildcards ? X509_CHECK_FLAG_NO_WILDCARDS : 0);
    }
    long e = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    *depth = X509_STORE_CTX_get_error_depth(ctx);
    ERR_clear_error();
    if (ctx_out)
        *ctx_out = ctx;
    else
        X509_STORE_CTX_free(ctx);
    return e;
}

static void judge_names(const struct el_tls_check_opts *o, X509 *leaf, struct el_tls_check *out)
{
    const char *one[2] = {o->host, NULL};
    const char *const *names = o->names ? o->names : one;
    for (unsigned i = 0; names[i] && out->nnames < EL_TLS_CHECK_MAX_NAMES; i++) {
        struct el_tls_name_check *n = &out->names[out->nnames++];
        snprintf(n->name, sizeof(n->name), "%s", names[i]);
        char ip[64];
        int is_ip = ip_literal(names[i], ip, sizeof(ip));
        int exact =
            is_ip ? X509_check_ip_asc(leaf, ip, 0) == 1
                  : X509_check_host(leaf, names[i], 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;
        int any = exact || (!is_ip && X509_check_host(leaf, names[i], 0, 0, NULL) == 1);
        n->covered = any;
        n->by_wildcard = any && !exact;
    }
}

static void judge_policy(const struct el_tls_check_opts *o, X509_STORE *st, STACK_OF(X509) * sent,
                         const struct el_tls_policy *p, struct el_tls_check *out)
{
    struct el_tls_verdict *v = &out->verdicts[out->nverdicts++];
    memset(v, 0, sizeof(*v));
    v->profile = p->name;
    if (out->handshake_error[0]) {
        v->cls = EL_TLS_HANDSHAKE_FAILED;
        v->code = el_tls_class_code(v->cls);
        return;
    }
    for (unsigned i = 0; i < out->nnames; i++) {
        int depth = 0;
        const char *name = out->names[i].name;
        long e = verify_once(st, sent, name, p->security_level, !p->accepts_wildcard, &depth, NULL);
        if (e == X509_V_OK)
            continue;
        int wild = e == X509_V_ERR_HOSTNAME_MISMATCH && out->names[i].by_wildcard;
        v->cls = el_tls_class_of_verify(e, depth, wild);
        v->code = el_tls_class_code(v->cls);
        v->verify_error = e;
        v->depth = depth;
        size_t n = strnlen(name, sizeof(v->name) - 1); /* both in out: memcpy, not snprintf */
        memcpy(v->name, name, n);
        v->name[n] = '\0';
        return;
    }
    (void)o;
}

/* The checks and verdicts, into out (zeroed by the caller, handshake fields already set). */
static int judge(const struct el_tls_check_opts *o, STACK_OF(X509) * sent, struct el_tls_check *out,
                 struct el_err *err)
{
    time_t now = time(NULL);
    snprintf(out->host, sizeof(out->host), "%s", o->host ? o->host : "");
    if (sent == NULL || sk_X509_num(sent) == 0) {
        if (out->handshake_error[0] == '\0')
            snprintf(out->handshake_error, sizeof(out->handshake_error),
                     "the server sent no certificate");
        for (unsigned i = 0; i < o->npolicies && i < EL_TLS_CHECK_MAX_POLICIES; i++) {
            struct el_tls_verdict *v = &out->verdicts[out->nverdicts++];
            memset(v, 0, sizeof(*v));
            v->profile = o->policies[i].name;
            v->cls = EL_TLS_HANDSHAKE_FAILED;
            v->code = el_tls_class_code(v->cls);
        }
        return 0;
    }
    X509_STORE *st = NULL;
    int rc = load_store(o, &st, err);
    if (rc < 0)
        return rc;
    X509 *leaf = sk_X509_value(sent, 0);
    for (int i = 0; i < sk_X509_num(sent) && out->ncerts < EL_TLS_CHECK_MAX_CERTS; i++)
        cert_info(sk_X509_value(sent, i), 1, now, &out->certs[out->ncerts++]);
    out->nsent = out->ncerts;

    /* the chain as built from what was sent plus the store, at level 0, no name */
    X509_STORE_CTX *ctx = NULL;
    int depth = 0;
    out->verify_error = verify_once(st, sent, NULL, 0, 0, &depth, &ctx);
    out->verify_depth = depth;
    if (ctx) {
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
        int untrusted = X509_STORE_CTX_get_num_untrusted(ctx);
        int n = chain ? sk_X509_num(chain) : 0;
        /* anchors from the store (not sent) */
        for (int i = untrusted; i < n && out->ncerts < EL_TLS_CHECK_MAX_CERTS; i++)
            cert_info(sk_X509_value(chain, i), 0, now, &out->certs[out->ncerts++]);
        if (n > untrusted) {
            X509 *root = sk_X509_value(chain, n - 1);
            out->root_trusted = 1;
            out->root_expired = X509_cmp_time(X509_get0_notAfter(root), &now) < 0;
            name_text(X509_get_subject_name(root), out->root_subject, sizeof(out->root_subject));
        } else if (n > 0) {
            name_text(X509_get_issuer_name(sk_X509_value(chain, n - 1)), out->root_subject,
                      sizeof(out->root_subject));
        }
        X509_STORE_CTX_free(ctx);
    }
    long e = out->verify_error;
    int missing_issuer = e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
                         e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                         e == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
    out->chain_complete = !(missing_issuer && out->verify_depth == 0);
    out->wildcard_used = has_wildcard_san(leaf);
    judge_names(o, leaf, out);
    for (unsigned i = 0; i < o->npolicies && i < EL_TLS_CHECK_MAX_POLICIES; i++)
        judge_policy(o, st, sent, &o->policies[i], out);
    X509_STORE_free(st);
    return 0;
}

int el_tls_check_chain(const struct el_tls_check_opts *o, STACK_OF(X509) * sent,
                       struct el_tls_check *out, struct el_err *err)
{
    memset(out, 0, sizeof(*out));
    out->handshake_us = -1;
    return judge(o, sent, out, err);
}

int el_tls_check_passed(const struct el_tls_check *c)
{
    if (c->handshake_error[0])
        return 0;
    for (unsigned i = 0; i < c->nverdicts; i++)
        if (c->verdicts[i].cls != EL_TLS_OK)
            return 0;
    return 1;
}

/* ---- fetching the chain ------------------------------------------------------------------ */

static int connect_to(const struct el_tls_check_opts *o, long timeout_ms, int *fd_out,
                      struct el_err *err)
{
    char port[16];
    snprintf(port, sizeof(port), "%u", o->port);
    const char *addr = o->connect_addr ? o->connect_addr : o->host;
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(addr, port, &hints, &ai);
    if (g != 0)
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "tls: cannot resolve %s: %s", addr,
                      gai_strerror(g));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = 0;
    if (fd < 0) {
        rc = EL_ERR(err, EL_EIO, EL_NO_OFFSET, "tls: socket: %s", strerror(errno));
        goto done;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        rc = EL_ERR(err, EL_EIO, EL_NO_OFFSET, "tls: connect %s:%s: %s", addr, port,
                    strerror(errno));
        goto done;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (poll(&p, 1, (int)timeout_ms) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
        rc = EL_ERR(err, EL_EIO, EL_NO_OFFSET, "tls: connect %s:%s: %s", addr, port,
                    soerr ? strerror(soerr) : "timed out");
        goto done;
    }
    fcntl(fd, F_SETFL, 0);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
done:
    freeaddrinfo(ai);
    if (rc < 0 && fd >= 0)
        close(fd);
    else
        *fd_out = fd;
    return rc;
}

/* The server asks for a client certificate: note it, present none. */
static int on_client_cert(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    (void)x509;
    (void)pkey;
    struct el_tls_check *c = SSL_get_app_data(ssl);
    if (c)
        c->client_cert_requested = 1;
    return 0;
}

int el_tls_check_run(const struct el_tls_check_opts *o, struct el_tls_check *out,
                     struct el_err *err)
{
    memset(out, 0, sizeof(*out));
    out->handshake_us = -1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
    int fd = -1;
    int rc = connect_to(o, timeout_ms, &fd, err);
    if (rc < 0)
        return rc;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx)
        SSL_CTX_set_client_cert_cb(ctx, on_client_cert);
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (ssl == NULL) {
        SSL_CTX_free(ctx);
        close(fd);
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "tls: out of memory");
    }
    /* receive anything: judging is done afterwards, per device */
    SSL_set_security_level(ssl, 0);
    SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
    SSL_set_app_data(ssl, out);
    char ip[64];
    if (o->host && !ip_literal(o->host, ip, sizeof(ip)))
        SSL_set_tlsext_host_name(ssl, o->host); /* SNI carries names only (RFC 6066 3) */
    SSL_set_fd(ssl, fd);
    int done = SSL_connect(ssl) == 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->handshake_us =
        (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    if (!done) {
        unsigned long e = ERR_get_error();
        char buf[200];
        if (e)
            ERR_error_string_n(e, buf, sizeof(buf));
        else
            snprintf(buf, sizeof(buf), "connection closed during the handshake");
        snprintf(out->handshake_error, sizeof(out->handshake_error), "%s", buf);
        ERR_clear_error();
    } else {
        snprintf(out->protocol, sizeof(out->protocol), "%s", SSL_get_version(ssl));
        snprintf(out->cipher, sizeof(out->cipher), "%s", SSL_get_cipher_name(ssl));
    }
    STACK_OF(X509) *sent = SSL_get_peer_cert_chain(ssl); /* borrowed from ssl */
    rc = judge(o, sent, out, err);
    if (done) {
        /* A polite close: read the server's session tickets and wait for its close_notify
         * (bounded), so the server sees an orderly end rather than a reset mid-write. */
        struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (SSL_shutdown(ssl) == 0)
            SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    ERR_clear_error();
    return rc;
}
