/* srv_state.c - the EAS side's state: users (--users N or a CSV file), Basic-auth check, the
 * command dispatch table and el_srv_handle (parse, policy check, handler), counters.
 * Owns: struct el_srv_state and the user table (passwords wiped with OPENSSL_cleanse on free).
 * Uses: srv_int.h, core/wbxml.h, OpenSSL (CRYPTO_memcmp, OPENSSL_cleanse).
 * Thread safety: one mutex over the whole state (st->mu), held for a whole command; simple and
 * enough for a reference server whose commands take microseconds. el_srv_auth reads only the
 * immutable user table and takes no lock. */
#include "srv_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

/* ---- dispatch table ------------------------------------------------------------------------ */

#define P  EL__CMD_POLICY
#define B  EL__CMD_BODY
#define MO EL__CMD_MIME_OLD
#define KL EL__CMD_KEY_LOOSE
#define Q  EL__CMD_QUOTA

static const struct el__cmd_row cmd_table[] = {
    {EL_SRV_SYNC, "Sync", el__cmd_sync, 121, P, EL_AS_SYNC, EL_AS_STATUS},
    {EL_SRV_SENDMAIL, "SendMail", el__cmd_sendmail, 121, P | B | MO | Q, EL_CM_SENDMAIL,
     EL_CM_STATUS},
    {EL_SRV_SMARTFORWARD, "SmartForward", el__cmd_smartforward, 121, P | B | MO | Q,
     EL_CM_SMARTFORWARD, EL_CM_STATUS},
    {EL_SRV_SMARTREPLY, "SmartReply", el__cmd_smartreply, 121, P | B | MO | Q, EL_CM_SMARTREPLY,
     EL_CM_STATUS},
    {EL_SRV_GETATTACHMENT, "GetAttachment", el__cmd_getattachment, 121, P, 0, 0},
    {EL_SRV_FOLDERSYNC, "FolderSync", el__cmd_foldersync, 121, P | B, EL_FH_FOLDERSYNC,
     EL_FH_STATUS},
    {EL_SRV_FOLDERCREATE, "FolderCreate", el__cmd_foldercreate, 121, P | B, EL_FH_FOLDERCREATE,
     EL_FH_STATUS},
    {EL_SRV_FOLDERDELETE, "FolderDelete", el__cmd_folderdelete, 121, P | B, EL_FH_FOLDERDELETE,
     EL_FH_STATUS},
    {EL_SRV_FOLDERUPDATE, "FolderUpdate", el__cmd_folderupdate, 121, P | B, EL_FH_FOLDERUPDATE,
     EL_FH_STATUS},
    {EL_SRV_MOVEITEMS, "MoveItems", el__cmd_moveitems, 121, P | B | Q, EL_MOVE_MOVEITEMS,
     EL_MOVE_STATUS},
    {EL_SRV_GETITEMESTIMATE, "GetItemEstimate", el__cmd_getitemestimate, 121, P | B,
     EL_GIE_GETITEMESTIMATE, EL_GIE_STATUS},
    {EL_SRV_MEETINGRESPONSE, "MeetingResponse", el__cmd_meetingresponse, 121, P | B,
     EL_MR_MEETINGRESPONSE, EL_MR_STATUS},
    {EL_SRV_SEARCH, "Search", el__cmd_search, 121, P | B, EL_SEARCH_SEARCH, EL_SEARCH_STATUS},
    {EL_SRV_SETTINGS, "Settings", el__cmd_settings, 121, P | B, EL_SET_SETTINGS, EL_SET_STATUS},
    {EL_SRV_PING, "Ping", el__cmd_ping, 121, P | KL, EL_PING_PING, EL_PING_STATUS},
    {EL_SRV_ITEMOPERATIONS, "ItemOperations", el__cmd_itemoperations, 121, P | B,
     EL_IO_ITEMOPERATIONS, EL_IO_STATUS},
    {EL_SRV_PROVISION, "Provision", el__cmd_provision, 121, B, EL_PROV_PROVISION, EL_PROV_STATUS},
    {EL_SRV_RESOLVERECIPIENTS, "ResolveRecipients", NULL, 121, P | B, EL_RR_RESOLVERECIPIENTS,
     EL_RR_STATUS},
    {EL_SRV_VALIDATECERT, "ValidateCert", NULL, 121, P | B, EL_VC_VALIDATECERT, EL_VC_STATUS},
    {EL_SRV_FIND, "Find", NULL, 161, P | B, EL_FIND_FIND, EL_FIND_STATUS},
};

