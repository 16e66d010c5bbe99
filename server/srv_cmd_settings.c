/* srv_cmd_settings.c - Settings: Oof Get/Set (per user), DeviceInformation Set (per device),
 * UserInformation Get (14.1+: Accounts/Account with PrimarySmtpAddress; before: EmailAddresses/
 * SMTPAddress), DevicePassword Set. Answers in the request's order, each with its own Status.
 * Owns: the user's OOF message string. Uses: srv_int.h. */
#include "srv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oof_message(struct el_wbxml_encoder *e, uint16_t applies, int enabled, const char *msg)
{
    el_wbxml_start(e, EL_SET_OOFMESSAGE);
    el_wbxml_empty(e, applies);
    el_wbxml_uint(e, EL_SET_ENABLED, enabled);
    if (enabled)
        el_wbxml_text(e, EL_SET_REPLYMESSAGE, msg);
    el_wbxml_text(e, EL_SET_BODYTYPE, "Text");
    el_wbxml_end(e);
}

static int oof(struct el__ctx *c, uint32_t node)
{
    const struct el__tree *t = &c->t;
    struct el_wbxml_encoder *e = &c->enc;
    struct el__user *u = c->u;
    uint32_t get = el__child(t, node, EL_SET_GET), set = el__child(t, node, EL_SET_SET);
    el_wbxml_start(e, EL_SET_OOF);
    if (set) {
        int bad = 0;
        unsigned long state = el__child_uint(t, set, EL_SET_OOFSTATE, 0, &bad);
        if (bad || state > 2) {
            el_wbxml_uint(e, EL_SET_STATUS, 2);
            el_wbxml_end(e);
            return 0;
        }
        u->oof_state = (int)state;
        uint32_t m = el__child(t, set, EL_SET_OOFMESSAGE);
        if (m && el__child(t, m, EL_SET_REPLYMESSAGE)) {
            char msg[1024];
            el__child_text(t, m, EL_SET_REPLYMESSAGE, msg, sizeof(msg));
            char *dup = strdup(msg);
            if (dup == NULL)
                return EL_ENOMEM;
            free(u->oof_msg);
            u->oof_msg = dup;
        }
        el_wbxml_uint(e, EL_SET_STATUS, 1);
    } else if (get) {
        const char *msg = u->oof_msg ? u->oof_msg : "I am out of the office.";
        int on = u->oof_state != 0;
        el_wbxml_uint(e, EL_SET_STATUS, 1);
        el_wbxml_start(e, EL_SET_GET);
        el_wbxml_uint(e, EL_SET_OOFSTATE, (unsigned long)u->oof_state);
        oof_message(e, EL_SET_APPLIESTOINTERNAL, on, msg);
        oof_message(e, EL_SET_APPLIESTOEXTERNALKNOWN, on, msg);
        oof_message(e, EL_SET_APPLIESTOEXTERNALUNKNOWN, 0, msg);
        el_wbxml_end(e);
    } else {
        el_wbxml_uint(e, EL_SET_STATUS, 2);
    }
    el_wbxml_end(e);
    return 0;
}

static void user_info(struct el__ctx *c)
{
    struct el_wbxml_encoder *e = &c->enc;
    char disp[96];
    snprintf(disp, sizeof(disp), "%s %s", c->u->first, c->u->last);
    el_wbxml_start(e, EL_SET_USERINFORMATION);
    el_wbxml_uint(e, EL_SET_STATUS, 1);
    el_wbxml_start(e, EL_SET_GET);
    if (c->rq->version >= 141) {
        el_wbxml_start(e, EL_SET_ACCOUNTS);
        el_wbxml_start(e, EL_SET_ACCOUNT);
        el_wbxml_text(e, EL_SET_USERDISPLAYNAME, disp);
        el_wbxml_start(e, EL_SET_EMAILADDRESSES);
        el_wbxml_text(e, EL_SET_SMTPADDRESS, c->u->pub.email);
        el_wbxml_text(e, EL_SET_PRIMARYSMTPADDRESS, c->u->pub.email);
        el_wbxml_end(e);
        el_wbxml_end(e);
        el_wbxml_end(e);
    } else {
        el_wbxml_start(e, EL_SET_EMAILADDRESSES);
        el_wbxml_text(e, EL_SET_SMTPADDRESS, c->u->pub.email);
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    el_wbxml_end(e);
}

int el__cmd_settings(struct el__ctx *c)
{
    const struct el__tree *t = &c->t;
    struct el_wbxml_encoder *e = &c->enc;
    el__begin(c);
    el_wbxml_uint(e, EL_SET_STATUS, 1);
    for (uint32_t k = t->n[c->root].child; k; k = t->n[k].next) {
        switch (t->n[k].tag) {
        case EL_SET_OOF:
            if (oof(c, k) < 0)
                return EL_ENOMEM;
            break;
        case EL_SET_DEVICEINFORMATION:
            el_wbxml_start(e, EL_SET_DEVICEINFORMATION);
            el_wbxml_uint(e, EL_SET_STATUS, el__devinfo_set(c, k));
            el_wbxml_end(e);
            break;
        case EL_SET_USERINFORMATION:
            user_info(c);
            break;
        case EL_SET_DEVICEPASSWORD:
            el_wbxml_start(e, EL_SET_DEVICEPASSWORD);
            el_wbxml_uint(e, EL_SET_STATUS, el__child(t, k, EL_SET_SET) ? 1 : 2);
            el_wbxml_end(e);
            break;
        default:
            break;
        }
    }
    return el__finish(c);
}
