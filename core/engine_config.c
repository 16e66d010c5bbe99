/* engine_config.c - the run's configuration: defaults, thresholds, the users table (CSV file
 * or 'user%d:pass%d' pattern), durations ("1m30s") and the loopback check of the target.
 * Owns: the configuration's thresholds and users (passwords wiped on close).
 * Uses: engine.h, OpenSSL (OPENSSL_cleanse). */
#include "engine.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define USERS_MAX 10000000u

void el_engine_config_init(struct el_engine_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "scenario");
    c->devices = 10;
    c->duration_us = 60 * 1000000LL;
    c->grace_us = 5 * 1000000LL;
    c->timeout_us = 60 * 1000000LL;
    c->seed = 1;
    c->workers = 1;
    c->nworkers = 1;
    c->lua_heap_max = (size_t)1 << 30;
    c->log_level = EL_LOG_INFO;
    c->progress_fd = -1;
    c->user_count = 0;
    c->shard = 0;
    c->shards = 1;
}

void el_engine_shard_range(const struct el_engine_config *c, uint32_t *first, uint32_t *end)
{
    uint64_t n = c->shards ? c->shards : 1;
    uint64_t i = c->shard < n ? c->shard : n - 1;
    *first = (uint32_t)((uint64_t)c->devices * i / n);
    *end = (uint32_t)((uint64_t)c->devices * (i + 1) / n);
}

static void users_free(struct el_engine_config *c)
{
    for (uint32_t i = 0; i < c->nusers; i++) {
        if (c->users[i].password) {
            OPENSSL_cleanse(c->users[i].password, strlen(c->users[i].password));
            free(c->users[i].password);
        }
        free(c->users[i].name);
    }
    free(c->users);
    c->users = NULL;
    c->nusers = 0;
}

void el_engine_config_close(struct el_engine_config *c)
{
    users_free(c);
    for (unsigned i = 0; i < c->nthresholds; i++)
        free(c->thresholds[i]);
    c->nthresholds = 0;
}

int el_engine_config_threshold(struct el_engine_config *c, const char *expr, struct el_err *err)
{
    if (c->nthresholds >= EL_ENGINE_THRESHOLDS_MAX)
        return EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET, "more than %d thresholds",
                      EL_ENGINE_THRESHOLDS_MAX);
    char *s = strdup(expr);
    if (s == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "out of memory");
    c->thresholds[c->nthresholds++] = s;
    return 0;
}

static int user_add(struct el_engine_config *c, uint32_t *cap, const char *name, size_t nlen,
                    const char *pass, size_t plen, struct el_err *err)
{
    if (c->nusers >= USERS_MAX)
        return EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET, "more than %u users", USERS_MAX);
    if (c->nusers == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 64;
        void *p = realloc(c->users, ncap * sizeof(*c->users));
        if (p == NULL)
            return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "out of memory");
        c->users = p;
        *cap = ncap;
    }
    struct el_engine_user *u = &c->users[c->nusers];
    u->name = strndup(name, nlen);
    u->password = strndup(pass, plen);
    if (u->name == NULL || u->password == NULL) {
        free(u->name);
        free(u->password);
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "out of memory");
    }
    c->nusers++;
    return 0;
}

/* Trims spaces and one pair of double quotes around a CSV field. */
static void field_trim(const char **s, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
    if (*n >= 2 && (*s)[0] == '"' && (*s)[*n - 1] == '"')
        (*s)++, *n -= 2;
}

int el_engine_users_csv(struct el_engine_config *c, const char *path, struct el_err *err)
{
    users_free(c);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: %s", path, strerror(errno));
    char line[1024];
    unsigned lineno = 0;
    uint32_t cap = 0;
    int rc = 0;
    int ucol = -1, pcol = -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s:%u: line longer than %zu bytes", path,
                        lineno, sizeof(line) - 2);
            goto fail;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        const char *fs[8];
        size_t fl[8];
        int nf = 0;
        const char *p = line;
        while (nf < 8) {
            const char *comma = strchr(p, ',');
            fs[nf] = p;
            fl[nf] = comma ? (size_t)(comma - p) : strlen(p);
            field_trim(&fs[nf], &fl[nf]);
            nf++;
            if (comma == NULL)
                break;
            p = comma + 1;
        }
        if (ucol < 0) {
            for (int i = 0; i < nf; i++) {
                if (fl[i] == 4 && strncmp(fs[i], "user", 4) == 0)
                    ucol = i;
                else if ((fl[i] == 8 && strncmp(fs[i], "password", 8) == 0) ||
                         (fl[i] == 5 && strncmp(fs[i], "token", 5) == 0))
                    pcol = i; /* token: `easload serve --issue-tokens` CSV (issue 7) */
            }
            if (ucol < 0 || pcol < 0) {
                rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                            "%s:%u: the header must name the columns user,password "
                            "(or user,token)",
                            path, lineno);
                goto fail;
            }
            continue;
        }
        if (ucol >= nf || pcol >= nf || fl[ucol] == 0) {
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s:%u: missing user or password", path,
                        lineno);
            goto fail;
        }
        rc = user_add(c, &cap, fs[ucol], fl[ucol], fs[pcol], fl[pcol], err);
        if (rc < 0)
            goto fail;
    }
    OPENSSL_cleanse(line, sizeof(line));
    fclose(f);
    if (ucol < 0 || c->nusers == 0)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s: no users", path);
    return 0;
