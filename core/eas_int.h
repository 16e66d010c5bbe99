/* eas_int.h - private parts shared by the core/eas_*.c files: the command table row, the
 * request under construction, the parse context handed to each command's event handler, and
 * the helpers every command family uses (text of an event, folder classes, status classes).
 * Not for other modules: they see core/eas.h only. */
#ifndef EL_EAS_INT_H
#define EL_EAS_INT_H

#include "eas.h"

/* ---- building a request ------------------------------------------------------------------ */

struct el__eas_req {
    struct el_buf *body;         /* borrowed: the caller's buffer, appended to */
    struct el_wbxml_encoder enc; /* a WBXML body: el_wbxml_encoder_init(&rq->enc, rq->body) */
    char query[512];             /* extra "&Name=value" URL parameters (<= 12.1 mail commands) */
    const char *cmd_name;        /* URL Cmd=; the row's name unless set (RAW) */
    const char *method;          /* "POST" unless set (OPTIONS) */
};

/* ---- reading a response ------------------------------------------------------------------ */

/* Per-command scratch state of one parse (stack memory of el_eas_parse, zeroed first). */
struct el__eas_provision_px {
    int status;   /* Provision/Status */
    uint32_t key; /* Policy/PolicyKey */
    int have_key;
    int policy_status; /* Policy/Status */
    int wipe;          /* 1 RemoteWipe, 2 AccountOnlyRemoteWipe */
};
/* A folder as a FolderSync Add/Update carries it (el__eas_folder_put copies it). */
struct el__eas_folder_in {
    char id[EL_EAS_ID_MAX];
    char parent[EL_EAS_ID_MAX];
    char name[96];
    int type;
};
struct el__eas_folder_px {
    struct el__eas_folder_in f; /* the Add/Update being read */
    int status;
    char key[EL_EAS_KEY_MAX];
    int cleared;  /* key-0 answer: the old hierarchy was dropped */
    int overflow; /* more folders than EL__EAS_FOLDERS_MAX */
};
struct el__eas_sync_px {
    struct el_eas_folder *f; /* the folder synced (resolved again at parse) */
    char key[EL_EAS_KEY_MAX];
    char last[EL_EAS_ID_MAX];
    int was_zero; /* the request carried key "0" */
    int coll_status;
    int top_status;
    long items_delta;
    int deleted_last; /* the remembered item was deleted or moved away */
};
struct el__eas_ping_px {
    unsigned limit; /* HeartbeatInterval (5) or MaxFolders (6) bound */
};
struct el__eas_generic_px {
    int top_status;   /* the root's Status */
    int sub_status;   /* the first non-success Status below (Store, Fetch, Response ...) */
    int first_nested; /* the first Status below the root, whatever its value */
    int in_props;     /* ItemOperations: inside Fetch/Properties */
    char id[EL_EAS_ID_MAX];
};

/* What the handlers of one-pass commands (EL__EAS_ONE_PASS) count while they read: copied into
 * call->out only once the whole document has decoded, so a cut answer reports nothing. */
struct el__eas_tally {
    unsigned added, changed, deleted; /* Sync: the server's changes */
    int more;                         /* Sync MoreAvailable */
    unsigned count;                   /* Search Total */
    unsigned results;                 /* Search results */
    unsigned bytes;                   /* ItemOperations Data bytes */
    int64_t pushed_unix_us[8];        /* Sync: delivery stamps of pushed test mail */
    unsigned npushed;
};

struct el__eas_px {
    struct el_eas_device *d;
    struct el_eas_call *c;
    const struct el_wbxml_decoder *dec; /* for ancestors: el__eas_up() */
    struct el__eas_tally tally;         /* one-pass commands' counts */
    union {
        struct el__eas_provision_px prov;
        struct el__eas_folder_px fs;
        struct el__eas_sync_px sync;
        struct el__eas_ping_px ping;
        struct el__eas_generic_px gen;
    } u;
};

/* ---- the command table ------------------------------------------------------------------- */

