/* eas_settings.c - Settings: DeviceInformation/Set (what a phone reports about itself; also
 * used inside 14.1+ Provision) and Oof/Get. in.query selects: "device", "oof", or NULL for
 * both in one request. The result is the root Status or the first failing part's Status.
 * Owns: nothing. Uses: eas_int.h. */
#include "eas_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void el__eas_devinfo(const struct el_eas_device *d, struct el_wbxml_encoder *e)
{
    const struct el_eas_profile *p = d->profile;
    char friendly[64];
    snprintf(friendly, sizeof(friendly), "%s %u", p->model, (unsigned)d->index);
    el_wbxml_start(e, EL_SET_DEVICEINFORMATION);
    el_wbxml_start(e, EL_SET_SET);
    el_wbxml_text(e, EL_SET_MODEL, p->model);
    el_wbxml_text(e, EL_SET_FRIENDLYNAME, friendly);
    el_wbxml_text(e, EL_SET_OS, p->os);
    el_wbxml_text(e, EL_SET_OSLANGUAGE, "English");
    if (d->version >= 121)
        el_wbxml_text(e, EL_SET_USERAGENT, p->user_agent);
    el_wbxml_end(e);
    el_wbxml_end(e);
}

int el__eas_settings_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                           struct el_err *err)
{
    const char *what = c->in.query;
    int device = what == NULL || strcasecmp(what, "device") == 0;
    int oof = what == NULL || strcasecmp(what, "oof") == 0;
    if (!device && !oof)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %s: Settings \"%s\" (device or oof)",
                      d->device_id, what);
    struct el_wbxml_encoder *e = &rq->enc;
    el_wbxml_encoder_init(e, rq->body);
    el_wbxml_start(e, EL_SET_SETTINGS);
    if (oof) {
        el_wbxml_start(e, EL_SET_OOF);
        el_wbxml_start(e, EL_SET_GET);
        el_wbxml_text(e, EL_SET_BODYTYPE, "Text");
        el_wbxml_end(e);
        el_wbxml_end(e);
    }
    if (device)
        el__eas_devinfo(d, e);
    el_wbxml_end(e);
    return el_wbxml_encoder_finish(e, err);
}

void el__eas_settings_event(struct el__eas_px *px, const struct el_wbxml_ev *ev)
{
    el__eas_generic_event(px, ev);
}
