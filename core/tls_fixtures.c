/* tls_fixtures.c - `easload certs make DIR`: the certificate chains phones fail on, made with
 * OpenSSL's API (valid, expired root, expired leaf, not-yet-valid leaf, self-signed, SAN missing,
 * wildcard, incomplete chain, SHA-1, RSA-1024; and valid-rsa2048), one row per fixture, validity
 * relative to now; and client certificates per user (el_tls_fixtures_make_clients).
 * Owns: the keys and certificates while it runs (nothing survives the call). Uses: tls.h. */
#include "tls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define DAY (24L * 3600L)

#define EAS_SANS                                                                                   \
    "DNS:exchange.example.local,DNS:owa.example.com,DNS:mail.example.com,"                         \
    "DNS:autodiscover.example.com"

const char *const el_tls_fixture_names[] = {
    "valid",    "expired-root",     "expired-leaf", "not-yet-valid", "self-signed",   "san-missing",
    "wildcard", "incomplete-chain", "sha1",         "rsa1024",       "valid-rsa2048", NULL,
};

/* How one fixture differs from the valid chain. */
struct fixture {
    const char *name;
    int expired_root;    /* issued under the expired root */
    long leaf_from_days; /* leaf validity, days relative to now */
    long leaf_to_days;
    int self_signed; /* leaf signs itself, no CA */
    const char *sans;
    const char *cn;
    int send_intermediate;
    int sha1;     /* the intermediate signs the leaf with SHA-1 */
    int rsa_bits; /* leaf key: 0 = EC P-256 */
};

static const struct fixture fixtures[] = {
    {"valid", 0, -1, 365, 0, EAS_SANS, "owa.example.com", 1, 0, 0},
    {"expired-root", 1, -1, 365, 0, EAS_SANS, "owa.example.com", 1, 0, 0},
    {"expired-leaf", 0, -400, -35, 0, EAS_SANS, "owa.example.com", 1, 0, 0},
    {"not-yet-valid", 0, 30, 400, 0, EAS_SANS, "owa.example.com", 1, 0, 0},
    {"self-signed", 0, -1, 365, 1, EAS_SANS, "owa.example.com", 0, 0, 0},
    {"san-missing", 0, -1, 365, 0, "DNS:exchange.example.local,DNS:mail.example.com",
     "mail.example.com", 1, 0, 0},
    {"wildcard", 0, -1, 365, 0, "DNS:*.example.com,DNS:example.com", "*.example.com", 1, 0, 0},
    {"incomplete-chain", 0, -1, 365, 0, EAS_SANS, "owa.example.com", 0, 0, 0},
    {"sha1", 0, -1, 365, 0, EAS_SANS, "owa.example.com", 1, 1, 0},
    {"rsa1024", 0, -1, 365, 0, EAS_SANS, "owa.example.com", 1, 0, 1024},
    /* the valid chain with an RSA-2048 leaf (most Exchange certificates; bench/bench_tls.c) */
    {"valid-rsa2048", 0, -1, 365, 0, EAS_SANS, "owa.example.com", 1, 0, 2048},
};

/* A CA (or a self-signed leaf) with its key. */
struct ca {
    EVP_PKEY *key; /* owned */
    X509 *cert;    /* owned */
};

static int ssl_fail(struct el_err *err, const char *what)
{
    char buf[160];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "certs: %s: %s", what, buf);
}