#undef P
#undef B
#undef MO
#undef KL
#undef Q

static const struct el__cmd_row *row_of(int cmd)
{
    for (size_t i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
        if (cmd_table[i].cmd == cmd)
            return &cmd_table[i];
    return NULL;
}

const char *el_srv_cmd_name(int cmd)
{
    const struct el__cmd_row *r = row_of(cmd);
    return r ? r->name : NULL;
}

int el_srv_cmd_lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
        if (strlen(cmd_table[i].name) == len && strncasecmp(cmd_table[i].name, name, len) == 0)
            return cmd_table[i].cmd;
    return -1;
}

/* ---- hashing ------------------------------------------------------------------------------- */

uint64_t el__mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t el__hash(const void *p, size_t len, uint64_t h)
{
    const uint8_t *b = p;
    h ^= 0xCBF29CE484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= 0x100000001B3ull;
    }
    return el__mix64(h);
}

static uint64_t hash_lower(const char *s, size_t len)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)tolower((unsigned char)s[i]);
        h *= 0x100000001B3ull;
    }
    return el__mix64(h);
}

static int eq_lower(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return 0;
    return 1;
}

/* Inserts user index i under key; returns 0, or 1 if the key is taken. */
static int ht_insert(struct el_srv_state *st, uint32_t *ht, const char *key, int by_mail,
                     uint32_t i)
{
    size_t len = strlen(key);
    uint32_t mask = st->ht_size - 1;
    for (uint32_t h = (uint32_t)hash_lower(key, len) & mask;; h = (h + 1) & mask) {
        if (ht[h] == 0) {
            ht[h] = i + 1;
            return 0;
        }
        const struct el__user *o = &st->users[ht[h] - 1];
        if (eq_lower(key, len, by_mail ? o->pub.email : o->pub.name))
            return 1;
    }
}

static struct el__user *ht_find(struct el_srv_state *st, uint32_t *ht, const char *key, size_t len,
                                int by_mail)
{
    if (st->ht_size == 0)
        return NULL;
    uint32_t mask = st->ht_size - 1;
    for (uint32_t h = (uint32_t)hash_lower(key, len) & mask; ht[h]; h = (h + 1) & mask) {
        struct el__user *o = &st->users[ht[h] - 1];
        if (eq_lower(key, len, by_mail ? o->pub.email : o->pub.name))
            return o;
    }
    return NULL;
}

struct el__user *el__user_by_name(struct el_srv_state *st, const char *name, size_t len)
{
    return ht_find(st, st->ht_name, name, len, 0);
}

struct el__user *el__user_by_mail(struct el_srv_state *st, const char *mail, size_t len)
{
    return ht_find(st, st->ht_mail, mail, len, 1);
}

/* ---- users --------------------------------------------------------------------------------- */

