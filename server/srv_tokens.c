/* srv_tokens.c - OAuth-style bearer tokens the reference server issues (issue 7): one random
 * token per user at start, written as "user,token" CSV (mode 0600) for clients to read
 * (`easload serve --issue-tokens FILE`, `easload probe --token-file FILE`), then accepted as
 * "Authorization: Bearer <token>" in place of Basic. A token is "<user index>.<48 hex>", so the
 * check is one constant-time compare, whatever the number of users.
 * Owns: the token table (wiped on free). Uses: srv_http_int.h, srv.h, OpenSSL (RAND, cleanse). */
#include "srv_http_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define TOKEN_MAX 64

struct el__srv_tokens {
    uint32_t n;
    char (*tok)[TOKEN_MAX]; /* owned: one per user index */
};

void el__srv_tokens_free(struct el__srv_tokens *t)
{
    if (t == NULL)
        return;
    if (t->tok)
        OPENSSL_cleanse(t->tok, (size_t)t->n * TOKEN_MAX);
    free(t->tok);
    free(t);
}

int el__srv_tokens_issue(struct el_srv_state *st, const char *file, struct el__srv_tokens **out,
                         struct el_err *err)
{
    *out = NULL;
    struct el__srv_tokens *t = calloc(1, sizeof(*t));
    uint32_t n = el_srv_user_count(st);
    if (t == NULL || (t->tok = calloc(n ? n : 1, TOKEN_MAX)) == NULL) {
        free(t);
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "tokens: out of memory");
    }
    t->n = n;
    FILE *f = fopen(file, "w");
    if (f == NULL) {
        el__srv_tokens_free(t);
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "--issue-tokens %s: %s", file, strerror(errno));
    }
    int ok = fchmod(fileno(f), 0600) == 0 && fprintf(f, "user,token\n") > 0;
    for (uint32_t i = 0; ok && i < n; i++) {
        unsigned char r[24];
        ok = RAND_bytes(r, sizeof(r)) == 1;
        int len = snprintf(t->tok[i], TOKEN_MAX, "%u.", (unsigned)i);
        for (size_t k = 0; ok && k < sizeof(r); k++)
            len += snprintf(t->tok[i] + len, TOKEN_MAX - (size_t)len, "%02x", r[k]);
        OPENSSL_cleanse(r, sizeof(r));
        ok = ok && fprintf(f, "%s,%s\n", el_srv_user_name(st, i), t->tok[i]) > 0;
    }
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        el__srv_tokens_free(t);
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "--issue-tokens %s: cannot write", file);
    }
    *out = t;
    return 0;
}

const struct el_srv_user *el__srv_tokens_auth(const struct el__srv_tokens *t,
                                              struct el_srv_state *st, const char *v, size_t len)
{
    if (t == NULL || len <= 7 || strncasecmp(v, "Bearer ", 7) != 0)
        return NULL;
    v += 7;
    len -= 7;
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    uint32_t idx = 0;
    size_t i = 0;
    for (; i < len && i < 10 && v[i] >= '0' && v[i] <= '9'; i++)
        idx = idx * 10 + (uint32_t)(v[i] - '0');
    if (i == 0 || i >= len || v[i] != '.' || idx >= t->n)
        return NULL;
    const char *want = t->tok[idx];
    if (strlen(want) != len || CRYPTO_memcmp(want, v, len) != 0)
        return NULL;
    return el_srv_user_find(st, el_srv_user_name(st, idx));
}
