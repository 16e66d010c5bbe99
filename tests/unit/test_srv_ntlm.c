/* test_srv_ntlm.c - unit tests of server/srv_ntlm.c: NTOWFv2 and the NTLMv2 response against the
 * [MS-NLMP] 4.2.4 test vectors (User "User", domain "Domain", password "Password", server
 * challenge 0123456789abcdef, client challenge aa*8, time 0, target info of "Domain" and
 * "Server"); the CHALLENGE_MESSAGE layout; AUTHENTICATE_MESSAGE parsing with its bounds; a
 * wrong password, a changed challenge and an NTLMv1-sized response refused; the connection
 * table (find, get, drop, sweep, ids never confused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "srv_ntlm.h"

static const uint8_t server_challenge[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

/* "Domain" in UTF-16LE */
static const uint8_t domain16[] = {'D', 0, 'o', 0, 'm', 0, 'a', 0, 'i', 0, 'n', 0};

/* [MS-NLMP] 4.2.4.1.1: NTOWFv2("Password", "User", "Domain") */
static const uint8_t ntowfv2_vec[16] = {0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93,
                                        0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0, 0x2e, 0x3f};
/* [MS-NLMP] 4.2.4.2.2: NTProofStr of the NTLMv2 response */
static const uint8_t ntproof_vec[16] = {0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96,
                                        0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef, 0x6a, 0x1c};

/* The NTLMv2 response of 4.2.4: NTProofStr || temp, temp = 01 01, 6 zeros, time 0, client
 * challenge aa*8, 4 zeros, the challenge's AV pairs (NbDomainName "Domain", NbComputerName
 * "Server", EOL), 4 zeros. Returns its length. */
static size_t vector_response(uint8_t *out)
{
    static const uint8_t head[] = {
        0x01, 0x01, 0,    0,    0,    0,    0,    0, /* version, reserved */
        0,    0,    0,    0,    0,    0,    0,    0, /* time */
        0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0, 0, 0, 0};
    static const uint8_t av[] = {0x02, 0x00, 0x0c, 0x00, 'D',  0,    'o',  0,    'm', 0, 'a', 0,
                                 'i',  0,    'n',  0,    0x01, 0x00, 0x0c, 0x00, 'S', 0, 'e', 0,
                                 'r',  0,    'v',  0,    'e',  0,    'r',  0,    0,   0, 0,   0};
    size_t n = 0;
    memcpy(out, ntproof_vec, 16);
    n += 16;
    memcpy(out + n, head, sizeof(head));
    n += sizeof(head);
    memcpy(out + n, av, sizeof(av));
    n += sizeof(av);
    memset(out + n, 0, 4);
    return n + 4;
}

static void wr16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, v & 0xFFFF);
    wr16(p + 2, v >> 16);
}

static void put_field(uint8_t *msg, size_t at, size_t *end, const void *data, size_t len)
{
    wr16(msg + at, (unsigned)len);
    wr16(msg + at + 2, (unsigned)len);
    wr32(msg + at + 4, (uint32_t)*end);
    memcpy(msg + *end, data, len);
    *end += len;
}

/* An AUTHENTICATE_MESSAGE carrying user "User", domain "Domain" (unicode) and nt. */
static size_t make_auth(uint8_t *msg, const uint8_t *nt, size_t nt_len)
{
    static const uint8_t user16[] = {'U', 0, 's', 0, 'e', 0, 'r', 0};
    static const uint8_t ws16[] = {'C', 0, 'O', 0, 'M', 0, 'P', 0, 'U', 0, 'T', 0, 'E', 0, 'R', 0};
    memset(msg, 0, 72);
    memcpy(msg, "NTLMSSP", 8);
    wr32(msg + 8, 3);
    size_t end = 72;
    put_field(msg, 12, &end, "", 0);
    put_field(msg, 20, &end, nt, nt_len);
    put_field(msg, 28, &end, domain16, sizeof(domain16));
    put_field(msg, 36, &end, user16, sizeof(user16));
    put_field(msg, 44, &end, ws16, sizeof(ws16));
    put_field(msg, 52, &end, "", 0);
    wr32(msg + 60, 0x00000001u | 0x00000200u | 0x00080000u);
    return end;
}

