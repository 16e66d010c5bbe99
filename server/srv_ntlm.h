/* srv_ntlm.h - NTLM authentication for the reference server (issue 7): the messages of
 * [MS-NLMP] 2.2.1 (NEGOTIATE, CHALLENGE, AUTHENTICATE), NTLMv2 verification (3.3.2:
 * NTOWFv2 = HMAC-MD5(MD4(UTF-16LE(password)), UTF-16LE(uppercase(user) || domain)), NTProofStr =
 * HMAC-MD5(NTOWFv2, server challenge || blob)), and the per-worker table that remembers which
 * user each authenticated connection is (NTLM authenticates a connection, not a request: a
 * client sends no Authorization on later requests of it). The table is keyed by the h2o
 * connection's id, which is never reused, so no connection can inherit another's identity.
 * Knows nothing of h2o or EAS; secrets (password, hashes, messages) are wiped after use and
 * never logged. */
#ifndef EL_SRV_NTLM_H
#define EL_SRV_NTLM_H

#include <stddef.h>
#include <stdint.h>

#define EL_SRV_NTLM_MSG_MAX 2048 /* longest message accepted (decoded) */

/* The message type of a decoded message: 1, 2 or 3; 0 when it is not an NTLM message. */
int el_srv_ntlm_type(const uint8_t *msg, size_t len);

/* Writes a CHALLENGE_MESSAGE (NTLMv2 only: target info with the NetBIOS domain and computer
 * names, no LM) for challenge into out. The length, or -1 when cap is too small. */
long el_srv_ntlm_challenge(const uint8_t challenge[8], const char *domain, const char *computer,
                           uint8_t *out, size_t cap);

/* The parts of an AUTHENTICATE_MESSAGE; pointers into the message. */
struct el_srv_ntlm_auth {
    char user[256];        /* UserName as UTF-8 */
    const uint8_t *domain; /* DomainName as sent (UTF-16LE with NEGOTIATE_UNICODE, else OEM) */
    size_t domain_len;
    int unicode;
    const uint8_t *nt; /* NtChallengeResponse */
    size_t nt_len;
};

/* Parses an AUTHENTICATE_MESSAGE. 0, or -1 when malformed (bounds, not type 3, a user name
 * that is empty or too long). */
int el_srv_ntlm_parse_auth(const uint8_t *msg, size_t len, struct el_srv_ntlm_auth *out);

/* NTOWFv2 of a UTF-8 user and password and a domain in the message's encoding (unicode: 1 =
 * UTF-16LE). 0, or -1 (a string that is not UTF-8). */
int el_srv_ntlm_ntowfv2(const char *user, const char *password, const uint8_t *domain,
                        size_t domain_len, int unicode, uint8_t out[16]);

/* 1 when a's NTLMv2 response proves the password for the challenge, else 0 (NTLMv1 and
 * anonymous responses are refused). */
int el_srv_ntlm_verify(const struct el_srv_ntlm_auth *a, const uint8_t challenge[8],
                       const char *password);

/* ---- connections (one table per server worker, used on its loop thread only) ------------ */

struct el_srv_ntlm_conns;

struct el_srv_ntlm_conns *el_srv_ntlm_conns_new(void); /* NULL: out of memory */
void el_srv_ntlm_conns_free(struct el_srv_ntlm_conns *t);

/* A connection's state: a challenge sent (waiting for AUTHENTICATE) or its user. */
struct el_srv_ntlm_conn {
    uint64_t id; /* the h2o connection id */
    int state;   /* EL_SRV_NTLM_CHALLENGED or EL_SRV_NTLM_AUTHENTICATED */
    uint8_t challenge[8];
    uint32_t user; /* user index once authenticated */
    uint64_t used_ms;
};
enum {
    EL_SRV_NTLM_CHALLENGED = 1,
    EL_SRV_NTLM_AUTHENTICATED = 2
};

/* The entry of connection id, NULL if none. */
struct el_srv_ntlm_conn *el_srv_ntlm_conn_find(struct el_srv_ntlm_conns *t, uint64_t id);
/* The entry of id, made if missing (zeroed but for id); NULL when out of memory or when the
 * table is full (EL_SRV_NTLM_CONNS_MAX). */
#define EL_SRV_NTLM_CONNS_MAX (1u << 20)
struct el_srv_ntlm_conn *el_srv_ntlm_conn_get(struct el_srv_ntlm_conns *t, uint64_t id);
void el_srv_ntlm_conn_drop(struct el_srv_ntlm_conns *t, uint64_t id);
/* Forgets entries not used since before_ms (connections long gone; ids are never reused, so
 * a stale entry is only memory). The number dropped. */
size_t el_srv_ntlm_conns_sweep(struct el_srv_ntlm_conns *t, uint64_t before_ms);
size_t el_srv_ntlm_conns_count(const struct el_srv_ntlm_conns *t);

#endif
