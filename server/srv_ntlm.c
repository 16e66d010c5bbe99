/* srv_ntlm.c - NTLM for the reference server (issue 7): builds the CHALLENGE_MESSAGE, parses
 * the AUTHENTICATE_MESSAGE and verifies its NTLMv2 response ([MS-NLMP] 2.2.1.2, 2.2.1.3,
 * 3.3.2), and keeps the per-worker table of authenticated connections (srv_ntlm.h).
 * MD4 (for the NT hash) is OpenSSL's low-level MD4(): OpenSSL 3 keeps it outside the providers
 * (MD4 through EVP needs the legacy provider) and marks it deprecated, hence the one define
 * below, for this file only. User names are uppercased in ASCII only.
 * Owns: the connection table. Uses: srv_ntlm.h, OpenSSL (MD4, HMAC-MD5, CRYPTO_memcmp,
 * OPENSSL_cleanse). */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "srv_ntlm.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md4.h>

static const uint8_t signature[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

#define F_UNICODE     0x00000001u
#define F_REQ_TARGET  0x00000004u
#define F_NTLM        0x00000200u
#define F_ALWAYS_SIGN 0x00008000u
#define F_TYPE_DOMAIN 0x00010000u
#define F_EXT_SEC     0x00080000u
#define F_TARGET_INFO 0x00800000u

#define AV_EOL           0
#define AV_NB_COMPUTER   1
#define AV_NB_DOMAIN     2
#define CHALLENGE_HEADER 56 /* through the (zero) Version field */

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
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

int el_srv_ntlm_type(const uint8_t *msg, size_t len)
{
    if (len < 12 || memcmp(msg, signature, 8) != 0)
        return 0;
    uint32_t t = rd32(msg + 8);
    return t >= 1 && t <= 3 ? (int)t : 0;
}

/* UTF-8 -> UTF-16LE into out (cap bytes); upper: ASCII letters uppercased. The byte length, or
 * -1 (not UTF-8, too long). */
static long utf16le(const char *s, size_t n, int upper, uint8_t *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp;
        size_t k;
        if (c < 0x80) {
            cp = c;
            k = 1;
        } else if ((c & 0xE0) == 0xC0) {
            cp = c & 0x1F;
            k = 2;
        } else if ((c & 0xF0) == 0xE0) {
            cp = c & 0x0F;
            k = 3;
        } else if ((c & 0xF8) == 0xF0) {
            cp = c & 0x07;
            k = 4;
        } else {
            return -1;
        }
        if (i + k > n)
            return -1;
        for (size_t j = 1; j < k; j++) {
            unsigned char d = (unsigned char)s[i + j];
            if ((d & 0xC0) != 0x80)
                return -1;
            cp = cp << 6 | (d & 0x3F);
        }
        i += k;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        if (upper && cp >= 'a' && cp <= 'z')
            cp -= 32;
        if (cp >= 0x10000) {
            if (o + 4 > cap)
                return -1;
            cp -= 0x10000;
            wr16(out + o, 0xD800 | (cp >> 10));
            wr16(out + o + 2, 0xDC00 | (cp & 0x3FF));
            o += 4;
        } else {
            if (o + 2 > cap)
                return -1;
            wr16(out + o, cp);
            o += 2;
        }
    }
    return (long)o;
}

/* UTF-16LE -> UTF-8 (NUL-terminated). 0 or -1. */
static int utf8_of(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    if (n % 2)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        uint32_t cp = rd16(p + i);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 4 > n)
                return -1;
            uint32_t lo = rd16(p + i + 2);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return -1;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return -1;
        }
        uint8_t b[4];
        size_t k;
        if (cp < 0x80) {
            b[0] = (uint8_t)cp;
            k = 1;
        } else if (cp < 0x800) {
            b[0] = (uint8_t)(0xC0 | cp >> 6);
            b[1] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 2;
        } else if (cp < 0x10000) {
            b[0] = (uint8_t)(0xE0 | cp >> 12);
            b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            b[2] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 3;
        } else {
            b[0] = (uint8_t)(0xF0 | cp >> 18);
            b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            b[3] = (uint8_t)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (cp == 0 || o + k + 1 > cap)
            return -1;
        memcpy(out + o, b, k);
        o += k;
    }
    out[o] = '\0';
    return 0;
}

/* Appends one AV pair (id, UTF-16LE of s) at out + *n. 0 or -1. */
static int av_pair(uint8_t *out, size_t cap, size_t *n, unsigned id, const char *s)
{
    if (*n + 4 > cap)
        return -1;
    long len = utf16le(s, strlen(s), 0, out + *n + 4, cap - *n - 4);
    if (len < 0 || len > 0xFFFF)
        return -1;
    wr16(out + *n, id);
    wr16(out + *n + 2, (unsigned)len);
    *n += 4 + (size_t)len;
    return 0;
}

