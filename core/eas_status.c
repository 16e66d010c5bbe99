/* eas_status.c - how a request ended: the outcome class names, the EAS status tables per command
 * (eas-digest.md section 5) and the classification of the HTTP exchange before a body is read
 * (curl failures, 401/403, 449, 451 + X-MS-Location, 503 + Retry-After).
 * Owns: nothing (constant tables); moves d->base_url on 451. Uses: eas_int.h, libcurl
 * (curl_getdate), OpenSSL (certificate verify error names). */
#include "eas_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "tls.h"

const char *el_eas_class_name(int cls)
{
    static const char *const names[] = {
#define EL_EAS_CLASS_STR(name, str) str,
        EL_EAS_CLASS_MAP(EL_EAS_CLASS_STR)
#undef EL_EAS_CLASS_STR
    };
    if (cls < 0 || cls >= EL_EAS_CLASS_COUNT)
        return "unknown";
    return names[cls];
}

/* ---- EAS status tables ------------------------------------------------------------------- */

#define ANY -1 /* the common 1xx statuses (14.0+), any command */

struct status_row {
    int cmd;
    int status;
    int cls;
    const char *text;
};

static const struct status_row status_rows[] = {
    {EL_EAS_SYNC, 1, EL_EAS_CLASS_OK, "success"},
    {EL_EAS_SYNC, 3, EL_EAS_CLASS_EAS_STATUS, "invalid sync key (key reset to 0)"},
    {EL_EAS_SYNC, 4, EL_EAS_CLASS_EAS_STATUS, "protocol error"},
    {EL_EAS_SYNC, 5, EL_EAS_CLASS_EAS_STATUS, "server error"},
    {EL_EAS_SYNC, 6, EL_EAS_CLASS_EAS_STATUS, "error in client/server conversion"},
    {EL_EAS_SYNC, 7, EL_EAS_CLASS_EAS_STATUS, "conflict, server won"},
    {EL_EAS_SYNC, 8, EL_EAS_CLASS_EAS_STATUS, "object not found"},
    {EL_EAS_SYNC, 9, EL_EAS_CLASS_EAS_STATUS, "cannot complete (mailbox full?)"},
    {EL_EAS_SYNC, 12, EL_EAS_CLASS_EAS_STATUS, "folder hierarchy changed"},
    {EL_EAS_SYNC, 13, EL_EAS_CLASS_EAS_STATUS, "empty request without a cached one"},
    {EL_EAS_SYNC, 14, EL_EAS_CLASS_EAS_STATUS, "Wait/HeartbeatInterval out of range"},
    {EL_EAS_SYNC, 15, EL_EAS_CLASS_EAS_STATUS, "too many collections"},
    {EL_EAS_SYNC, 16, EL_EAS_CLASS_EAS_STATUS, "retry"},
    {EL_EAS_FOLDERSYNC, 1, EL_EAS_CLASS_OK, "success"},
    {EL_EAS_FOLDERSYNC, 6, EL_EAS_CLASS_EAS_STATUS, "server error"},
    {EL_EAS_FOLDERSYNC, 9, EL_EAS_CLASS_EAS_STATUS, "invalid sync key (hierarchy reset to 0)"},
    {EL_EAS_FOLDERSYNC, 10, EL_EAS_CLASS_EAS_STATUS, "malformed request"},
    {EL_EAS_FOLDERSYNC, 11, EL_EAS_CLASS_EAS_STATUS, "unknown error"},
    {EL_EAS_FOLDERSYNC, 12, EL_EAS_CLASS_EAS_STATUS, "code unknown"},
    {EL_EAS_PING, 1, EL_EAS_CLASS_OK, "no changes"},
    {EL_EAS_PING, 2, EL_EAS_CLASS_OK, "changes in folders"},
    {EL_EAS_PING, 3, EL_EAS_CLASS_EAS_STATUS, "parameters missing, send a full Ping"},
    {EL_EAS_PING, 4, EL_EAS_CLASS_EAS_STATUS, "syntax error"},
    {EL_EAS_PING, 5, EL_EAS_CLASS_EAS_STATUS, "heartbeat interval out of range"},
    {EL_EAS_PING, 6, EL_EAS_CLASS_EAS_STATUS, "too many folders"},
    {EL_EAS_PING, 7, EL_EAS_CLASS_EAS_STATUS, "folder hierarchy changed"},
    {EL_EAS_PING, 8, EL_EAS_CLASS_EAS_STATUS, "server error"},
    {EL_EAS_PROVISION, 1, EL_EAS_CLASS_OK, "success"},
    {EL_EAS_PROVISION, 2, EL_EAS_CLASS_EAS_STATUS, "protocol error"},
    {EL_EAS_PROVISION, 3, EL_EAS_CLASS_EAS_STATUS, "server error"},
    {EL_EAS_GETITEMESTIMATE, 1, EL_EAS_CLASS_OK, "success"},
    {EL_EAS_GETITEMESTIMATE, 2, EL_EAS_CLASS_EAS_STATUS, "invalid collection"},
    {EL_EAS_GETITEMESTIMATE, 3, EL_EAS_CLASS_EAS_STATUS, "sync state not primed"},
    {EL_EAS_GETITEMESTIMATE, 4, EL_EAS_CLASS_EAS_STATUS, "invalid sync key"},
    {EL_EAS_MOVEITEMS, 1, EL_EAS_CLASS_EAS_STATUS, "invalid source"},
    {EL_EAS_MOVEITEMS, 2, EL_EAS_CLASS_EAS_STATUS, "invalid destination"},
    {EL_EAS_MOVEITEMS, 3, EL_EAS_CLASS_OK, "success"},
    {EL_EAS_MOVEITEMS, 4, EL_EAS_CLASS_EAS_STATUS, "source and destination are the same"},
    {EL_EAS_MOVEITEMS, 5, EL_EAS_CLASS_EAS_STATUS, "failure"},
    {EL_EAS_MOVEITEMS, 7, EL_EAS_CLASS_EAS_STATUS, "source or destination locked"},
    {EL_EAS_SEARCH, 1, EL_EAS_CLASS_OK, "success"},
    {EL_EAS_SEARCH, 2, EL_EAS_CLASS_EAS_STATUS, "invalid request"},
    {EL_EAS_SEARCH, 3, EL_EAS_CLASS_EAS_STATUS, "server error"},
    {EL_EAS_SEARCH, 4, EL_EAS_CLASS_EAS_STATUS, "bad link"},
    {EL_EAS_SEARCH, 5, EL_EAS_CLASS_EAS_STATUS, "access denied"},
    {EL_EAS_SEARCH, 6, EL_EAS_CLASS_EAS_STATUS, "not found"},
    {EL_EAS_SEARCH, 7, EL_EAS_CLASS_EAS_STATUS, "connection failed"},
    {EL_EAS_SEARCH, 8, EL_EAS_CLASS_EAS_STATUS, "query too complex"},
    {EL_EAS_SEARCH, 10, EL_EAS_CLASS_EAS_STATUS, "timed out"},
    {EL_EAS_SEARCH, 11, EL_EAS_CLASS_EAS_STATUS, "FolderSync required"},
    {EL_EAS_SEARCH, 12, EL_EAS_CLASS_EAS_STATUS, "end of retrievable range"},
    {EL_EAS_SEARCH, 13, EL_EAS_CLASS_EAS_STATUS, "access blocked"},
    {EL_EAS_SEARCH, 14, EL_EAS_CLASS_EAS_STATUS, "credentials required"},
    {EL_EAS_ITEMOPERATIONS, 1, EL_EAS_CLASS_OK, "success"},
    {EL_EAS_ITEMOPERATIONS, 2, EL_EAS_CLASS_EAS_STATUS, "protocol error"},
    {EL_EAS_ITEMOPERATIONS, 3, EL_EAS_CLASS_EAS_STATUS, "server error"},
    {EL_EAS_ITEMOPERATIONS, 4, EL_EAS_CLASS_EAS_STATUS, "bad document library URI"},
    {EL_EAS_ITEMOPERATIONS, 5, EL_EAS_CLASS_EAS_STATUS, "access denied"},
    {EL_EAS_ITEMOPERATIONS, 6, EL_EAS_CLASS_EAS_STATUS, "object not found"},
    {EL_EAS_ITEMOPERATIONS, 7, EL_EAS_CLASS_EAS_STATUS, "connection failed"},
    {EL_EAS_ITEMOPERATIONS, 8, EL_EAS_CLASS_EAS_STATUS, "invalid byte range"},
    {EL_EAS_ITEMOPERATIONS, 9, EL_EAS_CLASS_EAS_STATUS, "unknown store"},
    {EL_EAS_ITEMOPERATIONS, 10, EL_EAS_CLASS_EAS_STATUS, "file is empty"},
    {EL_EAS_ITEMOPERATIONS, 11, EL_EAS_CLASS_EAS_STATUS, "data too large"},
    {EL_EAS_ITEMOPERATIONS, 12, EL_EAS_CLASS_EAS_STATUS, "I/O failure"},
    {EL_EAS_ITEMOPERATIONS, 14, EL_EAS_CLASS_EAS_STATUS, "conversion failed"},
    {EL_EAS_ITEMOPERATIONS, 15, EL_EAS_CLASS_EAS_STATUS, "invalid attachment id"},
    {EL_EAS_ITEMOPERATIONS, 16, EL_EAS_CLASS_EAS_STATUS, "access denied"},
    {EL_EAS_ITEMOPERATIONS, 17, EL_EAS_CLASS_EAS_STATUS, "partial success"},
    {EL_EAS_ITEMOPERATIONS, 18, EL_EAS_CLASS_EAS_STATUS, "credentials required"},
    {EL_EAS_SETTINGS, 1, EL_EAS_CLASS_OK, "success"},
    {EL_EAS_SETTINGS, 2, EL_EAS_CLASS_EAS_STATUS, "protocol error"},
    {EL_EAS_SETTINGS, 3, EL_EAS_CLASS_EAS_STATUS, "access denied"},
    {EL_EAS_SETTINGS, 4, EL_EAS_CLASS_EAS_STATUS, "server unavailable"},
    {EL_EAS_SETTINGS, 5, EL_EAS_CLASS_EAS_STATUS, "invalid arguments"},
    {EL_EAS_SETTINGS, 6, EL_EAS_CLASS_EAS_STATUS, "conflicting arguments"},
    {EL_EAS_SETTINGS, 7, EL_EAS_CLASS_EAS_STATUS, "denied by policy"},
    /* [MS-ASCMD] 2.2.2: common status values (14.0+) */
    {ANY, 101, EL_EAS_CLASS_EAS_STATUS, "InvalidContent"},
    {ANY, 102, EL_EAS_CLASS_EAS_STATUS, "InvalidWBXML"},
    {ANY, 103, EL_EAS_CLASS_EAS_STATUS, "InvalidXML"},
    {ANY, 104, EL_EAS_CLASS_EAS_STATUS, "InvalidDateTime"},
    {ANY, 105, EL_EAS_CLASS_EAS_STATUS, "InvalidCombinationOfIDs"},
    {ANY, 106, EL_EAS_CLASS_EAS_STATUS, "InvalidIDs"},
    {ANY, 107, EL_EAS_CLASS_EAS_STATUS, "InvalidMIME"},
    {ANY, 108, EL_EAS_CLASS_EAS_STATUS, "DeviceIdMissingOrInvalid"},
    {ANY, 109, EL_EAS_CLASS_EAS_STATUS, "DeviceTypeMissingOrInvalid"},
    {ANY, 110, EL_EAS_CLASS_EAS_STATUS, "ServerError"},
    {ANY, 111, EL_EAS_CLASS_EAS_STATUS, "ServerErrorRetryLater"},
    {ANY, 112, EL_EAS_CLASS_EAS_STATUS, "ActiveDirectoryAccessDenied"},
    {ANY, 113, EL_EAS_CLASS_EAS_STATUS, "MailboxQuotaExceeded"},
    {ANY, 114, EL_EAS_CLASS_EAS_STATUS, "MailboxServerOffline"},
    {ANY, 115, EL_EAS_CLASS_EAS_STATUS, "SendQuotaExceeded"},
    {ANY, 116, EL_EAS_CLASS_EAS_STATUS, "MessageRecipientUnresolved"},
    {ANY, 117, EL_EAS_CLASS_EAS_STATUS, "MessageReplyNotAllowed"},
    {ANY, 118, EL_EAS_CLASS_EAS_STATUS, "MessagePreviouslySent"},
    {ANY, 119, EL_EAS_CLASS_EAS_STATUS, "MessageHasNoRecipient"},
    {ANY, 120, EL_EAS_CLASS_EAS_STATUS, "MailSubmissionFailed"},
    {ANY, 121, EL_EAS_CLASS_EAS_STATUS, "MessageReplyFailed"},
    {ANY, 122, EL_EAS_CLASS_EAS_STATUS, "AttachmentIsTooLarge"},
    {ANY, 123, EL_EAS_CLASS_EAS_STATUS, "UserHasNoMailbox"},
    {ANY, 124, EL_EAS_CLASS_EAS_STATUS, "UserCannotBeAnonymous"},
    {ANY, 125, EL_EAS_CLASS_EAS_STATUS, "UserPrincipalCouldNotBeFound"},
    {ANY, 126, EL_EAS_CLASS_EAS_STATUS, "UserDisabledForSync"},
    {ANY, 127, EL_EAS_CLASS_EAS_STATUS, "UserOnNewMailboxCannotSync"},
    {ANY, 128, EL_EAS_CLASS_EAS_STATUS, "UserOnLegacyMailboxCannotSync"},
    {ANY, 129, EL_EAS_CLASS_EAS_STATUS, "DeviceIsBlockedForThisUser"},
    {ANY, 130, EL_EAS_CLASS_EAS_STATUS, "AccessDenied"},
    {ANY, 131, EL_EAS_CLASS_EAS_STATUS, "AccountDisabled"},
    {ANY, 132, EL_EAS_CLASS_EAS_STATUS, "SyncStateNotFound"},
    {ANY, 133, EL_EAS_CLASS_EAS_STATUS, "SyncStateLocked"},
    {ANY, 134, EL_EAS_CLASS_EAS_STATUS, "SyncStateCorrupt"},
    {ANY, 135, EL_EAS_CLASS_EAS_STATUS, "SyncStateAlreadyExists"},
    {ANY, 136, EL_EAS_CLASS_EAS_STATUS, "SyncStateVersionInvalid"},
    {ANY, 137, EL_EAS_CLASS_EAS_STATUS, "CommandNotSupported"},
    {ANY, 138, EL_EAS_CLASS_EAS_STATUS, "VersionNotSupported"},
    {ANY, 139, EL_EAS_CLASS_EAS_STATUS, "DeviceNotFullyProvisionable"},
    {ANY, 140, EL_EAS_CLASS_PROVISION, "RemoteWipeRequested"},
    {ANY, 141, EL_EAS_CLASS_PROVISION, "LegacyDeviceOnStrictPolicy"},
    {ANY, 142, EL_EAS_CLASS_PROVISION, "DeviceNotProvisioned"},
    {ANY, 143, EL_EAS_CLASS_PROVISION, "PolicyRefresh"},
    {ANY, 144, EL_EAS_CLASS_PROVISION, "InvalidPolicyKey"},
    {ANY, 145, EL_EAS_CLASS_EAS_STATUS, "ExternallyManagedDevicesNotAllowed"},
    {ANY, 146, EL_EAS_CLASS_EAS_STATUS, "NoRecurrenceInCalendar"},
    {ANY, 147, EL_EAS_CLASS_EAS_STATUS, "UnexpectedItemClass"},
    {ANY, 148, EL_EAS_CLASS_EAS_STATUS, "RemoteServerHasNoSSL"},
    {ANY, 149, EL_EAS_CLASS_EAS_STATUS, "InvalidStoredRequest"},
    {ANY, 150, EL_EAS_CLASS_EAS_STATUS, "ItemNotFound"},
    {ANY, 151, EL_EAS_CLASS_EAS_STATUS, "TooManyFolders"},
    {ANY, 152, EL_EAS_CLASS_EAS_STATUS, "NoFoldersFound"},
    {ANY, 153, EL_EAS_CLASS_EAS_STATUS, "ItemsLostAfterMove"},
    {ANY, 154, EL_EAS_CLASS_EAS_STATUS, "FailureInMoveOperation"},
    {ANY, 155, EL_EAS_CLASS_EAS_STATUS, "MoveCommandDisallowedForNonPersistentMoveAction"},
    {ANY, 156, EL_EAS_CLASS_EAS_STATUS, "MoveCommandInvalidDestinationFolder"},
    {ANY, 160, EL_EAS_CLASS_EAS_STATUS, "AvailabilityTooManyRecipients"},
    {ANY, 161, EL_EAS_CLASS_EAS_STATUS, "AvailabilityDLLimitReached"},
    {ANY, 162, EL_EAS_CLASS_EAS_STATUS, "AvailabilityTransientFailure"},
    {ANY, 163, EL_EAS_CLASS_EAS_STATUS, "AvailabilityFailure"},
    {ANY, 164, EL_EAS_CLASS_EAS_STATUS, "BodyPartPreferenceTypeNotSupported"},
    {ANY, 165, EL_EAS_CLASS_EAS_STATUS, "DeviceInformationRequired"},
    {ANY, 166, EL_EAS_CLASS_EAS_STATUS, "InvalidAccountId"},
    {ANY, 167, EL_EAS_CLASS_EAS_STATUS, "AccountSendDisabled"},
    {ANY, 168, EL_EAS_CLASS_EAS_STATUS, "IRM_FeatureDisabled"},
    {ANY, 169, EL_EAS_CLASS_EAS_STATUS, "IRM_TransientError"},
    {ANY, 170, EL_EAS_CLASS_EAS_STATUS, "IRM_PermanentError"},
    {ANY, 171, EL_EAS_CLASS_EAS_STATUS, "IRM_InvalidTemplateID"},
    {ANY, 172, EL_EAS_CLASS_EAS_STATUS, "IRM_OperationNotPermitted"},
    {ANY, 173, EL_EAS_CLASS_EAS_STATUS, "NoPicture"},
    {ANY, 174, EL_EAS_CLASS_EAS_STATUS, "PictureTooLarge"},
    {ANY, 175, EL_EAS_CLASS_EAS_STATUS, "PictureLimitReached"},
    {ANY, 176, EL_EAS_CLASS_EAS_STATUS, "BodyPart_ConversationTooLarge"},
    {ANY, 177, EL_EAS_CLASS_EAS_STATUS, "MaximumDevicesReached"},
    {ANY, 178, EL_EAS_CLASS_EAS_STATUS, "InvalidMimeBodyCombination"},
    {ANY, 179, EL_EAS_CLASS_EAS_STATUS, "InvalidSmartForwardParameters"},
    {ANY, 183, EL_EAS_CLASS_EAS_STATUS, "InvalidRecipients"},
    {ANY, 184, EL_EAS_CLASS_EAS_STATUS, "OneOrMoreExceptionsFailed"},
};

