/* srv_http_query.c - the EAS request line and small header values: plain and base64 query forms
 * ([MS-ASHTTP] 2.2.1.1.1), protocol version, policy key, Basic credentials, Content-Type.
 * Owns: nothing; results go to caller memory. Uses: srv.h for command names. Pure functions of
 * their input (fuzzed by tests/fuzz/fuzz_srv_request.c): never read outside [in, in + len). */
#include "srv_http_int.h"

#include <string.h>
#include <strings.h>

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Copies a log-safe version of s (printable ASCII, others as '?') into out[cap]. */
static void sanitize(char *out, size_t cap, const char *s, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x21 && c < 0x7f) ? (char)c : '?';
    }
    out[n] = '\0';
}

/* Percent-decodes s into out[cap] ('+' is a space, as IIS reads a query). 0, or -1 when the
 * value is malformed, holds a NUL or is longer than cap - 1. */
static int pct_decode(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hexval((unsigned char)s[i + 1]);
            int lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == 0 || o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

/* Checks `1*32(ALPHA / DIGIT)`. */
static int device_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum((unsigned char)s[i]))
            return 0;
    return 1;
}

static void set_cmd(struct el__srv_query *out, const char *name, size_t len)
{
    sanitize(out->cmd_name, sizeof(out->cmd_name), name, len);
    out->cmd = el_srv_cmd_lookup(name, len);
}

/* ---- plain form ---------------------------------------------------------------------------- */

struct plain_param {
    const char *name;
    size_t off;  /* offset of the destination in struct el__srv_query */
    size_t size; /* its size */
};

#define PARAM(n, field)                                                                            \
    {                                                                                              \
        n, offsetof(struct el__srv_query, field), sizeof(((struct el__srv_query *)0)->field)       \
    }

static const struct plain_param plain_params[] = {
    PARAM("DeviceId", device_id),
    PARAM("DeviceType", device_type),
    PARAM("User", user),
    PARAM("ItemId", item_id),
    PARAM("CollectionId", collection_id),
    PARAM("LongId", long_id),
    PARAM("AttachmentName", attachment_name),
    PARAM("Occurrence", occurrence),
};

static int parse_plain(const char *q, size_t len, struct el__srv_query *out, const char **why)
{
    int have_cmd = 0, have_dev = 0, have_type = 0;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && q[end] != '&')
            end++;
        const char *eq = memchr(q + i, '=', end - i);
        const char *name = q + i;
        size_t nlen = eq ? (size_t)(eq - name) : end - i;
        const char *val = eq ? eq + 1 : q + end;
        size_t vlen = (size_t)(q + end - val);
        i = end + 1;
        if (nlen == 0 && vlen == 0)
            continue; /* "&&" or a trailing '&' */
        if (nlen == 3 && strncasecmp(name, "Cmd", 3) == 0) {
            char tmp[64];
            if (have_cmd || pct_decode(val, vlen, tmp, sizeof(tmp)) < 0) {
                sanitize(out->cmd_name, sizeof(out->cmd_name), val, vlen);
                *why = have_cmd ? "Cmd given twice" : "malformed Cmd";
                return 400;
            }
            have_cmd = 1;
            set_cmd(out, tmp, strlen(tmp));
            continue;
        }
        if (nlen == 10 && strncasecmp(name, "SaveInSent", 10) == 0) {
            if (vlen == 1 && (val[0] == 'T' || val[0] == 't'))
                out->save_in_sent = 1;
            else if (vlen == 1 && (val[0] == 'F' || val[0] == 'f'))
                out->save_in_sent = 0;
            else {
                *why = "SaveInSent must be T or F";
                return 400;
            }
            continue;
        }
        const struct plain_param *p = NULL;
        for (size_t k = 0; k < sizeof(plain_params) / sizeof(plain_params[0]); k++) {
            if (strlen(plain_params[k].name) == nlen &&
                strncasecmp(plain_params[k].name, name, nlen) == 0) {
                p = &plain_params[k];
                break;
            }
        }
        if (p == NULL)
            continue; /* unknown parameters are ignored, as Exchange does */
        char *dst = (char *)out + p->off;
        if (dst[0] != '\0') {
            *why = "parameter given twice";
            return 400;
        }
        if (pct_decode(val, vlen, dst, p->size) < 0) {
            dst[0] = '\0';
            *why = p->off == offsetof(struct el__srv_query, device_id) ? "bad DeviceId"
                                                                       : "malformed parameter";
            return 400;
        }
        if (p->off == offsetof(struct el__srv_query, device_id))
            have_dev = 1;
        if (p->off == offsetof(struct el__srv_query, device_type))
            have_type = 1;
    }
    if (have_dev && !device_id_ok(out->device_id)) {
        out->device_id[0] = '\0';
        *why = "bad DeviceId (1-32 letters and digits)";
        return 400;
    }
    if (!have_cmd) {
        *why = "no Cmd";
        return 400;
    }
    if (out->cmd < 0) {
        *why = "unknown command";
        return 501;
    }
    if (!have_dev) {
        *why = "no DeviceId";
        return 400;
    }
    if (!have_type || out->device_type[0] == '\0') {
        *why = "no DeviceType";
        return 400;
    }
    return 0;
}