static EVP_PKEY *new_key(int rsa_bits)
{
    if (rsa_bits)
        return EVP_RSA_gen((unsigned)rsa_bits);
    return EVP_EC_gen("P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

/* Makes a certificate for key, signed by issuer (NULL: self-signed) with md. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const struct ca *issuer, long from_days,
                       long to_days, int is_ca, const char *sans, const EVP_MD *md, const char *eku)
{
    X509 *x = X509_new();
    if (x == NULL)
        return NULL;
    unsigned char serial[12];
    BIGNUM *bn = NULL;
    X509_NAME *name = X509_NAME_new();
    int ok = name != NULL && X509_set_version(x, 2) == 1 && RAND_bytes(serial, sizeof(serial)) == 1;
    if (ok) {
        serial[0] &= 0x7f; /* positive */
        bn = BN_bin2bn(serial, sizeof(serial), NULL);
        ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    }
    time_t now = time(NULL);
    ok = ok && X509_time_adj_ex(X509_getm_notBefore(x), (int)from_days, 0, &now) != NULL &&
         X509_time_adj_ex(X509_getm_notAfter(x), (int)to_days, 0, &now) != NULL;
    ok = ok &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"easload test",
                                    -1, -1, 0) == 1 &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                    0) == 1 &&
         X509_set_subject_name(x, name) == 1 &&
         X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert) : name) == 1 &&
         X509_set_pubkey(x, key) == 1;
    X509 *icert = issuer ? issuer->cert : x;
    if (ok && is_ca) {
        ok = add_ext(x, icert, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
             add_ext(x, icert, NID_key_usage, "critical,keyCertSign,cRLSign") == 0;
    } else if (ok) {
        ok = add_ext(x, icert, NID_basic_constraints, "CA:FALSE") == 0 &&
             add_ext(x, icert, NID_key_usage, "critical,digitalSignature,keyEncipherment") == 0 &&
             add_ext(x, icert, NID_ext_key_usage, eku) == 0 &&
             add_ext(x, icert, NID_subject_alt_name, sans) == 0;
    }
    ok = ok && add_ext(x, icert, NID_subject_key_identifier, "hash") == 0;
    if (ok && issuer)
        ok = add_ext(x, icert, NID_authority_key_identifier, "keyid:always") == 0;
    ok = ok && X509_sign(x, issuer ? issuer->key : key, md) > 0;
    BN_free(bn);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int make_ca(struct ca *out, const char *cn, const struct ca *issuer, long from_days,
                   long to_days, struct el_err *err)
{
    out->key = new_key(0);
    if (out->key == NULL)
        return ssl_fail(err, "key generation");
    out->cert = make_cert(out->key, cn, issuer, from_days, to_days, 1, NULL, EVP_sha256(), NULL);
    if (out->cert == NULL)
        return ssl_fail(err, cn);
    return 0;
}

static void ca_close(struct ca *c)
{
    X509_free(c->cert);
    EVP_PKEY_free(c->key);
    c->cert = NULL;
    c->key = NULL;
}

static int mkdir_p(const char *path, struct el_err *err)
{
    char buf[1024];
    size_t n = strlen(path);
    if (n >= sizeof(buf))
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "certs: path too long: %s", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "certs: mkdir %s: %s", buf, strerror(errno));
        buf[i] = c;
    }
    return 0;
}

/* Writes certificates (NULL-terminated) or one key to dir/file. */
static int write_pem(const char *dir, const char *file, X509 *const *certs, EVP_PKEY *key,
                     struct el_err *err)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "certs: %s: %s", path, strerror(errno));
    int ok = 1;
    if (key) {
        if (fchmod(fileno(f), 0600) != 0)
            ok = 0;
        ok = ok && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    }
    for (; certs && *certs; certs++)
        ok = ok && PEM_write_X509(f, *certs) == 1;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        ERR_clear_error();
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "certs: cannot write %s", path);
    }
    return 0;
}