#define EL__EAS_EMPTY_OK 1u /* an empty 200 body is success (SendMail family, Sync, RAW) */
#define EL__EAS_NO_BODY  2u /* no WBXML in the response is read at all (OPTIONS) */
#define EL__EAS_ONE_PASS                                                                           \
    4u /* the handler's event step writes only its px (tally and scratch),                         \
        * never the device nor call->out, and needs no END events: one                             \
        * decoding pass, also while the answer arrives (el_eas_stream);                            \
        * on a malformed body finish is not called (Sync, Search, ...) */

struct el__eas_cmd_row {
    const char *name; /* Cmd= in the URL, and the result name */
    uint16_t root;    /* the response's root element; 0 = any (RAW) */
    unsigned flags;   /* EL__EAS_* */
    /* Writes the request body (and query parameters); 0 or EL_EINVAL with err. */
    int (*build)(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                 struct el_err *err);
    /* Called once before the events with px zeroed but for d, c, dec; may be NULL. */
    void (*begin)(struct el__eas_px *px);
    /* Every event of a response already checked as complete WBXML. */
    void (*on_event)(struct el__eas_px *px, const struct el_wbxml_ev *ev);
    /* After the last event: sets out.cls/out.status, commits device state. Returns 1 when the
     * command needs another round trip (call->step advanced), else 0. */
    int (*finish)(struct el__eas_px *px);
    /* One-pass rows: the tags whose events on_event reads (el_wbxml_decoder_want, after the
     * root); the decoder still checks every token. NULL = every event. */
    const uint64_t *want;
};

/* One row per enum el_eas_cmd, in enum order (eas_cmd.c). */
extern const struct el__eas_cmd_row el__eas_cmds[EL_EAS_CMD_COUNT];

/* Build, begin, on_event and finish functions of each family (eas_<family>.c). */
int el__eas_provision_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                            struct el_err *);
void el__eas_provision_event(struct el__eas_px *, const struct el_wbxml_ev *);
int el__eas_provision_finish(struct el__eas_px *);

int el__eas_foldersync_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                             struct el_err *);
void el__eas_foldersync_begin(struct el__eas_px *);
void el__eas_foldersync_event(struct el__eas_px *, const struct el_wbxml_ev *);
int el__eas_foldersync_finish(struct el__eas_px *);

int el__eas_sync_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                       struct el_err *);
void el__eas_sync_begin(struct el__eas_px *);
void el__eas_sync_event(struct el__eas_px *, const struct el_wbxml_ev *);
extern const uint64_t el__eas_sync_want[EL_WBXML_PAGE_COUNT];
int el__eas_sync_finish(struct el__eas_px *);

int el__eas_estimate_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                           struct el_err *);
void el__eas_estimate_event(struct el__eas_px *, const struct el_wbxml_ev *);

int el__eas_ping_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                       struct el_err *);
void el__eas_ping_event(struct el__eas_px *, const struct el_wbxml_ev *);
int el__eas_ping_finish(struct el__eas_px *);

int el__eas_search_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                         struct el_err *);
void el__eas_search_event(struct el__eas_px *, const struct el_wbxml_ev *);

int el__eas_itemops_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                          struct el_err *);
void el__eas_itemops_event(struct el__eas_px *, const struct el_wbxml_ev *);

int el__eas_sendmail_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                           struct el_err *);
int el__eas_smartreply_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                             struct el_err *);
int el__eas_smartforward_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                               struct el_err *);

int el__eas_move_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                       struct el_err *);
void el__eas_move_event(struct el__eas_px *, const struct el_wbxml_ev *);
int el__eas_move_finish(struct el__eas_px *);

/* settings:DeviceInformation{Set{Model, FriendlyName, OS, OSLanguage, UserAgent, ...}} in spec
 * order, shared by Settings and 14.1+ Provision (eas_settings.c). */
void el__eas_devinfo(const struct el_eas_device *d, struct el_wbxml_encoder *e);
int el__eas_settings_build(struct el_eas_device *, struct el_eas_call *, struct el__eas_req *,
                           struct el_err *);
