/* srv_cmd_move.c - MoveItems: Move*{SrcMsgId, SrcFldId, DstFldId} -> Response*{SrcMsgId, Status,
 * DstMsgId}. Status 3 success; 1 source folder or item unknown; 2 destination unknown or of
 * another class (mail into a calendar); 4 source = destination. The moving device will not be
 * told to delete the source (it knows); it learns the new item as an Add when it syncs the
 * destination, as from Exchange.
 * Owns: nothing. Uses: srv_int.h. */
#include "srv_int.h"

#include <string.h>

int el__cmd_moveitems(struct el__ctx *c)
{
    const struct el__tree *t = &c->t;
    struct el_wbxml_encoder *e = &c->enc;
    el__begin(c);
    for (uint32_t k = t->n[c->root].child; k; k = t->n[k].next) {
        if (t->n[k].tag != EL_MOVE_MOVE)
            continue;
        char src[72], sfld[72], dfld[72], dst_id[24] = "";
        el__child_text(t, k, EL_MOVE_SRCMSGID, src, sizeof(src));
        el__child_text(t, k, EL_MOVE_SRCFLDID, sfld, sizeof(sfld));
        el__child_text(t, k, EL_MOVE_DSTFLDID, dfld, sizeof(dfld));
        int sf = el__folder_lookup(c->u->mb, sfld, strlen(sfld));
        int df = el__folder_lookup(c->u->mb, dfld, strlen(dfld));
        int fi;
        uint32_t ii;
        unsigned status;
        if (sf < 0 || el__item_parse_id(c->u->mb, src, &fi, &ii) < 0 || fi != sf)
            status = 1;
        else if (df < 0 || c->u->mb->f[df].cls != c->u->mb->f[sf].cls)
            status = 2;
        else if (df == sf)
            status = 4;
        else {
            long ni = el__item_move(c->st, c->u, sf, ii, df);
            if (ni < 0)
                return EL_ENOMEM;
            el__fstate_set(c->st, &c->dev->f[sf], ii, 0);
            el__item_id(dst_id, df, (uint32_t)ni);
            status = 3;
        }
        if (status != 3)
            el__reason(c, "MoveItems %s: status %u", src, status);
        el_wbxml_start(e, EL_MOVE_RESPONSE);
        el_wbxml_text(e, EL_MOVE_SRCMSGID, src);
        el_wbxml_uint(e, EL_MOVE_STATUS, status);
        if (status == 3)
            el_wbxml_text(e, EL_MOVE_DSTMSGID, dst_id);
        el_wbxml_end(e);
    }
    return el__finish(c);
}
