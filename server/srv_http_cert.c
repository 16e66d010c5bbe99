/* srv_http_cert.c - client certificate -> user (issue 7). With --client-ca a request that
 * carries no Authorization is authenticated as the user its connection's verified client
 * certificate names: the local part of the certificate's first email SAN (rfc822Name
 * user3@example.com -> user3), else its subject CN.
 *
 * libh2o 2.2.5 gives handlers no access to the peer certificate. The SSL_CTX info callback
 * (SSL_CB_HANDSHAKE_DONE) therefore records the name under the connection's h2o socket, which
 * libh2o makes the data of the SSL's BIO and which a handler reaches through
 * req->conn->callbacks->get_socket(). The record lives in the SSL's ex_data and its free
 * callback takes it out of the table when the SSL is freed; libh2o frees the SSL before the
 * socket, so while a record is in the table its socket is alive, and a later connection that
 * gets the same socket address can never find an earlier connection's identity.
 * Owns: the table and its records (one per TLS connection with a verified certificate).
 * Uses: srv_http_int.h, OpenSSL. */
#include "srv_http_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#define BUCKETS 1024u

struct certrec {
    struct certrec *next;
    struct el__srv_certids *ids;
    const void *sock; /* the key: the h2o socket of the connection */
    char user[256];   /* "" when the certificate names nobody */
};

struct el__srv_certids {
    pthread_mutex_t mu;
    int ex_index; /* SSL ex_data slot of the record */
    struct certrec *bucket[BUCKETS];
};

static unsigned bucket_of(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    v ^= v >> 17;
    v *= 0x9E3779B97F4A7C15ull;
    return (unsigned)(v >> 40) % BUCKETS;
}

/* Unlinks r (under ids->mu). */
static void unlink_rec(struct el__srv_certids *ids, struct certrec *r)
{
    for (struct certrec **pp = &ids->bucket[bucket_of(r->sock)]; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            return;
        }
}

/* ex_data free callback: the SSL of a connection is being freed. */
static void on_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    struct certrec *r = ptr;
    if (r == NULL)
        return;
    if (r->ids == NULL) { /* the table went first (a forced stop) */
        free(r);
        return;
    }
    pthread_mutex_lock(&r->ids->mu);
    unlink_rec(r->ids, r);
    pthread_mutex_unlock(&r->ids->mu);
    free(r);
}

/* The user a certificate names (see the top of the file); "" if none. */
static void cert_user(X509 *x, char *out, size_t cap)
{
    out[0] = '\0';
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && out[0] == '\0'; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_EMAIL)
            continue;
        const char *e = (const char *)ASN1_STRING_get0_data(g->d.rfc822Name);
        int len = ASN1_STRING_length(g->d.rfc822Name);
        const char *at = memchr(e, '@', (size_t)len);
        size_t n = at ? (size_t)(at - e) : (size_t)len;
        if (n > 0 && n < cap && memchr(e, '\0', n) == NULL) {
            memcpy(out, e, n);
            out[n] = '\0';
        }
    }
    GENERAL_NAMES_free(gens);
    if (out[0] == '\0') {
        int len =
            X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)cap);
        if (len <= 0 || (size_t)len >= cap || strlen(out) != (size_t)len)
            out[0] = '\0';
    }
}

/* SSL_CTX info callback: after a handshake with a verified client certificate, record its
 * user under the connection's socket (again after a renegotiation: the record is updated). */
static void on_info(const SSL *ssl, int where, int ret)
{
    (void)ret;
    if (!(where & SSL_CB_HANDSHAKE_DONE))
        return;
    struct el__srv_certids *ids = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    BIO *bio = SSL_get_rbio(ssl);
    const void *sock = bio ? BIO_get_data(bio) : NULL;
    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (ids == NULL || sock == NULL)
        return;
    SSL *s = (SSL *)ssl; /* ex_data of the SSL being handshaked: the callback's own object */
    struct certrec *r = SSL_get_ex_data(s, ids->ex_index);
    char user[256] = "";
    if (peer && SSL_get_verify_result(ssl) == X509_V_OK)
        cert_user(peer, user, sizeof(user));
    if (r == NULL) {
        if (user[0] == '\0')
            return;
        r = calloc(1, sizeof(*r));
        if (r == NULL || SSL_set_ex_data(s, ids->ex_index, r) != 1) {
            free(r);
            return; /* no record: the request gets 401, as without a certificate */
        }
        r->ids = ids;
        r->sock = sock;
        pthread_mutex_lock(&ids->mu);
        unsigned b = bucket_of(sock);
        r->next = ids->bucket[b];
        ids->bucket[b] = r;
        pthread_mutex_unlock(&ids->mu);
    }
    pthread_mutex_lock(&ids->mu);
    memcpy(r->user, user, sizeof(r->user));
    pthread_mutex_unlock(&ids->mu);
}

int el__srv_certids_new(SSL_CTX *ctx, struct el__srv_certids **out, struct el_err *err)
{
    *out = NULL;
    struct el__srv_certids *ids = calloc(1, sizeof(*ids));
    if (ids == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "client certificates: out of memory");
    ids->ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, on_ssl_free);
    if (ids->ex_index < 0) {
        free(ids);
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "client certificates: no SSL ex_data slot");
    }
    pthread_mutex_init(&ids->mu, NULL);
    SSL_CTX_set_app_data(ctx, ids);
    SSL_CTX_set_info_callback(ctx, on_info);
    *out = ids;
    return 0;
}

void el__srv_certids_free(struct el__srv_certids *ids)
{
    if (ids == NULL)
        return;
    /* connections are closed by now (their SSLs freed the records); any left are freed here */
    for (unsigned b = 0; b < BUCKETS; b++)
        for (struct certrec *r = ids->bucket[b], *n; r; r = n) {
            n = r->next;
            r->ids = NULL;
            r->sock = NULL;
        }
    CRYPTO_free_ex_index(CRYPTO_EX_INDEX_SSL, ids->ex_index);
    pthread_mutex_destroy(&ids->mu);
    free(ids);
}

int el__srv_cert_user(struct el__srv_certids *ids, h2o_req_t *req, char *user, size_t cap)
{
    user[0] = '\0';
    if (ids == NULL || req->conn->callbacks->get_socket == NULL)
        return 0;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->ssl == NULL)
        return 0;
    int found = 0;
    pthread_mutex_lock(&ids->mu);
    for (struct certrec *r = ids->bucket[bucket_of(sock)]; r; r = r->next)
        if (r->sock == sock) {
            found = r->user[0] != '\0';
            if (found)
                snprintf(user, cap, "%s", r->user);
            break;
        }
    pthread_mutex_unlock(&ids->mu);
    return found;
}