static const struct status_row *status_find(int cmd, int status)
{
    const struct status_row *common = NULL;
    for (size_t i = 0; i < sizeof(status_rows) / sizeof(status_rows[0]); i++) {
        const struct status_row *r = &status_rows[i];
        if (r->status != status)
            continue;
        if (r->cmd == cmd)
            return r;
        if (r->cmd == ANY)
            common = r;
    }
    return common;
}

int el__eas_status_class(int cmd, int status)
{
    const struct status_row *r = status_find(cmd, status);
    if (r != NULL)
        return r->cls;
    /* not in the tables: 1 is success everywhere but MoveItems (listed above) */
    return status == 1 ? EL_EAS_CLASS_OK : EL_EAS_CLASS_EAS_STATUS;
}

const char *el__eas_status_text(int cmd, int status)
{
    const struct status_row *r = status_find(cmd, status);
    return r != NULL ? r->text : "";
}

int el__eas_status_cmd(const struct el_eas_call *c)
{
    if (c->cmd == EL_EAS_RAW && c->in.raw_cmd != NULL) {
        int k = el_eas_cmd_lookup(c->in.raw_cmd);
        if (k >= 0)
            return k;
    }
    return c->cmd;
}

void el__eas_set_status(struct el_eas_call *c, int status)
{
    int cmd = el__eas_status_cmd(c);
    const char *name = el_eas_cmd_name(cmd);
    c->out.status = status;
    c->out.cls = el__eas_status_class(cmd, status);
    if (c->out.cls != EL_EAS_CLASS_OK && c->out.detail[0] == '\0')
        snprintf(c->out.detail, sizeof(c->out.detail), "%s status %d %s", name, status,
                 el__eas_status_text(cmd, status));
}

