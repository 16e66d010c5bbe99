/* eas.h - the client side of Exchange ActiveSync: one simulated phone's protocol state
 * (policy key, folder hierarchy, sync keys, base URL after 451) and, per command, building the
 * request and reading the response into a result struct. One file per command family
 * (eas_provision.c, eas_folder.c, eas_sync.c, eas_ping.c, eas_search.c, eas_itemops.c,
 * eas_compose.c, eas_move.c, eas_settings.c, eas_estimate.c) behind one table (eas_cmd.c);
 * status tables and outcome classes in eas_status.c; device profiles in eas_profile.c.
 * Uses: core/wbxml.h, core/http.h (for struct el_http_result), core/buf.h, core/error.h.
 * No Lua, no libuv scheduling: the engine drives it, lua/ converts results to tables. */
#ifndef EL_EAS_H
#define EL_EAS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "http.h"
#include "wbxml.h"

/* ---- outcome classes: every request ends in exactly one ---------------------------------- */
/* Constants EL_EAS_CLASS_OK, EL_EAS_CLASS_PROVISION, ... (changed from EL_EAS_OK...: the class
 * PROVISION collided with the command EL_EAS_PROVISION). */
#define EL_EAS_CLASS_MAP(X)                                                                        \
    X(OK, "ok")                     /* HTTP 200 and EAS status success */                         \
    X(EAS_STATUS, "eas_status")     /* HTTP 200, EAS status not success (see status) */           \
    X(HTTP_STATUS, "http_status")   /* another HTTP status (400, 404, 500, ...) */                \
    X(AUTH, "auth")                 /* 401/403 */                                                 \
    X(PROVISION, "provision")       /* 449 or status 140-144: reprovisioning needed */            \
    X(THROTTLED, "throttled")       /* 503 (+ Retry-After / X-MS-ASThrottle) */                   \
    X(REDIRECT, "redirect")         /* 451 + X-MS-Location */                                     \
    X(WIPE, "wipe")                 /* remote wipe requested and acknowledged */                  \
    X(MALFORMED, "malformed")       /* response body is not valid WBXML / not the expected tree */ \
    X(TIMEOUT, "timeout")           /* no complete answer in time */                              \
    X(NETWORK, "network")           /* connect refused/reset, DNS failure */                      \
    X(TLS, "tls")                   /* handshake or certificate failure (see tls_class) */        \
    X(CANCELED, "canceled")         /* the run stopped while the request was in flight */         \
    X(SCRIPT_ERROR, "script_error") /* the scenario raised an error (counted by the engine) */

enum el_eas_class {
#define EL_EAS_CLASS_ENUM(name, str) EL_EAS_CLASS_##name,
    EL_EAS_CLASS_MAP(EL_EAS_CLASS_ENUM)
#undef EL_EAS_CLASS_ENUM
        EL_EAS_CLASS_COUNT
};
const char *el_eas_class_name(int cls);

/* ---- commands ---------------------------------------------------------------------------- */
enum el_eas_cmd {
    EL_EAS_PROVISION,
    EL_EAS_FOLDERSYNC,
    EL_EAS_SYNC,
    EL_EAS_GETITEMESTIMATE,
    EL_EAS_PING,
    EL_EAS_SEARCH,
    EL_EAS_ITEMOPERATIONS,
    EL_EAS_SENDMAIL,
    EL_EAS_SMARTREPLY,
    EL_EAS_SMARTFORWARD,
    EL_EAS_MOVEITEMS,
    EL_EAS_SETTINGS,
    EL_EAS_OPTIONS,
    EL_EAS_RAW, /* any command with a caller-built WBXML body */
    EL_EAS_CMD_COUNT
};
/* "Sync", "FolderSync", ... (the names used in URLs, results and thresholds, lower-cased there). */
const char *el_eas_cmd_name(int cmd);
int el_eas_cmd_lookup(const char *name); /* case-insensitive; -1 if unknown */

/* ---- device profiles --------------------------------------------------------------------- */
struct el_eas_profile {
    const char *name;        /* "android-14.1", "ios-16.1", "outlook-16.1", "wm-12.1" */
    const char *device_type; /* "Android", "iPhone", "WindowsOutlook15", "PocketPC" */
    const char *user_agent;
    const char *model, *os;  /* for Settings/Provision DeviceInformation */
    unsigned version;        /* x10: 121, 140, 141, 160, 161 */
    unsigned heartbeat_s;    /* Ping HeartbeatInterval it asks for */
    int accepts_wildcard;    /* certificate profile (issue 7) */
    int honours_retry_after; /* else exponential back-off */
    int tls_security_level;  /* OpenSSL level its TLS stack behaves like (issue 7): 2 refuses
                                SHA-1 signatures and RSA-1024, 0 accepts them */
};
const struct el_eas_profile *el_eas_profile_lookup(const char *name); /* NULL if unknown */
/* The device's certificate policy for core/http (el_http_conn_set_tls_policy): its security
 * level, and no wildcards unless accepts_wildcard. */
