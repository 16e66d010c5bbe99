/* tls_check_print.c - writes a certcheck judgement (struct el_tls_check) step by step as text
 * lines for people, or as one JSON object for machines.
 * Owns: nothing. Uses: tls.h. Certificates carry no secrets; nothing here needs redaction. */
#include "tls.h"

#include <string.h>
#include <time.h>

#include <openssl/x509_vfy.h>

static void date_text(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, cap, "%Y-%m-%d", &tm);
}

/* The weakest signature below the root (a root's self-signature is not checked) and the
 * smallest key anywhere. */
static void weakest(const struct el_tls_check *c, int *sig_i, int *key_i)
{
    *sig_i = *key_i = -1;
    for (unsigned i = 0; i < c->ncerts; i++) {
        const struct el_tls_cert_info *ci = &c->certs[i];
        if (!ci->self_signed && (*sig_i < 0 || ci->sig_secbits < c->certs[*sig_i].sig_secbits))
            *sig_i = (int)i;
        if (*key_i < 0 || ci->key_secbits < c->certs[*key_i].key_secbits)
            *key_i = (int)i;
    }
}

static const char *mark(int ok)
{
    return ok ? "ok  " : "FAIL";
}

void el_tls_check_print(const struct el_tls_check *c, FILE *out)
{
    fprintf(out, "certcheck %s: ", c->host);
    if (c->handshake_error[0])
        fprintf(out, "handshake FAILED: %s\n", c->handshake_error);
    else
        fprintf(out, "%s %s, connect + handshake %.1f ms\n", c->protocol, c->cipher,
                (double)c->handshake_us / 1000.0);
    fprintf(out, "chain (%u sent by the server):\n", c->nsent);
    for (unsigned i = 0; i < c->ncerts; i++) {
        const struct el_tls_cert_info *ci = &c->certs[i];
        char from[16], to[16];
        date_text(ci->not_before, from, sizeof(from));
        date_text(ci->not_after, to, sizeof(to));
        fprintf(out, "  [%u] %s%s\n", i, ci->subject, ci->sent ? "" : "  (from the trust store)");
        fprintf(out, "      issuer    %s%s\n", ci->issuer, ci->self_signed ? " (self-signed)" : "");
        fprintf(out, "      validity  %s .. %s, %ld days left\n", from, to, ci->days_left);
        fprintf(out, "      key       %s %d bits (%d-bit security), signed %s (%d-bit)\n",
                ci->key_type, ci->key_bits, ci->key_secbits, ci->sig_alg, ci->sig_secbits);
        if (ci->sans[0])
            fprintf(out, "      names     %s\n", ci->sans);
    }
    fprintf(out, "checks:\n");
    if (c->nsent == 0) {
        fprintf(out, "  FAIL no certificate received\n");
    } else {
        if (c->chain_complete)
            fprintf(out, "  ok   chain complete: the server sent every intermediate\n");
        else
            fprintf(out,
                    "  FAIL chain incomplete: the server did not send the issuer of [%d] "
                    "(%s); phones do not fetch it\n",
                    c->verify_depth,
                    c->certs[c->verify_depth < (int)c->nsent ? c->verify_depth : 0].issuer);
        if (!c->chain_complete)
            fprintf(out, "  FAIL root not reached: the chain stops at [%d]\n", c->verify_depth);
        else if (c->root_trusted)
            fprintf(out, "  %s root trusted: %s%s\n", mark(!c->root_expired), c->root_subject,
                    c->root_expired ? ", but EXPIRED" : ", not expired");
        else
            fprintf(out, "  FAIL root not trusted: %s is not in the trust store\n",
                    c->root_subject[0] ? c->root_subject : "the issuer");
        for (unsigned i = 0; i < c->ncerts; i++) {
            const struct el_tls_cert_info *ci = &c->certs[i];
            int future = ci->not_before > (int64_t)time(NULL);
            int ok = ci->days_left >= 0 && !future;
            fprintf(out, "  %s [%u] validity: %s\n", mark(ok), i,
                    future              ? "not yet valid"
                    : ci->days_left < 0 ? "expired"
                                        : "valid");
            if (ok && ci->days_left < 30)
                fprintf(out, "  warn [%u] expires in %ld days\n", i, ci->days_left);
        }
        for (unsigned i = 0; i < c->nnames; i++) {
            const struct el_tls_name_check *n = &c->names[i];
            if (!n->covered)
                fprintf(out, "  FAIL name %s: not covered by any SAN of the leaf\n", n->name);
            else
                fprintf(out, "  ok   name %s: covered%s\n", n->name,
                        n->by_wildcard ? " only by a wildcard" : " by a SAN");
        }
        if (c->client_cert_requested)
            fprintf(out, "  note the server asks for a client certificate; a device without "
                         "one shows 0x80072F0C\n");
        if (c->wildcard_used)
            fprintf(out, "  warn wildcard: the leaf uses a wildcard SAN; legacy devices "
                         "(Windows Mobile) reject it\n");
        else
            fprintf(out, "  ok   wildcard: none\n");
        int si, ki;
        weakest(c, &si, &ki);
        if (si >= 0)
            fprintf(out, "  %s signature: weakest %s on [%d] (%d-bit security%s)\n",
                    c->certs[si].sig_secbits >= 112 ? "ok  " : "weak", c->certs[si].sig_alg, si,
                    c->certs[si].sig_secbits,
                    c->certs[si].sig_secbits < 112 ? "; modern devices refuse under 112" : "");
        if (ki >= 0)
            fprintf(out, "  %s key: smallest %s %d bits on [%d] (%d-bit security%s)\n",
                    c->certs[ki].key_secbits >= 112 ? "ok  " : "weak", c->certs[ki].key_type,
                    c->certs[ki].key_bits, ki, c->certs[ki].key_secbits,
                    c->certs[ki].key_secbits < 112 ? "; modern devices refuse under 112" : "");
        if (c->verify_error != X509_V_OK)
            fprintf(out, "  note OpenSSL: %s at [%d]\n",
                    X509_verify_cert_error_string(c->verify_error), c->verify_depth);
    }
    fprintf(out, "verdicts:\n");
    for (unsigned i = 0; i < c->nverdicts; i++) {
        const struct el_tls_verdict *v = &c->verdicts[i];
        if (v->cls == EL_TLS_OK) {
            fprintf(out, "  %-14s ok\n", v->profile);
            continue;
        }
        fprintf(out, "  %-14s FAIL %s, the phone shows 0x%08X: %s", v->profile,
                el_tls_class_name(v->cls), (unsigned)v->code, el_tls_class_text(v->cls));
        if (v->name[0])
            fprintf(out, " (%s)", v->name);
        fputc('\n', out);
    }
    fprintf(out, "result: %s\n", el_tls_check_passed(c) ? "ok" : "FAIL");
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

void el_tls_check_print_json(const struct el_tls_check *c, FILE *out)
{
    fprintf(out, "{\"host\":");
    json_str(out, c->host);
    fprintf(out, ",\"passed\":%s,\"protocol\":", el_tls_check_passed(c) ? "true" : "false");
    json_str(out, c->protocol);
    fprintf(out, ",\"cipher\":");
    json_str(out, c->cipher);
    fprintf(out, ",\"handshake_us\":%lld,\"handshake_error\":", (long long)c->handshake_us);
    json_str(out, c->handshake_error);
    fprintf(out, ",\"chain\":[");
    for (unsigned i = 0; i < c->ncerts; i++) {
        const struct el_tls_cert_info *ci = &c->certs[i];
        fprintf(out, "%s{\"subject\":", i ? "," : "");
        json_str(out, ci->subject);
        fprintf(out, ",\"issuer\":");
        json_str(out, ci->issuer);
        fprintf(out,
                ",\"sent\":%s,\"self_signed\":%s,\"ca\":%s,\"not_before\":%lld,"
                "\"not_after\":%lld,\"days_left\":%ld,\"key_type\":",
                ci->sent ? "true" : "false", ci->self_signed ? "true" : "false",
                ci->is_ca ? "true" : "false", (long long)ci->not_before, (long long)ci->not_after,
                ci->days_left);
        json_str(out, ci->key_type);
        fprintf(out, ",\"key_bits\":%d,\"key_security_bits\":%d,\"signature\":", ci->key_bits,
                ci->key_secbits);
        json_str(out, ci->sig_alg);
        fprintf(out, ",\"signature_security_bits\":%d,\"sans\":", ci->sig_secbits);
        json_str(out, ci->sans);
        fputc('}', out);
    }
    fprintf(out, "],\"chain_complete\":%s,\"root_trusted\":%s,\"root_expired\":%s,\"root\":",
            c->chain_complete ? "true" : "false", c->root_trusted ? "true" : "false",
            c->root_expired ? "true" : "false");
    json_str(out, c->root_subject);
    fprintf(out, ",\"verify_error\":%ld,\"verify_error_text\":", c->verify_error);
    json_str(out, X509_verify_cert_error_string(c->verify_error));
    fprintf(out, ",\"verify_depth\":%d,\"wildcard\":%s,\"client_cert_requested\":%s,\"names\":[",
            c->verify_depth, c->wildcard_used ? "true" : "false",
            c->client_cert_requested ? "true" : "false");
    for (unsigned i = 0; i < c->nnames; i++) {
        fprintf(out, "%s{\"name\":", i ? "," : "");
        json_str(out, c->names[i].name);
        fprintf(out, ",\"covered\":%s,\"by_wildcard\":%s}", c->names[i].covered ? "true" : "false",
                c->names[i].by_wildcard ? "true" : "false");
    }
    fprintf(out, "],\"verdicts\":[");
    for (unsigned i = 0; i < c->nverdicts; i++) {
        const struct el_tls_verdict *v = &c->verdicts[i];
        fprintf(out, "%s{\"profile\":", i ? "," : "");
        json_str(out, v->profile);
        fprintf(out, ",\"class\":\"%s\",\"code\":\"0x%08X\",\"name\":", el_tls_class_name(v->cls),
                (unsigned)v->code);
        json_str(out, v->name);
        fprintf(out, ",\"verify_error\":%ld,\"depth\":%d}", v->verify_error, v->depth);
    }
    fprintf(out, "]}\n");
}
