/* test_srv_util.h - helpers for the EAS-side server tests (test_srv_*.c): a server state with a
 * few users, requests built with our WBXML encoder, el_srv_handle, and the response parsed back
 * with our decoder into the server's own request tree for field-by-field checks.
 * Owns: everything in struct t_srv (freed by t_close). Uses: server/srv_int.h, cmocka. */
#ifndef TEST_SRV_UTIL_H
#define TEST_SRV_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "srv_int.h"

struct t_wake {
    unsigned calls;
    struct el_srv_watch *last;
};

struct t_srv {
    struct el_srv_state *st;
    const struct el_srv_user *user;
    char dev[33];
    unsigned version;
    uint32_t policy_key;
    int send_key; /* send X-MS-PolicyKey (policy_key) */
    struct el_buf req, body;
    struct el_wbxml_encoder enc;
    struct el_srv_request rq;
    struct el_srv_response rs;
    struct el__tree tree; /* the parsed response */
    char text[8][512];    /* rotating buffers for t_text */
    unsigned ti;
    struct t_wake wake;
};

static void t_on_wake(void *ctx, struct el_srv_watch *w)
{
    struct t_wake *tw = ctx;
    tw->calls++;
    tw->last = w;
}

/* A state with nusers users and items_per_folder items per mail folder. */
static inline void t_open(struct t_srv *t, unsigned nusers, unsigned items, unsigned version)
{
    memset(t, 0, sizeof(*t));
    struct el_srv_config cfg = {.nusers = nusers, .seed = 42, .items_per_folder = items};
    struct el_err err;
    assert_int_equal(el_srv_state_new(&cfg, &t->st, &err), 0);
    t->user = el_srv_auth(t->st, "user1", 5, "pass1", 5);
    assert_non_null(t->user);
    snprintf(t->dev, sizeof(t->dev), "Dev1");
    t->version = version;
    el_buf_init(&t->req, (size_t)16 << 20);
    el_buf_init(&t->body, (size_t)64 << 20);
    el_srv_set_wake(t->st, t_on_wake, &t->wake);
}

/* A client of an existing state (for tests with several threads): its own buffers. */
static inline void t_attach(struct t_srv *t, struct el_srv_state *st, const char *user,
                            const char *pass, const char *dev, unsigned version)
{
    memset(t, 0, sizeof(*t));
    t->st = st;
    t->user = el_srv_auth(st, user, strlen(user), pass, strlen(pass));
    snprintf(t->dev, sizeof(t->dev), "%s", dev);
    t->version = version;
    el_buf_init(&t->req, (size_t)16 << 20);
    el_buf_init(&t->body, (size_t)64 << 20);
}

static inline void t_detach(struct t_srv *t)
{
    el__tree_free(&t->tree);
    el_buf_close(&t->req);
    el_buf_close(&t->body);
}

static inline void t_close(struct t_srv *t)
{
    el__tree_free(&t->tree);
    el_buf_close(&t->req);
    el_buf_close(&t->body);
    el_srv_state_free(t->st);
}

static inline void t_as(struct t_srv *t, const char *user, const char *pass, const char *dev)
{
    t->user = el_srv_auth(t->st, user, strlen(user), pass, strlen(pass));
    assert_non_null(t->user);
    snprintf(t->dev, sizeof(t->dev), "%s", dev);
}

/* Starts a request body; the test then writes elements with el_wbxml_* on &t->enc. */
static inline struct el_wbxml_encoder *t_begin(struct t_srv *t)
{
    el_buf_reset(&t->req);
    el_wbxml_encoder_init(&t->enc, &t->req);
    return &t->enc;
}

/* Sends raw bytes as the body. Returns the HTTP status. */
static inline int t_send_raw(struct t_srv *t, int cmd, const void *body, size_t len)
{
    el_buf_reset(&t->body);
    memset(&t->rq, 0, sizeof(t->rq));
    memset(&t->rs, 0, sizeof(t->rs));
    t->rq.cmd = cmd;
    t->rq.user = t->user;
    t->rq.device_id = t->dev;
    t->rq.device_type = "TestPhone";
    t->rq.version = t->version;
    t->rq.has_policy_key = t->send_key;
    t->rq.policy_key = t->policy_key;
    t->rq.body = body;
    t->rq.body_len = len;
    t->rq.now_ms = 0;
    t->rs.body = &t->body;
    assert_int_equal(el_srv_handle(t->st, &t->rq, &t->rs), 0);
    el__tree_free(&t->tree);
    if (t->body.len) {
        struct el_err err;
        int rc = el__tree_parse(&t->tree, t->body.data, t->body.len, &err);
        if (rc != 0)
            fail_msg("response does not decode: %s", err.msg);
    }
    return t->rs.http_status;
}

