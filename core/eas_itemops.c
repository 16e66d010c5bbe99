/* eas_itemops.c - ItemOperations Fetch of one mail item by CollectionId + ServerId (the
 * folder's remembered item unless one is named), with a BodyPreference; out.bytes counts the
 * Data bytes that came back (airsyncbase:Body/Data or Properties/Data, text or OPAQUE).
 * Owns: nothing. Uses: eas_int.h. */
#include "eas_int.h"

int el__eas_itemops_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                          struct el_err *err)
{
    struct el_eas_folder *f = el__eas_folder_arg(d, c->in.folder, 2, "ItemOperations", err);
    if (f == NULL)
        return EL_EINVAL;
    const char *item = c->in.item != NULL ? c->in.item : f->last_item;
    if (item[0] == '\0')
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "device %s: ItemOperations: nothing to fetch in %s (sync it first)",
                      d->device_id, f->name);
    struct el_wbxml_encoder *e = &rq->enc;
    el_wbxml_encoder_init(e, rq->body);
    el_wbxml_start(e, EL_IO_ITEMOPERATIONS);
    el_wbxml_start(e, EL_IO_FETCH);
    el_wbxml_text(e, EL_IO_STORE, "Mailbox");
    el_wbxml_text(e, EL_AS_COLLECTIONID, f->id);
    el_wbxml_text(e, EL_AS_SERVERID, item);
    el_wbxml_start(e, EL_IO_OPTIONS);
    el_wbxml_start(e, EL_ASB_BODYPREFERENCE);
    el_wbxml_uint(e, EL_ASB_TYPE, c->in.body_type > 0 ? (unsigned long)c->in.body_type : 1);
    if (c->in.truncate)
        el_wbxml_uint(e, EL_ASB_TRUNCATIONSIZE, c->in.truncate);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    return el_wbxml_encoder_finish(e, err);
}

void el__eas_itemops_event(struct el__eas_px *px, const struct el_wbxml_ev *ev)
{
    if ((ev->type == EL_WBXML_EV_STR || ev->type == EL_WBXML_EV_OPAQUE) &&
        (ev->tag == EL_ASB_DATA || ev->tag == EL_IO_DATA))
        px->tally.bytes += ev->full_len; /* the whole value, also when a chunk cut it */
    el__eas_generic_event(px, ev);
}
