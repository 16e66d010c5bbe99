/* tls.h - certificates as phones judge them: the classes of TLS failure and the WinINet code a
 * phone shows for each (tls_classify.c), the judgement of one served chain step by step for
 * `easload certcheck` (tls_check.c), and the fixture chains of `easload certs make`
 * (tls_fixtures.c). Uses: OpenSSL, core/http.h (struct el_http_result), core/error.h.
 * Knows nothing of EAS: callers turn a device profile into a struct el_tls_policy. */
#ifndef EL_TLS_H
#define EL_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/x509.h>

#include "error.h"
#include "http.h"

/* ---- classes ------------------------------------------------------------------------------ */
/* name, WinINet HRESULT a Windows Mobile / Windows Phone device shows (eas-digest 7), text.
 * The code column is the phone's view: untrusted root and incomplete chain are both INVALID_CA;
 * expiry and not-yet-valid both DATE_INVALID; a rejected wildcard shows as a name error. Weak
 * signature/key: SEC_INVALID_CERT (12169), our choice (no phone documents it); a handshake that
 * fails before any certificate is judged: 12175 (reported for TLS failures, unverified). */
#define EL_TLS_CLASS_MAP(X)                                                                        \
    X(OK, "ok", 0x00000000u, "certificate accepted")                                               \
    X(UNTRUSTED_ROOT, "untrusted_root", 0x80072F0Du, "the root is not in the device's store")      \
    X(EXPIRED, "expired", 0x80072F05u, "a certificate of the chain has expired")                   \
    X(NOT_YET_VALID, "not_yet_valid", 0x80072F05u, "a certificate of the chain is not yet valid")  \
    X(NAME_MISMATCH, "name_mismatch", 0x80072F06u, "the host name is not in the certificate")      \
    X(INCOMPLETE_CHAIN, "incomplete_chain", 0x80072F0Du,                                           \
      "the server did not send the intermediate certificate")                                      \
    X(WILDCARD_REJECTED, "wildcard_rejected", 0x80072F06u,                                         \
      "the name matches only a wildcard, which this device rejects")                               \
    X(WEAK_SIGNATURE, "weak_signature", 0x80072F89u, "a certificate is signed with a weak hash")   \
    X(WEAK_KEY, "weak_key", 0x80072F89u, "a certificate's key is too small")                       \
    X(CLIENT_CERT_NEEDED, "client_cert_needed", 0x80072F0Cu,                                       \
      "the server requires a client certificate the device did not present")                       \
    X(HANDSHAKE_FAILED, "handshake_failed", 0x80072F8Fu, "the TLS handshake failed")

enum el_tls_class {
#define EL_TLS_CLASS_ENUM(name, str, code, text) EL_TLS_##name,
    EL_TLS_CLASS_MAP(EL_TLS_CLASS_ENUM)
#undef EL_TLS_CLASS_ENUM
    EL_TLS_CLASS_COUNT
};

/* "untrusted_root"; "unknown" out of range. */
const char *el_tls_class_name(int cls);
/* Counter name for results: "tls.untrusted_root" (static string); "tls.unknown" out of range. */
const char *el_tls_class_counter(int cls);
/* The HRESULT a phone shows (0x80072F0D ...), 0 for OK. */
uint32_t el_tls_class_code(int cls);
/* One line of explanation. */
const char *el_tls_class_text(int cls);
/* Class by name; -1 if unknown. */
int el_tls_class_lookup(const char *name);

/* Class of an X509 verification error (X509_V_ERR_*) met at certificate depth (0 = leaf);
 * wildcard_match: the leaf matches the host only through a wildcard the device rejected. */
int el_tls_class_of_verify(long verify_error, int depth, int wildcard_match);

/* Class of a finished request: EL_TLS_OK when it was not a TLS failure (it completed, or failed
 * for another reason such as a refused connection or a timeout). Uses curl_code,
 * tls_verify_error, tls_error_depth and tls_wildcard_match. The engine counts
 * el_tls_class_counter() of a non-OK class; el_tls_class_code() gives the phone's code. */
int el_tls_classify(const struct el_http_result *r);

/* ---- what a device accepts ---------------------------------------------------------------- */
struct el_tls_policy {
    const char *name;   /* profile name, for output */
    int security_level; /* OpenSSL security level: 2 rejects SHA-1 signatures and RSA < 2048,
                           0 accepts both (legacy devices) */
    int accepts_wildcard;
};

/* ---- certcheck: one chain judged step by step --------------------------------------------- */
#define EL_TLS_CHECK_MAX_CERTS    10
#define EL_TLS_CHECK_MAX_NAMES    16
#define EL_TLS_CHECK_MAX_POLICIES 8

