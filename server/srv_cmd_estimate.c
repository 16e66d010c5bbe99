/* srv_cmd_estimate.c - GetItemEstimate: how many changes the next Sync of each collection would
 * bring for this device (14.0+ form: airsync:SyncKey, CollectionId, airsync:Options/FilterType;
 * 12.1 form: Class, CollectionId, airsync:FilterType, airsync:SyncKey). Status 2 unknown
 * collection, 3 not primed (no Sync with key 0 yet, or key 0 given), 4 bad SyncKey.
 * Owns: nothing. Uses: srv_int.h. */
#include "srv_int.h"

#include <stdlib.h>
#include <string.h>

static void response(struct el__ctx *c, unsigned status, const char *cid, int with_estimate,
                     uint32_t estimate)
{
    struct el_wbxml_encoder *e = &c->enc;
    el_wbxml_start(e, EL_GIE_RESPONSE);
    el_wbxml_uint(e, EL_GIE_STATUS, status);
    el_wbxml_start(e, EL_GIE_COLLECTION);
    el_wbxml_text(e, EL_GIE_COLLECTIONID, cid);
    if (with_estimate)
        el_wbxml_uint(e, EL_GIE_ESTIMATE, estimate);
    el_wbxml_end(e);
    el_wbxml_end(e);
}

int el__cmd_getitemestimate(struct el__ctx *c)
{
    const struct el__tree *t = &c->t;
    uint32_t colls = el__child(t, c->root, EL_GIE_COLLECTIONS);
    el__begin(c);
    if (colls == 0 || t->n[colls].child == 0) {
        el__reason(c, "GetItemEstimate without Collections");
        el_wbxml_start(&c->enc, EL_GIE_RESPONSE);
        el_wbxml_uint(&c->enc, EL_GIE_STATUS, 2);
        el_wbxml_end(&c->enc);
        return el__finish(c);
    }
    for (uint32_t k = t->n[colls].child; k; k = t->n[k].next) {
        if (t->n[k].tag != EL_GIE_COLLECTION)
            continue;
        char cid[72], key[72];
        el__child_text(t, k, EL_GIE_COLLECTIONID, cid, sizeof(cid));
        int has_key = el__child_text(t, k, EL_AS_SYNCKEY, key, sizeof(key)) != NULL;
        uint32_t options = el__child(t, k, EL_AS_OPTIONS);
        int bad = 0;
        unsigned long filter =
            el__child_uint(t, options ? options : k, EL_AS_FILTERTYPE, 256, &bad);
        int fi = el__folder_lookup(c->u->mb, cid, strlen(cid));
        if (fi < 0) {
            response(c, 2, cid, 0, 0);
            continue;
        }
        struct el__fstate *fs = &c->dev->f[fi];
        char *end;
        unsigned long kv = strtoul(key, &end, 10);
        if (!has_key || fs->key == 0 || (key[0] == '0' && key[1] == 0)) {
            response(c, 3, cid, 0, 0);
            continue;
        }
        if (*end != 0 || (kv != fs->key && !(kv == fs->prev_key && fs->prev_ok))) {
            response(c, 4, cid, 0, 0);
            continue;
        }
        struct el__fstate probe = *fs; /* the same state, maybe another filter */
        if (filter <= 8)
            probe.filter = (uint8_t)filter;
        uint32_t n = el__pending(c->st, &c->u->mb->f[fi], c->u->mb->f[fi].cls, &probe,
                                 (int64_t)c->rq->now_ms);
        response(c, 1, cid, 1, n);
    }
    return el__finish(c);
}
