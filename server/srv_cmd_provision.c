/* srv_cmd_provision.c - Provision ([MS-ASPROV]): phase 1 hands out the policy document and a
 * temporary key, phase 2 turns the acknowledged temporary key into the final key; remote wipe
 * (RemoteWipe, 16.1 AccountOnlyRemoteWipe) and its acknowledgement, which drops the partnership;
 * 14.1 DeviceInformation inside Provision; and the policy-key check every other command passes
 * (142 no key, 144 wrong key, 143 policy changed, 140 wipe pending; <= 12.1: HTTP 449).
 * Owns: nothing. Uses: srv_int.h. */
#include "srv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_TYPE "MS-EAS-Provisioning-WBXML"

unsigned el__policy_check(struct el__ctx *c)
{
    const struct el_srv_request *rq = c->rq;
    const struct el__device *d = c->dev;
    if (d->wipe)
        return 140;
    if (c->st->no_policy)
        return 0;
    if ((c->row->flags & EL__CMD_KEY_LOOSE) && (!rq->has_policy_key || rq->policy_key == 0)) {
        if (d->policy_key == 0)
            return 142;
        return d->policy_version == c->st->policy_version ? 0 : 143;
    }
    if (!rq->has_policy_key || rq->policy_key == 0)
        return 142;
    if (d->policy_key == 0 || rq->policy_key != d->policy_key)
        return 144;
    if (d->policy_version != c->st->policy_version)
        return 143;
    return 0;
}

/* The policy document: one row per element, NULL value = empty element (Exchange sends
 * <MaxAttachmentSize/> for "no limit"). Values are Exchange 2010's default mobile policy with
 * a PIN required. */
static const struct {
    uint16_t tag;
    const char *value;
} policy_doc[] = {
    {EL_PROV_DEVICEPASSWORDENABLED, "1"},
    {EL_PROV_ALPHANUMERICDEVICEPASSWORDREQUIRED, "0"},
    {EL_PROV_PASSWORDRECOVERYENABLED, "0"},
    {EL_PROV_REQUIRESTORAGECARDENCRYPTION, "0"},
    {EL_PROV_ATTACHMENTSENABLED, "1"},
    {EL_PROV_MINDEVICEPASSWORDLENGTH, NULL}, /* from the policy version, see below */
    {EL_PROV_MAXINACTIVITYTIMEDEVICELOCK, "900"},
    {EL_PROV_MAXDEVICEPASSWORDFAILEDATTEMPTS, "8"},
    {EL_PROV_MAXATTACHMENTSIZE, NULL},
    {EL_PROV_ALLOWSIMPLEDEVICEPASSWORD, "1"},
    {EL_PROV_DEVICEPASSWORDEXPIRATION, NULL},
    {EL_PROV_DEVICEPASSWORDHISTORY, "0"},
    {EL_PROV_ALLOWSTORAGECARD, "1"},
    {EL_PROV_ALLOWCAMERA, "1"},
    {EL_PROV_REQUIREDEVICEENCRYPTION, "0"},
    {EL_PROV_ALLOWUNSIGNEDAPPLICATIONS, "1"},
    {EL_PROV_ALLOWUNSIGNEDINSTALLATIONPACKAGES, "1"},
    {EL_PROV_MINDEVICEPASSWORDCOMPLEXCHARACTERS, "1"},
    {EL_PROV_ALLOWWIFI, "1"},
    {EL_PROV_ALLOWTEXTMESSAGING, "1"},
    {EL_PROV_ALLOWPOPIMAPEMAIL, "1"},
    {EL_PROV_ALLOWBLUETOOTH, "2"},
    {EL_PROV_ALLOWIRDA, "1"},
    {EL_PROV_REQUIREMANUALSYNCWHENROAMING, "0"},
    {EL_PROV_ALLOWDESKTOPSYNC, "1"},
    {EL_PROV_MAXCALENDARAGEFILTER, "0"},
    {EL_PROV_ALLOWHTMLEMAIL, "1"},
    {EL_PROV_MAXEMAILAGEFILTER, "0"},
    {EL_PROV_MAXEMAILBODYTRUNCATIONSIZE, "-1"},
    {EL_PROV_MAXEMAILHTMLBODYTRUNCATIONSIZE, "-1"},
    {EL_PROV_REQUIRESIGNEDSMIMEMESSAGES, "0"},
    {EL_PROV_REQUIREENCRYPTEDSMIMEMESSAGES, "0"},
    {EL_PROV_REQUIRESIGNEDSMIMEALGORITHM, "0"},
    {EL_PROV_REQUIREENCRYPTIONSMIMEALGORITHM, "0"},
    {EL_PROV_ALLOWSMIMEENCRYPTIONALGORITHMNEGOTIATION, "2"},
    {EL_PROV_ALLOWSMIMESOFTCERTS, "1"},
    {EL_PROV_ALLOWBROWSER, "1"},
    {EL_PROV_ALLOWCONSUMEREMAIL, "1"},
    {EL_PROV_ALLOWREMOTEDESKTOP, "1"},
    {EL_PROV_ALLOWINTERNETSHARING, "1"},
    {EL_PROV_UNAPPROVEDINROMAPPLICATIONLIST, NULL},
    {EL_PROV_APPROVEDAPPLICATIONLIST, NULL},
};