static const char *first_names[] = {
    "Anna",   "Ben",    "Carla", "David",  "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kemal",  "Laura",  "Mateo", "Nadia",  "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
    "Ursula", "Viktor", "Wen",   "Ximena", "Yusuf", "Zoe",   "Liam",  "Maya", "Noah", "Olga",
};
static const char *last_names[] = {
    "Schmidt", "Garcia", "Nguyen",  "Okafor", "Rossi",   "Kowalski", "Tanaka", "Haddad",
    "Larsen",  "Murphy", "Silva",   "Novak",  "Fischer", "Dubois",   "Patel",  "Cohen",
    "Berg",    "Moreau", "Ivanova", "Kim",    "Lopez",   "Weber",    "Singh",  "Costa",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

static void user_close(struct el_srv_state *st, struct el__user *u)
{
    if (u->pub.password) {
        OPENSSL_cleanse(u->pub.password, u->plen);
        free(u->pub.password);
    }
    free(u->pub.name);
    free(u->pub.email);
    free(u->first);
    free(u->last);
    free(u->oof_msg);
    while (u->devices) {
        struct el__device *d = u->devices;
        u->devices = d->next;
        el__device_free(st, d);
    }
    /* parked watches stay owned by the HTTP side's holds; unlink them so they see no user */
    while (u->watches) {
        struct el_srv_watch *w = u->watches;
        u->watches = w->next;
        w->armed = 0;
        w->user = NULL;
        w->pprev = NULL;
        w->next = NULL;
    }
    if (u->mb)
        el__mailbox_free(st, u->mb);
    memset(u, 0, sizeof(*u));
}

/* Fills user i; email NULL = "<name>@example.test". 0 or EL_ENOMEM. */
static int user_init(struct el_srv_state *st, uint32_t i, const char *name, size_t nlen,
                     const char *pass, size_t plen, const char *email, size_t elen)
{
    struct el__user *u = &st->users[i];
    u->idx = i;
    u->pub.index = i;
    u->pub.name = dup_n(name, nlen);
    u->pub.password = dup_n(pass, plen);
    u->plen = plen;
    if (email && elen) {
        u->pub.email = dup_n(email, elen);
    } else {
        u->pub.email = malloc(nlen + sizeof("@example.test"));
        if (u->pub.email)
            sprintf(u->pub.email, "%.*s@example.test", (int)nlen, name);
    }
    uint64_t h = el__mix64(st->seed ^ el__mix64(i + 1));
    const char *fn = first_names[h % NELEM(first_names)];
    const char *ln = last_names[(h >> 20) % NELEM(last_names)];
    u->first = dup_n(fn, strlen(fn));
    u->last = dup_n(ln, strlen(ln));
    if (!u->pub.name || !u->pub.password || !u->pub.email || !u->first || !u->last)
        return EL_ENOMEM;
    return 0;
}

static int alloc_users(struct el_srv_state *st, uint32_t n, struct el_err *err)
{
    st->users = calloc(n ? n : 1, sizeof(*st->users));
    uint32_t size = 16;
    while (size < 2 * (uint64_t)n)
        size *= 2;
    st->ht_size = size;
    st->ht_name = calloc(size, sizeof(uint32_t));
    st->ht_mail = calloc(size, sizeof(uint32_t));
    if (!st->users || !st->ht_name || !st->ht_mail)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "users: out of memory for %u users", n);
    return 0;
}

#define EL__USERS_MAX 10000000u

static int users_generate(struct el_srv_state *st, unsigned n, struct el_err *err)
{
    if (n == 0 || n > EL__USERS_MAX)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "--users %u: must be 1..%u", n, EL__USERS_MAX);
    int rc = alloc_users(st, n, err);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        char name[24], pass[24];
        int nl = snprintf(name, sizeof(name), "user%u", i + 1);
        int pl = snprintf(pass, sizeof(pass), "pass%u", i + 1);
        st->nusers = i + 1;
        if (user_init(st, i, name, (size_t)nl, pass, (size_t)pl, NULL, 0) < 0)
            return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "users: out of memory");
        ht_insert(st, st->ht_name, st->users[i].pub.name, 0, i);
        ht_insert(st, st->ht_mail, st->users[i].pub.email, 1, i);
    }
    return 0;
}

/* One CSV field starting at *p (quotes with "" escapes allowed); the value is copied into out.
 * Returns 0, or -1 for a bad quote. *p ends after the separator or at the line end. */
