/* srv_cmd_search.c - Search: the Mailbox store (FreeText over subjects, optionally within one
 * airsync:CollectionId, newest first, results with LongId and the body the client prefers) and
 * the GAL store (the user table: name, e-mail, generated display names). Range "m-n" is zero-
 * based and inclusive (default and widest 0-99); a start past the last result -> Store Status 12.
 * Owns: the per-request match array. Uses: srv_int.h. */
#include "srv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RANGE_MAX 100

struct hit {
    int64_t date;
    uint32_t idx;
    uint8_t fi;
};

static int hit_cmp(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    if (x->date != y->date)
        return x->date > y->date ? -1 : 1; /* newest first */
    return x->fi != y->fi ? (x->fi < y->fi ? -1 : 1) : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

/* First node with tag in the subtree of node (depth first); 0 if none. */
static uint32_t find_deep(const struct el__tree *t, uint32_t node, uint16_t tag, unsigned depth)
{
    for (uint32_t c = node ? t->n[node].child : 0; c; c = t->n[c].next) {
        if (t->n[c].tag == tag)
            return c;
        if (depth < 8) {
            uint32_t r = find_deep(t, c, tag, depth + 1);
            if (r)
                return r;
        }
    }
    return 0;
}

/* "m-n" -> first, last; -1 if malformed. */
static int parse_range(const char *s, unsigned long *first, unsigned long *last)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    *first = strtoul(s, &end, 10);
    if (*end != '-' || end[1] < '0' || end[1] > '9')
        return -1;
    *last = strtoul(end + 1, &end, 10);
    if (*end != 0 || *last < *first)
        return -1;
    if (*last - *first >= RANGE_MAX)
        *last = *first + RANGE_MAX - 1;
    return 0;
}

static void store_status(struct el__ctx *c, unsigned status)
{
    el_wbxml_start(&c->enc, EL_SEARCH_STORE);
    el_wbxml_uint(&c->enc, EL_SEARCH_STATUS, status);
    el_wbxml_end(&c->enc);
}

static void range_total(struct el__ctx *c, unsigned long first, unsigned long shown,
                        unsigned long total)
{
    char r[48];
    if (shown) {
        snprintf(r, sizeof(r), "%lu-%lu", first, first + shown - 1);
        el_wbxml_text(&c->enc, EL_SEARCH_RANGE, r);
    }
    el_wbxml_uint(&c->enc, EL_SEARCH_TOTAL, total);
}

static int search_mailbox(struct el__ctx *c, uint32_t query, uint32_t options, unsigned long first,
                          unsigned long last)
{
    const struct el__tree *t = &c->t;
    struct el_wbxml_encoder *e = &c->enc;
    char text[256], cid[72];
    uint32_t ft = find_deep(t, query, EL_SEARCH_FREETEXT, 0);
    if (ft == 0) {
        el__reason(c, "Search: Mailbox query without FreeText");
        store_status(c, 2);
        return 0;
    }
    el__text(t, ft, text, sizeof(text));
    uint32_t cidn = find_deep(t, query, EL_AS_COLLECTIONID, 0);
    int only = -1;
    if (cidn) {
        el__text(t, cidn, cid, sizeof(cid));
        only = el__folder_lookup(c->u->mb, cid, strlen(cid));
        if (only < 0) {
            store_status(c, 11); /* unknown folder: FolderSync required */
            return 0;
        }
    }
    struct el__bodypref bp;
    el__bodypref_parse(t, options, &bp);
    struct el__mailbox *mb = c->u->mb;
    size_t cap = 0, n = 0;
    struct hit *hits = NULL;
    for (int fi = 0; fi < EL__FOLDERS_MAX; fi++) {
        if ((only >= 0 && fi != only) || !mb->f[fi].in_use || mb->f[fi].cls != EL__CLS_EMAIL)
            continue;
        for (uint32_t i = 0; i < mb->f[fi].n; i++) {
            const struct el__item *it = &mb->f[fi].items[i];
            if ((it->flags & EL__IF_DELETED) ||
                !el__item_matches(c->st, c->u, fi, it, text, &c->scratch))
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                struct hit *h = realloc(hits, cap * sizeof(*h));
                if (h == NULL) {
                    free(hits);
                    return EL_ENOMEM;
                }
                hits = h;
            }
            hits[n].date = it->date_ms;
            hits[n].idx = i;
            hits[n].fi = (uint8_t)fi;
            n++;
        }
    }
    if (n)
        qsort(hits, n, sizeof(*hits), hit_cmp);
    el_wbxml_start(e, EL_SEARCH_STORE);
    if (n > 0 && first >= n) {
        el_wbxml_uint(e, EL_SEARCH_STATUS, 12);
        el_wbxml_uint(e, EL_SEARCH_TOTAL, n);
        el_wbxml_end(e);
        free(hits);
        return 0;
    }
    el_wbxml_uint(e, EL_SEARCH_STATUS, 1);
    unsigned long shown = 0;
    for (unsigned long k = first; k < n && k <= last; k++, shown++) {
        char lid[24], fid[12];
        el__item_longid(lid, hits[k].fi, hits[k].idx);
        el__folder_sid(mb, hits[k].fi, fid);
        el_wbxml_start(e, EL_SEARCH_RESULT);
        el_wbxml_text(e, EL_AS_CLASS, "Email");
        el_wbxml_text(e, EL_SEARCH_LONGID, lid);
        el_wbxml_text(e, EL_AS_COLLECTIONID, fid);
        el_wbxml_start(e, EL_SEARCH_PROPERTIES);
        el__item_render(c, hits[k].fi, &mb->f[hits[k].fi].items[hits[k].idx], &bp);
        el_wbxml_end(e);
        el_wbxml_end(e);
    }
    range_total(c, first, shown, n);
    el_wbxml_end(e);
    free(hits);
    return 0;
}

