/* srv_cmd_folder.c - the folder hierarchy commands: FolderSync (key 0 returns every folder and
 * resets the device's collection keys, as Exchange and Z-Push do; a current key reports the
 * changes since, Add/Update/Delete, under a new key, or keeps the key when there are none; the
 * previous key works once for a retry; any other key -> Status 9), FolderCreate, FolderDelete
 * and FolderUpdate (user folders only: the 11 default folders are special, Status 3; name taken
 * under the parent -> 2; unknown folder -> 4; unknown parent -> 5; no free slot -> 6; a
 * hierarchy key that is not current -> 9; missing fields -> 10).
 * Owns: nothing. Uses: srv_int.h. */
#include "srv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void write_folder(struct el_wbxml_encoder *e, const struct el__mailbox *mb, int fi,
                         uint16_t tag)
{
    char sid[12], pid[12] = "0";
    const struct el__folder *f = &mb->f[fi];
    el__folder_sid(mb, fi, sid);
    if (f->parent >= 0)
        el__folder_sid(mb, f->parent, pid);
    el_wbxml_start(e, tag);
    el_wbxml_text(e, EL_FH_SERVERID, sid);
    if (tag != EL_FH_DELETE) {
        el_wbxml_text(e, EL_FH_PARENTID, pid);
        el_wbxml_text(e, EL_FH_DISPLAYNAME, f->name);
        el_wbxml_uint(e, EL_FH_TYPE, f->type);
    }
    el_wbxml_end(e);
}

/* The change the device has not seen for slot fi: EL_FH_ADD/UPDATE/DELETE or 0. */
static uint16_t change_of(const struct el__mailbox *mb, const struct el__device *d, int fi)
{
    const struct el__folder *f = &mb->f[fi];
    int known = (d->hier_known >> fi) & 1;
    if (f->in_use && !known)
        return EL_FH_ADD;
    if (f->in_use && f->hseq > d->hier_cursor)
        return EL_FH_UPDATE;
    if (!f->in_use && known)
        return EL_FH_DELETE;
    return 0;
}

static unsigned pending(const struct el__mailbox *mb, const struct el__device *d)
{
    unsigned n = 0;
    for (int i = 0; i < EL__FOLDERS_MAX; i++)
        n += change_of(mb, d, i) != 0;
    return n;
}

/* A key string -> value; 0 for "0", UINT32_MAX if not a number. */
static uint32_t parse_key(const char *key)
{
    char *end;
    unsigned long k = strtoul(key, &end, 10);
    if (key[0] < '0' || key[0] > '9' || *end != 0 || k >= UINT32_MAX)
        return UINT32_MAX;
    return (uint32_t)k;
}

static int status_only(struct el__ctx *c, uint16_t status_tag, unsigned status)
{
    el__begin(c);
    el_wbxml_uint(&c->enc, status_tag, status);
    return el__finish(c);
}

