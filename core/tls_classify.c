/* tls_classify.c - names a TLS failure: from an X509 verify error (and where in the chain it
 * happened) or a finished request's curl code, the class (untrusted_root, expired, ...) and the
 * WinINet code a phone shows. One table (EL_TLS_CLASS_MAP in tls.h) gives names, counters,
 * codes and texts. Owns: nothing (constant tables). Uses: tls.h, OpenSSL, libcurl. */
#include "tls.h"

#include <string.h>

#include <openssl/x509_vfy.h>

static const struct {
    const char *name, *counter, *text;
    uint32_t code;
} classes[] = {
#define EL_TLS_CLASS_ROW(name, str, code, text) {str, "tls." str, text, code},
    EL_TLS_CLASS_MAP(EL_TLS_CLASS_ROW)
#undef EL_TLS_CLASS_ROW
};

const char *el_tls_class_name(int cls)
{
    return cls >= 0 && cls < EL_TLS_CLASS_COUNT ? classes[cls].name : "unknown";
}

const char *el_tls_class_counter(int cls)
{
    return cls >= 0 && cls < EL_TLS_CLASS_COUNT ? classes[cls].counter : "tls.unknown";
}

uint32_t el_tls_class_code(int cls)
{
    return cls >= 0 && cls < EL_TLS_CLASS_COUNT ? classes[cls].code : 0;
}

const char *el_tls_class_text(int cls)
{
    return cls >= 0 && cls < EL_TLS_CLASS_COUNT ? classes[cls].text : "unknown";
}

int el_tls_class_lookup(const char *name)
{
    for (int i = 0; name && i < EL_TLS_CLASS_COUNT; i++)
        if (strcmp(classes[i].name, name) == 0)
            return i;
    return -1;
}

int el_tls_class_of_verify(long e, int depth, int wildcard_match)
{
    switch (e) {
    case X509_V_OK:
        return EL_TLS_OK;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
        return EL_TLS_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
        return EL_TLS_NOT_YET_VALID;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return wildcard_match ? EL_TLS_WILDCARD_REJECTED : EL_TLS_NAME_MISMATCH;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        return EL_TLS_UNTRUSTED_ROOT;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        /* The leaf's issuer is missing: the server sent no intermediate (phones do not fetch
         * it). Higher up, the chain the server sent ends below a root the device lacks. */
        return depth == 0 ? EL_TLS_INCOMPLETE_CHAIN : EL_TLS_UNTRUSTED_ROOT;
    case X509_V_ERR_CA_MD_TOO_WEAK:
        return EL_TLS_WEAK_SIGNATURE;
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
        return EL_TLS_WEAK_KEY;
    default:
        return EL_TLS_HANDSHAKE_FAILED;
    }
}

static int is_tls_curl_code(int code)
{
    switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_USE_SSL_FAILED:
        return 1;
    default:
        return 0;
    }
}

int el_tls_classify(const struct el_http_result *r)
{
    if (r->tls_verify_error != X509_V_OK)
        return el_tls_class_of_verify(r->tls_verify_error, r->tls_error_depth,
                                      r->tls_wildcard_match);
    const char *e = r->curl_error ? r->curl_error : "";
    /* A server that requires a client certificate: TLS 1.3 says so with alert 116
     * (certificate_required) after the handshake, which curl names on its next read ... */
    if (r->curl_code != CURLE_OK && strstr(e, "certificate required") != NULL)
        return EL_TLS_CLIENT_CERT_NEEDED;
    /* ... or closes the connection without an alert: the server asked, the device had none,
     * and no answer came */
    if (r->tls_cert_requested && r->status == 0 &&
        (r->curl_code == CURLE_GOT_NOTHING || r->curl_code == CURLE_RECV_ERROR ||
         r->curl_code == CURLE_SEND_ERROR || r->curl_code == CURLE_SSL_CONNECT_ERROR))
        return EL_TLS_CLIENT_CERT_NEEDED;
    if (!is_tls_curl_code(r->curl_code))
        return EL_TLS_OK;
    /* curl's own host name check (when OpenSSL's was not armed) */
    if (r->curl_code == CURLE_PEER_FAILED_VERIFICATION &&
        (strstr(e, "subject name") != NULL || strstr(e, "alternative certificate") != NULL))
        return EL_TLS_NAME_MISMATCH;
    return EL_TLS_HANDSHAKE_FAILED;
}
