/* srv.h - the reference EAS server's internal contract between its two halves:
 *   the HTTP side (srv_http*.c on libh2o: listeners, TLS, auth, query parsing, long-poll holds,
 *   admin API, the `easload serve` flags) and
 *   the EAS side (srv_mailbox*.c in-memory mailboxes generated from a seed, srv_cmd_*.c one
 *   file per command family, dispatched through one table).
 * The HTTP side turns each POST into a struct el_srv_request, calls el_srv_handle() and sends
 * struct el_srv_response; it knows no EAS semantics beyond this header. The EAS side never
 * touches sockets or h2o. Uses: core/wbxml.h, core/buf.h, core/error.h only (never core/http or
 * the engine: design.md section 3). */
#ifndef EL_SRV_H
#define EL_SRV_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* EAS commands; the value is the command code of the base64 query form ([MS-ASHTTP]
 * 2.2.1.1.1.1.2); the plain form uses the names of el_srv_cmd_name(). */
enum el_srv_cmd {
    EL_SRV_SYNC = 0,
    EL_SRV_SENDMAIL = 1,
    EL_SRV_SMARTFORWARD = 2,
    EL_SRV_SMARTREPLY = 3,
    EL_SRV_GETATTACHMENT = 4,
    EL_SRV_FOLDERSYNC = 9,
    EL_SRV_FOLDERCREATE = 10,
    EL_SRV_FOLDERDELETE = 11,
    EL_SRV_FOLDERUPDATE = 12,
    EL_SRV_MOVEITEMS = 13,
    EL_SRV_GETITEMESTIMATE = 14,
    EL_SRV_MEETINGRESPONSE = 15,
    EL_SRV_SEARCH = 16,
    EL_SRV_SETTINGS = 17,
    EL_SRV_PING = 18,
    EL_SRV_ITEMOPERATIONS = 19,
    EL_SRV_PROVISION = 20,
    EL_SRV_RESOLVERECIPIENTS = 21,
    EL_SRV_VALIDATECERT = 22,
    EL_SRV_FIND = 23,
    EL_SRV_CMD_MAX = 24,
};

/* "Sync" for EL_SRV_SYNC, NULL for an unassigned code. */
const char *el_srv_cmd_name(int cmd);
/* Command code by plain-form name ("FolderSync"); -1 if unknown. */
int el_srv_cmd_lookup(const char *name, size_t len);

/* One user of the server (from --users N or --users-file F). */
struct el_srv_user {
    char *name;     /* owned by the user table */
    char *password; /* owned; wiped with OPENSSL_cleanse on free */
    char *email;    /* owned; "name@example.test" unless the CSV gives one */
    /* Added for throttling (issue 8): 0..nusers-1, the user's row in per-user tables of the
     * HTTP side (concurrency, budget, redirect). */
    uint32_t index;
};


/* A parsed EAS POST, built by the HTTP side. All pointers are borrowed for the duration of
 * el_srv_handle() only. */
struct el_srv_request {
    int cmd;                           /* enum el_srv_cmd */
    const struct el_srv_user *user;    /* authenticated (Basic auth checked by the HTTP side) */
    const char *device_id;             /* 1-32 alphanumerics, checked by the HTTP side */
    const char *device_type;
    unsigned version;                  /* x10: 121, 140, 141, 160, 161 */
    int has_policy_key;                /* X-MS-PolicyKey header or base64-form key present */
    uint32_t policy_key;
    const uint8_t *body;               /* WBXML (or MIME for <=12.1 mail commands) */
    size_t body_len;
    const char *item_id;               /* <=12.1 query parameters, NULL if absent */
    const char *collection_id;
    int save_in_sent;
    uint64_t now_ms;                   /* wall clock in ms, for timestamps and heartbeats */
    /* Added by the EAS side: the AttachmentName query value of GetAttachment (<= 14.1), NULL if
     * absent (see server/NOTES-eas.md). */
    const char *attachment_name;
    /* Added for fault injection (issue 8, server/srv_fault.h): server-side faults the HTTP side
     * drew for this request; 0 = none (the default: no fault ever changes default behaviour).
     * fault_vanish: Sync, before answering, tombstones up to this many items the device holds
     * in each synced collection (a virus scanner's deletes: the device gets Delete commands).
     * fault_resetkey: the device's sync state of each collection in the request (Sync) or of
     * the hierarchy (FolderSync) is forgotten: Sync status 3, FolderSync status 9. */
    unsigned fault_vanish;
    int fault_resetkey;
};

