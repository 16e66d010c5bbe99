/* srv_tree.c - a WBXML request as a small tree the command handlers can walk, and the helpers
 * that start, end and fail a WBXML response.
 * Owns: the node array of a struct el__tree (one growing allocation per request, capped at
 * EL__TREE_MAX_NODES); text is borrowed from the request body. Uses: core/wbxml.h, srv_int.h. */
#include "srv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(struct el__tree *t)
{
    if (t->count < t->cap)
        return 0;
    if (t->cap >= EL__TREE_MAX_NODES)
        return EL_ELIMIT;
    uint32_t cap = t->cap ? t->cap * 2 : 64;
    if (cap > EL__TREE_MAX_NODES)
        cap = EL__TREE_MAX_NODES;
    struct el__node *n = realloc(t->n, cap * sizeof(*n));
    if (n == NULL)
        return EL_ENOMEM;
    t->n = n;
    t->cap = cap;
    return 0;
}

int el__tree_parse(struct el__tree *t, const uint8_t *body, size_t len, struct el_err *err)
{
    t->count = 0;
    if (len == 0)
        return 0;
    int rc = grow(t);
    if (rc < 0)
        return EL_ERR(err, rc, EL_NO_OFFSET, "request tree: %s", el_strerror(rc));
    memset(&t->n[0], 0, sizeof(t->n[0]));
    t->count = 1;

    struct el_wbxml_decoder d;
    rc = el_wbxml_decoder_init(&d, body, len, 32, err);
    if (rc < 0)
        return rc;
    uint32_t open[EL_WBXML_DEPTH_MAX + 1]; /* open[depth] = node */
    uint32_t last[EL_WBXML_DEPTH_MAX + 1]; /* last child appended under open[depth] */
    unsigned depth = 0;
    open[0] = 0;
    last[0] = 0;
    struct el_wbxml_ev ev;
    while ((rc = el_wbxml_next(&d, &ev, err)) == 1) {
        if (ev.type == EL_WBXML_EV_START) {
            rc = grow(t);
            if (rc < 0)
                return EL_ERR(err, rc, ev.offset, "byte %zu: request has more than %u elements",
                              ev.offset, EL__TREE_MAX_NODES);
            uint32_t id = t->count++;
            struct el__node *nd = &t->n[id];
            memset(nd, 0, sizeof(*nd));
            nd->tag = ev.tag;
            nd->offset = ev.offset;
            if (last[depth])
                t->n[last[depth]].next = id;
            else if (depth > 0)
                t->n[open[depth]].child = id;
            last[depth] = id;
            depth++;
            open[depth] = id;
            last[depth] = 0;
        } else if (ev.type == EL_WBXML_EV_END) {
            if (depth > 0)
                depth--;
        } else if (depth > 0) {
            struct el__node *nd = &t->n[open[depth]];
            if (!nd->has_text) { /* a second text chunk is ignored: EAS never splits text */
                nd->has_text = 1;
                nd->opaque = ev.type == EL_WBXML_EV_OPAQUE;
                nd->text = ev.data;
                nd->len = ev.len;
            }
        }
    }
    return rc < 0 ? rc : 0;
}

void el__tree_free(struct el__tree *t)
{
    free(t->n);
    t->n = NULL;
    t->count = 0;
    t->cap = 0;
}

uint32_t el__child(const struct el__tree *t, uint32_t node, uint16_t tag)
{
    if (node == 0)
        return 0;
    for (uint32_t c = t->n[node].child; c; c = t->n[c].next)
        if (t->n[c].tag == tag)
            return c;
    return 0;
}

const char *el__text(const struct el__tree *t, uint32_t node, char *out, size_t size)
{
    size_t n = 0;
    if (node && t->n[node].has_text) {
        n = t->n[node].len < size - 1 ? t->n[node].len : size - 1;
        memcpy(out, t->n[node].text, n);
        /* OPAQUE text may hold NULs: cut at the first one */
        char *z = memchr(out, 0, n);
        if (z)
            n = (size_t)(z - out);
    }
    out[n] = 0;
    return out;
}

const char *el__child_text(const struct el__tree *t, uint32_t node, uint16_t tag, char *out,
                           size_t size)
{
    uint32_t c = el__child(t, node, tag);
    if (c == 0) {
        out[0] = 0;
        return NULL;
    }
    return el__text(t, c, out, size);
}

unsigned long el__child_uint(const struct el__tree *t, uint32_t node, uint16_t tag,
                             unsigned long def, int *bad)
{
    char buf[24];
    if (el__child_text(t, node, tag, buf, sizeof(buf)) == NULL)
        return def;
    if (buf[0] < '0' || buf[0] > '9') {
        if (bad)
            *bad = 1;
        return def;
    }
    char *end;
    unsigned long v = strtoul(buf, &end, 10);
    if (*end != 0) {
        if (bad)
            *bad = 1;
        return def;
    }
    return v;
}

int el__child_flag(const struct el__tree *t, uint32_t node, uint16_t tag, int def)
{
    uint32_t c = el__child(t, node, tag);
    if (c == 0)
        return def;
    if (!t->n[c].has_text || t->n[c].len == 0)
        return 1;
    return !(t->n[c].len == 1 && t->n[c].text[0] == '0');
}

/* ---- responses ----------------------------------------------------------------------------- */

void el__reason(struct el__ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->rs->log_buf, sizeof(c->rs->log_buf), fmt, ap);
    va_end(ap);
    c->rs->log_reason = c->rs->log_buf;
}

void el__begin(struct el__ctx *c)
{
    el_wbxml_encoder_init(&c->enc, c->rs->body);
    el_wbxml_start(&c->enc, c->row->root_tag);
}

int el__finish(struct el__ctx *c)
{
    while (c->enc.depth > 0 && c->enc.rc == 0)
        el_wbxml_end(&c->enc);
    struct el_err err;
    int rc = el_wbxml_encoder_finish(&c->enc, &err);
    if (rc < 0) {
        el__reason(c, "response encoding failed: %s", err.msg);
        c->rs->body->len = 0;
        return rc == EL_ELIMIT || rc == EL_ENOMEM ? rc : EL_EINVAL;
    }
    return 0;
}

/* Common status -> HTTP code of a <= 12.1 server ([MS-ASCMD] 2.2.2 brackets). */
static const struct {
    unsigned short status, http;
} status_http[] = {
    {101, 400}, {102, 400}, {103, 400}, {106, 400}, {110, 500}, {111, 503}, {112, 403}, {113, 507},
    {118, 500}, {119, 500}, {120, 500}, {125, 403}, {126, 403}, {132, 403}, {137, 501}, {138, 400},
    {140, 449}, {141, 449}, {142, 449}, {143, 449}, {144, 449}, {147, 400}, {150, 500}, {177, 403},
};

int el__status_http(unsigned status)
{
    for (size_t i = 0; i < sizeof(status_http) / sizeof(status_http[0]); i++)
        if (status_http[i].status == status)
            return status_http[i].http;
    return 500;
}

int el__fail(struct el__ctx *c, unsigned status)
{
    c->rs->body->len = 0;
    if (c->rq->version < 140 || c->row->status_tag == 0) {
        c->rs->http_status = el__status_http(status);
        return 0;
    }
    el__begin(c);
    el_wbxml_uint(&c->enc, c->row->status_tag, status);
    return el__finish(c);
}
