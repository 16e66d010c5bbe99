/* eas_profile.c - the device profiles a scenario picks by name: what a phone sends (DeviceType,
 * User-Agent, Model, OS, protocol version, Ping heartbeat) and how it behaves (wildcard
 * certificates, TLS security level, Retry-After or exponential back-off). One row per profile.
 * Owns: nothing (a constant table). Uses: eas.h. */
#include "eas.h"

#include <strings.h>

const struct el_eas_profile el_eas_profiles[] = {
    {
        /* Samsung Email on a Galaxy S21 (Android 14): AOSP Exchange lineage, 14.1, heartbeat
         * 295 s on mobile data (AOSP), honours Retry-After. */
        .name = "android-14.1",
        .device_type = "Android",
        .user_agent = "Android-SAMSUNG-SM-G991B/101.140001",
        .model = "SM-G991B",
        .os = "Android 14",
        .version = 141,
        .heartbeat_s = 295,
        .accepts_wildcard = 1,
        .honours_retry_after = 1,
        .tls_security_level = 2,
    },
    {
        /* iOS 16.1 (build 20B82) Mail on an iPhone 14 (iPhone14,7): speaks 16.1. */
        .name = "ios-16.1",
        .device_type = "iPhone",
        .user_agent = "Apple-iPhone14C7/2002.82",
        .model = "iPhone14C7",
        .os = "iOS 16.1 20B82",
        .version = 161,
        .heartbeat_s = 900,
        .accepts_wildcard = 1,
        .honours_retry_after = 1,
        .tls_security_level = 2,
    },
    {
        /* Outlook 2016+ for Windows (Click-to-Run) with an Outlook.com/EAS account. */
        .name = "outlook-16.1",
        .device_type = "WindowsOutlook15",
        .user_agent = "Outlook/16.0 (16.0.16827.20166; C2R; x64)",
        .model = "Outlook for Windows",
        .os = "Windows 10.0.19045",
        .version = 161,
        .heartbeat_s = 1200,
        .accepts_wildcard = 1,
        .honours_retry_after = 1,
        .tls_security_level = 2,
    },
    {
        /* Windows Mobile 6.1 Pocket PC (HTC Touch Diamond): 12.1 against Exchange 2007 SP1,
         * 30-minute heartbeat per Microsoft's guidance, rejects wildcard certificates and backs
         * off exponentially instead of reading Retry-After. */
        .name = "wm-12.1",
        .device_type = "PocketPC",
        .user_agent = "MSFT-PPC/5.2.5082",
        .model = "HTC Touch Diamond P3700",
        .os = "Windows CE 5.2.20757",
        .version = 121,
        .heartbeat_s = 1800,
        .accepts_wildcard = 0,
        .honours_retry_after = 0,
        .tls_security_level = 0,
    },
    {.name = NULL},
};

const struct el_eas_profile *el_eas_profile_lookup(const char *name)
{
    if (name == NULL)
        return NULL;
    for (const struct el_eas_profile *p = el_eas_profiles; p->name != NULL; p++)
        if (strcasecmp(p->name, name) == 0)
            return p;
    return NULL;
}

void el_eas_profile_tls_policy(const struct el_eas_profile *p, struct el_http_tls_policy *out)
{
    out->security_level = p->tls_security_level;
    out->no_wildcards = !p->accepts_wildcard;
}
