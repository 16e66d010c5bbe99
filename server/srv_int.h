/* srv_int.h - private cross-file parts of the EAS side of the reference server: the state, users,
 * mailboxes, device partnerships, watches, the parsed request tree and the handler context.
 * Owns: nothing (declarations only). Uses: srv.h, core/wbxml.h.
 * Locking: one mutex (el_srv_state.mu) guards everything below that is mutable; el_srv_handle,
 * el_srv_finish_hold, el_srv_watch_cancel and the admin calls take it for their whole run.
 * The user table itself (names, passwords, emails) is immutable after el_srv_state_new, so
 * el_srv_auth reads it without the lock. Internal symbols are el__ (cross-file) or static. */
#ifndef EL_SRV_INT_H
#define EL_SRV_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "srv.h"
#include "wbxml.h"

/* ---- folders ------------------------------------------------------------------------------- */

/* Item classes (what a folder holds). */
enum el__cls {
    EL__CLS_EMAIL,
    EL__CLS_CALENDAR,
    EL__CLS_CONTACTS,
    EL__CLS_TASKS,
    EL__CLS_NOTES,
};

/* Every mailbox starts with the same 11 folders (srv_mailbox.c: el__folder_defs, slots 0-10);
 * FolderCreate adds user folders in never-used slots up to EL__FOLDERS_MAX (bit masks of
 * folders are uint16_t). A folder's ServerId is its slot + 1 and a slot is never reused after a
 * FolderDelete, so ServerIds (and the "F:N" item ids built on them) stay unique. */
#define EL__NFOLDERS    11
#define EL__FOLDERS_MAX 16
enum {
    EL__F_INBOX,
    EL__F_DRAFTS,
    EL__F_DELETED,
    EL__F_SENT,
    EL__F_OUTBOX,
    EL__F_CALENDAR,
    EL__F_CONTACTS,
    EL__F_TASKS,
    EL__F_NOTES,
    EL__F_PROJECTS,
    EL__F_ARCHIVE,
};

struct el__folder_def {
    const char *name;
    int8_t parent; /* slot of the parent, -1 = root */
    uint8_t type;  /* FolderHierarchy Type: 2 Inbox, 3 Drafts, ... 12 user mail */
    uint8_t cls;   /* enum el__cls */
};
extern const struct el__folder_def el__folder_defs[EL__NFOLDERS];

struct el__mailbox;
/* Slot of a folder in use by its ServerId/CollectionId string; -1 if none. */
int el__folder_lookup(const struct el__mailbox *mb, const char *id, size_t len);
/* ServerId of slot fi ("1".."11" for the default folders). */
void el__folder_sid(const struct el__mailbox *mb, int fi, char out[12]);
/* "Email", "Calendar", "Contacts", "Tasks", "Notes". */
const char *el__cls_name(int cls);
/* Item class of a FolderHierarchy Type (12 mail, 13 calendar, ...); -1 if not a user type. */
int el__cls_of_type(unsigned type);

/* ---- items --------------------------------------------------------------------------------- */

/* One property of an item as rendered in ApplicationData: a flattened tree. */
enum el__prop_kind {
    EL__P_TEXT,   /* <tag>text</tag> */
    EL__P_OPAQUE, /* <tag>OPAQUE</tag> */
    EL__P_EMPTY,  /* <tag/> */
    EL__P_OPEN,   /* <tag> ... up to the matching EL__P_CLOSE */
    EL__P_CLOSE,
};
/* Version limits of a property (who may see it). */
#define EL__PV_MAX141 1u /* only for protocol <= 14.1 */
#define EL__PV_MIN140 2u /* only for 14.0+ */
#define EL__PV_MIN160 4u /* only for 16.0+ */

struct el__prop {
    uint16_t tag;
    uint8_t kind;  /* enum el__prop_kind */
    uint8_t vmask; /* EL__PV_* */
    uint32_t off;  /* value: offset into the owning string area */
    uint32_t len;
};