long el_srv_ntlm_challenge(const uint8_t challenge[8], const char *domain, const char *computer,
                           uint8_t *out, size_t cap)
{
    if (cap < CHALLENGE_HEADER)
        return -1;
    memset(out, 0, CHALLENGE_HEADER);
    memcpy(out, signature, 8);
    wr32(out + 8, 2);
    size_t n = CHALLENGE_HEADER;
    /* TargetName: the domain */
    long tlen = utf16le(domain, strlen(domain), 0, out + n, cap - n);
    if (tlen < 0 || tlen > 0xFFFF)
        return -1;
    wr16(out + 12, (unsigned)tlen);
    wr16(out + 14, (unsigned)tlen);
    wr32(out + 16, (uint32_t)n);
    n += (size_t)tlen;
    wr32(out + 20, F_UNICODE | F_REQ_TARGET | F_NTLM | F_ALWAYS_SIGN | F_TYPE_DOMAIN | F_EXT_SEC |
                       F_TARGET_INFO);
    memcpy(out + 24, challenge, 8);
    /* TargetInfo: what the client's NTLMv2 blob echoes */
    size_t ti = n;
    if (av_pair(out, cap, &n, AV_NB_DOMAIN, domain) < 0 ||
        av_pair(out, cap, &n, AV_NB_COMPUTER, computer) < 0 || n + 4 > cap)
        return -1;
    wr16(out + n, AV_EOL);
    wr16(out + n + 2, 0);
    n += 4;
    wr16(out + 40, (unsigned)(n - ti));
    wr16(out + 42, (unsigned)(n - ti));
    wr32(out + 44, (uint32_t)ti);
    return (long)n;
}

/* A security buffer field at off: its bytes, bounds-checked. 0 or -1. */
static int field(const uint8_t *msg, size_t len, size_t off, const uint8_t **p, size_t *n)
{
    uint16_t l = rd16(msg + off);
    uint32_t o = rd32(msg + off + 4);
    if (l == 0) {
        *p = msg;
        *n = 0;
        return 0;
    }
    if (o > len || l > len - o)
        return -1;
    *p = msg + o;
    *n = l;
    return 0;
}

int el_srv_ntlm_parse_auth(const uint8_t *msg, size_t len, struct el_srv_ntlm_auth *out)
{
    memset(out, 0, sizeof(*out));
    if (len < 64 || el_srv_ntlm_type(msg, len) != 3)
        return -1;
    const uint8_t *user, *other;
    size_t ulen, olen;
    /* every field in bounds (LM, workstation, session key are read for that only) */
    if (field(msg, len, 12, &other, &olen) < 0 || field(msg, len, 44, &other, &olen) < 0 ||
        field(msg, len, 52, &other, &olen) < 0 || field(msg, len, 20, &out->nt, &out->nt_len) < 0 ||
        field(msg, len, 28, &out->domain, &out->domain_len) < 0 ||
        field(msg, len, 36, &user, &ulen) < 0)
        return -1;
    out->unicode = (rd32(msg + 60) & F_UNICODE) != 0;
    if (ulen == 0)
        return -1;
    if (out->unicode)
        return utf8_of(user, ulen, out->user, sizeof(out->user));
    if (ulen >= sizeof(out->user) || memchr(user, 0, ulen) != NULL)
        return -1;
    memcpy(out->user, user, ulen); /* OEM: taken as it is (ASCII in practice) */
    out->user[ulen] = '\0';
    return 0;
}

int el_srv_ntlm_ntowfv2(const char *user, const char *password, const uint8_t *domain,
                        size_t domain_len, int unicode, uint8_t out[16])
{
    uint8_t buf[1024], nt[16];
    int rc = -1;
    long pl = utf16le(password, strlen(password), 0, buf, sizeof(buf));
    if (pl < 0)
        goto done;
    MD4(buf, (size_t)pl, nt);
    long ul = utf16le(user, strlen(user), 1, buf, sizeof(buf));
    if (ul < 0)
        goto done;
    size_t n = (size_t)ul;
    if (unicode) {
        if (domain_len > sizeof(buf) - n)
            goto done;
        memcpy(buf + n, domain, domain_len);
        n += domain_len;
    } else {
        if (2 * domain_len > sizeof(buf) - n)
            goto done;
        for (size_t i = 0; i < domain_len; i++)
            wr16(buf + n + 2 * i, domain[i]);
        n += 2 * domain_len;
    }
    unsigned int olen = 16;
    rc = HMAC(EVP_md5(), nt, sizeof(nt), buf, n, out, &olen) != NULL && olen == 16 ? 0 : -1;
done:
    OPENSSL_cleanse(buf, sizeof(buf));
    OPENSSL_cleanse(nt, sizeof(nt));
    return rc;
}

