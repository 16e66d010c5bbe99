/* test_tls_classify.c - core/tls_classify.c (classes, phone codes, verify errors and curl codes
 * to classes) and core/tls_check.c's judgement of chains from core/tls_fixtures.c read from
 * disk, no network: every fixture x policy gets the class the e2e test expects over loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "tls.h"

static void class_table_gives_names_counters_and_phone_codes(void **state)
{
    (void)state;
    assert_string_equal(el_tls_class_name(EL_TLS_UNTRUSTED_ROOT), "untrusted_root");
    assert_string_equal(el_tls_class_counter(EL_TLS_WILDCARD_REJECTED), "tls.wildcard_rejected");
    assert_int_equal(el_tls_class_code(EL_TLS_UNTRUSTED_ROOT), 0x80072F0Du);
    assert_int_equal(el_tls_class_code(EL_TLS_INCOMPLETE_CHAIN), 0x80072F0Du);
    assert_int_equal(el_tls_class_code(EL_TLS_NAME_MISMATCH), 0x80072F06u);
    assert_int_equal(el_tls_class_code(EL_TLS_EXPIRED), 0x80072F05u);
    assert_int_equal(el_tls_class_code(EL_TLS_NOT_YET_VALID), 0x80072F05u);
    assert_int_equal(el_tls_class_code(EL_TLS_OK), 0);
    assert_string_equal(el_tls_class_name(-1), "unknown");
    assert_string_equal(el_tls_class_name(EL_TLS_CLASS_COUNT), "unknown");
    for (int i = 0; i < EL_TLS_CLASS_COUNT; i++)
        assert_int_equal(el_tls_class_lookup(el_tls_class_name(i)), i);
    assert_int_equal(el_tls_class_lookup("nope"), -1);
}

static void verify_errors_map_to_classes_by_depth(void **state)
{
    (void)state;
    assert_int_equal(el_tls_class_of_verify(X509_V_OK, 0, 0), EL_TLS_OK);
    assert_int_equal(el_tls_class_of_verify(X509_V_ERR_CERT_HAS_EXPIRED, 2, 0), EL_TLS_EXPIRED);
    assert_int_equal(el_tls_class_of_verify(X509_V_ERR_CERT_NOT_YET_VALID, 0, 0),
                     EL_TLS_NOT_YET_VALID);
    assert_int_equal(el_tls_class_of_verify(X509_V_ERR_HOSTNAME_MISMATCH, 0, 0),
                     EL_TLS_NAME_MISMATCH);
    assert_int_equal(el_tls_class_of_verify(X509_V_ERR_HOSTNAME_MISMATCH, 0, 1),
                     EL_TLS_WILDCARD_REJECTED);
    assert_int_equal(el_tls_class_of_verify(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, 0, 0),
                     EL_TLS_UNTRUSTED_ROOT);
    /* the leaf's issuer missing: no intermediate sent; higher up: a root the device lacks */
    assert_int_equal(el_tls_class_of_verify(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 0, 0),
                     EL_TLS_INCOMPLETE_CHAIN);
    assert_int_equal(el_tls_class_of_verify(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 1, 0),
                     EL_TLS_UNTRUSTED_ROOT);
    assert_int_equal(el_tls_class_of_verify(X509_V_ERR_CA_MD_TOO_WEAK, 0, 0),
                     EL_TLS_WEAK_SIGNATURE);
    assert_int_equal(el_tls_class_of_verify(X509_V_ERR_EE_KEY_TOO_SMALL, 0, 0), EL_TLS_WEAK_KEY);
    assert_int_equal(el_tls_class_of_verify(X509_V_ERR_CERT_SIGNATURE_FAILURE, 0, 0),
                     EL_TLS_HANDSHAKE_FAILED);
}

static void results_without_tls_trouble_are_not_tls_failures(void **state)
{
    (void)state;
    struct el_http_result r;
    memset(&r, 0, sizeof(r));
    r.curl_error = "";
    assert_int_equal(el_tls_classify(&r), EL_TLS_OK);
    r.curl_code = CURLE_COULDNT_CONNECT;
    assert_int_equal(el_tls_classify(&r), EL_TLS_OK);
    r.curl_code = CURLE_OPERATION_TIMEDOUT;
    assert_int_equal(el_tls_classify(&r), EL_TLS_OK);
    r.curl_code = CURLE_SSL_CONNECT_ERROR;
    assert_int_equal(el_tls_classify(&r), EL_TLS_HANDSHAKE_FAILED);
    r.curl_code = CURLE_PEER_FAILED_VERIFICATION;
    r.curl_error = "SSL: no alternative certificate subject name matches target host name 'x'";
    assert_int_equal(el_tls_classify(&r), EL_TLS_NAME_MISMATCH);
    /* a server that wants a client certificate: by alert text, or by closing after asking */
    r.curl_code = CURLE_RECV_ERROR;
    r.curl_error = "OpenSSL SSL_read: error:0A00045C:SSL routines::tlsv13 alert certificate "
                   "required, errno 0";
    assert_int_equal(el_tls_classify(&r), EL_TLS_CLIENT_CERT_NEEDED);
    r.curl_code = CURLE_GOT_NOTHING;
    r.curl_error = "Empty reply from server";
    assert_int_equal(el_tls_classify(&r), EL_TLS_OK);
    r.tls_cert_requested = 1;
    assert_int_equal(el_tls_classify(&r), EL_TLS_CLIENT_CERT_NEEDED);
    assert_int_equal(el_tls_class_code(EL_TLS_CLIENT_CERT_NEEDED), 0x80072F0Cu);
    r.tls_cert_requested = 0;
    r.curl_code = CURLE_PEER_FAILED_VERIFICATION;
    r.tls_verify_error = X509_V_ERR_CERT_HAS_EXPIRED;
    r.tls_error_depth = 0;
    assert_int_equal(el_tls_classify(&r), EL_TLS_EXPIRED);
    r.tls_verify_error = X509_V_ERR_HOSTNAME_MISMATCH;
    r.tls_wildcard_match = 1;
    assert_int_equal(el_tls_classify(&r), EL_TLS_WILDCARD_REJECTED);
}