static void ntowfv2_vector(void **state)
{
    (void)state;
    uint8_t out[16];
    assert_int_equal(el_srv_ntlm_ntowfv2("User", "Password", domain16, sizeof(domain16), 1, out),
                     0);
    assert_memory_equal(out, ntowfv2_vec, 16);
    /* the user is uppercased, the domain is not; OEM domains are widened */
    assert_int_equal(el_srv_ntlm_ntowfv2("user", "Password", domain16, sizeof(domain16), 1, out),
                     0);
    assert_memory_equal(out, ntowfv2_vec, 16);
    assert_int_equal(el_srv_ntlm_ntowfv2("User", "Password", (const uint8_t *)"Domain", 6, 0, out),
                     0);
    assert_memory_equal(out, ntowfv2_vec, 16);
    assert_int_equal(el_srv_ntlm_ntowfv2("User", "Password", (const uint8_t *)"DOMAIN", 6, 0, out),
                     0);
    assert_memory_not_equal(out, ntowfv2_vec, 16);
    assert_int_equal(el_srv_ntlm_ntowfv2("User", "password", domain16, sizeof(domain16), 1, out),
                     0);
    assert_memory_not_equal(out, ntowfv2_vec, 16);
    /* not UTF-8 */
    assert_int_equal(el_srv_ntlm_ntowfv2("User", "\xff", domain16, sizeof(domain16), 1, out), -1);
}

static void verify_vector(void **state)
{
    (void)state;
    uint8_t nt[128], msg[512];
    size_t nt_len = vector_response(nt);
    size_t len = make_auth(msg, nt, nt_len);
    assert_int_equal(el_srv_ntlm_type(msg, len), 3);
    struct el_srv_ntlm_auth a;
    assert_int_equal(el_srv_ntlm_parse_auth(msg, len, &a), 0);
    assert_string_equal(a.user, "User");
    assert_int_equal(a.unicode, 1);
    assert_int_equal(a.domain_len, sizeof(domain16));
    assert_int_equal(a.nt_len, nt_len);
    assert_int_equal(el_srv_ntlm_verify(&a, server_challenge, "Password"), 1);
    /* the wrong password, another challenge, a changed blob: refused */
    assert_int_equal(el_srv_ntlm_verify(&a, server_challenge, "Passwore"), 0);
    uint8_t other[8];
    memcpy(other, server_challenge, 8);
    other[7] ^= 1;
    assert_int_equal(el_srv_ntlm_verify(&a, other, "Password"), 0);
    nt[30] ^= 0x40; /* the client challenge */
    len = make_auth(msg, nt, nt_len);
    assert_int_equal(el_srv_ntlm_parse_auth(msg, len, &a), 0);
    assert_int_equal(el_srv_ntlm_verify(&a, server_challenge, "Password"), 0);
    /* an NTLMv1 response (24 bytes) is not accepted */
    len = make_auth(msg, nt, 24);
    assert_int_equal(el_srv_ntlm_parse_auth(msg, len, &a), 0);
    assert_int_equal(el_srv_ntlm_verify(&a, server_challenge, "Password"), 0);
}

static void parse_bounds(void **state)
{
    (void)state;
    uint8_t nt[128], msg[512];
    size_t nt_len = vector_response(nt);
    size_t len = make_auth(msg, nt, nt_len);
    struct el_srv_ntlm_auth a;
    /* truncated: the fields point past the end */
    assert_int_equal(el_srv_ntlm_parse_auth(msg, len - 1, &a), -1);
    assert_int_equal(el_srv_ntlm_parse_auth(msg, 63, &a), -1);
    /* an offset past the end */
    uint8_t bad[512];
    memcpy(bad, msg, len);
    wr32(bad + 36 + 4, 0xFFFFFFF0u);
    assert_int_equal(el_srv_ntlm_parse_auth(bad, len, &a), -1);
    /* wrong type, wrong signature */
    memcpy(bad, msg, len);
    wr32(bad + 8, 1);
    assert_int_equal(el_srv_ntlm_parse_auth(bad, len, &a), -1);
    assert_int_equal(el_srv_ntlm_type(bad, len), 1);
    bad[0] = 'X';
    assert_int_equal(el_srv_ntlm_type(bad, len), 0);
    /* an empty user name */
    memcpy(bad, msg, len);
    wr16(bad + 36, 0);
    assert_int_equal(el_srv_ntlm_parse_auth(bad, len, &a), -1);
    /* a lone surrogate in the user name */
    memcpy(bad, msg, len);
    uint32_t uoff = (uint32_t)bad[40] | (uint32_t)bad[41] << 8;
    wr16(bad + uoff, 0xD800);
    assert_int_equal(el_srv_ntlm_parse_auth(bad, len, &a), -1);
}