/* ---- base64 form --------------------------------------------------------------------------- */

long el__srv_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == '=') {
            pad++;
            continue;
        } else
            return -1;
        if (pad)
            return -1; /* data after padding */
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (pad > 2 || bits >= 6)
        return -1;
    return (long)o;
}

/* Percent-decodes (clients escape '+', '/' and '=') then base64-decodes the query. */
static long decode_b64_query(const char *q, size_t len, uint8_t *out, size_t cap)
{
    char txt[1024];
    if (pct_decode(q, len, txt, sizeof(txt)) < 0)
        return -1;
    /* pct_decode turned '+' into ' ': in base64 it is '+' again. */
    size_t n = strlen(txt);
    for (size_t i = 0; i < n; i++)
        if (txt[i] == ' ')
            txt[i] = '+';
    return el__srv_base64_decode(txt, n, out, cap);
}

static void copy_field(char *dst, size_t cap, const uint8_t *p, size_t n)
{
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(dst, p, k);
    dst[k] = '\0';
}

static int parse_base64(const char *q, size_t len, struct el__srv_query *out, const char **why)
{
    uint8_t b[768];
    long blen = decode_b64_query(q, len, b, sizeof(b));
    if (blen < 0) {
        *why = "malformed base64 query";
        return 400;
    }
    size_t n = (size_t)blen, p = 0;
    if (n < 5) {
        *why = "base64 query too short";
        return 400;
    }
    out->version = b[0];
    int code = b[1];
    const char *name = el_srv_cmd_name(code);
    out->cmd = name ? code : -1;
    if (name)
        sanitize(out->cmd_name, sizeof(out->cmd_name), name, strlen(name));
    else
        snprintf(out->cmd_name, sizeof(out->cmd_name), "#%d", code);
    out->locale = (unsigned)b[2] | (unsigned)b[3] << 8;
    p = 4;
    /* device id */
    size_t dlen = b[p++];
    if (dlen == 0 || p + dlen > n) {
        *why = "bad DeviceId";
        return 400;
    }
    int alnum = dlen <= 32;
    for (size_t i = 0; alnum && i < dlen; i++)
        alnum = is_alnum(b[p + i]);
    if (alnum) {
        memcpy(out->device_id, b + p, dlen);
        out->device_id[dlen] = '\0';
    } else if (dlen <= 16) {
        /* a raw GUID: hex, as Z-Push does */
        static const char hex[] = "0123456789ABCDEF";
        for (size_t i = 0; i < dlen; i++) {
            out->device_id[2 * i] = hex[b[p + i] >> 4];
            out->device_id[2 * i + 1] = hex[b[p + i] & 15];
        }
        out->device_id[2 * dlen] = '\0';
    } else {
        *why = "bad DeviceId";
        return 400;
    }
    p += dlen;
    /* policy key */
    if (p >= n) {
        *why = "base64 query truncated";
        return 400;
    }
    size_t klen = b[p++];
    if (klen != 0 && klen != 4) {
        *why = "policy key length must be 0 or 4";
        return 400;
    }
    if (p + klen > n) {
        *why = "base64 query truncated";
        return 400;
    }
    if (klen == 4) {
        out->has_policy_key = 1;
        out->policy_key = (uint32_t)b[p] | (uint32_t)b[p + 1] << 8 | (uint32_t)b[p + 2] << 16 |
                          (uint32_t)b[p + 3] << 24;
    }
    p += klen;
    /* device type */
    if (p >= n) {
        *why = "base64 query truncated";
        return 400;
    }
    size_t tlen = b[p++];
    if (tlen == 0 || p + tlen > n || tlen >= sizeof(out->device_type)) {
        *why = "bad DeviceType";
        return 400;
    }
    for (size_t i = 0; i < tlen; i++) {
        if (b[p + i] == 0) {
            *why = "bad DeviceType";
            return 400;
        }
    }
    copy_field(out->device_type, sizeof(out->device_type), b + p, tlen);
    p += tlen;
    /* parameters: {tag, length, value}* */
    while (p < n) {
        if (p + 2 > n) {
            *why = "base64 query truncated";
            return 400;
        }
        unsigned tag = b[p];
        size_t vlen = b[p + 1];
        p += 2;
        if (p + vlen > n) {
            *why = "base64 query truncated";
            return 400;
        }
        char *dst = NULL;
        size_t cap = 0;
        switch (tag) {
        case 0:
            dst = out->attachment_name, cap = sizeof(out->attachment_name);
            break;
        case 1:
            dst = out->collection_id, cap = sizeof(out->collection_id);
            break;
        case 3:
            dst = out->item_id, cap = sizeof(out->item_id);
            break;
        case 4:
            dst = out->long_id, cap = sizeof(out->long_id);
            break;
        case 6:
            dst = out->occurrence, cap = sizeof(out->occurrence);
            break;
        case 7:
            if (vlen >= 1) {
                out->save_in_sent = (b[p] & 0x01) != 0;
                out->accept_multipart = (b[p] & 0x02) != 0;
            }
            break;
        case 8:
            dst = out->user, cap = sizeof(out->user);
            break;
        default:
            break; /* unknown tags are skipped */
        }
        if (dst) {
            if (memchr(b + p, 0, vlen) != NULL || vlen >= cap) {
                *why = "malformed parameter";
                return 400;
            }
            copy_field(dst, cap, b + p, vlen);
        }
        p += vlen;
    }
    if (out->cmd < 0) {
        *why = "unknown command";
        return 501;
    }
    return 0;
}

