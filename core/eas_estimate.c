/* eas_estimate.c - GetItemEstimate: how many items a Sync of one folder would bring. 14.0+
 * sends airsync:SyncKey, CollectionId, airsync:Options/FilterType; <= 12.1 sends Class,
 * CollectionId, airsync:FilterType, airsync:SyncKey. The answer's Estimate lands in out.count.
 * Owns: nothing. Uses: eas_int.h. */
#include "eas_int.h"

int el__eas_estimate_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                           struct el_err *err)
{
    struct el_eas_folder *f = el__eas_folder_arg(d, c->in.folder, 2, "GetItemEstimate", err);
    if (f == NULL)
        return EL_EINVAL;
    unsigned long filter = c->in.filter >= 0 && c->in.filter <= 8 ? (unsigned long)c->in.filter : 0;
    struct el_wbxml_encoder *e = &rq->enc;
    el_wbxml_encoder_init(e, rq->body);
    el_wbxml_start(e, EL_GIE_GETITEMESTIMATE);
    el_wbxml_start(e, EL_GIE_COLLECTIONS);
    el_wbxml_start(e, EL_GIE_COLLECTION);
    if (d->version <= 121) {
        el_wbxml_text(e, EL_GIE_CLASS, el__eas_folder_class(f->type));
        el_wbxml_text(e, EL_GIE_COLLECTIONID, f->id);
        el_wbxml_uint(e, EL_AS_FILTERTYPE, filter);
        el_wbxml_text(e, EL_AS_SYNCKEY, f->sync_key);
    } else {
        el_wbxml_text(e, EL_AS_SYNCKEY, f->sync_key);
        el_wbxml_text(e, EL_GIE_COLLECTIONID, f->id);
        el_wbxml_start(e, EL_AS_OPTIONS);
        el_wbxml_uint(e, EL_AS_FILTERTYPE, filter);
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    return el_wbxml_encoder_finish(e, err);
}

void el__eas_estimate_event(struct el__eas_px *px, const struct el_wbxml_ev *ev)
{
    if (ev->type == EL_WBXML_EV_STR && ev->tag == EL_GIE_ESTIMATE) {
        long v = el__eas_num(ev);
        if (v >= 0)
            px->c->out.count += (unsigned)v;
    }
    el__eas_generic_event(px, ev);
}