/* ---- the HTTP exchange ------------------------------------------------------------------- */

unsigned el__eas_retry_after(const char *value)
{
    if (value == NULL)
        return 0;
    while (*value == ' ' || *value == '\t')
        value++;
    if (*value == '\0')
        return 0;
    if (*value >= '0' && *value <= '9') {
        char *end;
        unsigned long v = strtoul(value, &end, 10);
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end != '\0')
            return 0;
        return v > 86400u * 7 ? 86400u * 7 : (unsigned)v; /* a week at most */
    }
    time_t when = curl_getdate(value, NULL); /* IMF-fixdate, RFC 850, asctime */
    if (when == (time_t)-1)
        return 0;
    time_t now = time(NULL);
    if (when <= now)
        return 0;
    double s = difftime(when, now);
    return s > 86400.0 * 7 ? 86400u * 7 : (unsigned)s;
}

static int is_tls_code(int code)
{
    switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return 1;
    default:
        return 0;
    }
}

static const char *hdr(const char *h)
{
    return h != NULL ? h : "";
}

/* 451: the X-MS-Location URL (query dropped) replaces the base URL for all later requests. */
static void redirect(struct el_eas_device *d, struct el_eas_call *c, const char *loc)
{
    size_t n = strcspn(loc, "?# \t");
    if (n == 0 || strncmp(loc, "http", 4) != 0) {
        snprintf(c->out.detail, sizeof(c->out.detail), "HTTP 451 without a usable X-MS-Location");
        return;
    }
    char *u = malloc(n + 1);
    if (u == NULL) {
        snprintf(c->out.detail, sizeof(c->out.detail), "HTTP 451: out of memory");
        return;
    }
    memcpy(u, loc, n);
    u[n] = '\0';
    free(d->base_url);
    d->base_url = u;
    snprintf(c->out.detail, sizeof(c->out.detail), "HTTP 451: moved to %.120s", u);
}