static int csv_field(const char **p, const char *end, char *out, size_t size, size_t *outlen)
{
    const char *s = *p;
    size_t n = 0;
    int quoted = 0;
    if (s < end && *s == '"') {
        quoted = 1;
        s++;
    }
    while (s < end) {
        char ch = *s;
        if (quoted) {
            if (ch == '"') {
                if (s + 1 < end && s[1] == '"') {
                    s++;
                } else {
                    quoted = 0;
                    s++;
                    if (s < end && *s != ',')
                        return -1;
                    continue;
                }
            }
        } else if (ch == ',') {
            break;
        } else if (ch == '"') {
            return -1;
        }
        if (n + 1 < size)
            out[n++] = ch;
        s++;
    }
    if (quoted)
        return -1;
    if (s < end && *s == ',')
        s++;
    *p = s;
    /* trim blanks of unquoted fields */
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        n--;
    size_t lead = 0;
    while (lead < n && (out[lead] == ' ' || out[lead] == '\t'))
        lead++;
    memmove(out, out + lead, n - lead);
    n -= lead;
    out[n] = 0;
    *outlen = n;
    return 0;
}

#define CSV_FIELD_MAX 256
#define CSV_COLS_MAX  64

static int users_csv(struct el_srv_state *st, const char *path, struct el_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: %s", path, strerror(errno));
    int rc = 0;
    char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > ((size_t)1 << 31)) {
                rc = EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET, "%s: larger than 2 GB", path);
                goto fail;
            }
            char *nd = realloc(data, cap);
            if (nd == NULL) {
                rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "%s: out of memory", path);
                goto fail;
            }
            data = nd;
        }
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: read error", path);
        goto fail;
    }
    /* count lines for the allocation */
    uint32_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    rc = alloc_users(st, lines + 1, err);
    if (rc < 0)
        goto fail;

    const char *p = data, *end = data + len;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
        p += 3;
    unsigned lineno = 0;
    int col_user = -1, col_pass = -1, col_mail = -1, header = 0;
    char field[CSV_FIELD_MAX];
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol ? eol + 1 : end;
        const char *lend = eol ? eol : end;
        if (lend > p && lend[-1] == '\r')
            lend--;
        lineno++;
        if (lend == p || *p == '#') { /* blank or comment line */
            p = next;
            continue;
        }
        char user[CSV_FIELD_MAX] = "", pass[CSV_FIELD_MAX] = "", mail[CSV_FIELD_MAX] = "";
        size_t ul = 0, pl = 0, ml = 0;
        int col = 0;
        const char *s = p;
        while (s < lend || (s == lend && col == 0)) {
            size_t fl;
            if (csv_field(&s, lend, field, sizeof(field), &fl) < 0) {
                rc = EL_ERR(err, EL_EFORMAT, EL_NO_OFFSET, "%s:%u: column %d: bad quoting", path,
                            lineno, col + 1);
                goto fail;
            }
            if (fl >= CSV_FIELD_MAX - 1) {
                rc = EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET, "%s:%u: column %d: longer than %d bytes",
                            path, lineno, col + 1, CSV_FIELD_MAX - 2);
                goto fail;
            }
            if (!header) {
                if (strcasecmp(field, "user") == 0 || strcasecmp(field, "username") == 0)
                    col_user = col;
                else if (strcasecmp(field, "password") == 0)
                    col_pass = col;
                else if (strcasecmp(field, "email") == 0)
                    col_mail = col;
            } else if (col == col_user) {
                memcpy(user, field, fl + 1);
                ul = fl;
            } else if (col == col_pass) {
                memcpy(pass, field, fl + 1);
                pl = fl;
            } else if (col == col_mail) {
                memcpy(mail, field, fl + 1);
                ml = fl;
            }
            OPENSSL_cleanse(field, sizeof(field));
            col++;
            if (col > CSV_COLS_MAX) {
                rc = EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET, "%s:%u: more than %d columns", path,
                            lineno, CSV_COLS_MAX);
                goto fail;
            }
            if (s >= lend)
                break;
        }
        if (!header) {
            if (col_user < 0 || col_pass < 0) {
                rc = EL_ERR(err, EL_EFORMAT, EL_NO_OFFSET,
                            "%s:%u: header must name the columns user and password (got %d "
                            "columns)",
                            path, lineno, col);
                goto fail;
            }
            header = 1;
            p = next;
            continue;
        }
        if (ul == 0) {
            rc = EL_ERR(err, EL_EFORMAT, EL_NO_OFFSET, "%s:%u: empty user name", path, lineno);
            goto fail;
        }
        if (ml && memchr(mail, '@', ml) == NULL) {
            rc = EL_ERR(err, EL_EFORMAT, EL_NO_OFFSET, "%s:%u: email \"%s\" has no @", path, lineno,
                        mail);
            goto fail;
        }
        uint32_t i = st->nusers++;
        int urc = user_init(st, i, user, ul, pass, pl, ml ? mail : NULL, ml);
        OPENSSL_cleanse(pass, sizeof(pass));
        if (urc < 0) {
            rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "%s:%u: out of memory", path, lineno);
            goto fail;
        }
        if (ht_insert(st, st->ht_name, st->users[i].pub.name, 0, i)) {
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s:%u: user \"%s\" appears twice", path,
                        lineno, user);
            goto fail;
        }
        if (ht_insert(st, st->ht_mail, st->users[i].pub.email, 1, i)) {
            rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s:%u: email \"%s\" appears twice", path,
                        lineno, st->users[i].pub.email);
            goto fail;
        }
        p = next;
    }
    if (!header)
        rc = EL_ERR(err, EL_EFORMAT, EL_NO_OFFSET, "%s: empty, expected a header user,password",
                    path);
    else if (st->nusers == 0)
        rc = EL_ERR(err, EL_EFORMAT, EL_NO_OFFSET, "%s: header only, no users", path);
