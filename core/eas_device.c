/* eas_device.c - one simulated phone's identity and protocol state: DeviceId derived from its
 * index, the Basic auth header (computed once, the clear text wiped), the request header list
 * (rebuilt when the policy key changes), the folder hierarchy and lookups by name, id or type.
 * Owns: d->auth_header, d->base_url, d->folders, d->headers, d->headers_rfc822.
 * Uses: eas_int.h, OpenSSL (base64, OPENSSL_cleanse), libcurl (curl_slist). */
#include "eas_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define EAS_PATH "/Microsoft-Server-ActiveSync"

/* Frees a header list after wiping every line (the Authorization line holds the secret). */
static void slist_wipe_free(struct curl_slist *l)
{
    for (struct curl_slist *n = l; n != NULL; n = n->next)
        OPENSSL_cleanse(n->data, strlen(n->data));
    curl_slist_free_all(l);
}

/* d->headers_rfc822 is one node ("Content-Type: message/rfc822") whose next is the shared tail
 * of d->headers: detach it before freeing so the tail is freed once. */
static void free_headers(struct el_eas_device *d)
{
    if (d->headers_rfc822 != NULL) {
        d->headers_rfc822->next = NULL;
        curl_slist_free_all(d->headers_rfc822);
        d->headers_rfc822 = NULL;
    }
    slist_wipe_free(d->headers);
    d->headers = NULL;
}

void el__eas_version_str(unsigned version, char out[8])
{
    snprintf(out, 8, "%u.%u", (version / 10) % 100, version % 10);
}

/* Appends one line; on failure frees the whole list and returns NULL. */
static struct curl_slist *add(struct curl_slist *l, const char *line)
{
    struct curl_slist *n = curl_slist_append(l, line);
    if (n == NULL)
        slist_wipe_free(l);
    return n;
}

int el__eas_device_headers(struct el_eas_device *d)
{
    free_headers(d);
    char line[320], ver[8];
    el__eas_version_str(d->version, ver);
    /* Content-Type first: d->headers->next is the list without it (bodiless requests) and the
     * <= 12.1 mail commands put their own first node in front of that tail. */
    struct curl_slist *l = add(NULL, "Content-Type: application/vnd.ms-sync.wbxml");
    snprintf(line, sizeof(line), "MS-ASProtocolVersion: %s", ver);
    if (l != NULL)
        l = add(l, line);
    if (l != NULL && d->policy_key != 0) {
        snprintf(line, sizeof(line), "X-MS-PolicyKey: %u", (unsigned)d->policy_key);
        l = add(l, line);
    }
    snprintf(line, sizeof(line), "User-Agent: %s", d->profile->user_agent);
    if (l != NULL)
        l = add(l, line);
    if (l != NULL)
        l = add(l, "Expect:"); /* no 100-continue round trip on larger bodies: phones send none */
    if (l != NULL && d->auth_header != NULL)
        l = add(l, d->auth_header);
    if (l == NULL)
        return EL_ENOMEM;
    d->headers = l;
    if (d->version <= 121) {
        d->headers_rfc822 = curl_slist_append(NULL, "Content-Type: message/rfc822");
        if (d->headers_rfc822 == NULL)
            return EL_ENOMEM;
        d->headers_rfc822->next = d->headers->next;
    }
    return 0;
}

void el__eas_device_set_key(struct el_eas_device *d, uint32_t key)
{
    d->policy_key = key;
    if (el__eas_device_headers(d) < 0) {
        fputs("easload: out of memory rebuilding a device's headers\n", stderr);
        abort();
    }
}

void el__eas_device_wipe(struct el_eas_device *d)
{
    d->wiped = 1;
    el__eas_device_set_key(d, 0);
    memcpy(d->hierarchy_key, "0", 2);
    el__eas_folders_clear(d);
}

struct curl_slist *el_eas_headers(struct el_eas_device *d, const struct el_eas_call *call)
{
    if (d->headers == NULL)
        return NULL;
    if (call->cmd == EL_EAS_OPTIONS || (call->cmd == EL_EAS_PING && call->in.nfolders == 0))
        return d->headers->next; /* no body, no Content-Type */
    int mail = call->cmd == EL_EAS_SENDMAIL || call->cmd == EL_EAS_SMARTREPLY ||
               call->cmd == EL_EAS_SMARTFORWARD;
    if (mail && d->headers_rfc822 != NULL)
        return d->headers_rfc822;
    return d->headers;
}