/* ---- chains judged from disk -------------------------------------------------------------- */

static char dir[] = "/tmp/easload-unit-tls-XXXXXX";

static int make_fixtures(void **state)
{
    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    struct el_err err;
    return el_tls_fixtures_make(dir, &err);
}

static int remove_fixtures(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static STACK_OF(X509) * load_sent(const char *fixture)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s/cert.pem", dir, fixture);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        sk_X509_push(sk, x);
    fclose(f);
    return sk;
}

static struct el_tls_check *judge(const char *fixture, const char *const *names)
{
    static const struct el_tls_policy pol[2] = {{"modern", 2, 1}, {"legacy", 0, 0}};
    char ca[256];
    snprintf(ca, sizeof(ca), "%s/root.pem", dir);
    struct el_tls_check_opts o = {.host = "owa.example.com",
                                  .port = 443,
                                  .ca_file = ca,
                                  .names = names,
                                  .policies = pol,
                                  .npolicies = 2};
    STACK_OF(X509) *sent = load_sent(fixture);
    struct el_tls_check *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    struct el_err err;
    assert_int_equal(el_tls_check_chain(&o, sent, c, &err), 0);
    sk_X509_pop_free(sent, X509_free);
    return c;
}

static void every_fixture_gets_its_class_per_policy(void **state)
{
    (void)state;
    static const struct {
        const char *fx;
        int modern, legacy;
    } t[] = {
        {"valid", EL_TLS_OK, EL_TLS_OK},
        {"expired-root", EL_TLS_EXPIRED, EL_TLS_EXPIRED},
        {"expired-leaf", EL_TLS_EXPIRED, EL_TLS_EXPIRED},
        {"not-yet-valid", EL_TLS_NOT_YET_VALID, EL_TLS_NOT_YET_VALID},
        {"self-signed", EL_TLS_UNTRUSTED_ROOT, EL_TLS_UNTRUSTED_ROOT},
        {"san-missing", EL_TLS_NAME_MISMATCH, EL_TLS_NAME_MISMATCH},
        {"wildcard", EL_TLS_OK, EL_TLS_WILDCARD_REJECTED},
        {"incomplete-chain", EL_TLS_INCOMPLETE_CHAIN, EL_TLS_INCOMPLETE_CHAIN},
        {"sha1", EL_TLS_WEAK_SIGNATURE, EL_TLS_OK},
        {"rsa1024", EL_TLS_WEAK_KEY, EL_TLS_OK},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct el_tls_check *c = judge(t[i].fx, NULL);
        assert_int_equal(c->nverdicts, 2);
        if (c->verdicts[0].cls != t[i].modern || c->verdicts[1].cls != t[i].legacy)
            fail_msg("%s: modern %s legacy %s", t[i].fx, el_tls_class_name(c->verdicts[0].cls),
                     el_tls_class_name(c->verdicts[1].cls));
        free(c);
    }
}

static void names_missing_from_the_sans_are_reported_each(void **state)
{
    (void)state;
    const char *names[] = {"owa.example.com", "autodiscover.example.com", "mail.example.com", NULL};
    struct el_tls_check *c = judge("san-missing", names);
    assert_int_equal(c->nnames, 3);
    assert_false(c->names[0].covered);
    assert_false(c->names[1].covered);
    assert_true(c->names[2].covered);
    assert_false(c->wildcard_used);
    assert_string_equal(c->verdicts[0].name, "owa.example.com");
    free(c);
    c = judge("wildcard", names);
    assert_true(c->wildcard_used);
    assert_true(c->names[1].covered && c->names[1].by_wildcard);
    free(c);
}

static void incomplete_chain_is_named_and_expired_root_found_in_store(void **state)
{
    (void)state;
    struct el_tls_check *c = judge("incomplete-chain", NULL);
    assert_false(c->chain_complete);
    assert_int_equal(c->nsent, 1);
    free(c);
    c = judge("expired-root", NULL);
    assert_true(c->chain_complete);
    assert_true(c->root_trusted);
    assert_true(c->root_expired);
    assert_int_equal(c->ncerts, 3); /* leaf, intermediate sent, root from the store */
    assert_false(c->certs[2].sent);
    assert_true(c->certs[2].days_left < 0);
    free(c);
    c = judge("valid", NULL);
    assert_true(c->chain_complete && c->root_trusted && !c->root_expired);
    assert_true(c->certs[0].days_left >= 363 && c->certs[0].days_left <= 365);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(class_table_gives_names_counters_and_phone_codes),
        cmocka_unit_test(verify_errors_map_to_classes_by_depth),
        cmocka_unit_test(results_without_tls_trouble_are_not_tls_failures),
        cmocka_unit_test(every_fixture_gets_its_class_per_policy),
        cmocka_unit_test(names_missing_from_the_sans_are_reported_each),
        cmocka_unit_test(incomplete_chain_is_named_and_expired_root_found_in_store),
    };
    return cmocka_run_group_tests(tests, make_fixtures, remove_fixtures);
}