fail:
    if (data) {
        OPENSSL_cleanse(data, len);
        free(data);
    }
    fclose(f);
    return rc;
}

/* ---- state --------------------------------------------------------------------------------- */

int el_srv_state_new(const struct el_srv_config *cfg, struct el_srv_state **out, struct el_err *err)
{
    *out = NULL;
    struct el_srv_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "server state: out of memory");
    if (pthread_mutex_init(&st->mu, NULL) != 0) {
        free(st);
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "server state: mutex init failed");
    }
    st->seed = cfg->seed;
    st->items_per_folder = cfg->items_per_folder ? cfg->items_per_folder : 50;
    if (st->items_per_folder > 100000) {
        el_srv_state_free(st);
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "items per folder %u: must be 1..100000",
                      cfg->items_per_folder);
    }
    st->policy_version = cfg->policy_version ? cfg->policy_version : 1;
    st->max_devices = cfg->max_devices;
    st->quota_bytes = cfg->mailbox_quota_bytes;
    st->no_policy = cfg->no_policy;
    st->sync_replay = cfg->sync_replay;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* whole minutes: generated dates differ between runs only by the start minute */
    st->base_ms = ((int64_t)ts.tv_sec / 60) * 60000;
    st->key_counter = (uint32_t)(el__mix64(cfg->seed) % 1000000u) + 1000u;
    int rc = cfg->users_file ? users_csv(st, cfg->users_file, err)
                             : users_generate(st, cfg->nusers, err);
    if (rc < 0) {
        el_srv_state_free(st);
        return rc;
    }
    st->stats.users = st->nusers;
    *out = st;
    return 0;
}