/* "Authorization: Basic base64(user:password)"; the clear text is wiped. */
static int make_auth(struct el_eas_device *d, const char *user, const char *password)
{
    size_t ul = strlen(user), pl = strlen(password);
    size_t n = ul + 1 + pl;
    static const char prefix[] = "Authorization: Basic ";
    size_t cap = sizeof(prefix) + 4 * ((n + 2) / 3) + 1;
    char *clear = malloc(n + 1);
    char *hdr = malloc(cap);
    if (clear == NULL || hdr == NULL) {
        free(clear);
        free(hdr);
        return EL_ENOMEM;
    }
    memcpy(clear, user, ul);
    clear[ul] = ':';
    memcpy(clear + ul + 1, password, pl);
    memcpy(hdr, prefix, sizeof(prefix) - 1);
    EVP_EncodeBlock((unsigned char *)hdr + sizeof(prefix) - 1, (const unsigned char *)clear,
                    (int)n);
    OPENSSL_cleanse(clear, n + 1);
    free(clear);
    d->auth_header = hdr;
    return 0;
}

int el_eas_device_init(struct el_eas_device *d, const struct el_eas_profile *p, uint32_t index,
                       const char *user, const char *password, const char *base_url,
                       struct el_err *err)
{
    memset(d, 0, sizeof(*d));
    if (p == NULL)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %u: no profile", (unsigned)index);
    if (user == NULL || user[0] == '\0' || strlen(user) >= sizeof(d->user))
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "device %u: user name empty or longer than %zu bytes", (unsigned)index,
                      sizeof(d->user) - 1);
    if (base_url == NULL || strncasecmp(base_url, "http", 4) != 0 ||
        strstr(base_url, "://") == NULL)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "device %u: base URL must start with http:// or https://", (unsigned)index);
    d->profile = p;
    d->index = index;
    d->version = p->version;
    /* 1-32 alphanumerics ([MS-ASHTTP] 2.2.1.1.1.2.3): "EL" + the global index in hex, so a
     * phone keeps its partnership across runs and shards never collide. */
    snprintf(d->device_id, sizeof(d->device_id), "EL%016X", (unsigned)index);
    memcpy(d->user, user, strlen(user) + 1);
    memcpy(d->hierarchy_key, "0", 2);

    size_t bl = strlen(base_url);
    while (bl > 0 && base_url[bl - 1] == '/')
        bl--;
    int has_path = 0;
    for (size_t i = 0; i + sizeof(EAS_PATH) - 1 <= bl; i++)
        if (strncasecmp(base_url + i, EAS_PATH, sizeof(EAS_PATH) - 1) == 0)
            has_path = 1;
    size_t extra = has_path ? 0 : sizeof(EAS_PATH) - 1;
    d->base_url = malloc(bl + extra + 1);
    if (d->base_url == NULL)
        goto nomem;
    memcpy(d->base_url, base_url, bl);
    memcpy(d->base_url + bl, EAS_PATH, extra);
    d->base_url[bl + extra] = '\0';

    if (password != NULL && password[0] != '\0' && make_auth(d, user, password) < 0)
        goto nomem;
    if (el__eas_device_headers(d) < 0)
        goto nomem;
    return 0;
nomem:
    el_eas_device_close(d);
    return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "device %u: out of memory", (unsigned)index);
}

void el_eas_device_close(struct el_eas_device *d)
{
    free_headers(d);
    if (d->auth_header != NULL) {
        OPENSSL_cleanse(d->auth_header, strlen(d->auth_header));
        free(d->auth_header);
        d->auth_header = NULL;
    }
    free(d->base_url);
    d->base_url = NULL;
    el__eas_folders_clear(d);
    free(d->folders);
    d->folders = NULL;
}

/* ---- folders ----------------------------------------------------------------------------- */

static const struct {
    const char *alias;
    int type;
} type_aliases[] = {
    {"inbox", 2}, {"drafts", 3},   {"deleted", 4},  {"trash", 4},  {"sent", 5},     {"outbox", 6},
    {"tasks", 7}, {"calendar", 8}, {"contacts", 9}, {"notes", 10}, {"journal", 11},
};

struct el_eas_folder *el_eas_device_folder(struct el_eas_device *d, const char *name)
{
    if (name == NULL)
        return NULL;
    for (unsigned i = 0; i < d->nfolders; i++)
        if (strcmp(d->folders[i].name, name) == 0)
            return &d->folders[i];
    for (unsigned i = 0; i < d->nfolders; i++)
        if (strcmp(d->folders[i].id, name) == 0)
            return &d->folders[i];
    for (size_t a = 0; a < sizeof(type_aliases) / sizeof(type_aliases[0]); a++) {
        if (strcasecmp(type_aliases[a].alias, name) != 0)
            continue;
        for (unsigned i = 0; i < d->nfolders; i++)
            if (d->folders[i].type == type_aliases[a].type)
                return &d->folders[i];
    }
    for (unsigned i = 0; i < d->nfolders; i++)
        if (strcasecmp(d->folders[i].name, name) == 0)
            return &d->folders[i];
    return NULL;
}