#define EL_SRV_MAX_HEADERS 6

/* What to send back. The handler appends the WBXML body to `body` (owned by the HTTP side,
 * capped) and sets status and extra headers; header names and values must be string literals
 * or live in `hdr_store`. */
struct el_srv_response {
    int http_status;                   /* 200 unless the handler says otherwise */
    struct el_buf *body;               /* borrowed; empty = Content-Length 0 */
    const char *content_type;          /* NULL: application/vnd.ms-sync.wbxml if body non-empty */
    unsigned nheaders;
    const char *hdr_name[EL_SRV_MAX_HEADERS];
    const char *hdr_value[EL_SRV_MAX_HEADERS];
    char hdr_store[256];               /* room for header values built at run time */
    /* Long poll (Ping, Sync with Wait/HeartbeatInterval): instead of answering now, the handler
     * sets hold_seconds > 0 and fills `watch`; the HTTP side parks the request and later calls
     * el_srv_finish_hold() when a watched folder changes, or when the time is up. */
    unsigned hold_seconds;
    struct el_srv_watch *watch;        /* owned by the EAS side until el_srv_finish_hold() */
    /* Added by the EAS side (see server/NOTES-eas.md): a short reason for the HTTP side's log
     * line when the request was refused or malformed ("wbxml: byte 7: unknown tag ..."), NULL
     * if none. Points to a string literal or into log_buf; valid as long as rs. */
    const char *log_reason;
    char log_buf[160];
};

/* The whole EAS side of one server: users, mailboxes, device partnerships, policies.
 * Thread-safe: the HTTP side may call in from several worker threads. */
struct el_srv_state;

/* Number of users (fixed after el_srv_state_new); per-user tables are this long. Added for
 * issue 8. */
uint32_t el_srv_user_count(const struct el_srv_state *st);
/* The user with this index or name (NULL if none); the table is immutable, no lock. */
const char *el_srv_user_name(const struct el_srv_state *st, uint32_t index);
const struct el_srv_user *el_srv_user_find(struct el_srv_state *st, const char *name);

struct el_srv_config {
    unsigned nusers;          /* --users N (ignored if users_file) */
    const char *users_file;   /* --users-file F: CSV with header user,password[,email,...] */
    uint64_t seed;            /* --seed: mailboxes are a pure function of seed and user */
    unsigned items_per_folder;/* generated items per mail folder (default 50) */
    unsigned policy_version;  /* bumped by the admin API to force reprovisioning */
    /* Added by the EAS side: device partnerships per mailbox (Exchange's EASMaxDevices); a new
     * DeviceId beyond it gets status 177 (12.1: HTTP 403). 0 = no limit. */
    unsigned max_devices;
    /* Added for issue 8: mailbox quota in bytes (Exchange's ProhibitSendReceiveQuota), 0 = none.
     * At or over it: Sync Adds get item Status 9, SendMail/SmartReply/SmartForward/MoveItems
     * status 113 MailboxQuotaExceeded (12.1: HTTP 507). Size is el_srv_admin_state_json's
     * mailbox_size_bytes. */
    uint64_t mailbox_quota_bytes;
    /* --no-policy (bench/peers): no device policy, like servers without one (SOGo): commands
     * need no X-MS-PolicyKey and never get 142-144/449 (a pending wipe still gets 140);
     * Provision still works. 0 = the policy is enforced (default). */
    int no_policy;
    /* --sync-replay (bench/engine.sh): a Sync with the current key answers its window and
     * leaves the folder's state as it was, with the same key in the response, so the same
     * request body gets the same answer again (wrk and a bare curl loop can replay it).
     * 0 = keys advance (default). */
    int sync_replay;
};

/* Creates the state: reads or generates users, generates mailboxes lazily or eagerly (the EAS
 * side decides; memory per user is reported by el_srv_stats). 0 or EL_E* with err naming the
 * CSV line or the bad value. */
int el_srv_state_new(const struct el_srv_config *cfg, struct el_srv_state **out,
                     struct el_err *err);
void el_srv_state_free(struct el_srv_state *st);

/* Checks Basic credentials; returns the user or NULL. Constant-time password compare. */
const struct el_srv_user *el_srv_auth(struct el_srv_state *st, const char *user, size_t ulen,
                                      const char *pass, size_t plen);

