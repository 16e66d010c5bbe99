/* eas_search.c - Search: the Mailbox store (And{Class Email, CollectionId, FreeText} with a
 * Range; the folder defaults to the Inbox, none known = the whole mailbox) and the GAL store
 * (Query text with a Range). out.results counts the Results with Properties, out.count is
 * the Total.
 * Owns: nothing. Uses: eas_int.h. */
#include "eas_int.h"

#include <stdio.h>
#include <strings.h>

int el__eas_search_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                         struct el_err *err)
{
    const char *store = c->in.store != NULL ? c->in.store : "Mailbox";
    int gal = strcasecmp(store, "GAL") == 0;
    if (!gal && strcasecmp(store, "Mailbox") != 0)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "device %s: Search store \"%s\" (Mailbox or GAL)", d->device_id, store);
    if (c->in.query == NULL || c->in.query[0] == '\0')
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %s: Search without a query",
                      d->device_id);
    struct el_eas_folder *f = NULL;
    if (!gal && c->in.folder != NULL) {
        f = el__eas_folder_arg(d, c->in.folder, 2, "Search", err);
        if (f == NULL)
            return EL_EINVAL;
    } else if (!gal) {
        f = el__eas_folder_arg(d, NULL, 2, "Search", NULL); /* the Inbox if known */
    }
    char range[32];
    unsigned max = c->in.range_max ? c->in.range_max : 9;
    snprintf(range, sizeof(range), "0-%u", max > 999 ? 999 : max);
    struct el_wbxml_encoder *e = &rq->enc;
    el_wbxml_encoder_init(e, rq->body);
    el_wbxml_start(e, EL_SEARCH_SEARCH);
    el_wbxml_start(e, EL_SEARCH_STORE);
    el_wbxml_text(e, EL_SEARCH_NAME, gal ? "GAL" : "Mailbox");
    el_wbxml_start(e, EL_SEARCH_QUERY);
    if (gal) {
        el_wbxml_str(e, c->in.query, strlen(c->in.query));
    } else {
        el_wbxml_start(e, EL_SEARCH_AND);
        el_wbxml_text(e, EL_AS_CLASS, "Email");
        if (f != NULL)
            el_wbxml_text(e, EL_AS_COLLECTIONID, f->id);
        el_wbxml_text(e, EL_SEARCH_FREETEXT, c->in.query);
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    el_wbxml_start(e, EL_SEARCH_OPTIONS);
    el_wbxml_text(e, EL_SEARCH_RANGE, range);
    if (!gal)
        el_wbxml_empty(e, EL_SEARCH_REBUILDRESULTS);
    if (!gal && d->version >= 120) {
        el_wbxml_start(e, EL_ASB_BODYPREFERENCE);
        el_wbxml_uint(e, EL_ASB_TYPE, 1);
        el_wbxml_uint(e, EL_ASB_TRUNCATIONSIZE, 256);
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    return el_wbxml_encoder_finish(e, err);
}

void el__eas_search_event(struct el__eas_px *px, const struct el_wbxml_ev *ev)
{
    struct el__eas_tally *t = &px->tally;
    /* a Result with Properties: Exchange answers "no match" with one empty <Result/> */
    if (ev->type == EL_WBXML_EV_START && ev->tag == EL_SEARCH_PROPERTIES &&
        el__eas_up(px, ev, 1) == EL_SEARCH_RESULT) {
        t->results++;
    } else if (ev->type == EL_WBXML_EV_STR && ev->tag == EL_SEARCH_TOTAL) {
        long v = el__eas_num(ev);
        if (v >= 0)
            t->count = (unsigned)v;
    }
    el__eas_generic_event(px, ev);
}