struct el_tls_cert_info {
    char subject[256];
    char issuer[256];
    char sig_alg[64];  /* "sha256WithRSAEncryption", "ecdsa-with-SHA1" */
    int sig_secbits;   /* security bits of the signature (SHA-1: 63), -1 unknown */
    char key_type[16]; /* "RSA", "EC", ... */
    int key_bits;
    int key_secbits;    /* RSA-1024: 80, RSA-2048: 112, P-256: 128 */
    int64_t not_before; /* unix seconds */
    int64_t not_after;
    long days_left; /* until not_after, negative when expired */
    int self_signed;
    int is_ca;
    int sent;       /* 1 sent by the server, 0 found in the trust store */
    char sans[512]; /* "DNS:a, DNS:b" */
};

struct el_tls_name_check {
    char name[256];
    int covered;     /* by a SAN (or by the wildcard) */
    int by_wildcard; /* only through a wildcard */
};

struct el_tls_verdict {
    const char *profile; /* borrowed from the policy */
    int cls;             /* enum el_tls_class */
    uint32_t code;
    char name[256];    /* the name that failed ("" if OK or not name-specific) */
    long verify_error; /* X509_V_ERR_* */
    int depth;
};

struct el_tls_check {
    char host[256];
    char protocol[16]; /* "TLSv1.3" */
    char cipher[64];
    char handshake_error[256]; /* "" if the handshake completed */
    int64_t handshake_us;      /* TCP connect + TLS handshake, -1 when not measured */
    struct el_tls_cert_info certs[EL_TLS_CHECK_MAX_CERTS]; /* sent chain, then anchors */
    unsigned ncerts;
    unsigned nsent;
    int chain_complete; /* the sent chain reaches a trusted anchor without fetching */
    int root_trusted;
    int root_expired;
    char root_subject[256];
    long verify_error; /* store verification, no name, security level 0 */
    int verify_depth;
    struct el_tls_name_check names[EL_TLS_CHECK_MAX_NAMES];
    unsigned nnames;
    int wildcard_used;         /* the leaf has a wildcard SAN */
    int client_cert_requested; /* the server asked for a client certificate */
    struct el_tls_verdict verdicts[EL_TLS_CHECK_MAX_POLICIES];
    unsigned nverdicts;
};

struct el_tls_check_opts {
    const char *host; /* as in the URL: SNI and the first name */
    unsigned port;
    const char *connect_addr; /* address to connect to (from --resolve); NULL = resolve host */
    const char *ca_file;      /* trusted roots; NULL = system store */
    int trust_none;           /* 1 = an empty store (a phone with no private CA) */
    const char *const *names; /* names the phone uses; NULL-terminated; NULL = host only */
    const struct el_tls_policy *policies; /* verdict per policy */
    unsigned npolicies;
    long timeout_ms; /* connect + handshake; 0 = 10 s */
};

/* Connects, completes a handshake without judging, then judges the chain it got. 0 (out holds
 * the checks; a failed handshake is out->handshake_error, not an error), or EL_EIO (cannot
 * connect: err names the address), EL_EINVAL (bad CA file), EL_ENOMEM. */
int el_tls_check_run(const struct el_tls_check_opts *o, struct el_tls_check *out,
                     struct el_err *err);
/* Judges a chain already in hand (sent[0] is the leaf; borrowed), as el_tls_check_run does
 * after its handshake. For tests and for callers that have the chain. */
int el_tls_check_chain(const struct el_tls_check_opts *o, STACK_OF(X509) * sent,
                       struct el_tls_check *out, struct el_err *err);
/* 1 if every verdict is OK and the handshake completed. */
int el_tls_check_passed(const struct el_tls_check *c);
/* Writes the steps as text lines, or as one JSON object. */
void el_tls_check_print(const struct el_tls_check *c, FILE *out);
void el_tls_check_print_json(const struct el_tls_check *c, FILE *out);

/* ---- fixtures ------------------------------------------------------------------------------ */
/* The chains of `easload certs make`, in this order: valid, expired-root, expired-leaf,
 * not-yet-valid, self-signed, san-missing, wildcard, incomplete-chain, sha1, rsa1024 (leaves
 * EC P-256 except rsa1024), and valid-rsa2048 (the valid chain with an RSA-2048 leaf). */
extern const char *const el_tls_fixture_names[]; /* NULL-terminated */

/* Writes dir/root.pem (the trusted roots: the test root and the expired root) and, per fixture,
 * dir/NAME/cert.pem (the leaf and what the server sends after it), dir/NAME/key.pem (the leaf's
 * key, mode 0600) and dir/NAME/chain.pem (the intermediates of the chain, also those the server
 * does not send; absent for self-signed). Validity is relative to now. Creates dir (and its
 * parent) if missing. 0, or EL_EIO (cannot write: err names the file), EL_ENOMEM. */
int el_tls_fixtures_make(const char *dir, struct el_err *err);
/* Client certificates (issue 7): dir/client/ca.pem (the client CA for `easload serve
 * --client-ca`) and dir/client/userN/{cert.pem,key.pem} for N = 1..nusers, each with the
 * mailbox's UPN and address userN@domain in its SAN and EKU clientAuth. 0, EL_EIO, EL_ENOMEM. */
int el_tls_fixtures_make_clients(const char *dir, unsigned nusers, const char *domain,
                                 struct el_err *err);

#endif