int el__cmd_foldersync(struct el__ctx *c)
{
    char key[32];
    struct el__device *d = c->dev;
    struct el__mailbox *mb = c->u->mb;
    struct el_wbxml_encoder *e = &c->enc;
    if (el__child_text(&c->t, c->root, EL_FH_SYNCKEY, key, sizeof(key)) == NULL) {
        el__reason(c, "FolderSync without SyncKey");
        return status_only(c, EL_FH_STATUS, 10);
    }
    uint32_t k = parse_key(key);
    if (k == 0) {
        d->hier_prev_key = d->hier_key;
        d->hier_prev_ok = 0;
        d->hier_key = el__new_key(c->st);
        d->hier_known = 0;
        d->hier_cursor = mb->hier_seq;
        for (int i = 0; i < EL__FOLDERS_MAX; i++) {
            d->f[i].key = 0;
            d->f[i].prev_key = 0;
            d->f[i].prev_ok = 0;
            if (mb->f[i].in_use)
                d->hier_known |= (uint16_t)(1u << i);
        }
        d->ping_mask = 0;
        d->ping_interval = 0;
        d->sync_mask = 0;
        el__begin(c);
        el_wbxml_uint(e, EL_FH_STATUS, 1);
        el_wbxml_uint(e, EL_FH_SYNCKEY, d->hier_key);
        el_wbxml_start(e, EL_FH_CHANGES);
        unsigned n = 0;
        for (int i = 0; i < EL__FOLDERS_MAX; i++)
            n += mb->f[i].in_use;
        el_wbxml_uint(e, EL_FH_COUNT, n);
        for (int i = 0; i < EL__FOLDERS_MAX; i++)
            if (mb->f[i].in_use)
                write_folder(e, mb, i, EL_FH_ADD);
        return el__finish(c);
    }
    if (c->rq->fault_resetkey && d->hier_key) {
        /* fault injection: the hierarchy's sync state is lost (resync from key 0) */
        d->hier_key = el__new_key(c->st);
        d->hier_prev_ok = 0;
        c->st->stats.keys_reset++;
        el__reason(c, "FolderSync: fault resetkey: SyncKey %s forgotten", key);
        return status_only(c, EL_FH_STATUS, 9);
    }
    int retry = d->hier_key && k == d->hier_prev_key && d->hier_prev_ok && k != d->hier_key;
    if (k == UINT32_MAX || d->hier_key == 0 || (k != d->hier_key && !retry)) {
        el__reason(c, "FolderSync: SyncKey %s is not current", key);
        return status_only(c, EL_FH_STATUS, 9);
    }
    if (retry) { /* the answer to the previous key was lost: the same changes again */
        d->hier_key = d->hier_prev_key;
        d->hier_known = d->hier_prev_known;
        d->hier_cursor = d->hier_prev_cursor;
        d->hier_prev_ok = 0;
    }
    unsigned n = pending(mb, d);
    if (n == 0 && !retry) {
        el__begin(c);
        el_wbxml_uint(e, EL_FH_STATUS, 1);
        el_wbxml_uint(e, EL_FH_SYNCKEY, d->hier_key);
        el_wbxml_start(e, EL_FH_CHANGES);
        el_wbxml_uint(e, EL_FH_COUNT, 0);
        return el__finish(c);
    }
    d->hier_prev_key = d->hier_key;
    d->hier_prev_known = d->hier_known;
    d->hier_prev_cursor = d->hier_cursor;
    d->hier_prev_ok = !retry;
    d->hier_key = el__new_key(c->st);
    el__begin(c);
    el_wbxml_uint(e, EL_FH_STATUS, 1);
    el_wbxml_uint(e, EL_FH_SYNCKEY, d->hier_key);
    el_wbxml_start(e, EL_FH_CHANGES);
    el_wbxml_uint(e, EL_FH_COUNT, n);
    for (int i = 0; i < EL__FOLDERS_MAX; i++) {
        uint16_t ch = change_of(mb, d, i);
        if (ch == 0)
            continue;
        write_folder(e, mb, i, ch);
        if (ch == EL_FH_DELETE)
            d->hier_known &= (uint16_t) ~(1u << i);
        else
            d->hier_known |= (uint16_t)(1u << i);
    }
    d->hier_cursor = mb->hier_seq;
    return el__finish(c);
}

/* ---- FolderCreate / FolderDelete / FolderUpdate -------------------------------------------- */

/* Checks the hierarchy key of a folder command; 0 or the status to send (9, 10). */
static unsigned check_key(struct el__ctx *c)
{
    char key[32];
    if (el__child_text(&c->t, c->root, EL_FH_SYNCKEY, key, sizeof(key)) == NULL)
        return 10;
    uint32_t k = parse_key(key);
    if (k == 0 || k == UINT32_MAX || k != c->dev->hier_key)
        return 9;
    return 0;
}

/* Parent slot from a ParentId ("0" = root -> -1); -2 if unknown. */
static int parent_of(struct el__ctx *c, const char *pid)
{
    if (strcmp(pid, "0") == 0)
        return -1;
    int p = el__folder_lookup(c->u->mb, pid, strlen(pid));
    return p < 0 ? -2 : p;
}

