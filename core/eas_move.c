/* eas_move.c - MoveItems of one item (the source folder's remembered item unless one is named)
 * to a destination folder. Status 3 is success: the item leaves the source (its count and
 * remembered id) and its new id (DstMsgId) becomes the destination's remembered item.
 * Owns: nothing. Uses: eas_int.h. */
#include "eas_int.h"

#include <stdio.h>
#include <string.h>

int el__eas_move_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                       struct el_err *err)
{
    struct el_eas_folder *src = el__eas_folder_arg(d, c->in.folder, 2, "MoveItems", err);
    if (src == NULL)
        return EL_EINVAL;
    if (c->in.dest == NULL)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %s: MoveItems without a destination",
                      d->device_id);
    struct el_eas_folder *dst = el__eas_folder_arg(d, c->in.dest, 2, "MoveItems", err);
    if (dst == NULL)
        return EL_EINVAL;
    const char *item = c->in.item != NULL ? c->in.item : src->last_item;
    if (item[0] == '\0')
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "device %s: MoveItems: no item in %s to move (sync it first)", d->device_id,
                      src->name);
    struct el_wbxml_encoder *e = &rq->enc;
    el_wbxml_encoder_init(e, rq->body);
    el_wbxml_start(e, EL_MOVE_MOVEITEMS);
    el_wbxml_start(e, EL_MOVE_MOVE);
    el_wbxml_text(e, EL_MOVE_SRCMSGID, item);
    el_wbxml_text(e, EL_MOVE_SRCFLDID, src->id);
    el_wbxml_text(e, EL_MOVE_DSTFLDID, dst->id);
    el_wbxml_end(e);
    el_wbxml_end(e);
    return el_wbxml_encoder_finish(e, err);
}

void el__eas_move_event(struct el__eas_px *px, const struct el_wbxml_ev *ev)
{
    if (ev->type == EL_WBXML_EV_STR && ev->tag == EL_MOVE_DSTMSGID)
        el__eas_copy(px->u.gen.id, sizeof(px->u.gen.id), ev);
    el__eas_generic_event(px, ev);
}

int el__eas_move_finish(struct el__eas_px *px)
{
    struct el_eas_call *c = px->c;
    el__eas_generic_finish(px);
    if (c->out.cls != EL_EAS_CLASS_OK)
        return 0;
    struct el_eas_folder *src = el__eas_folder_arg(px->d, c->in.folder, 2, "MoveItems", NULL);
    if (src != NULL) {
        const char *item = c->in.item != NULL ? c->in.item : src->last_item;
        if (strcmp(item, src->last_item) == 0)
            src->last_item[0] = '\0';
        if (src->items > 0)
            src->items--;
    }
    struct el_eas_folder *dst = el__eas_folder_arg(px->d, c->in.dest, 2, "MoveItems", NULL);
    if (dst != NULL && px->u.gen.id[0] != '\0')
        el__eas_strlcpy(dst->last_item, px->u.gen.id, sizeof(dst->last_item));
    return 0;
}