/* Finishes the request begun with t_begin (or sends no body if none) and handles it. */
static inline int t_send(struct t_srv *t, int cmd)
{
    if (t->req.len) {
        struct el_err err;
        if (el_wbxml_encoder_finish(&t->enc, &err) != 0)
            fail_msg("request does not encode: %s", err.msg);
    }
    int st = t_send_raw(t, cmd, t->req.data, t->req.len);
    el_buf_reset(&t->req);
    return st;
}

/* Node reached from `from` (0 = the response root, which must have tag path[0]) by a path of
 * tags ending in 0; each step takes the first child with that tag. 0 if absent. */
static inline uint32_t t_nodev(struct t_srv *t, uint32_t from, va_list ap)
{
    uint32_t n = from;
    if (n == 0) {
        n = el__tree_root(&t->tree);
        unsigned tag = va_arg(ap, unsigned);
        if (n == 0 || t->tree.n[n].tag != tag)
            return 0;
    }
    for (unsigned tag; (tag = va_arg(ap, unsigned)) != 0;) {
        n = el__child(&t->tree, n, (uint16_t)tag);
        if (n == 0)
            return 0;
    }
    return n;
}

static inline uint32_t t_node(struct t_srv *t, uint32_t from, ...)
{
    va_list ap;
    va_start(ap, from);
    uint32_t n = t_nodev(t, from, ap);
    va_end(ap);
    return n;
}

/* Text at a path (see t_node), or NULL if the element is absent. */
static inline const char *t_text(struct t_srv *t, uint32_t from, ...)
{
    va_list ap;
    va_start(ap, from);
    uint32_t n = t_nodev(t, from, ap);
    va_end(ap);
    if (n == 0)
        return NULL;
    char *buf = t->text[t->ti++ % 8];
    return el__text(&t->tree, n, buf, sizeof(t->text[0]));
}

/* Children of node with tag. */
static inline unsigned t_count(struct t_srv *t, uint32_t node, uint16_t tag)
{
    unsigned n = 0;
    for (uint32_t c = node ? t->tree.n[node].child : 0; c; c = t->tree.n[c].next)
        n += t->tree.n[c].tag == tag;
    return n;
}

/* The i-th child of node with tag (0-based), 0 if none. */
static inline uint32_t t_nth(struct t_srv *t, uint32_t node, uint16_t tag, unsigned i)
{
    for (uint32_t c = node ? t->tree.n[node].child : 0; c; c = t->tree.n[c].next)
        if (t->tree.n[c].tag == tag && i-- == 0)
            return c;
    return 0;
}

/* Both Provision phases; leaves the final key in t->policy_key and sends it from then on. */
static inline void t_provision(struct t_srv *t)
{
    struct el_wbxml_encoder *e = t_begin(t);
    el_wbxml_start(e, EL_PROV_PROVISION);
    el_wbxml_start(e, EL_PROV_POLICIES);
    el_wbxml_start(e, EL_PROV_POLICY);
    el_wbxml_text(e, EL_PROV_POLICYTYPE, "MS-EAS-Provisioning-WBXML");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    t->send_key = 0;
    assert_int_equal(t_send(t, EL_SRV_PROVISION), 200);
    const char *tmp =
        t_text(t, 0, EL_PROV_PROVISION, EL_PROV_POLICIES, EL_PROV_POLICY, EL_PROV_POLICYKEY, 0);
    assert_non_null(tmp);
    char key[32];
    snprintf(key, sizeof(key), "%s", tmp);
    e = t_begin(t);
    el_wbxml_start(e, EL_PROV_PROVISION);
    el_wbxml_start(e, EL_PROV_POLICIES);
    el_wbxml_start(e, EL_PROV_POLICY);
    el_wbxml_text(e, EL_PROV_POLICYTYPE, "MS-EAS-Provisioning-WBXML");
    el_wbxml_text(e, EL_PROV_POLICYKEY, key);
    el_wbxml_text(e, EL_PROV_STATUS, "1");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    t->send_key = 1;
    t->policy_key = (uint32_t)strtoul(key, NULL, 10);
    assert_int_equal(t_send(t, EL_SRV_PROVISION), 200);
    const char *fin =
        t_text(t, 0, EL_PROV_PROVISION, EL_PROV_POLICIES, EL_PROV_POLICY, EL_PROV_POLICYKEY, 0);
    assert_non_null(fin);
    assert_string_not_equal(fin, key);
    t->policy_key = (uint32_t)strtoul(fin, NULL, 10);
    t->send_key = 1;
}