static int name_taken(const struct el__mailbox *mb, int parent, const char *name, int except)
{
    for (int i = 0; i < EL__FOLDERS_MAX; i++)
        if (i != except && mb->f[i].in_use && mb->f[i].parent == parent &&
            strcasecmp(mb->f[i].name, name) == 0)
            return 1;
    return 0;
}

/* After this device changed the hierarchy: a new key; if it had nothing else pending, its view
 * includes its own change (so it is not reported back). */
static void own_change(struct el__ctx *c, unsigned pending_before, int fi)
{
    struct el__device *d = c->dev;
    struct el__mailbox *mb = c->u->mb;
    if (pending_before == 0) {
        if (mb->f[fi].in_use)
            d->hier_known |= (uint16_t)(1u << fi);
        else
            d->hier_known &= (uint16_t) ~(1u << fi);
        d->hier_cursor = mb->hier_seq;
    }
    d->hier_prev_key = d->hier_key;
    d->hier_prev_ok = 0;
    d->hier_key = el__new_key(c->st);
}

int el__cmd_foldercreate(struct el__ctx *c)
{
    const struct el__tree *t = &c->t;
    struct el__mailbox *mb = c->u->mb;
    unsigned s = check_key(c);
    char pid[16], name[64];
    int bad = 0;
    unsigned long type = el__child_uint(t, c->root, EL_FH_TYPE, 0, &bad);
    if (s == 0 && (el__child_text(t, c->root, EL_FH_PARENTID, pid, sizeof(pid)) == NULL ||
                   el__child_text(t, c->root, EL_FH_DISPLAYNAME, name, sizeof(name)) == NULL ||
                   name[0] == 0 || bad || type == 0))
        s = 10;
    int cls = type == 1 ? EL__CLS_EMAIL : el__cls_of_type((unsigned)type);
    int parent = s ? 0 : parent_of(c, pid);
    int slot = -1;
    if (s == 0 && cls < 0)
        s = type >= 2 && type <= 11 ? 3 : 10; /* a default folder type cannot be created */
    else if (s == 0 && parent == -2)
        s = 5;
    else if (s == 0 && name_taken(mb, parent, name, -1))
        s = 2;
    if (s == 0) {
        for (int i = EL__NFOLDERS; i < EL__FOLDERS_MAX && slot < 0; i++)
            if (mb->f[i].id == 0)
                slot = i;
        if (slot < 0)
            s = 6;
    }
    if (s) {
        el__reason(c, "FolderCreate: status %u", s);
        return status_only(c, EL_FH_STATUS, s);
    }
    unsigned before = pending(mb, c->dev);
    struct el__folder *f = &mb->f[slot];
    f->id = (uint32_t)slot + 1;
    f->in_use = 1;
    f->type = (uint8_t)type;
    f->cls = (uint8_t)cls;
    f->parent = (int8_t)parent;
    f->hseq = ++mb->hier_seq;
    snprintf(f->name, sizeof(f->name), "%s", name);
    own_change(c, before, slot);
    char sid[12];
    el__folder_sid(mb, slot, sid);
    el__begin(c);
    el_wbxml_uint(&c->enc, EL_FH_STATUS, 1);
    el_wbxml_uint(&c->enc, EL_FH_SYNCKEY, c->dev->hier_key);
    el_wbxml_text(&c->enc, EL_FH_SERVERID, sid);
    return el__finish(c);
}

