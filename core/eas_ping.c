/* eas_ping.c - Ping (Direct Push): HeartbeatInterval and the folders to watch, each with the
 * Class its type syncs as; no folders = an empty body (the server's cached Ping). The answer:
 * 1 nothing changed, 2 the changed folder ids (out.changed_folders, out.count), 5 the interval
 * bound, 6 MaxFolders (both in out.count), 3 send a full Ping, 7 run FolderSync.
 * Status 5 with a HeartbeatInterval is kept in the device (ping_min_s / ping_max_s): like a
 * phone, the Ping is sent again at once inside the bound (a second round trip), and every later
 * Ping asks for a value inside it. SOGo answers 5 to any interval above its maximum, after
 * holding the Ping for that maximum (docs/servers.md).
 * Owns: nothing. Uses: eas_int.h. */
#include "eas_int.h"

#include <stdio.h>

int el__eas_ping_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                       struct el_err *err)
{
    /* inside the bounds a server gave (status 5); the call keeps what was asked, so the
     * engine's timeout and the status 5 handling below see the value sent */
    unsigned hb = c->in.heartbeat_s ? c->in.heartbeat_s : d->profile->heartbeat_s;
    if (d->ping_max_s != 0 && hb > d->ping_max_s)
        hb = d->ping_max_s;
    if (d->ping_min_s != 0 && hb < d->ping_min_s)
        hb = d->ping_min_s;
    c->in.heartbeat_s = hb;
    if (c->in.nfolders == 0)
        return 0; /* the cached form: no body */
    if (c->in.nfolders > 16)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %s: Ping: more than 16 folders",
                      d->device_id);
    struct el_wbxml_encoder *e = &rq->enc;
    el_wbxml_encoder_init(e, rq->body);
    el_wbxml_start(e, EL_PING_PING);
    el_wbxml_uint(e, EL_PING_HEARTBEATINTERVAL, hb);
    el_wbxml_start(e, EL_PING_FOLDERS);
    for (unsigned i = 0; i < c->in.nfolders; i++) {
        struct el_eas_folder *f = el__eas_folder_arg(d, c->in.folders[i], 2, "Ping", err);
        if (f == NULL)
            return EL_EINVAL;
        el_wbxml_start(e, EL_PING_FOLDER);
        el_wbxml_text(e, EL_PING_ID, f->id);
        el_wbxml_text(e, EL_PING_CLASS, el__eas_folder_class(f->type));
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    el_wbxml_end(e);
    return el_wbxml_encoder_finish(e, err);
}

void el__eas_ping_event(struct el__eas_px *px, const struct el_wbxml_ev *ev)
{
    struct el_eas_call *c = px->c;
    if (ev->type != EL_WBXML_EV_STR && ev->type != EL_WBXML_EV_OPAQUE)
        return;
    uint16_t parent = el__eas_up(px, ev, 1);
    switch (ev->tag) {
    case EL_PING_STATUS:
        if (parent == EL_PING_PING)
            c->out.status = (int)el__eas_num(ev);
        break;
    case EL_PING_FOLDER: /* Folders/Folder text = a changed folder's id */
        if (c->out.count < 16)
            el__eas_copy(c->out.changed_folders[c->out.count], EL_EAS_ID_MAX, ev);
        c->out.count++;
        break;
    case EL_PING_HEARTBEATINTERVAL:
    case EL_PING_MAXFOLDERS:
        if (parent == EL_PING_PING && el__eas_num(ev) >= 0)
            px->u.ping.limit = (unsigned)el__eas_num(ev);
        break;
    default:
        break;
    }
}

int el__eas_ping_finish(struct el__eas_px *px)
{
    struct el_eas_call *c = px->c;
    int status = c->out.status;
    if (status <= 0) {
        c->out.cls = EL_EAS_CLASS_MALFORMED;
        snprintf(c->out.detail, sizeof(c->out.detail), "Ping response without a Status");
        return 0;
    }
    if (status != 2)
        c->out.count = 0;
    else if (c->out.count > 16)
        c->out.count = 16;
    el__eas_set_status(c, status);
    if ((status == 5 || status == 6) && px->u.ping.limit) {
        c->out.count = px->u.ping.limit;
        snprintf(c->out.detail, sizeof(c->out.detail), "Ping status %d: server %s is %u", status,
                 status == 5 ? "heartbeat bound" : "MaxFolders", px->u.ping.limit);
    }
    unsigned limit = px->u.ping.limit, sent = c->in.heartbeat_s;
    if (status == 5 && limit != 0 && sent != 0 && limit != sent) {
        if (limit < sent)
            px->d->ping_max_s = limit;
        else
            px->d->ping_min_s = limit;
        if (c->step == 0 && c->in.nfolders > 0) {
            c->step = 1; /* once: the same Ping inside the bound */
            return 1;
        }
    }
    return 0;
}