int el__eas_classify_http(struct el_eas_device *d, struct el_eas_call *c,
                          const struct el_http_result *hr)
{
    c->out.http_status = hr->status;
    if (hr->rc == EL_ECANCELED) {
        c->out.cls = EL_EAS_CLASS_CANCELED;
        snprintf(c->out.detail, sizeof(c->out.detail), "canceled");
        return 0;
    }
    if (hr->curl_code != CURLE_OK || hr->status == 0) {
        int code = hr->curl_code;
        if (hr->tls_verify_error != 0 || is_tls_code(code) || el_tls_classify(hr) != EL_TLS_OK) {
            c->out.cls = EL_EAS_CLASS_TLS;
            /* the class and the phone's code first (core/tls.h), so logs name them */
            int tc = el_tls_classify(hr);
            if (tc == EL_TLS_OK)
                tc = EL_TLS_HANDSHAKE_FAILED;
            if (hr->tls_verify_error != 0)
                snprintf(c->out.detail, sizeof(c->out.detail),
                         "TLS %s 0x%08X: certificate %s (%ld)", el_tls_class_name(tc),
                         (unsigned)el_tls_class_code(tc),
                         X509_verify_cert_error_string(hr->tls_verify_error), hr->tls_verify_error);
            else
                snprintf(c->out.detail, sizeof(c->out.detail), "TLS %s 0x%08X: curl %d: %.100s",
                         el_tls_class_name(tc), (unsigned)el_tls_class_code(tc), code,
                         hdr(hr->curl_error));
        } else {
            c->out.cls =
                code == CURLE_OPERATION_TIMEDOUT ? EL_EAS_CLASS_TIMEOUT : EL_EAS_CLASS_NETWORK;
            snprintf(c->out.detail, sizeof(c->out.detail), "curl %d: %.130s", code,
                     hdr(hr->curl_error));
        }
        return 0;
    }
    switch (hr->status) {
    case 200:
        return 1;
    case 401:
    case 403:
        c->out.cls = EL_EAS_CLASS_AUTH;
        break;
    case 449:
        c->out.cls = EL_EAS_CLASS_PROVISION;
        break;
    case 451:
        c->out.cls = EL_EAS_CLASS_REDIRECT;
        redirect(d, c, hdr(hr->ms_location));
        return 0;
    case 503: {
        c->out.cls = EL_EAS_CLASS_THROTTLED;
        c->out.retry_after_s = el__eas_retry_after(hr->retry_after);
        const char *why = hdr(hr->ms_throttle);
        snprintf(c->out.detail, sizeof(c->out.detail), "HTTP 503%s%s, retry after %u s",
                 why[0] ? " " : "", why, c->out.retry_after_s);
        return 0;
    }
    default:
        c->out.cls = EL_EAS_CLASS_HTTP_STATUS;
        break;
    }
    snprintf(c->out.detail, sizeof(c->out.detail), "%s: HTTP %ld", el_eas_cmd_name(c->cmd),
             hr->status);
    return 0;
}