fail:
    OPENSSL_cleanse(line, sizeof(line));
    fclose(f);
    users_free(c);
    return rc;
}

/* Expands one side of a pattern: %d -> n, %% -> %, anything else after % is refused. */
static int expand(const char *pat, size_t len, uint32_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char tmp[16];
        const char *add = tmp;
        size_t alen = 1;
        if (pat[i] == '%') {
            if (i + 1 >= len)
                return -1;
            i++;
            if (pat[i] == 'd')
                alen = (size_t)snprintf(tmp, sizeof(tmp), "%u", n);
            else if (pat[i] == '%')
                tmp[0] = '%';
            else
                return -1;
        } else {
            tmp[0] = pat[i];
        }
        if (o + alen >= cap)
            return -1;
        memcpy(out + o, add, alen);
        o += alen;
    }
    out[o] = '\0';
    return (int)o;
}

int el_engine_users_pattern(struct el_engine_config *c, const char *pattern, uint32_t count,
                            struct el_err *err)
{
    users_free(c);
    const char *colon = strchr(pattern, ':');
    if (colon == NULL)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "user pattern '%s' needs the form 'user%%d:pass%%d'", pattern);
    if (count == 0 || count > USERS_MAX)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "user count %u out of range 1..%u", count,
                      USERS_MAX);
    uint32_t cap = 0;
    char name[256], pass[256];
    for (uint32_t i = 1; i <= count; i++) {
        int nl = expand(pattern, (size_t)(colon - pattern), i, name, sizeof(name));
        int pl = expand(colon + 1, strlen(colon + 1), i, pass, sizeof(pass));
        if (nl <= 0 || pl < 0) {
            users_free(c);
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                          "user pattern: only %%d and %%%% are allowed, names up to 255 bytes");
        }
        int rc = user_add(c, &cap, name, (size_t)nl, pass, (size_t)pl, err);
        OPENSSL_cleanse(pass, sizeof(pass));
        if (rc < 0) {
            users_free(c);
            return rc;
        }
    }
    return 0;
}

int el_engine_parse_duration(const char *s, int64_t *out_us)
{
    if (s == NULL || *s == '\0')
        return EL_EINVAL;
    double total = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || v < 0)
            return EL_EINVAL;
        p = end;
        double mul = 1e6;
        if (strncmp(p, "ms", 2) == 0)
            mul = 1e3, p += 2;
        else if (strncmp(p, "us", 2) == 0)
            mul = 1, p += 2;
        else if (*p == 's')
            p++;
        else if (*p == 'm')
            mul = 60e6, p++;
        else if (*p == 'h')
            mul = 3600e6, p++;
        else if (*p != '\0')
            return EL_EINVAL;
        total += v * mul;
        if (total > 30.0 * 24 * 3600e6)
            return EL_EINVAL;
    }
    *out_us = (int64_t)total;
    return 0;
}

int el_engine_url_is_loopback(const char *url)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return 0;
    p += 3;
    const char *at = strpbrk(p, "@/");
    if (at && *at == '@')
        p = at + 1;
    if (strncmp(p, "[::1]", 5) == 0)
        return p[5] == '\0' || p[5] == ':' || p[5] == '/';
    size_t n = strcspn(p, ":/?#");
    if (n == 9 && strncasecmp(p, "localhost", 9) == 0)
        return 1;
    if (n < 7 || n > 15 || strncmp(p, "127.", 4) != 0)
        return 0;
    unsigned a, b, cc, d;
    char tail;
    char host[16];
    memcpy(host, p, n);
    host[n] = '\0';
    if (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &cc, &d, &tail) != 4)
        return 0;
    return a == 127 && b < 256 && cc < 256 && d < 256;
}