static int gal_match(const struct el__user *u, const char *q)
{
    if (q[0] == 0)
        return 0;
    char disp[96];
    snprintf(disp, sizeof(disp), "%s %s", u->first, u->last);
    return strcasestr(u->pub.name, q) || strcasestr(u->pub.email, q) || strcasestr(disp, q);
}

static int search_gal(struct el__ctx *c, uint32_t query, unsigned long first, unsigned long last)
{
    struct el_wbxml_encoder *e = &c->enc;
    char q[256];
    el__text(&c->t, query, q, sizeof(q));
    unsigned long total = 0;
    for (uint32_t i = 0; i < c->st->nusers; i++)
        total += gal_match(&c->st->users[i], q) != 0;
    el_wbxml_start(e, EL_SEARCH_STORE);
    if (total > 0 && first >= total) {
        el_wbxml_uint(e, EL_SEARCH_STATUS, 12);
        el_wbxml_uint(e, EL_SEARCH_TOTAL, total);
        el_wbxml_end(e);
        return 0;
    }
    el_wbxml_uint(e, EL_SEARCH_STATUS, 1);
    unsigned long k = 0, shown = 0;
    for (uint32_t i = 0; i < c->st->nusers && k <= last; i++) {
        const struct el__user *u = &c->st->users[i];
        if (!gal_match(u, q))
            continue;
        if (k++ < first)
            continue;
        char disp[96], phone[32];
        snprintf(disp, sizeof(disp), "%s %s", u->first, u->last);
        snprintf(phone, sizeof(phone), "+49 30 5550%04u", (unsigned)(i % 10000));
        el_wbxml_start(e, EL_SEARCH_RESULT);
        el_wbxml_start(e, EL_SEARCH_PROPERTIES);
        el_wbxml_text(e, EL_GAL_DISPLAYNAME, disp);
        el_wbxml_text(e, EL_GAL_PHONE, phone);
        el_wbxml_text(e, EL_GAL_OFFICE, "Building 1");
        el_wbxml_text(e, EL_GAL_TITLE, "Staff");
        el_wbxml_text(e, EL_GAL_COMPANY, "Example Corp");
        el_wbxml_text(e, EL_GAL_ALIAS, u->pub.name);
        el_wbxml_text(e, EL_GAL_FIRSTNAME, u->first);
        el_wbxml_text(e, EL_GAL_LASTNAME, u->last);
        el_wbxml_text(e, EL_GAL_EMAILADDRESS, u->pub.email);
        el_wbxml_end(e);
        el_wbxml_end(e);
        shown++;
    }
    range_total(c, first, shown, total);
    el_wbxml_end(e);
    return 0;
}

int el__cmd_search(struct el__ctx *c)
{
    const struct el__tree *t = &c->t;
    uint32_t store = el__child(t, c->root, EL_SEARCH_STORE);
    char name[32], range[48];
    el__child_text(t, store, EL_SEARCH_NAME, name, sizeof(name));
    uint32_t query = el__child(t, store, EL_SEARCH_QUERY);
    uint32_t options = el__child(t, store, EL_SEARCH_OPTIONS);
    unsigned long first = 0, last = RANGE_MAX - 1;
    el__begin(c);
    el_wbxml_uint(&c->enc, EL_SEARCH_STATUS, 1);
    el_wbxml_start(&c->enc, EL_SEARCH_RESPONSE);
    if (store == 0 || query == 0) {
        el__reason(c, "Search without Store/Query");
        store_status(c, 2);
        return el__finish(c);
    }
    if (el__child_text(t, options, EL_SEARCH_RANGE, range, sizeof(range)) &&
        parse_range(range, &first, &last) < 0) {
        el__reason(c, "Search: bad Range \"%s\"", range);
        store_status(c, 2);
        return el__finish(c);
    }
    int rc;
    if (strcasecmp(name, "Mailbox") == 0)
        rc = search_mailbox(c, query, options, first, last);
    else if (strcasecmp(name, "GAL") == 0)
        rc = search_gal(c, query, first, last);
    else {
        el__reason(c, "Search: store \"%s\" not supported", name);
        store_status(c, strcasecmp(name, "DocumentLibrary") == 0 ? 5 : 2);
        rc = 0;
    }
    if (rc < 0)
        return rc;
    return el__finish(c);
}
