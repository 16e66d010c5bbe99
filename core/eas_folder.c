/* eas_folder.c - FolderSync: sends the hierarchy key, applies the Add/Update/Delete changes to
 * the device's folder list and stores the new key; key "0" answers replace the whole list,
 * status 9 (invalid key) resets the hierarchy to key "0".
 * Owns: nothing. Uses: eas_int.h. */
#include "eas_int.h"

#include <stdio.h>
#include <string.h>

int el__eas_foldersync_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                             struct el_err *err)
{
    (void)c;
    struct el_wbxml_encoder *e = &rq->enc;
    el_wbxml_encoder_init(e, rq->body);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_text(e, EL_FH_SYNCKEY, d->hierarchy_key);
    el_wbxml_end(e);
    return el_wbxml_encoder_finish(e, err);
}

void el__eas_foldersync_begin(struct el__eas_px *px)
{
    /* an answer to key "0" is the whole hierarchy: what the device knew is void */
    if (strcmp(px->d->hierarchy_key, "0") == 0) {
        el__eas_folders_clear(px->d);
        px->u.fs.cleared = 1;
    }
}

static void put(struct el__eas_px *px, int update)
{
    struct el__eas_folder_px *fs = &px->u.fs;
    if (fs->f.id[0] == '\0')
        return;
    if (el__eas_folder_put(px->d, &fs->f) < 0) {
        fs->overflow = 1;
        return;
    }
    if (update)
        px->c->out.changed++;
    else
        px->c->out.added++;
}

void el__eas_foldersync_event(struct el__eas_px *px, const struct el_wbxml_ev *ev)
{
    struct el__eas_folder_px *fs = &px->u.fs;
    switch (ev->type) {
    case EL_WBXML_EV_START:
        if (ev->tag == EL_FH_ADD || ev->tag == EL_FH_UPDATE || ev->tag == EL_FH_DELETE)
            memset(&fs->f, 0, sizeof(fs->f));
        return;
    case EL_WBXML_EV_END:
        if (ev->tag == EL_FH_ADD || ev->tag == EL_FH_UPDATE) {
            put(px, ev->tag == EL_FH_UPDATE);
        } else if (ev->tag == EL_FH_DELETE && fs->f.id[0] != '\0') {
            el__eas_folder_del(px->d, fs->f.id);
            px->c->out.deleted++;
        }
        return;
    case EL_WBXML_EV_STR:
    case EL_WBXML_EV_OPAQUE:
        break;
    default:
        return;
    }
    uint16_t parent = el__eas_up(px, ev, 1);
    if (parent == EL_FH_FOLDERSYNC) {
        if (ev->tag == EL_FH_STATUS)
            fs->status = (int)el__eas_num(ev);
        else if (ev->tag == EL_FH_SYNCKEY)
            el__eas_copy(fs->key, sizeof(fs->key), ev);
        return;
    }
    if (parent != EL_FH_ADD && parent != EL_FH_UPDATE && parent != EL_FH_DELETE)
        return;
    switch (ev->tag) {
    case EL_FH_SERVERID:
        el__eas_copy(fs->f.id, sizeof(fs->f.id), ev);
        break;
    case EL_FH_PARENTID:
        el__eas_copy(fs->f.parent, sizeof(fs->f.parent), ev);
        break;
    case EL_FH_DISPLAYNAME:
        el__eas_copy(fs->f.name, sizeof(fs->f.name), ev);
        break;
    case EL_FH_TYPE:
        fs->f.type = (int)el__eas_num(ev);
        break;
    default:
        break;
    }
}

int el__eas_foldersync_finish(struct el__eas_px *px)
{
    struct el__eas_folder_px *fs = &px->u.fs;
    struct el_eas_device *d = px->d;
    struct el_eas_call *c = px->c;
    if (fs->status <= 0) {
        c->out.cls = EL_EAS_CLASS_MALFORMED;
        snprintf(c->out.detail, sizeof(c->out.detail), "FolderSync response without a Status");
        return 0;
    }
    if (fs->status == 1 && fs->key[0] != '\0')
        el__eas_strlcpy(d->hierarchy_key, fs->key, sizeof(d->hierarchy_key));
    if (fs->status == 9) { /* invalid key: start over from key 0 */
        memcpy(d->hierarchy_key, "0", 2);
        el__eas_folders_clear(d);
    }
    el__eas_set_status(c, fs->status);
    if (fs->overflow && c->out.cls == EL_EAS_CLASS_OK) {
        c->out.cls = EL_EAS_CLASS_MALFORMED;
        snprintf(c->out.detail, sizeof(c->out.detail), "FolderSync: more than %d folders",
                 EL__EAS_FOLDERS_MAX);
    }
    return 0;
}