/* FolderSync with key; returns the new key (in a rotating buffer). */
static inline const char *t_foldersync(struct t_srv *t, const char *key)
{
    struct el_wbxml_encoder *e = t_begin(t);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_text(e, EL_FH_SYNCKEY, key);
    el_wbxml_end(e);
    assert_int_equal(t_send(t, EL_SRV_FOLDERSYNC), 200);
    return t_text(t, 0, EL_FH_FOLDERSYNC, EL_FH_SYNCKEY, 0);
}

/* Sync of one collection: key, folder, window (0 = none), GetChanges (1 bare, 2 "0", else absent).
 * Options: filter (-1 = none), body type (0 = none) with truncation. */
struct t_sync_opts {
    int window;
    int getchanges;
    int filter;
    unsigned body_type;
    unsigned long trunc;
};

static inline void t_sync_begin(struct t_srv *t, const char *key, const char *folder,
                                const struct t_sync_opts *o)
{
    struct el_wbxml_encoder *e = t_begin(t);
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_start(e, EL_AS_COLLECTIONS);
    el_wbxml_start(e, EL_AS_COLLECTION);
    el_wbxml_text(e, EL_AS_SYNCKEY, key);
    el_wbxml_text(e, EL_AS_COLLECTIONID, folder);
    if (o && o->getchanges == 1)
        el_wbxml_empty(e, EL_AS_GETCHANGES);
    else if (o && o->getchanges == 2)
        el_wbxml_text(e, EL_AS_GETCHANGES, "0");
    if (o && o->window)
        el_wbxml_uint(e, EL_AS_WINDOWSIZE, (unsigned long)o->window);
    if (o && (o->filter >= 0 || o->body_type)) {
        el_wbxml_start(e, EL_AS_OPTIONS);
        if (o->filter >= 0)
            el_wbxml_uint(e, EL_AS_FILTERTYPE, (unsigned long)o->filter);
        if (o->body_type) {
            el_wbxml_start(e, EL_ASB_BODYPREFERENCE);
            el_wbxml_uint(e, EL_ASB_TYPE, o->body_type);
            if (o->trunc)
                el_wbxml_uint(e, EL_ASB_TRUNCATIONSIZE, o->trunc);
            el_wbxml_end(e);
        }
        el_wbxml_end(e);
    }
    /* the caller may add Commands, then calls t_sync_end */
}

static inline void t_sync_end(struct t_srv *t)
{
    el_wbxml_end(&t->enc); /* Collection */
    el_wbxml_end(&t->enc); /* Collections */
    el_wbxml_end(&t->enc); /* Sync */
    assert_int_equal(t_send(t, EL_SRV_SYNC), 200);
}

/* The Collection of a one-collection Sync response. */
static inline uint32_t t_coll(struct t_srv *t)
{
    return t_node(t, 0, EL_AS_SYNC, EL_AS_COLLECTIONS, EL_AS_COLLECTION, 0);
}

static inline void t_sync(struct t_srv *t, const char *key, const char *folder,
                          const struct t_sync_opts *o)
{
    t_sync_begin(t, key, folder, o);
    t_sync_end(t);
}

/* Copies the response collection's SyncKey into out. */
static inline void t_key(struct t_srv *t, char out[32])
{
    const char *k = t_text(t, t_coll(t), EL_AS_SYNCKEY, 0);
    assert_non_null(k);
    snprintf(out, 32, "%s", k);
}

static inline unsigned t_status(struct t_srv *t, uint32_t node)
{
    char buf[16];
    uint32_t s = el__child(&t->tree, node, EL_AS_STATUS);
    assert_true(s != 0);
    return (unsigned)strtoul(el__text(&t->tree, s, buf, sizeof(buf)), NULL, 10);
}

/* Provisioned device, FolderSync done, folder primed with key 0; new key in key. */
static inline void t_ready(struct t_srv *t, const char *folder, char key[32])
{
    t_provision(t);
    t_foldersync(t, "0");
    t_sync(t, "0", folder, NULL);
    t_key(t, key);
}

#endif