static void challenge_layout(void **state)
{
    (void)state;
    uint8_t out[256];
    long n = el_srv_ntlm_challenge(server_challenge, "Domain", "Server", out, sizeof(out));
    assert_true(n > 56);
    assert_int_equal(el_srv_ntlm_type(out, (size_t)n), 2);
    assert_memory_equal(out + 24, server_challenge, 8);
    uint32_t flags = (uint32_t)out[20] | (uint32_t)out[21] << 8 | (uint32_t)out[22] << 16 |
                     (uint32_t)out[23] << 24;
    assert_true(flags & 0x00000001u); /* unicode */
    assert_true(flags & 0x00800000u); /* target info: clients answer NTLMv2 */
    /* the target info is the AV pairs of the 4.2.4 blob */
    unsigned tlen = out[40] | out[41] << 8;
    unsigned toff = out[44] | out[45] << 8;
    uint8_t nt[128];
    vector_response(nt);
    assert_int_equal(tlen, 36);
    assert_true(toff + tlen <= (unsigned)n);
    assert_memory_equal(out + toff, nt + 16 + 28, 36);
    /* too small a buffer */
    assert_int_equal(el_srv_ntlm_challenge(server_challenge, "Domain", "Server", out, 60), -1);
}

static void conn_table(void **state)
{
    (void)state;
    struct el_srv_ntlm_conns *t = el_srv_ntlm_conns_new();
    assert_non_null(t);
    assert_null(el_srv_ntlm_conn_find(t, 7));
    struct el_srv_ntlm_conn *c = el_srv_ntlm_conn_get(t, 7);
    assert_non_null(c);
    c->state = EL_SRV_NTLM_AUTHENTICATED;
    c->user = 3;
    c->used_ms = 100;
    /* ids that share a bucket stay apart */
    for (uint64_t id = 8; id < 20000; id++) {
        struct el_srv_ntlm_conn *o = el_srv_ntlm_conn_get(t, id);
        assert_non_null(o);
        assert_int_equal(o->state, 0);
        o->used_ms = id;
    }
    assert_int_equal(el_srv_ntlm_conns_count(t), 19993);
    c = el_srv_ntlm_conn_find(t, 7);
    assert_non_null(c);
    assert_int_equal(c->user, 3);
    assert_ptr_equal(el_srv_ntlm_conn_get(t, 7), c);
    el_srv_ntlm_conn_drop(t, 7);
    assert_null(el_srv_ntlm_conn_find(t, 7));
    /* a new connection never inherits: id 7 again would be a new entry (h2o never reuses) */
    c = el_srv_ntlm_conn_get(t, 7);
    assert_int_equal(c->state, 0);
    c->used_ms = 50000;
    assert_int_equal(el_srv_ntlm_conns_sweep(t, 10000), 10000 - 8);
    assert_null(el_srv_ntlm_conn_find(t, 9999));
    assert_non_null(el_srv_ntlm_conn_find(t, 10000));
    assert_non_null(el_srv_ntlm_conn_find(t, 7));
    el_srv_ntlm_conns_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ntowfv2_vector), cmocka_unit_test(verify_vector),
        cmocka_unit_test(parse_bounds),   cmocka_unit_test(challenge_layout),
        cmocka_unit_test(conn_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