void el_eas_profile_tls_policy(const struct el_eas_profile *p, struct el_http_tls_policy *out);
extern const struct el_eas_profile el_eas_profiles[];                  /* NULL name ends */

/* ---- device state ------------------------------------------------------------------------ */
#define EL_EAS_KEY_MAX  72 /* sync keys are <= 64 characters */
#define EL_EAS_ID_MAX   64

/* A folder of the hierarchy. id, parent and name share one owned block ("id\0parent\0name\0",
 * id at its start; a FolderSync Update replaces it): ~190 bytes a folder instead of ~370 with
 * fixed arrays (issue 5 item 7, bytes per idle device). Ids are at most EL_EAS_ID_MAX - 1
 * characters, names 95. */
struct el_eas_folder {
    char *id;                    /* owned block */
    const char *parent;          /* in the block */
    const char *name;            /* in the block */
    int type;                    /* FolderHierarchy Type: 2 Inbox, 8 Calendar, 9 Contacts ... */
    uint32_t items;              /* items the device holds (adds - deletes) */
    char sync_key[EL_EAS_KEY_MAX]; /* "0" until the first Sync */
    char last_item[EL_EAS_ID_MAX]; /* a ServerId seen in this folder, for fetch/move/reply */
};

struct el_eas_device {
    const struct el_eas_profile *profile; /* borrowed (static table) */
    uint32_t index;                       /* global device number */
    char device_id[33];
    char user[128];
    char *auth_header;                    /* owned: "Authorization: Basic ..."; cleansed on free */
    char *base_url;                       /* owned: ".../Microsoft-Server-ActiveSync"; 451 moves it */
    unsigned version;                     /* x10 */
    uint32_t policy_key;                  /* 0 = not provisioned */
    char hierarchy_key[EL_EAS_KEY_MAX];   /* FolderSync key, "0" at first */
    struct el_eas_folder *folders;        /* owned array */
    unsigned nfolders;
    struct curl_slist *headers;           /* owned; rebuilt when the policy key changes */
    /* added by eas_device.c: one owned node "Content-Type: message/rfc822" whose next is the
     * shared tail of headers (<= 12.1 SendMail family); NULL for 14.0+ devices. Use
     * el_eas_headers() rather than either list directly. */
    struct curl_slist *headers_rfc822;
    uint32_t client_id_seq;               /* ClientId counter for Add and SendMail */
    int wiped;                            /* a remote wipe was acknowledged: the device stops */
    /* added (issue 10): the HeartbeatInterval bound a server gave with Ping status 5 (0 = none
     * known); later Pings ask for a value inside [ping_min_s, ping_max_s], as phones do */
    unsigned ping_min_s, ping_max_s;
};

/* Makes a device: profile by name, credentials (secret; only the precomputed header keeps
 * it), base URL (".../Microsoft-Server-ActiveSync" is appended when missing). */
int el_eas_device_init(struct el_eas_device *d, const struct el_eas_profile *p, uint32_t index,
                       const char *user, const char *password, const char *base_url,
                       struct el_err *err);
void el_eas_device_close(struct el_eas_device *d);
/* Issue 7: authenticates with an OAuth bearer token instead of Basic from now on
 * ("Authorization: Bearer <token>"; the old header is wiped). 0 or EL_EINVAL (empty token, or
 * one with characters a header cannot carry) / EL_ENOMEM. */
int el_eas_device_set_bearer(struct el_eas_device *d, const char *token, struct el_err *err);
/* Folder by display name ("Inbox"), by id, or by type name ("inbox", "calendar", "contacts",
 * "tasks", "sent", "drafts", "deleted"); NULL if none. */
struct el_eas_folder *el_eas_device_folder(struct el_eas_device *d, const char *name);
struct el_eas_call;
/* Added: the header list for call's request (borrowed from d, valid until the policy key changes
 * or the device closes): d->headers, without Content-Type for OPTIONS, with message/rfc822 for
 * the <= 12.1 raw-MIME mail commands. */
struct curl_slist *el_eas_headers(struct el_eas_device *d, const struct el_eas_call *call);