int el_srv_ntlm_verify(const struct el_srv_ntlm_auth *a, const uint8_t challenge[8],
                       const char *password)
{
    /* NTLMv2: NTProofStr (16) || blob (RespType 1, HiRespType 1, 6 zero bytes, time, client
     * challenge, 4 zero bytes, AV pairs, 4 zero bytes: at least 28 bytes) */
    if (a->nt_len < 16 + 28 || a->nt_len > EL_SRV_NTLM_MSG_MAX || a->nt[16] != 1 || a->nt[17] != 1)
        return 0;
    uint8_t key[16], proof[16], buf[8 + EL_SRV_NTLM_MSG_MAX];
    if (el_srv_ntlm_ntowfv2(a->user, password, a->domain, a->domain_len, a->unicode, key) < 0)
        return 0;
    size_t blob = a->nt_len - 16;
    memcpy(buf, challenge, 8);
    memcpy(buf + 8, a->nt + 16, blob);
    unsigned int olen = 16;
    int ok = HMAC(EVP_md5(), key, sizeof(key), buf, 8 + blob, proof, &olen) != NULL && olen == 16 &&
             CRYPTO_memcmp(proof, a->nt, 16) == 0;
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(proof, sizeof(proof));
    return ok;
}

/* ---- connections ------------------------------------------------------------------------- */

#define BUCKETS 4096u

struct node {
    struct node *next;
    struct el_srv_ntlm_conn c;
};

struct el_srv_ntlm_conns {
    struct node *bucket[BUCKETS];
    size_t count;
};

static unsigned bucket_of(uint64_t id)
{
    return (unsigned)((id * 0x9E3779B97F4A7C15ull) >> 52) % BUCKETS;
}

struct el_srv_ntlm_conns *el_srv_ntlm_conns_new(void)
{
    return calloc(1, sizeof(struct el_srv_ntlm_conns));
}

void el_srv_ntlm_conns_free(struct el_srv_ntlm_conns *t)
{
    if (t == NULL)
        return;
    el_srv_ntlm_conns_sweep(t, UINT64_MAX);
    free(t);
}

struct el_srv_ntlm_conn *el_srv_ntlm_conn_find(struct el_srv_ntlm_conns *t, uint64_t id)
{
    for (struct node *n = t->bucket[bucket_of(id)]; n; n = n->next)
        if (n->c.id == id)
            return &n->c;
    return NULL;
}

struct el_srv_ntlm_conn *el_srv_ntlm_conn_get(struct el_srv_ntlm_conns *t, uint64_t id)
{
    struct el_srv_ntlm_conn *c = el_srv_ntlm_conn_find(t, id);
    if (c != NULL)
        return c;
    if (t->count >= EL_SRV_NTLM_CONNS_MAX)
        return NULL;
    struct node *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->c.id = id;
    unsigned b = bucket_of(id);
    n->next = t->bucket[b];
    t->bucket[b] = n;
    t->count++;
    return &n->c;
}

void el_srv_ntlm_conn_drop(struct el_srv_ntlm_conns *t, uint64_t id)
{
    for (struct node **pp = &t->bucket[bucket_of(id)]; *pp; pp = &(*pp)->next) {
        if ((*pp)->c.id == id) {
            struct node *n = *pp;
            *pp = n->next;
            OPENSSL_cleanse(n, sizeof(*n));
            free(n);
            t->count--;
            return;
        }
    }
}

size_t el_srv_ntlm_conns_sweep(struct el_srv_ntlm_conns *t, uint64_t before_ms)
{
    size_t dropped = 0;
    for (unsigned b = 0; b < BUCKETS; b++) {
        struct node **pp = &t->bucket[b];
        while (*pp) {
            struct node *n = *pp;
            if (before_ms == UINT64_MAX || n->c.used_ms < before_ms) {
                *pp = n->next;
                OPENSSL_cleanse(n, sizeof(*n));
                free(n);
                t->count--;
                dropped++;
            } else {
                pp = &n->next;
            }
        }
    }
    return dropped;
}

size_t el_srv_ntlm_conns_count(const struct el_srv_ntlm_conns *t)
{
    return t ? t->count : 0;
}