#define EL__PROPS_MAX     96
#define EL__PROPS_STR_MAX 6144

/* A builder of properties with its own string area; also the scratch view of a generated item. */
struct el__props {
    unsigned n;
    size_t slen;
    int overflow; /* something did not fit: the list is cut */
    struct el__prop p[EL__PROPS_MAX];
    char s[EL__PROPS_STR_MAX];
};

void el__props_reset(struct el__props *pb);
void el__props_text(struct el__props *pb, uint16_t tag, const char *s, size_t len);
void el__props_str(struct el__props *pb, uint16_t tag, const char *s);
void el__props_fmt(struct el__props *pb, uint16_t tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void el__props_opaque(struct el__props *pb, uint16_t tag, const void *p, size_t len);
void el__props_empty(struct el__props *pb, uint16_t tag);
/* Resets pb to the Email properties of a received message (To, Cc if any, From, Subject,
 * DateReceived, DisplayTo, ThreadTopic, the fixed flags and classes, an empty Body). */
void el__props_mail(struct el__props *pb, const char *to, const char *cc, const char *from,
                    const char *subject, const char *date, const char *display_to);
void el__props_open(struct el__props *pb, uint16_t tag);
void el__props_close(struct el__props *pb);
/* Restricts the last added property to some versions (EL__PV_*). */
void el__props_vmask(struct el__props *pb, uint8_t vmask);
/* Value of the first property with tag at the top level or anywhere; NULL if none. */
const char *el__props_get(const struct el__props *pb, uint16_t tag, size_t *len);

/* Item flags. */
#define EL__IF_DELETED  0x01u /* tombstone: kept so devices that hold it learn of the delete */
#define EL__IF_READ     0x02u
#define EL__IF_FLAGGED  0x04u
#define EL__IF_MEETREQ  0x08u /* e-mail that is a meeting request */
#define EL__IF_COMPLETE 0x10u /* task done */
#define EL__IF_RECUR    0x20u /* recurring appointment or task */
#define EL__IF_HTML     0x40u /* native body type HTML */
#define EL__IF_REPLIED  0x80u

/* Content an item owns (client-created, delivered, changed or moved-in items). One allocation:
 * struct, props, strings, body. */
struct el__owned {
    uint32_t nprops;
    uint32_t slen;
    uint32_t body_len;
    uint8_t body_is_mime;   /* body is a whole RFC 822 message (else plain text) */
    struct el__prop *props; /* points into this allocation */
    char *str;              /* ditto */
    uint8_t *body;          /* ditto */
};

/* One item. ServerId = "<folder index + 1>:<item index + 1>". Items are never removed from the
 * array (a delete leaves a tombstone), so an index stays valid for the mailbox's life. */
struct el__item {
    uint32_t seq;          /* folder sequence number of the latest change (unique per folder) */
    uint32_t gen;          /* generator number (>= 1) for generated content, 0 if own != NULL */
    int64_t date_ms;       /* received / start / due time */
    uint32_t body_bytes;   /* generated body text length */
    uint8_t cls;           /* enum el__cls */
    uint8_t flags;         /* EL__IF_* */
    uint8_t gen_folder;    /* folder index the generated content belongs to */
    uint8_t reply_status;  /* MeetingResponse: 0 none, 1 accepted, 2 tentative, 3 declined */
    struct el__owned *own; /* owned, NULL for generated content */
};

struct el__folder {
    uint32_t seq; /* last sequence number handed out */
    uint32_t n, cap;
    uint32_t live;          /* items not deleted */
    struct el__item *items; /* owned array */
    /* hierarchy */
    uint32_t id;    /* ServerId number = slot + 1; 0 = slot never used */
    uint8_t in_use; /* 0 after FolderDelete (the slot is not reused) */
    uint8_t type;   /* FolderHierarchy Type */
    uint8_t cls;    /* enum el__cls */
    int8_t parent;  /* slot of the parent folder, -1 = root */
    uint32_t hseq;  /* hierarchy sequence number of its last create/update/delete */
    char name[64];
};

struct el__mailbox {
    struct el__folder f[EL__FOLDERS_MAX];
    uint32_t hier_seq; /* last hierarchy sequence number handed out */
};

/* ---- devices ------------------------------------------------------------------------------- */

/* Sync state of one folder on one device. Keys are decimal strings of uint32 values drawn from
 * the state-wide key counter, so no two responses ever share a key. */
struct el__fstate {
    uint32_t key;      /* current key, 0 = never synced */
    uint32_t prev_key; /* the key before it, accepted once for a retry */
    uint32_t cursor;   /* every item change with seq <= cursor has been sent */
    uint32_t prev_cursor;
    uint32_t nbits, prev_nbits;
    uint8_t *have;      /* owned bitmap: item indexes the client holds */
    uint8_t *prev_have; /* owned: the same for prev_key */
    uint8_t prev_ok;    /* prev_key may still be used (once) */
    uint8_t filter;     /* FilterType in force (0 = all) */
    uint8_t prev_filter;
    /* the last Sync's options for this folder, replayed by an empty Sync request (12.1+) */
    uint8_t cache_type;    /* BodyPreference Type, 0 = none */
    uint16_t cache_window; /* WindowSize, 0 = none */
    uint32_t cache_trunc;  /* TruncationSize, 0 = none */
    /* client Adds of the last Sync (ClientId hash -> item index): a retry with the previous
     * key gets the same ServerIds instead of duplicates */
    uint32_t nadds;
    struct el__addmap *adds; /* owned */
};

struct el__addmap {
    uint64_t client_hash;
    uint32_t item;
};

#define EL__CID_RING 16 /* SendMail ClientIds remembered per device (status 118) */

struct el__devinfo {
    char model[64], imei[32], friendly[64], os[64], oslang[32], phone[32], agent[96], oper[32];
};

struct el__device {
    struct el__device *next; /* user's list; owned by the list */
    char id[33];
    char type[33];
    uint32_t policy_key;     /* final key, 0 = not provisioned */
    uint32_t temp_key;       /* phase-1 key waiting for the ack, 0 = none */
    uint32_t policy_version; /* state policy version the final key was issued under */
    uint8_t wipe;            /* 0 none, 1 RemoteWipe, 2 AccountOnlyRemoteWipe pending */
    uint8_t hier_prev_ok;
    uint16_t ping_mask; /* cached Ping folders (bit = folder index), 0 = none */
    uint16_t sync_mask; /* collections of the last Sync (its cache), 0 = none */
    unsigned sync_hb;   /* the last Sync's HeartbeatInterval in s (Wait x 60), 0 = none */
    uint32_t hier_key, hier_prev_key;
    uint32_t hier_cursor, hier_prev_cursor; /* hierarchy changes up to this seq were sent */
    uint16_t hier_known, hier_prev_known;   /* folder slots the device has been told of */
    unsigned ping_interval;                 /* cached HeartbeatInterval, 0 = none */
    unsigned ncid;
    uint64_t cid[EL__CID_RING]; /* hashes of the last SendMail ClientIds */
    struct el__devinfo *info;   /* owned, NULL until DeviceInformation arrives */
    struct el__replay *replay;  /* owned: --sync-replay's last answer (srv_replay.c), or NULL */
    struct el__fstate f[EL__FOLDERS_MAX];
};

/* ---- users --------------------------------------------------------------------------------- */

struct el__user {
    struct el_srv_user pub; /* what el_srv_auth hands out; strings owned here */
    size_t plen;            /* password length */
    char *first, *last;     /* owned: generated display name parts */
    uint32_t idx;
    int oof_state;                /* Settings Oof: 0 off, 1 global, 2 time based */
    char *oof_msg;                /* owned, NULL = none */
    struct el__mailbox *mb;       /* owned, generated on first use */
    struct el__device *devices;   /* owned list */
    struct el_srv_watch *watches; /* list of parked Pings, owned by the EAS side */
};

/* ---- watches ------------------------------------------------------------------------------- */

struct el_srv_watch {
    struct el_srv_watch *next, **pprev; /* in the user's list while armed */
    struct el__user *user;
    char dev_id[33];
    uint8_t is_sync; /* a held Sync (Wait/HeartbeatInterval): replayed by el_srv_finish_hold */
    uint32_t policy_key;
    uint8_t *body; /* owned: the held Sync request, replayed without its Wait */
    size_t body_len;
    uint16_t mask;    /* watched folder indexes */
    uint8_t armed;    /* in the list: may still fire */
    uint8_t fired;    /* the wake function was called */
    unsigned version; /* protocol version of the request (x10) */
    void *owner;      /* the HTTP side's tag */
};

/* ---- state --------------------------------------------------------------------------------- */

struct el_srv_state {
    pthread_mutex_t mu;
    struct el__user *users; /* owned array of nusers */
    uint32_t nusers;
    uint32_t ht_size;  /* power of two */
    uint32_t *ht_name; /* owned: open addressing, user index + 1, 0 = empty */
    uint32_t *ht_mail; /* owned: by lower-case e-mail */
    uint64_t seed;
    unsigned items_per_folder;
    unsigned policy_version;
    unsigned max_devices; /* 0 = no limit */
    uint64_t quota_bytes; /* mailbox quota, 0 = none (issue 8) */
    int no_policy;        /* --no-policy: el__policy_check passes every key (bench/peers) */
    int sync_replay;      /* --sync-replay: a Sync leaves the folder state and key as they were */
    int64_t base_ms;      /* wall clock at start: generated dates are relative to it */
    uint32_t key_counter; /* last sync/policy key handed out */
    el_srv_wake_fn *wake;
    void *wake_ctx;
    struct el_srv_stats stats;
    uint64_t device_bytes; /* bytes held by device partnerships */
    uint64_t gen;          /* bumped by every request that may change the state (srv_replay.c) */
};

/* Under st->mu, by every entry point that may change the state: --sync-replay's answers kept
 * before are not sent again (srv_replay.c). */
static inline void el__state_changed(struct el_srv_state *st)
{
    st->gen++;
}

/* ---- --sync-replay's answer cache (srv_replay.c) ------------------------------------------- */

struct el__replay;
/* Under st->mu: 1 when rq is the device's last replayed Sync with nothing changed since; its
 * answer was appended to rs->body. 0: run the request. */
int el__replay_answer(struct el_srv_state *st, const struct el_srv_request *rq,
                      struct el_srv_response *rs);
/* Keeps rs's answer (from body offset start) as the device's replayed Sync for rq. */
void el__replay_keep(struct el_srv_state *st, const struct el_srv_request *rq,
                     const struct el_srv_response *rs, size_t start);
void el__replay_drop(struct el__device *d);

/* ---- request tree -------------------------------------------------------------------------- */

/* A WBXML request as a tree of nodes in one array; index 0 means "none". Text is borrowed from
 * the request body (valid during el_srv_handle only). */
struct el__node {
    uint16_t tag;
    uint8_t opaque; /* text came as OPAQUE */
    uint8_t has_text;
    uint32_t child; /* first child */
    uint32_t next;  /* next sibling */
    const uint8_t *text;
    size_t len;
    size_t offset; /* byte offset of the tag in the body */
};

#define EL__TREE_MAX_NODES 65536u

struct el__tree {
    struct el__node *n; /* owned array, n[0] unused */
    uint32_t count, cap;
};

/* Parses body into t (t is reset first). 0, EL_ENOMEM, or a decoder error (err has the byte
 * offset) / EL_ELIMIT past EL__TREE_MAX_NODES. An empty body gives an empty tree. */
int el__tree_parse(struct el__tree *t, const uint8_t *body, size_t len, struct el_err *err);
void el__tree_free(struct el__tree *t);
/* Root node (1) or 0 for an empty tree. */
static inline uint32_t el__tree_root(const struct el__tree *t)
{
    return t->count > 1 ? 1 : 0;
}
/* First child of node with tag; 0 if none. */
uint32_t el__child(const struct el__tree *t, uint32_t node, uint16_t tag);
/* Copies node's text (NUL-terminated, cut to size - 1) into out; "" if none. Returns out. */
const char *el__text(const struct el__tree *t, uint32_t node, char *out, size_t size);
/* Text of the child with tag into out; NULL if there is no such child. */
const char *el__child_text(const struct el__tree *t, uint32_t node, uint16_t tag, char *out,
                           size_t size);
/* Child's text as an unsigned number; def if absent or not a number (then *bad = 1 if bad). */
unsigned long el__child_uint(const struct el__tree *t, uint32_t node, uint16_t tag,
                             unsigned long def, int *bad);
/* A boolean-ish child: absent = def; bare or "1" = 1; "0" = 0. */
int el__child_flag(const struct el__tree *t, uint32_t node, uint16_t tag, int def);

/* ---- handler context ----------------------------------------------------------------------- */

struct el__ctx;
typedef int el__cmd_fn(struct el__ctx *c);

/* Dispatch table row flags. */
#define EL__CMD_POLICY    0x01u /* needs a valid policy key (X-MS-PolicyKey) */
#define EL__CMD_BODY      0x02u /* needs a WBXML body (else empty allowed: Ping, Sync) */
#define EL__CMD_MIME_OLD  0x04u /* <= 12.1 sends raw MIME, not WBXML */
#define EL__CMD_KEY_LOOSE 0x08u /* key header optional (Ping): checked only if present */
#define EL__CMD_QUOTA     0x10u /* writes mail: refused with 113 when the mailbox is full */

struct el__cmd_row {
    int cmd;          /* enum el_srv_cmd */
    const char *name; /* plain-form name */
    el__cmd_fn *fn;   /* NULL: not implemented (HTTP 501) */
    unsigned min_version;
    unsigned flags;      /* EL__CMD_* */
    uint16_t root_tag;   /* the request's and response's root element */
    uint16_t status_tag; /* where the command-level Status goes (0: none) */
};

struct el__ctx {
    struct el_srv_state *st;
    const struct el_srv_request *rq;
    struct el_srv_response *rs;
    const struct el__cmd_row *row;
    struct el__user *u;
    struct el__device *dev; /* the partnership, created on first contact */
    struct el__tree t;
    uint32_t root; /* root node, 0 for an empty body */
    struct el_wbxml_encoder enc;
    struct el__props scratch; /* item rendering */
    struct el_buf tmp;        /* owned: body assembly, freed when the command ends */
    struct el_buf synth;      /* owned: a request body built from the Sync cache */
    int replay;               /* re-run of a held Sync: answer now, never hold again */
    unsigned sync_colls;      /* Sync: collections answered, and of those the ones answered */
    unsigned sync_replayed;   /* as --sync-replay does (the state left as it was) */
};

/* Sets a short log reason on the response (static string or formatted into rs->log_buf). */
void el__reason(struct el__ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Starts the response document: encoder on rs->body, root element opened. */
void el__begin(struct el__ctx *c);
/* Closes open elements and checks the encoder. 0 or the encoder's error. */
int el__finish(struct el__ctx *c);
/* Answers with a command-level status: <Root><Status>n</Status></Root> for 14.0+, else the
 * HTTP code a <= 12.1 server sends for it. */
int el__fail(struct el__ctx *c, unsigned status);
/* HTTP code a <= 12.1 server sends instead of common status n. */
int el__status_http(unsigned status);

/* ---- mailbox (srv_mailbox*.c) -------------------------------------------------------------- */

/* The user's mailbox, generated on first use. NULL only on allocation failure. */
struct el__mailbox *el__mailbox_get(struct el_srv_state *st, struct el__user *u);
void el__mailbox_free(struct el_srv_state *st, struct el__mailbox *mb);
/* Generates the mailbox of user u (srv_mailbox_gen.c). */
int el__mailbox_generate(struct el_srv_state *st, struct el__user *u, struct el__mailbox *mb);
/* Appends an item (content from pb and body, or generated when pb == NULL) to folder fi; the
 * item gets a new seq. Returns the item index or -1 (ENOMEM). Wakes watches on the folder. */
long el__item_add(struct el_srv_state *st, struct el__user *u, int fi, const struct el__item *tmpl,
                  const struct el__props *pb, const void *body, size_t body_len, int body_is_mime);
/* Marks item changed (new seq) and wakes watches. */
void el__item_touch(struct el_srv_state *st, struct el__user *u, int fi, uint32_t ii);
/* Tombstones item; wakes watches. */
void el__item_delete(struct el_srv_state *st, struct el__user *u, int fi, uint32_t ii);
/* Moves item to folder dst (new index there, tombstone here); returns the new index or -1. */
long el__item_move(struct el_srv_state *st, struct el__user *u, int fi, uint32_t ii, int dst);
/* Replaces the item's content with pb (and body, if given; else keeps the old body). */
int el__item_replace(struct el_srv_state *st, struct el__user *u, int fi, uint32_t ii,
                     const struct el__props *pb, const void *body, size_t body_len,
                     int body_is_mime);
/* Parses "F:N" into folder and item index of a live item; 0 or -1. */
int el__item_parse_id(const struct el__mailbox *mb, const char *sid, int *fi, uint32_t *ii);
/* Writes "F:N". */
void el__item_id(char out[24], int fi, uint32_t ii);
/* Search LongIds are "L" + ServerId; parses one like el__item_parse_id. */
int el__item_parse_longid(const struct el__mailbox *mb, const char *lid, int *fi, uint32_t *ii);
void el__item_longid(char out[24], int fi, uint32_t ii);
/* The mailbox's size as its quota sees it: stored items count their stored bytes, generated
 * items their body plus EL__GEN_ITEM_OVERHEAD (headers and properties). Tombstones count 0. */
#define EL__GEN_ITEM_OVERHEAD 512u
uint64_t el__mailbox_size(const struct el__mailbox *mb);
/* 1 when the user's mailbox is at or over the quota (never with no quota). */
int el__quota_full(const struct el_srv_state *st, const struct el__user *u);
/* Bytes the item holds beyond its array slot. */
size_t el__owned_bytes(const struct el__owned *o);

/* ---- rendering (srv_mailbox_render.c) ------------------------------------------------------ */

/* Content properties of an item into pb (generated items are regenerated from the seed). */
void el__item_props(struct el_srv_state *st, const struct el__user *u, int fi,
                    const struct el__item *it, struct el__props *pb);

/* What the client asked for in airsyncbase:BodyPreference (one of them, already chosen). */
struct el__bodypref {
    unsigned type;       /* 1 text, 2 HTML, 4 MIME; 0 = no preference given */
    unsigned long trunc; /* TruncationSize, 0 = none */
    int all_or_none;
    unsigned preview; /* 14.0+ Preview length, 0 = none */
};
/* Parses the BodyPreference children of an Options-like node (picks the first type the server
 * supports: 1, 2 or 4). Returns 0, or -1 if only unsupported types were asked for. */
int el__bodypref_parse(const struct el__tree *t, uint32_t options, struct el__bodypref *bp);
/* Writes the ApplicationData children (properties and body) of an item. */
void el__item_render(struct el__ctx *c, int fi, const struct el__item *it,
                     const struct el__bodypref *bp);
/* The item's plain text body (first `limit` bytes) into out; returns the full size. */
size_t el__item_text(struct el_srv_state *st, const struct el__user *u, int fi,
                     const struct el__item *it, struct el_buf *out, size_t limit);
/* Lower-case substring match of needle in the item's subject (or FileAs for contacts). */
int el__item_matches(struct el_srv_state *st, const struct el__user *u, int fi,
                     const struct el__item *it, const char *needle, struct el__props *scratch);

/* An attachment of a generated mail: content is regenerated from the seed on demand. */
#define EL__ATT_MAX 2
struct el__att {
    const char *name;         /* static: "report.pdf" */
    const char *content_type; /* static */
    uint32_t size;            /* bytes */
    uint64_t seed;            /* content stream */
};
/* Attachments of an item (generated mail only; others have none). Returns the count. */
unsigned el__item_attachments(const struct el_srv_state *st, const struct el__user *u,
                              const struct el__item *it, struct el__att out[EL__ATT_MAX]);
/* Appends base64 of an attachment's bytes (or the raw bytes) to out. 0 or EL_ELIMIT/ENOMEM. */
int el__att_base64(const struct el__att *a, struct el_buf *out);
int el__att_bytes(const struct el__att *a, struct el_buf *out);
/* FileReference "A<folder>:<item>:<n>" of attachment n, and its parser (0 or -1). */
void el__att_ref(char out[40], int fi, uint32_t ii, unsigned n);
int el__att_parse_ref(const struct el__mailbox *mb, const char *ref, int *fi, uint32_t *ii,
                      unsigned *n);

/* The first `limit` bytes of a generated item's text (full length body_bytes), appended to out:
 * words from a list, a line break every few words; deterministic per item (srv_mailbox_gen.c). */
void el__gen_text(const struct el_srv_state *st, const struct el__user *u,
                  const struct el__item *it, struct el_buf *out, size_t limit);

/* Formats ms since the epoch: EAS date "2026-11-23T18:47:09.000Z" or compact "20261123T184709Z". */
void el__fmt_date(char out[32], int64_t ms);
void el__fmt_compact(char out[32], int64_t ms);

/* ---- devices (srv_mailbox_device.c) -------------------------------------------------------- */

struct el__device *el__device_find(struct el__user *u, const char *id);
/* Finds or creates the partnership; NULL on allocation failure. */
struct el__device *el__device_get(struct el_srv_state *st, struct el__user *u, const char *id,
                                  const char *type);
/* Drops the partnership (remote wipe done). */
void el__device_drop(struct el_srv_state *st, struct el__user *u, struct el__device *d);
void el__device_free(struct el_srv_state *st, struct el__device *d);
/* A fresh key from the state-wide counter (never 0). */
uint32_t el__new_key(struct el_srv_state *st);
/* Resets a folder state to "primed, nothing held" under a new key. 0 or EL_ENOMEM. */
int el__fstate_reset(struct el_srv_state *st, struct el__fstate *fs, uint32_t key);
/* Saves the current state as prev before a Sync changes it; allow_retry: prev_key may then be
 * used once to retry (0 after a retry already used it). 0 or EL_ENOMEM. */
int el__fstate_commit(struct el_srv_state *st, struct el__fstate *fs, uint32_t allow_retry);
/* Restores prev into current (a retry with the previous key); prev can't be used again. */
void el__fstate_rollback(struct el_srv_state *st, struct el__fstate *fs);
int el__fstate_has(const struct el__fstate *fs, uint32_t ii);
int el__fstate_set(struct el_srv_state *st, struct el__fstate *fs, uint32_t ii, int on);
/* Is item visible under filter (FilterType) right now? */
int el__filter_ok(const struct el_srv_state *st, int cls, const struct el__item *it,
                  unsigned filter, int64_t now_ms);
/* Pending changes of folder fi for state fs (counts; 0 = nothing to send). */
uint32_t el__pending(const struct el_srv_state *st, const struct el__folder *f, int cls,
                     const struct el__fstate *fs, int64_t now_ms);

/* ---- watches (srv_watch.c) ----------------------------------------------------------------- */

/* Called after any change to folder fi of user u: fires the watches that cover it. */
void el__watch_notify(struct el_srv_state *st, struct el__user *u, int fi);
/* Fires (without changes) every armed watch of the device: a new Ping replaces the old one. */
void el__watch_replace(struct el_srv_state *st, struct el__user *u, const char *dev_id);
/* Takes an armed watch out of its user's list (it can no longer fire). */
void el__watch_unlink(struct el_srv_watch *w);
struct el_srv_watch *el__watch_new(struct el__user *u, const char *dev_id, uint16_t mask,
                                   unsigned version);
/* Folders of mask in which the device has changes to fetch (primed folders only). */
uint16_t el__ping_changed(struct el_srv_state *st, struct el__user *u, const struct el__device *d,
                          uint16_t mask, int64_t now_ms);
/* Writes a whole Ping response: Status 1, or 2 with the changed folders. */
int el__ping_write(const struct el__mailbox *mb, struct el_buf *out, uint16_t changed,
                   struct el_err *err);

/* ---- users (srv_state.c) ------------------------------------------------------------------- */

struct el__user *el__user_by_name(struct el_srv_state *st, const char *name, size_t len);
/* The user behind an authenticated request's el_srv_user; NULL if it is not one of st's. */
struct el__user *el__user_of(struct el_srv_state *st, const struct el_srv_user *pub);
struct el__user *el__user_by_mail(struct el_srv_state *st, const char *mail, size_t len);
/* 64-bit mixing for the generator and key hashing. */
uint64_t el__mix64(uint64_t x);
uint64_t el__hash(const void *p, size_t len, uint64_t h);

/* ---- handlers (srv_cmd_*.c) ---------------------------------------------------------------- */

int el__cmd_provision(struct el__ctx *c);
int el__cmd_foldersync(struct el__ctx *c);
int el__cmd_foldercreate(struct el__ctx *c);
int el__cmd_folderdelete(struct el__ctx *c);
int el__cmd_folderupdate(struct el__ctx *c);
int el__cmd_sync(struct el__ctx *c);
int el__cmd_getitemestimate(struct el__ctx *c);
int el__cmd_ping(struct el__ctx *c);
int el__cmd_search(struct el__ctx *c);
int el__cmd_itemoperations(struct el__ctx *c);
int el__cmd_getattachment(struct el__ctx *c);
int el__cmd_sendmail(struct el__ctx *c);
int el__cmd_smartreply(struct el__ctx *c);
int el__cmd_smartforward(struct el__ctx *c);
int el__cmd_moveitems(struct el__ctx *c);
int el__cmd_settings(struct el__ctx *c);
int el__cmd_meetingresponse(struct el__ctx *c);

/* Stores settings:DeviceInformation/Set (14.1+ Provision, Settings); returns its status. */
unsigned el__devinfo_set(struct el__ctx *c, uint32_t devinfo);

/* Sync (srv_cmd_sync.c, srv_cmd_sync_hold.c). */
#define EL__SYNC_WINDOW_MAX 512
/* The Options of a Collection that apply (the first not for SMS); 0 if none. */
uint32_t el__sync_pick_options(const struct el__tree *t, uint32_t coll);
/* Remembers a Collection's options in the device's Sync cache. */
void el__sync_cache_collection(struct el__ctx *c, uint32_t node);
/* Builds and parses a request from the cache (merged with the collections of partial, the
 * root of a Partial request, if not 0): 0, 1 if there is nothing to sync, or EL_ENOMEM. */
int el__sync_from_cache(struct el__ctx *c, uint32_t partial);
/* May this Sync wait (all collections current, nothing pending, no commands)? */
int el__sync_holdable(struct el__ctx *c, uint32_t colls, uint16_t *mask);
/* Parks the Sync: a watch with a copy of the request; rs->hold_seconds = seconds. */
int el__sync_hold(struct el__ctx *c, uint16_t mask, unsigned seconds);

/* Re-runs the Sync a watch holds (el_srv_finish_hold; state mutex held). */
int el__sync_replay(struct el_srv_state *st, struct el_srv_watch *w, struct el_srv_response *rs);

/* Policy check of srv_cmd_provision.c: 0 = go on, else the status (140, 142, 143, 144) to
 * send; 449 for <= 12.1 is chosen by the caller. */
unsigned el__policy_check(struct el__ctx *c);

#endif