static void write_policy_doc(struct el__ctx *c)
{
    struct el_wbxml_encoder *e = &c->enc;
    el_wbxml_start(e, EL_PROV_DATA);
    el_wbxml_start(e, EL_PROV_EASPROVISIONDOC);
    for (size_t i = 0; i < sizeof(policy_doc) / sizeof(policy_doc[0]); i++) {
        uint16_t tag = policy_doc[i].tag;
        if (tag == EL_PROV_MINDEVICEPASSWORDLENGTH) /* a policy bump changes the document */
            el_wbxml_uint(e, tag, 4 + (c->st->policy_version - 1) % 4);
        else if (policy_doc[i].value)
            el_wbxml_text(e, tag, policy_doc[i].value);
        else
            el_wbxml_empty(e, tag);
    }
    el_wbxml_end(e);
    el_wbxml_end(e);
}

unsigned el__devinfo_set(struct el__ctx *c, uint32_t devinfo)
{
    uint32_t set = el__child(&c->t, devinfo, EL_SET_SET);
    if (set == 0)
        return 2;
    struct el__devinfo *di = c->dev->info;
    if (di == NULL) {
        di = calloc(1, sizeof(*di));
        if (di == NULL)
            return 4;
        c->dev->info = di;
        c->st->device_bytes += sizeof(*di);
    }
    static const struct {
        uint16_t tag;
        size_t off, size;
    } fields[] = {
#define F(t, m) {t, offsetof(struct el__devinfo, m), sizeof(((struct el__devinfo *)0)->m)}
        F(EL_SET_MODEL, model),           F(EL_SET_IMEI, imei),
        F(EL_SET_FRIENDLYNAME, friendly), F(EL_SET_OS, os),
        F(EL_SET_OSLANGUAGE, oslang),     F(EL_SET_PHONENUMBER, phone),
        F(EL_SET_USERAGENT, agent),       F(EL_SET_MOBILEOPERATOR, oper),
#undef F
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (el__child(&c->t, set, fields[i].tag))
            el__child_text(&c->t, set, fields[i].tag, (char *)di + fields[i].off, fields[i].size);
    return 1;
}

static int wipe_response(struct el__ctx *c, unsigned devinfo_status)
{
    c->st->stats.wipes_sent++;
    el__begin(c);
    if (devinfo_status) {
        el_wbxml_start(&c->enc, EL_SET_DEVICEINFORMATION);
        el_wbxml_uint(&c->enc, EL_SET_STATUS, devinfo_status);
        el_wbxml_end(&c->enc);
    }
    el_wbxml_uint(&c->enc, EL_PROV_STATUS, 1);
    /* AccountOnlyRemoteWipe exists from 16.1; an older device gets nothing weaker than a full
     * wipe request would be wrong, so it gets RemoteWipe only when a full wipe was asked for. */
    if (c->dev->wipe == 2 && c->rq->version >= 161)
        el_wbxml_empty(&c->enc, EL_PROV_ACCOUNTONLYREMOTEWIPE);
    else
        el_wbxml_empty(&c->enc, EL_PROV_REMOTEWIPE);
    return el__finish(c);
}

static int simple_status(struct el__ctx *c, unsigned status)
{
    el__begin(c);
    el_wbxml_uint(&c->enc, EL_PROV_STATUS, status);
    return el__finish(c);
}

int el__cmd_provision(struct el__ctx *c)
{
    const struct el__tree *t = &c->t;
    uint32_t root = c->root;
    struct el__device *d = c->dev;
    unsigned di_status = 0;
    uint32_t devinfo = el__child(t, root, EL_SET_DEVICEINFORMATION);
    if (devinfo && c->rq->version >= 141)
        di_status = el__devinfo_set(c, devinfo);

    /* wipe acknowledgement */
    uint32_t ack = el__child(t, root, EL_PROV_REMOTEWIPE);
    if (ack == 0)
        ack = el__child(t, root, EL_PROV_ACCOUNTONLYREMOTEWIPE);
    if (ack) {
        if (!d->wipe) {
            el__reason(c, "Provision: wipe acknowledged but none was requested");
            return simple_status(c, 2);
        }
        unsigned long s = el__child_uint(t, ack, EL_PROV_STATUS, 0, NULL);
        int rc = simple_status(c, 1);
        if (s == 1) {
            el__device_drop(c->st, c->u, d); /* the DeviceId is new from now on */
            c->dev = NULL;
        }
        return rc;
    }
    if (d->wipe)
        return wipe_response(c, di_status);

    uint32_t policies = el__child(t, root, EL_PROV_POLICIES);
    uint32_t policy = el__child(t, policies, EL_PROV_POLICY);
    if (policy == 0) {
        el__reason(c, "Provision without Policies/Policy");
        return simple_status(c, 2);
    }
    char type[64], keybuf[16];
    el__child_text(t, policy, EL_PROV_POLICYTYPE, type, sizeof(type));
    struct el_wbxml_encoder *e = &c->enc;
    if (strcmp(type, POLICY_TYPE) != 0) {
        el__reason(c, "Provision: PolicyType \"%s\" not supported", type);
        el__begin(c);
        el_wbxml_uint(e, EL_PROV_STATUS, 1);
        el_wbxml_start(e, EL_PROV_POLICIES);
        el_wbxml_start(e, EL_PROV_POLICY);
        el_wbxml_text(e, EL_PROV_POLICYTYPE, type);
        el_wbxml_uint(e, EL_PROV_STATUS, 3);
        return el__finish(c);
    }
    uint32_t keynode = el__child(t, policy, EL_PROV_POLICYKEY);
    el__begin(c);
    if (di_status) {
        el_wbxml_start(e, EL_SET_DEVICEINFORMATION);
        el_wbxml_uint(e, EL_SET_STATUS, di_status);
        el_wbxml_end(e);
    }
    if (keynode == 0) { /* phase 1: policy document and a temporary key */
        d->temp_key = el__new_key(c->st);
        el_wbxml_uint(e, EL_PROV_STATUS, 1);
        el_wbxml_start(e, EL_PROV_POLICIES);
        el_wbxml_start(e, EL_PROV_POLICY);
        el_wbxml_text(e, EL_PROV_POLICYTYPE, POLICY_TYPE);
        el_wbxml_uint(e, EL_PROV_STATUS, 1);
        el_wbxml_uint(e, EL_PROV_POLICYKEY, d->temp_key);
        write_policy_doc(c);
        return el__finish(c);
    }
    /* phase 2: the client acknowledges the temporary key */
    el__text(t, keynode, keybuf, sizeof(keybuf));
    char *end;
    unsigned long acked = strtoul(keybuf, &end, 10);
    unsigned long cstatus = el__child_uint(t, policy, EL_PROV_STATUS, 0, NULL);
    if (d->temp_key == 0 || *end != 0 || keybuf[0] == 0 || acked != d->temp_key) {
        el__reason(c, "Provision: acknowledged key %s is not the temporary key", keybuf);
        el_wbxml_uint(e, EL_PROV_STATUS, 1);
        el_wbxml_start(e, EL_PROV_POLICIES);
        el_wbxml_start(e, EL_PROV_POLICY);
        el_wbxml_text(e, EL_PROV_POLICYTYPE, POLICY_TYPE);
        el_wbxml_uint(e, EL_PROV_STATUS, 5);
        return el__finish(c);
    }
    if (cstatus != 1) {
        /* the device could not apply the policy; Exchange's default refuses partial devices */
        el__reason(c, "Provision: device reports policy status %lu", cstatus);
        el_wbxml_uint(e, EL_PROV_STATUS, c->rq->version >= 140 ? 139 : 2);
        return el__finish(c);
    }
    d->policy_key = el__new_key(c->st);
    d->policy_version = c->st->policy_version;
    d->temp_key = 0;
    el_wbxml_uint(e, EL_PROV_STATUS, 1);
    el_wbxml_start(e, EL_PROV_POLICIES);
    el_wbxml_start(e, EL_PROV_POLICY);
    el_wbxml_text(e, EL_PROV_POLICYTYPE, POLICY_TYPE);
    el_wbxml_uint(e, EL_PROV_STATUS, 1);
    el_wbxml_uint(e, EL_PROV_POLICYKEY, d->policy_key);
    return el__finish(c);
}