int el__srv_query_parse(const char *q, size_t len, struct el__srv_query *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    out->cmd = -1;
    *why = "";
    if (len == 0) {
        *why = "no query";
        return 400;
    }
    /* The plain form always has name=value pairs ('=' never starts a base64 string and '&'
     * never occurs in one); anything else is read as the base64 form. */
    int plain = memchr(q, '&', len) != NULL || (len >= 4 && strncasecmp(q, "Cmd=", 4) == 0);
    if (!plain) {
        const char *eq = memchr(q, '=', len);
        /* "DeviceId=x" alone: a plain form without Cmd; base64 '=' only pads the end */
        if (eq && eq + 1 < q + len && eq[1] != '=' && eq[1] != '%')
            plain = 1;
    }
    out->form = plain ? 0 : 1;
    return plain ? parse_plain(q, len, out, why) : parse_base64(q, len, out, why);
}

/* ---- header values ------------------------------------------------------------------------- */

unsigned el__srv_version_parse(const char *s, size_t len)
{
    /* "N.M" or "NN.M" */
    if (len < 3 || len > 4 || s[len - 2] != '.')
        return 0;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (i == len - 2)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v;
}

int el__srv_version_accepted(unsigned v)
{
    return v == 121 || v == 140 || v == 141 || v == 160 || v == 161;
}

int el__srv_policy_key_parse(const char *s, size_t len, uint32_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int el__srv_basic_decode(const char *v, size_t len, char *buf, size_t cap, size_t *ulen,
                         const char **pass, size_t *plen)
{
    if (len < 6 || strncasecmp(v, "Basic ", 6) != 0 || cap < 2)
        return -1;
    size_t i = 6;
    while (i < len && v[i] == ' ')
        i++;
    size_t e = len;
    while (e > i && v[e - 1] == ' ')
        e--;
    long n = el__srv_base64_decode(v + i, e - i, (uint8_t *)buf, cap - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *colon = memchr(buf, ':', (size_t)n);
    if (colon == NULL)
        return -1;
    *ulen = (size_t)(colon - buf);
    *pass = colon + 1;
    *plen = (size_t)n - *ulen - 1;
    return 0;
}

static int media_type_is(const char *ct, size_t len, const char *want)
{
    size_t n = strlen(want);
    if (len < n || strncasecmp(ct, want, n) != 0)
        return 0;
    /* what follows: nothing, spaces, or parameters */
    for (size_t i = n; i < len; i++) {
        if (ct[i] == ';')
            return 1;
        if (ct[i] != ' ' && ct[i] != '\t')
            return 0;
    }
    return 1;
}

int el__srv_content_type_check(int cmd, unsigned version, const char *ct, size_t len)
{
    if (media_type_is(ct, len, "application/vnd.ms-sync.wbxml") ||
        media_type_is(ct, len, "application/vnd.ms-sync"))
        return 0;
    /* <=12.1 mail commands post raw MIME */
    if (version <= 121 && media_type_is(ct, len, "message/rfc822") &&
        (cmd == EL_SRV_SENDMAIL || cmd == EL_SRV_SMARTREPLY || cmd == EL_SRV_SMARTFORWARD))
        return 0;
    return 415;
}