void el_srv_state_free(struct el_srv_state *st)
{
    if (st == NULL)
        return;
    for (uint32_t i = 0; i < st->nusers; i++)
        user_close(st, &st->users[i]);
    free(st->users);
    free(st->ht_name);
    free(st->ht_mail);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

const struct el_srv_user *el_srv_auth(struct el_srv_state *st, const char *user, size_t ulen,
                                      const char *pass, size_t plen)
{
    static const char dummy[64] = {0};
    struct el__user *u = el__user_by_name(st, user, ulen);
    const char *want = u ? u->pub.password : dummy;
    size_t wlen = u ? u->plen : sizeof(dummy);
    /* compare over the stored length: time depends on that length only, not on the input */
    unsigned diff = (unsigned)(wlen != plen);
    size_t n = wlen < plen ? wlen : plen;
    diff |= (unsigned)CRYPTO_memcmp(want, pass, n);
    if (n < wlen) { /* a shorter guess: spend the time of a full compare anyway */
        volatile int burn = CRYPTO_memcmp(want, want, wlen);
        (void)burn;
    }
    if (u == NULL || diff != 0)
        return NULL;
    return &u->pub;
}

uint32_t el_srv_user_count(const struct el_srv_state *st)
{
    return st->nusers;
}

const char *el_srv_user_name(const struct el_srv_state *st, uint32_t index)
{
    return index < st->nusers ? st->users[index].pub.name : NULL;
}

const struct el_srv_user *el_srv_user_find(struct el_srv_state *st, const char *name)
{
    struct el__user *u = el__user_by_name(st, name, strlen(name));
    return u ? &u->pub : NULL;
}

void el_srv_get_stats(struct el_srv_state *st, struct el_srv_stats *out)
{
    pthread_mutex_lock(&st->mu);
    *out = st->stats;
    out->device_bytes = st->device_bytes;
    pthread_mutex_unlock(&st->mu);
}

/* ---- el_srv_handle ------------------------------------------------------------------------- */

struct el__user *el__user_of(struct el_srv_state *st, const struct el_srv_user *pub)
{
    if (pub == NULL || st->nusers == 0)
        return NULL;
    const struct el__user *first = &st->users[0];
    const struct el__user *u = (const struct el__user *)(const void *)pub; /* pub is first */
    if (u < first || u >= first + st->nusers)
        return NULL;
    return &st->users[u - first];
}

static int handle_locked(struct el__ctx *c)
{
    const struct el_srv_request *rq = c->rq;
    struct el_srv_response *rs = c->rs;
    if (c->row == NULL) {
        rs->http_status = 501;
        rs->log_reason = "unknown command";
        return 0;
    }
    if (c->row->fn == NULL) {
        rs->http_status = 501;
        el__reason(c, "%s: not implemented by the reference server", c->row->name);
        return 0;
    }
    if (rq->version < 121 || rq->version > 161) {
        rs->http_status = 400;
        el__reason(c, "protocol version %u.%u not supported", rq->version / 10, rq->version % 10);
        return 0;
    }
    if (rq->version < c->row->min_version)
        return el__fail(c, 137);
    c->u = el__user_of(c->st, rq->user);
    if (c->u == NULL) {
        rs->http_status = 401;
        rs->log_reason = "request without an authenticated user";
        return 0;
    }
    if (rq->device_id == NULL || rq->device_id[0] == 0 || strlen(rq->device_id) > 32) {
        rs->log_reason = "DeviceId missing or too long";
        return el__fail(c, 108);
    }
    if (el__mailbox_get(c->st, c->u) == NULL)
        return EL_ENOMEM;

    /* body: WBXML unless an old-style MIME command */
    int mime = (c->row->flags & EL__CMD_MIME_OLD) && rq->version < 140;
    if (!mime && rq->body_len > 0) {
        struct el_err err;
        int rc = el__tree_parse(&c->t, rq->body, rq->body_len, &err);
        if (rc == EL_ENOMEM)
            return rc;
        if (rc < 0) {
            el__reason(c, "%s: malformed WBXML: %s", c->row->name, err.msg);
            return el__fail(c, 102);
        }
        c->root = el__tree_root(&c->t);
        if (c->root && c->t.n[c->root].tag != c->row->root_tag) {
            el__reason(c, "%s: root element %s:%s, expected %s", c->row->name,
                       el_wbxml_page_name(EL_WBXML_PAGE_OF(c->t.n[c->root].tag)),
                       el_wbxml_tag_name(c->t.n[c->root].tag), el_wbxml_tag_name(c->row->root_tag));
            return el__fail(c, 103);
        }
    }
    if ((c->row->flags & EL__CMD_BODY) && rq->body_len == 0 && c->row->cmd != EL_SRV_PROVISION) {
        el__reason(c, "%s: empty body", c->row->name);
        return el__fail(c, mime ? 107 : 103);
    }

    if (c->st->max_devices && el__device_find(c->u, rq->device_id) == NULL) {
        unsigned n = 0;
        for (const struct el__device *d = c->u->devices; d; d = d->next)
            n++;
        if (n >= c->st->max_devices) {
            el__reason(c, "%s: %u device partnerships, at most %u", c->row->name, n,
                       c->st->max_devices);
            c->st->stats.devices_refused++;
            return el__fail(c, 177);
        }
    }
    c->dev = el__device_get(c->st, c->u, rq->device_id, rq->device_type);
    if (c->dev == NULL)
        return EL_ENOMEM;
    if (c->row->flags & EL__CMD_POLICY) {
        unsigned s = el__policy_check(c);
        if (s) {
            el__reason(c, "%s: policy status %u", c->row->name, s);
            c->st->stats.policy_refused++;
            if (rq->version < 140) {
                rs->http_status = 449;
                return 0;
            }
            return el__fail(c, s);
        }
    }
    if ((c->row->flags & EL__CMD_QUOTA) && el__quota_full(c->st, c->u)) {
        el__reason(c, "%s: mailbox at or over its quota of %llu bytes", c->row->name,
                   (unsigned long long)c->st->quota_bytes);
        c->st->stats.quota_refused++;
        return el__fail(c, 113);
    }
    return c->row->fn(c);
}

/* One command with the state mutex held (el_srv_handle, or a replayed Sync). */
/* Runs rq under st->mu. *replayed: a Sync whose every collection --sync-replay answered
 * leaving the state as it was (srv_replay.c may keep the answer). */
static int run_locked(struct el_srv_state *st, const struct el_srv_request *rq,
                      struct el_srv_response *rs, int replay, int *replayed)
{
    struct el__ctx *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return EL_ENOMEM;
    c->st = st;
    c->rq = rq;
    c->rs = rs;
    c->replay = replay;
    el_buf_init(&c->tmp, (size_t)64 << 20);
    el_buf_init(&c->synth, (size_t)1 << 20);
    c->row = (rq->cmd >= 0 && rq->cmd < EL_SRV_CMD_MAX) ? row_of(rq->cmd) : NULL;
    if (rs->http_status == 0)
        rs->http_status = 200;
    rs->log_reason = NULL;
    rs->hold_seconds = 0;
    rs->watch = NULL;
    if (c->row && !replay)
        st->stats.requests[c->row->cmd]++;
    size_t start = rs->body->len;
    int rc = handle_locked(c);
    if (rc < 0)
        rs->body->len = start;
    *replayed = rc == 0 && c->sync_colls > 0 && c->sync_replayed == c->sync_colls;
    el__tree_free(&c->t);
    el_buf_close(&c->tmp);
    el_buf_close(&c->synth);
    free(c);
    return rc;
}

int el_srv_handle(struct el_srv_state *st, const struct el_srv_request *rq,
                  struct el_srv_response *rs)
{
    pthread_mutex_lock(&st->mu);
    int rc = 0;
    if (!el__replay_answer(st, rq, rs)) {
        size_t start = rs->body->len;
        int replayed;
        rc = run_locked(st, rq, rs, 0, &replayed);
        if (replayed)
            el__replay_keep(st, rq, rs, start);
        else
            el__state_changed(st);
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}

int el__sync_replay(struct el_srv_state *st, struct el_srv_watch *w, struct el_srv_response *rs)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct el_srv_request rq;
    memset(&rq, 0, sizeof(rq));
    rq.cmd = EL_SRV_SYNC;
    rq.user = &w->user->pub;
    rq.device_id = w->dev_id;
    rq.device_type = "";
    rq.version = w->version;
    rq.has_policy_key = 1;
    rq.policy_key = w->policy_key;
    rq.body = w->body;
    rq.body_len = w->body_len;
    rq.now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    int replayed;
    el__state_changed(st); /* a held Sync: the state moved on */
    return run_locked(st, &rq, rs, 1, &replayed);
}
