/* srv_cmd_itemops.c - ItemOperations: Fetch of a mailbox item by airsync:CollectionId +
 * airsync:ServerId or by search:LongId, with Options/airsyncbase:BodyPreference; Fetch of an
 * attachment by airsyncbase:FileReference (generated content, base64 in Properties/Data);
 * EmptyFolderContents. Status per operation: 1 OK, 2 protocol error, 6 not found, 9 unknown
 * store, 15 bad attachment id, 156 action not supported (Move).
 * Owns: nothing. Uses: srv_int.h. */
#include "srv_int.h"

#include <stdio.h>
#include <string.h>

static int fetch(struct el__ctx *c, uint32_t node)
{
    const struct el__tree *t = &c->t;
    struct el_wbxml_encoder *e = &c->enc;
    char store[32], cid[72], sid[72], lid[72], fref[128];
    el__child_text(t, node, EL_IO_STORE, store, sizeof(store));
    int has_sid = el__child_text(t, node, EL_AS_SERVERID, sid, sizeof(sid)) != NULL;
    int has_cid = el__child_text(t, node, EL_AS_COLLECTIONID, cid, sizeof(cid)) != NULL;
    int has_lid = el__child_text(t, node, EL_SEARCH_LONGID, lid, sizeof(lid)) != NULL;
    int has_fref = el__child_text(t, node, EL_ASB_FILEREFERENCE, fref, sizeof(fref)) != NULL;
    struct el__bodypref bp;
    el__bodypref_parse(t, el__child(t, node, EL_IO_OPTIONS), &bp);

    unsigned status = 1;
    int fi = -1;
    uint32_t ii = 0;
    unsigned an = 0, natt = 0;
    struct el__att att[EL__ATT_MAX];
    if (strcasecmp(store, "Mailbox") != 0)
        status = 9;
    else if (has_fref) {
        if (el__att_parse_ref(c->u->mb, fref, &fi, &ii, &an) == 0)
            natt = el__item_attachments(c->st, c->u, &c->u->mb->f[fi].items[ii], att);
        status = an < natt ? 1 : 15;
    } else if (has_lid)
        status = el__item_parse_longid(c->u->mb, lid, &fi, &ii) < 0 ? 6 : 1;
    else if (has_sid && has_cid)
        status = el__item_parse_id(c->u->mb, sid, &fi, &ii) < 0 ||
                         el__folder_lookup(c->u->mb, cid, strlen(cid)) != fi
                     ? 6
                     : 1;
    else
        status = 2;
    if (status != 1)
        el__reason(c, "ItemOperations Fetch: status %u", status);
    el_wbxml_start(e, EL_IO_FETCH);
    el_wbxml_uint(e, EL_IO_STATUS, status);
    if (has_lid) {
        el_wbxml_text(e, EL_SEARCH_LONGID, lid);
    } else if (has_fref) {
        el_wbxml_text(e, EL_ASB_FILEREFERENCE, fref);
    } else {
        if (has_cid)
            el_wbxml_text(e, EL_AS_COLLECTIONID, cid);
        if (has_sid)
            el_wbxml_text(e, EL_AS_SERVERID, sid);
    }
    if (status == 1 && has_fref) {
        el_wbxml_start(e, EL_IO_PROPERTIES);
        el_wbxml_text(e, EL_ASB_CONTENTTYPE, att[an].content_type);
        el_buf_reset(&c->tmp);
        int rc = el__att_base64(&att[an], &c->tmp);
        if (rc < 0)
            return rc;
        el_wbxml_start(e, EL_IO_DATA);
        el_wbxml_str(e, (const char *)c->tmp.data, c->tmp.len);
        el_wbxml_end(e);
        el_wbxml_end(e);
    } else if (status == 1) {
        el_wbxml_text(e, EL_AS_CLASS, el__cls_name(c->u->mb->f[fi].cls));
        el_wbxml_start(e, EL_IO_PROPERTIES);
        el__item_render(c, fi, &c->u->mb->f[fi].items[ii], &bp);
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    return 0;
}

static void empty_folder(struct el__ctx *c, uint32_t node)
{
    char cid[72];
    el__child_text(&c->t, node, EL_AS_COLLECTIONID, cid, sizeof(cid));
    int fi = el__folder_lookup(c->u->mb, cid, strlen(cid));
    unsigned status = fi < 0 ? 6 : 1;
    if (fi >= 0) {
        struct el__folder *f = &c->u->mb->f[fi];
        for (uint32_t i = 0; i < f->n; i++)
            if (!(f->items[i].flags & EL__IF_DELETED))
                el__item_delete(c->st, c->u, fi, i);
    }
    el_wbxml_start(&c->enc, EL_IO_EMPTYFOLDERCONTENTS);
    el_wbxml_uint(&c->enc, EL_IO_STATUS, status);
    el_wbxml_text(&c->enc, EL_AS_COLLECTIONID, cid);
    el_wbxml_end(&c->enc);
}

/* GetAttachment (<= 14.1): AttachmentName is a FileReference; the answer is the raw bytes. */
int el__cmd_getattachment(struct el__ctx *c)
{
    const char *ref = c->rq->attachment_name;
    int fi;
    uint32_t ii;
    unsigned an = 0, natt = 0;
    struct el__att att[EL__ATT_MAX];
    if (c->rq->version >= 160) {
        c->rs->http_status = 501; /* gone in 16.0: ItemOperations Fetch replaces it */
        el__reason(c, "GetAttachment: not in protocol 16.x");
        return 0;
    }
    if (ref && el__att_parse_ref(c->u->mb, ref, &fi, &ii, &an) == 0)
        natt = el__item_attachments(c->st, c->u, &c->u->mb->f[fi].items[ii], att);
    if (ref == NULL || an >= natt) {
        c->rs->http_status = 500;
        el__reason(c, "GetAttachment: no attachment \"%s\"", ref ? ref : "");
        return 0;
    }
    int rc = el__att_bytes(&att[an], c->rs->body);
    if (rc < 0)
        return rc;
    c->rs->content_type = att[an].content_type;
    return 0;
}

int el__cmd_itemoperations(struct el__ctx *c)
{
    const struct el__tree *t = &c->t;
    struct el_wbxml_encoder *e = &c->enc;
    el__begin(c);
    if (t->n[c->root].child == 0) {
        el__reason(c, "ItemOperations without operations");
        el_wbxml_uint(e, EL_IO_STATUS, 2);
        return el__finish(c);
    }
    el_wbxml_uint(e, EL_IO_STATUS, 1);
    el_wbxml_start(e, EL_IO_RESPONSE);
    for (uint32_t k = t->n[c->root].child; k; k = t->n[k].next) {
        switch (t->n[k].tag) {
        case EL_IO_FETCH: {
            int rc = fetch(c, k);
            if (rc < 0)
                return rc;
            break;
        }
        case EL_IO_EMPTYFOLDERCONTENTS:
            empty_folder(c, k);
            break;
        case EL_IO_MOVE:
            el_wbxml_start(e, EL_IO_MOVE);
            el_wbxml_uint(e, EL_IO_STATUS, 156);
            el_wbxml_end(e);
            break;
        default:
            break;
        }
    }
    return el__finish(c);
}