static int make_fixture(const char *dir, const struct fixture *fx, const struct ca *inter,
                        const struct ca *inter_old, struct el_err *err)
{
    char sub[1100];
    snprintf(sub, sizeof(sub), "%s/%s", dir, fx->name);
    int rc = mkdir_p(sub, err);
    if (rc < 0)
        return rc;
    const struct ca *issuer = fx->self_signed ? NULL : fx->expired_root ? inter_old : inter;
    EVP_PKEY *key = new_key(fx->rsa_bits);
    if (key == NULL)
        return ssl_fail(err, "key generation");
    X509 *leaf = make_cert(key, fx->cn, issuer, fx->leaf_from_days, fx->leaf_to_days, 0, fx->sans,
                           fx->sha1 ? EVP_sha1() : EVP_sha256(), "serverAuth");
    if (leaf == NULL) {
        EVP_PKEY_free(key);
        return ssl_fail(err, fx->name);
    }
    X509 *sent[3] = {leaf, NULL, NULL};
    if (issuer && fx->send_intermediate)
        sent[1] = issuer->cert;
    X509 *chain[2] = {issuer ? issuer->cert : NULL, NULL};
    rc = write_pem(sub, "cert.pem", sent, NULL, err);
    if (rc == 0)
        rc = write_pem(sub, "key.pem", NULL, key, err);
    if (rc == 0 && issuer)
        rc = write_pem(sub, "chain.pem", chain, NULL, err);
    X509_free(leaf);
    EVP_PKEY_free(key);
    return rc;
}

int el_tls_fixtures_make(const char *dir, struct el_err *err)
{
    struct ca root = {0}, inter = {0}, root_old = {0}, inter_old = {0};
    int rc = mkdir_p(dir, err);
    if (rc < 0)
        return rc;
    /* the test root (10 years), its intermediate (5 years); the expired root (ended yesterday)
     * and an intermediate under it that is itself still valid */
    rc = make_ca(&root, "easload Test Root CA", NULL, -1, 3650, err);
    if (rc == 0)
        rc = make_ca(&inter, "easload Test Issuing CA", &root, -1, 1825, err);
    if (rc == 0)
        rc = make_ca(&root_old, "easload Expired Root CA", NULL, -3650, -1, err);
    if (rc == 0)
        rc = make_ca(&inter_old, "easload Issuing CA under the Expired Root", &root_old, -30, 1825,
                     err);
    if (rc < 0)
        goto fail;
    X509 *roots[3] = {root.cert, root_old.cert, NULL};
    rc = write_pem(dir, "root.pem", roots, NULL, err);
    for (size_t i = 0; rc == 0 && i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
        rc = make_fixture(dir, &fixtures[i], &inter, &inter_old, err);
fail:
    ca_close(&inter_old);
    ca_close(&root_old);
    ca_close(&inter);
    ca_close(&root);
    return rc;
}

int el_tls_fixtures_make_clients(const char *dir, unsigned nusers, const char *domain,
                                 struct el_err *err)
{
    struct ca cca = {0};
    char sub[1100];
    snprintf(sub, sizeof(sub), "%s/client", dir);
    int rc = mkdir_p(sub, err);
    if (rc == 0)
        rc = make_ca(&cca, "easload Test Client CA", NULL, -1, 3650, err);
    if (rc == 0) {
        X509 *one[2] = {cca.cert, NULL};
        rc = write_pem(sub, "ca.pem", one, NULL, err);
    }
    for (unsigned i = 1; rc == 0 && i <= nusers; i++) {
        char user[32], sans[300], udir[1200];
        snprintf(user, sizeof(user), "user%u", i);
        /* the mailbox's UPN (otherName msUPN) and address, as an enterprise CA issues them */
        snprintf(sans, sizeof(sans), "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:%s@%s,email:%s@%s",
                 user, domain, user, domain);
        snprintf(udir, sizeof(udir), "%s/%s", sub, user);
        rc = mkdir_p(udir, err);
        if (rc < 0)
            break;
        EVP_PKEY *key = new_key(0);
        X509 *x =
            key ? make_cert(key, user, &cca, -1, 365, 0, sans, EVP_sha256(), "clientAuth") : NULL;
        if (x == NULL) {
            EVP_PKEY_free(key);
            rc = ssl_fail(err, user);
            break;
        }
        X509 *one[2] = {x, NULL};
        rc = write_pem(udir, "cert.pem", one, NULL, err);
        if (rc == 0)
            rc = write_pem(udir, "key.pem", NULL, key, err);
        X509_free(x);
        EVP_PKEY_free(key);
    }
    ca_close(&cca);
    return rc;
}