/* Handles one EAS command. Always fills rs (never fails for bad client input: that is an HTTP
 * or EAS status in rs). Returns 0, or a negative EL_E* only for the server's own failure
 * (EL_ENOMEM), which the HTTP side answers with 500. */
int el_srv_handle(struct el_srv_state *st, const struct el_srv_request *rq,
                  struct el_srv_response *rs);

/* Completes a held request: `timed_out` says why. Appends the final body to rs->body, frees
 * the watch. Called exactly once per hold, also when the client went away (then rs->body may
 * be discarded by the caller). */
int el_srv_finish_hold(struct el_srv_state *st, struct el_srv_watch *w, int timed_out,
                       struct el_srv_response *rs);

/* Wake-ups: the EAS side calls this (set by the HTTP side at start) whenever a watched folder
 * changes; it may be called from any thread with EAS-side locks held, so it must only queue
 * the watch and wake the owning loop (uv_async_send), never call back into el_srv_*. */
typedef void el_srv_wake_fn(void *ctx, struct el_srv_watch *w);
void el_srv_set_wake(struct el_srv_state *st, el_srv_wake_fn *fn, void *ctx);
/* The loop that parked a watch tags it so the wake function can find its loop. */
void el_srv_watch_set_owner(struct el_srv_watch *w, void *owner);
void *el_srv_watch_owner(const struct el_srv_watch *w);
/* Cancels a watch whose client went away before it fired (then el_srv_finish_hold is still
 * called by the HTTP side with timed_out = 1 to free it). Idempotent. */
void el_srv_watch_cancel(struct el_srv_state *st, struct el_srv_watch *w);

/* ---- admin API (JSON over HTTP on a separate loopback port, served by the HTTP side) ------
 * Each returns 0 or EL_EINVAL/EL_EUNKNOWN with err saying what (unknown user, device, ...). */
/* Delivers a generated (or given) mail to user's Inbox; wakes their Pings. */
int el_srv_admin_deliver(struct el_srv_state *st, const char *user, const char *subject,
                         const char *from, size_t body_bytes, struct el_err *err);
/* Marks a device for remote wipe (account_only: AccountOnlyRemoteWipe, 16.1). */
int el_srv_admin_wipe(struct el_srv_state *st, const char *user, const char *device_id,
                      int account_only, struct el_err *err);
/* Changes the policy: every device must reprovision. */
int el_srv_admin_policy_bump(struct el_srv_state *st, struct el_err *err);
/* Knobs of the EAS side that the admin API may change during a run (issue 8). */
struct el_srv_eas_limits {
    unsigned max_devices;         /* 0 = no limit */
    uint64_t mailbox_quota_bytes; /* 0 = none */
};
void el_srv_admin_get_limits(struct el_srv_state *st, struct el_srv_eas_limits *out);
void el_srv_admin_set_limits(struct el_srv_state *st, const struct el_srv_eas_limits *in);
/* Appends a JSON object with the server's counters and per-device state (policy key,
 * provisioned, wipe pending, folder sync keys) to out. user/device_id NULL = all/summary. */
int el_srv_admin_state_json(struct el_srv_state *st, const char *user, const char *device_id,
                            struct el_buf *out, struct el_err *err);

/* Counters for the admin API and the final log line. */
struct el_srv_stats {
    uint64_t requests[EL_SRV_CMD_MAX];
    uint64_t users, devices, items, mailbox_bytes;
    /* Added by the EAS side: mailboxes generated so far (lazily, on a user's first command) and
     * bytes held by device partnerships (sync state, bitmaps, device information). */
    uint64_t mailboxes, device_bytes;
    /* Added for issue 8: knobs and server-side faults that fired. devices_refused: status 177
     * (or 403); quota_refused: Sync Adds with Status 9 plus commands answered 113/507;
     * policy_refused: 140-144/449 answers; wipes_sent: Provision answers carrying (Account-
     * Only)RemoteWipe; vanish_requests/vanished_items: Sync collections where items vanished and
     * how many; keys_reset: collections (and hierarchies) whose sync key was reset. */
    uint64_t devices_refused, quota_refused, policy_refused, wipes_sent;
    uint64_t vanish_requests, vanished_items, keys_reset;
    /* --sync-replay: Sync answers sent again from srv_replay.c's cache (not rendered) */
    uint64_t replay_hits;
};
void el_srv_get_stats(struct el_srv_state *st, struct el_srv_stats *out);

#endif