/* ---- one command in flight --------------------------------------------------------------- */
struct el_eas_call {
    int cmd;       /* enum el_eas_cmd */
    unsigned step; /* round trip within the command: Provision phase 1 = 0, phase 2 = 1, ... */
    /* parameters (set by the caller; strings borrowed until the call is parsed) */
    struct {
        const char *folder;         /* Sync, GetItemEstimate, ItemOperations, MoveItems(src) */
        const char *folders[16];    /* Ping */
        unsigned nfolders;
        unsigned window;            /* Sync WindowSize (default 50) */
        int body_type;              /* 1 text, 2 HTML, 4 MIME (default 1) */
        unsigned truncate;          /* TruncationSize, 0 = none */
        int filter;                 /* FilterType, -1 = none */
        unsigned heartbeat_s;       /* Ping; 0 = profile's */
        const char *query;          /* Search FreeText; GAL query */
        const char *store;          /* Search "Mailbox" | "GAL" */
        unsigned range_max;         /* Search Range 0-N */
        const char *item;           /* ItemOperations/MoveItems/SmartReply ServerId; NULL = last */
        const char *dest;           /* MoveItems destination folder */
        const char *to;             /* SendMail recipient address */
        const char *subject;
        size_t body_bytes;          /* SendMail body size */
        const uint8_t *raw;         /* RAW: WBXML body */
        size_t raw_len;
        const char *raw_cmd;        /* RAW: command name for the URL */
        unsigned adds, changes, deletes; /* Sync: client-side changes to send */
    } in;
    /* results (filled by el_eas_parse) */
    struct {
        int cls;                    /* enum el_eas_class */
        int status;                 /* EAS status of the command (or collection), 0 if none */
        long http_status;
        unsigned added, changed, deleted; /* Sync: server changes; FolderSync: folder changes */
        int more;                   /* Sync MoreAvailable */
        unsigned count;             /* Search Total, GetItemEstimate Estimate, Ping folders */
        unsigned results;           /* Search results returned */
        char changed_folders[16][EL_EAS_ID_MAX]; /* Ping status 2 */
        unsigned bytes;             /* ItemOperations: Data bytes fetched */
        unsigned retry_after_s;     /* THROTTLED */
        /* push latency: Sync found items whose Subject carries "easload-push:<unix_us>" (a
         * scenario delivers such mail through the admin API); their delivery times */
        int64_t pushed_unix_us[8];
        unsigned npushed;
        char detail[160];           /* one line for logs: what went wrong, where (byte offset) */
    } out;
};

/* Builds the request for call into body (appended) and url (NUL-terminated, cap bytes) and
 * sets *method. 0, or EL_EINVAL with err when a parameter is wrong (unknown folder, nothing
 * to fetch) — a scenario error, not a request. */
int el_eas_build(struct el_eas_device *d, struct el_eas_call *call, struct el_buf *body,
                 char *url, size_t cap, const char **method, struct el_err *err);
/* Reads a finished request: classifies it (out.cls), decodes the WBXML, updates the device
 * (policy key, folders, sync keys, base URL on 451, wiped) and fills out. Returns 1 when the
 * command needs another round trip (Provision phase 2, the wipe acknowledgement): call->step
 * was advanced, call el_eas_build again; 0 when the command is complete. Never fails: a bad
 * response is class MALFORMED with out.detail naming the byte offset. */
int el_eas_parse(struct el_eas_device *d, struct el_eas_call *call,
                 const struct el_http_result *hr);

/* ---- an answer read as it arrives -------------------------------------------------------- */
/* Sync, Search and ItemOperations answers (up to megabytes: a 50-item Sync window with full
 * bodies is ~700 KB) can be decoded piece by piece while they are received, instead of being
 * copied whole and decoded afterwards: their handlers only count while reading and change the
 * device once the whole document has decoded, so a cut or malformed answer changes nothing.
 * Same results as el_eas_parse on the whole body (text values past EL_WBXML_KEEP bytes are seen
 * by their first bytes only; no handler reads further). */
struct el_eas_stream;
/* 1 when answers of command cmd can be streamed. */
int el_eas_streams(int cmd);
/* A parse state (about 1.5 KB), reusable for one answer after another; NULL: out of memory. */
struct el_eas_stream *el_eas_stream_new(void);
void el_eas_stream_free(struct el_eas_stream *s);
/* Starts reading the answer to call (el_eas_streams(call->cmd) must be 1; d and call borrowed
 * until el_eas_parse_stream). Call it at the first byte of a 200 answer's body. */
void el_eas_stream_begin(struct el_eas_stream *s, struct el_eas_device *d,
                         struct el_eas_call *call);
/* The next bytes of the body, borrowed for this call only. */
void el_eas_stream_feed(struct el_eas_stream *s, const void *p, size_t len);
/* el_eas_parse for an answer whose body went to el_eas_stream_feed (hr->body is not read). */
int el_eas_parse_stream(struct el_eas_stream *s, const struct el_http_result *hr);

#endif