/* Removes folder fi and its subfolders: items freed, every device's state for it dropped. */
static void remove_folder(struct el_srv_state *st, struct el__user *u, int fi)
{
    struct el__mailbox *mb = u->mb;
    for (int i = 0; i < EL__FOLDERS_MAX; i++)
        if (mb->f[i].in_use && mb->f[i].parent == fi)
            remove_folder(st, u, i);
    struct el__folder *f = &mb->f[fi];
    for (uint32_t j = 0; j < f->n; j++) {
        st->stats.mailbox_bytes -= el__owned_bytes(f->items[j].own);
        free(f->items[j].own);
    }
    st->stats.items -= f->live;
    st->stats.mailbox_bytes -= f->cap * sizeof(struct el__item);
    free(f->items);
    f->items = NULL;
    f->n = f->cap = f->live = 0;
    f->in_use = 0;
    f->hseq = ++mb->hier_seq;
    for (struct el__device *d = u->devices; d; d = d->next) {
        el__fstate_reset(st, &d->f[fi], 0);
        d->ping_mask &= (uint16_t) ~(1u << fi);
        d->sync_mask &= (uint16_t) ~(1u << fi);
    }
}

int el__cmd_folderdelete(struct el__ctx *c)
{
    struct el__mailbox *mb = c->u->mb;
    unsigned s = check_key(c);
    char sid[16];
    int fi = -1;
    if (s == 0 && el__child_text(&c->t, c->root, EL_FH_SERVERID, sid, sizeof(sid)) == NULL)
        s = 10;
    if (s == 0) {
        fi = el__folder_lookup(mb, sid, strlen(sid));
        s = fi < 0 ? 4 : fi < EL__NFOLDERS ? 3 : 0;
    }
    if (s) {
        el__reason(c, "FolderDelete: status %u", s);
        return status_only(c, EL_FH_STATUS, s);
    }
    unsigned before = pending(mb, c->dev);
    uint16_t known = c->dev->hier_known;
    remove_folder(c->st, c->u, fi);
    own_change(c, before, fi);
    if (before == 0) /* subfolders went with it */
        for (int i = 0; i < EL__FOLDERS_MAX; i++)
            if (!mb->f[i].in_use && ((known >> i) & 1))
                c->dev->hier_known &= (uint16_t) ~(1u << i);
    el__begin(c);
    el_wbxml_uint(&c->enc, EL_FH_STATUS, 1);
    el_wbxml_uint(&c->enc, EL_FH_SYNCKEY, c->dev->hier_key);
    return el__finish(c);
}

int el__cmd_folderupdate(struct el__ctx *c)
{
    const struct el__tree *t = &c->t;
    struct el__mailbox *mb = c->u->mb;
    unsigned s = check_key(c);
    char sid[16], pid[16], name[64];
    int fi = -1, parent = -1;
    if (s == 0 &&
        (el__child_text(t, c->root, EL_FH_SERVERID, sid, sizeof(sid)) == NULL ||
         el__child_text(t, c->root, EL_FH_PARENTID, pid, sizeof(pid)) == NULL ||
         el__child_text(t, c->root, EL_FH_DISPLAYNAME, name, sizeof(name)) == NULL || name[0] == 0))
        s = 10;
    if (s == 0) {
        fi = el__folder_lookup(mb, sid, strlen(sid));
        parent = parent_of(c, pid);
        if (fi < 0)
            s = 4;
        else if (fi < EL__NFOLDERS)
            s = 3;
        else if (parent == -2)
            s = 5;
    }
    /* the new parent may not be the folder itself or below it */
    for (int p = parent; s == 0 && p >= 0; p = mb->f[p].parent)
        if (p == fi)
            s = 5;
    if (s == 0 && name_taken(mb, parent, name, fi))
        s = 2;
    if (s) {
        el__reason(c, "FolderUpdate: status %u", s);
        return status_only(c, EL_FH_STATUS, s);
    }
    unsigned before = pending(mb, c->dev);
    struct el__folder *f = &mb->f[fi];
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->parent = (int8_t)parent;
    f->hseq = ++mb->hier_seq;
    own_change(c, before, fi);
    el__begin(c);
    el_wbxml_uint(&c->enc, EL_FH_STATUS, 1);
    el_wbxml_uint(&c->enc, EL_FH_SYNCKEY, c->dev->hier_key);
    return el__finish(c);
}