void el__eas_settings_event(struct el__eas_px *, const struct el_wbxml_ev *);

/* Generic parts (eas_cmd.c): the root's Status and the first failing nested Status, for the
 * commands whose result is a status and a few counters. */
void el__eas_generic_event(struct el__eas_px *, const struct el_wbxml_ev *);
int el__eas_generic_finish(struct el__eas_px *);

/* ---- helpers ----------------------------------------------------------------------------- */

/* The ancestor n levels above the element an event belongs to (n = 0: the element itself; for
 * STR/OPAQUE the enclosing element); 0 above the root. */
static inline uint16_t el__eas_up(const struct el__eas_px *px, const struct el_wbxml_ev *ev,
                                  unsigned n)
{
    unsigned depth = ev->depth;
    if (depth <= n || depth > EL_WBXML_DEPTH_MAX)
        return 0;
    return px->dec->stack[depth - 1 - n];
}

/* Copies a STR/OPAQUE event's bytes as a C string (truncated to cap - 1). */
void el__eas_copy(char *dst, size_t cap, const struct el_wbxml_ev *ev);
/* Decimal value of a STR event; -1 when it is not a number (or too large). */
long el__eas_num(const struct el_wbxml_ev *ev);
/* Copies src (NUL-terminated) into dst of cap bytes, truncating. */
void el__eas_strlcpy(char *dst, const char *src, size_t cap);

/* Protocol version as the header writes it: "12.1", "14.1", "16.1". */
void el__eas_version_str(unsigned version, char out[8]);

/* The folder a parameter names (NULL = fallback type, e.g. 2 for the Inbox); fills err and
 * returns NULL if there is none. */
struct el_eas_folder *el__eas_folder_arg(struct el_eas_device *d, const char *name,
                                         int fallback_type, const char *cmd, struct el_err *err);
/* Class name a folder type syncs as ("Email", "Calendar", "Contacts", "Tasks", "Notes"). */
const char *el__eas_folder_class(int type);
/* Adds or replaces a folder (by id); 0, or EL_ELIMIT past EL__EAS_FOLDERS_MAX. */
#define EL__EAS_FOLDERS_MAX 4096
int el__eas_folder_put(struct el_eas_device *d, const struct el__eas_folder_in *f);
void el__eas_folder_del(struct el_eas_device *d, const char *id);
void el__eas_folders_clear(struct el_eas_device *d);

/* Rebuilds d->headers from the device's version, policy key, user agent and auth header. 0 or
 * EL_ENOMEM. (eas_device.c) */
int el__eas_device_headers(struct el_eas_device *d);
/* Sets the policy key and rebuilds the headers; allocation failure after start-up is fatal. */
void el__eas_device_set_key(struct el_eas_device *d, uint32_t key);
/* Drops all protocol state after a remote wipe: key, hierarchy, folders. */
void el__eas_device_wipe(struct el_eas_device *d);
/* The command whose status table applies: RAW maps to in.raw_cmd when it names one. */
int el__eas_status_cmd(const struct el_eas_call *c);

/* Outcome class of an EAS status for a command (eas_status.c): OK, EAS_STATUS, PROVISION. */
int el__eas_status_class(int cmd, int status);
/* "invalid sync key" etc.; "" when unknown. */
const char *el__eas_status_text(int cmd, int status);
/* Sets out.cls/out.status from an EAS status and writes a detail line for failures. */
void el__eas_set_status(struct el_eas_call *c, int status);
/* Classifies a finished HTTP exchange before its body is read: fills out.cls (and detail,
 * retry_after_s; moves d->base_url on 451). Returns 1 when the body is to be parsed (HTTP 200),
 * 0 when the outcome is final. */
int el__eas_classify_http(struct el_eas_device *d, struct el_eas_call *c,
                          const struct el_http_result *hr);
/* Seconds to wait from a Retry-After value (delta-seconds or HTTP-date); 0 if absent/bad. */
unsigned el__eas_retry_after(const char *value);

#endif
