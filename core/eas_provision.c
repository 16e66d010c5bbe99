/* eas_provision.c - Provision ([MS-ASPROV]): phase 1 asks for the policy (14.1+ with
 * settings:DeviceInformation) and gets a temporary key, phase 2 acknowledges it in the order
 * PolicyType, PolicyKey, Status and gets the final key; a RemoteWipe / AccountOnlyRemoteWipe
 * answer is acknowledged with Status 1, after which the device drops its state and stops.
 * Steps of one call: 0 phase 1, 1 phase 2, 2 RemoteWipe ack, 3 AccountOnlyRemoteWipe ack.
 * Owns: nothing. Uses: eas_int.h. */
#include "eas_int.h"

#include <stdio.h>
#include <string.h>

#define POLICY_TYPE "MS-EAS-Provisioning-WBXML"

enum {
    STEP_PHASE1,
    STEP_PHASE2,
    STEP_WIPE_ACK,
    STEP_ACCOUNT_WIPE_ACK
};

int el__eas_provision_build(struct el_eas_device *d, struct el_eas_call *c, struct el__eas_req *rq,
                            struct el_err *err)
{
    struct el_wbxml_encoder *e = &rq->enc;
    el_wbxml_encoder_init(e, rq->body);
    el_wbxml_start(e, EL_PROV_PROVISION);
    switch (c->step) {
    case STEP_PHASE1:
        if (d->version >= 141)
            el__eas_devinfo(d, e);
        el_wbxml_start(e, EL_PROV_POLICIES);
        el_wbxml_start(e, EL_PROV_POLICY);
        el_wbxml_text(e, EL_PROV_POLICYTYPE, POLICY_TYPE);
        el_wbxml_end(e);
        el_wbxml_end(e);
        break;
    case STEP_PHASE2:
        /* PolicyType, PolicyKey, Status: the order Z-Push and grommunio-sync insist on */
        el_wbxml_start(e, EL_PROV_POLICIES);
        el_wbxml_start(e, EL_PROV_POLICY);
        el_wbxml_text(e, EL_PROV_POLICYTYPE, POLICY_TYPE);
        el_wbxml_uint(e, EL_PROV_POLICYKEY, d->policy_key);
        el_wbxml_uint(e, EL_PROV_STATUS, 1);
        el_wbxml_end(e);
        el_wbxml_end(e);
        break;
    case STEP_WIPE_ACK:
    case STEP_ACCOUNT_WIPE_ACK:
        el_wbxml_start(e, c->step == STEP_WIPE_ACK ? EL_PROV_REMOTEWIPE
                                                   : EL_PROV_ACCOUNTONLYREMOTEWIPE);
        el_wbxml_uint(e, EL_PROV_STATUS, 1); /* 1 = the wipe was carried out */
        el_wbxml_end(e);
        break;
    default:
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "device %s: Provision step %u", d->device_id,
                      c->step);
    }
    el_wbxml_end(e);
    return el_wbxml_encoder_finish(e, err);
}

void el__eas_provision_event(struct el__eas_px *px, const struct el_wbxml_ev *ev)
{
    struct el__eas_provision_px *p = &px->u.prov;
    if (ev->type == EL_WBXML_EV_START) {
        if (ev->tag == EL_PROV_REMOTEWIPE && ev->depth == 2)
            p->wipe = 1;
        else if (ev->tag == EL_PROV_ACCOUNTONLYREMOTEWIPE && ev->depth == 2)
            p->wipe = 2;
        return;
    }
    if (ev->type != EL_WBXML_EV_STR)
        return;
    uint16_t parent = el__eas_up(px, ev, 1);
    long v = el__eas_num(ev);
    if (ev->tag == EL_PROV_STATUS && parent == EL_PROV_PROVISION) {
        p->status = (int)v;
    } else if (ev->tag == EL_PROV_STATUS && parent == EL_PROV_POLICY) {
        p->policy_status = (int)v;
    } else if (ev->tag == EL_PROV_POLICYKEY && parent == EL_PROV_POLICY) {
        if (v >= 0 && (unsigned long)v <= UINT32_MAX) {
            p->key = (uint32_t)v;
            p->have_key = 1;
        }
    }
}

int el__eas_provision_finish(struct el__eas_px *px)
{
    struct el__eas_provision_px *p = &px->u.prov;
    struct el_eas_call *c = px->c;
    struct el_eas_device *d = px->d;
    int status = p->status;
    if (c->step == STEP_WIPE_ACK || c->step == STEP_ACCOUNT_WIPE_ACK) {
        el__eas_device_wipe(d);
        c->out.status = status;
        c->out.cls = EL_EAS_CLASS_WIPE;
        snprintf(c->out.detail, sizeof(c->out.detail), "%s acknowledged, device wiped",
                 c->step == STEP_WIPE_ACK ? "RemoteWipe" : "AccountOnlyRemoteWipe");
        return 0;
    }
    if (status <= 0) {
        c->out.cls = EL_EAS_CLASS_MALFORMED;
        snprintf(c->out.detail, sizeof(c->out.detail), "Provision response without a Status");
        return 0;
    }
    el__eas_set_status(c, status);
    if (c->out.cls != EL_EAS_CLASS_OK)
        return 0;
    if (p->wipe) {
        c->step = p->wipe == 1 ? STEP_WIPE_ACK : STEP_ACCOUNT_WIPE_ACK;
        return 1;
    }
    if (p->policy_status == 2 && c->step == STEP_PHASE1)
        return 0; /* no policy applies to this device: nothing to acknowledge */
    if (p->policy_status != 1) {
        c->out.cls = EL_EAS_CLASS_EAS_STATUS;
        c->out.status = p->policy_status;
        snprintf(c->out.detail, sizeof(c->out.detail), "Provision: Policy status %d%s",
                 p->policy_status,
                 p->policy_status == 3   ? " (unknown PolicyType)"
                 : p->policy_status == 4 ? " (policy data corrupt)"
                 : p->policy_status == 5 ? " (acknowledged the wrong policy key)"
                                         : "");
        return 0;
    }
    if (!p->have_key || p->key == 0) {
        c->out.cls = EL_EAS_CLASS_MALFORMED;
        snprintf(c->out.detail, sizeof(c->out.detail), "Provision: Policy without a PolicyKey");
        return 0;
    }
    el__eas_device_set_key(d, p->key);
    if (c->step == STEP_PHASE1) {
        c->step = STEP_PHASE2; /* acknowledge the temporary key */
        return 1;
    }
    return 0;
}