struct el_eas_folder *el__eas_folder_arg(struct el_eas_device *d, const char *name,
                                         int fallback_type, const char *cmd, struct el_err *err)
{
    struct el_eas_folder *f = NULL;
    if (name != NULL) {
        f = el_eas_device_folder(d, name);
    } else {
        for (unsigned i = 0; i < d->nfolders && f == NULL; i++)
            if (d->folders[i].type == fallback_type)
                f = &d->folders[i];
    }
    if (f == NULL)
        EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
               "device %s: %s: no folder \"%s\" (%u known; run "
               "FolderSync first)",
               d->device_id, cmd, name ? name : "inbox", d->nfolders);
    return f;
}

const char *el__eas_folder_class(int type)
{
    switch (type) {
    case 7:
    case 15:
        return "Tasks";
    case 8:
    case 13:
        return "Calendar";
    case 9:
    case 14:
        return "Contacts";
    case 10:
    case 17:
        return "Notes";
    default:
        return "Email"; /* 1-6, 12 and the rest hold mail */
    }
}

/* Capacity of the folder table for n folders: a multiple of 4, so a typical 10-20 folder
 * hierarchy wastes at most three entries per device (issue 5 item 7: bytes per idle device). */
static unsigned folder_cap(unsigned n)
{
    return n < 4 ? 4 : (n + 3) & ~3u;
}

/* Gives o a new block with f's id, parent and name (the old one is freed). 0 or EL_ENOMEM. */
static int folder_names(struct el_eas_folder *o, const struct el__eas_folder_in *f)
{
    size_t a = strnlen(f->id, sizeof(f->id) - 1) + 1;
    size_t b = strnlen(f->parent, sizeof(f->parent) - 1) + 1;
    size_t c = strnlen(f->name, sizeof(f->name) - 1) + 1;
    char *p = malloc(a + b + c);
    if (p == NULL)
        return EL_ENOMEM;
    memcpy(p, f->id, a - 1);
    p[a - 1] = '\0';
    memcpy(p + a, f->parent, b - 1);
    p[a + b - 1] = '\0';
    memcpy(p + a + b, f->name, c - 1);
    p[a + b + c - 1] = '\0';
    free(o->id);
    o->id = p;
    o->parent = p + a;
    o->name = p + a + b;
    return 0;
}

int el__eas_folder_put(struct el_eas_device *d, const struct el__eas_folder_in *f)
{
    for (unsigned i = 0; i < d->nfolders; i++) {
        struct el_eas_folder *o = &d->folders[i];
        if (strcmp(o->id, f->id) == 0) { /* Update: keep the sync state */
            if (folder_names(o, f) < 0)
                return EL_ENOMEM;
            o->type = f->type;
            return 0;
        }
    }
    if (d->nfolders >= EL__EAS_FOLDERS_MAX)
        return EL_ELIMIT;
    if (d->folders == NULL || d->nfolders == folder_cap(d->nfolders)) {
        unsigned cap = folder_cap(d->nfolders + 1);
        struct el_eas_folder *n = realloc(d->folders, cap * sizeof(*n));
        if (n == NULL)
            return EL_ENOMEM;
        d->folders = n;
    }
    struct el_eas_folder *n = &d->folders[d->nfolders];
    memset(n, 0, sizeof(*n));
    if (folder_names(n, f) < 0)
        return EL_ENOMEM;
    d->nfolders++;
    n->type = f->type;
    memcpy(n->sync_key, "0", 2);
    return 0;
}

void el__eas_folder_del(struct el_eas_device *d, const char *id)
{
    for (unsigned i = 0; i < d->nfolders; i++) {
        if (strcmp(d->folders[i].id, id) == 0) {
            free(d->folders[i].id);
            memmove(&d->folders[i], &d->folders[i + 1],
                    (d->nfolders - i - 1) * sizeof(d->folders[0]));
            d->nfolders--;
            return;
        }
    }
}

void el__eas_folders_clear(struct el_eas_device *d)
{
    for (unsigned i = 0; i < d->nfolders; i++)
        free(d->folders[i].id);
    d->nfolders = 0;
}

int el_eas_device_set_bearer(struct el_eas_device *d, const char *token, struct el_err *err)
{
    size_t n = token ? strlen(token) : 0;
    if (n == 0 || n > 4096)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %u: bearer token empty or too long",
                      (unsigned)d->index);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)token[i] <= ' ' || (unsigned char)token[i] >= 0x7f)
            return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                          "device %u: bearer token has a character a header cannot carry",
                          (unsigned)d->index);
    static const char prefix[] = "Authorization: Bearer ";
    char *hdr = malloc(sizeof(prefix) + n);
    if (hdr == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "device %u: out of memory", (unsigned)d->index);
    memcpy(hdr, prefix, sizeof(prefix) - 1);
    memcpy(hdr + sizeof(prefix) - 1, token, n + 1);
    if (d->auth_header != NULL) {
        OPENSSL_cleanse(d->auth_header, strlen(d->auth_header));
        free(d->auth_header);
    }
    d->auth_header = hdr;
    if (el__eas_device_headers(d) < 0)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "device %u: out of memory", (unsigned)d->index);
    return 0;
}
