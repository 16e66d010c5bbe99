/* cli_probe_autodiscover.c - probe's Autodiscover step: given an e-mail address, POSTs the
 * mobilesync POX request to the endpoints in the order phones try them
 * (https://DOMAIN/autodiscover/autodiscover.xml, then https://autodiscover.DOMAIN/...), each
 * through core/http with the profile's TLS policy, and reports per endpoint what answered (TLS
 * class and phone code, HTTP status, the EAS URL in the answer). Issue 7.
 * Owns: a private libuv loop, HTTP loop and connection while it runs; the Authorization header
 * it builds (wiped before return). Uses: cli.h, core/http.h, core/tls.h, core/eas.h. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <uv.h>

#include "eas.h"
#include "http.h"
#include "tls.h"

struct ad_try {
    int calls;
    char line[600]; /* the step's verdict */
    char url[512];  /* EAS URL found, "" if none */
    int ok;
};

/* The text of <Url> under the MobileSync server, or of the first <Url>. */
static int find_url(const uint8_t *b, size_t n, char *out, size_t cap)
{
    const char *p = (const char *)b;
    for (size_t i = 0; i + 5 < n; i++) {
        if (memcmp(p + i, "<Url>", 5) != 0)
            continue;
        size_t s = i + 5, e = s;
        while (e < n && p[e] != '<')
            e++;
        if (e - s == 0 || e - s >= cap)
            return -1;
        memcpy(out, p + s, e - s);
        out[e - s] = '\0';
        return 0;
    }
    return -1;
}

static void on_done(void *ctx, const struct el_http_result *r)
{
    struct ad_try *t = ctx;
    t->calls++;
    int tls = el_tls_classify(r);
    if (tls != EL_TLS_OK) {
        snprintf(t->line, sizeof(t->line), "TLS %s, the phone shows 0x%08X: %s",
                 el_tls_class_name(tls), (unsigned)el_tls_class_code(tls), el_tls_class_text(tls));
    } else if (r->curl_code != 0) {
        snprintf(t->line, sizeof(t->line), "no answer: %.200s", r->curl_error);
    } else if (r->status == 200 && find_url(r->body, r->body_len, t->url, sizeof(t->url)) == 0) {
        t->ok = 1;
        snprintf(t->line, sizeof(t->line), "answered: EAS URL %s", t->url);
    } else if (r->status == 200) {
        snprintf(t->line, sizeof(t->line), "HTTP 200 without a MobileSync URL%s",
                 r->body_len && memmem(r->body, r->body_len, "<Error>", 7) ? " (an Error)" : "");
    } else if (r->status >= 300 && r->status < 400) {
        snprintf(t->line, sizeof(t->line), "HTTP %ld redirect to %.300s", r->status, r->location);
    } else {
        snprintf(t->line, sizeof(t->line), "HTTP %ld%s", r->status,
                 r->status == 401 ? ": credentials refused" : "");
    }
}

/* One POST; 0 when it ran (t filled), -1 when it could not start. */
static int try_one(struct el_http_loop *hl, uv_loop_t *loop, const char *url,
                   struct curl_slist *headers, const char *body,
                   const struct el_http_tls_policy *pol, struct ad_try *t)
{
    struct el_http_conn *c = NULL;
    struct el_err err;
    int rc = el_http_conn_new(hl, 0, &c, &err);
    if (rc == 0) {
        el_http_conn_set_tls_policy(c, pol);
        struct el_http_req rq = {.method = "POST",
                                 .url = url,
                                 .headers = headers,
                                 .body = body,
                                 .body_len = strlen(body),
                                 .timeout_ms = 20000};
        rc = el_http_start(c, &rq, on_done, t, &err);
    }
    if (rc == 0)
        uv_run(loop, UV_RUN_DEFAULT);
    else
        snprintf(t->line, sizeof(t->line), "%s", err.msg);
    el_http_conn_free(c);
    return rc == 0 && t->calls == 1 ? 0 : -1;
}

int el__cli_autodiscover(const struct el__cli_ad_opts *o, char *eas_url, size_t cap)
{
    const char *at = strrchr(o->email, '@');
    if (at == NULL || at[1] == '\0' || strlen(at + 1) > 200) {
        printf("FAIL %-11s %10s  '%s' is not an e-mail address\n", "Autodiscover", "", o->email);
        return -1;
    }
    const char *domain = at + 1;
    /* Authorization: Basic base64(user:password), wiped at the end */
    size_t ul = strlen(o->user), pl = strlen(o->password);
    size_t n = ul + 1 + pl;
    size_t tl = o->token ? strlen(o->token) : 0;
    char *clear = malloc(n + 1);
    char *hdr = malloc(32 + 4 * ((n + 2) / 3) + tl + 1);
    struct curl_slist *headers = NULL;
    int found = -1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct el_http_loop *hl = NULL;
    struct el_err err;
    struct el_http_opts ho = {
        .ca_file = o->ca_file, .trust_none = o->trust_none, .resolve = o->resolve};
    if (hdr)
        hdr[0] = '\0';
    if (clear == NULL || hdr == NULL || el_http_loop_new(&loop, &ho, &hl, &err) != 0)
        goto done;
    memcpy(clear, o->user, ul);
    clear[ul] = ':';
    memcpy(clear + ul + 1, o->password, pl);
    if (o->token) {
        strcpy(hdr, "Authorization: Bearer ");
        memcpy(hdr + strlen(hdr), o->token, tl + 1);
    } else {
        strcpy(hdr, "Authorization: Basic ");
        EVP_EncodeBlock((unsigned char *)hdr + strlen(hdr), (const unsigned char *)clear, (int)n);
    }
    headers = curl_slist_append(NULL, "Content-Type: text/xml");
    headers = curl_slist_append(headers, hdr);
    char body[1024];
    snprintf(body, sizeof(body),
             "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
             "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/"
             "requestschema/2006\"><Request><EMailAddress>%s</EMailAddress>"
             "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/"
             "mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>",
             o->email);
    struct el_http_tls_policy pol;
    el_eas_profile_tls_policy(o->profile, &pol);
    static const char *const fmt[] = {"https://%s:%u/autodiscover/autodiscover.xml",
                                      "https://autodiscover.%s:%u/autodiscover/autodiscover.xml"};
    for (int i = 0; i < 2 && found != 0; i++) {
        char url[512];
        snprintf(url, sizeof(url), fmt[i], domain, o->port);
        struct ad_try t;
        memset(&t, 0, sizeof(t));
        if (o->verbose)
            printf("  > POST %s (Authorization: [redacted])\n", url);
        try_one(hl, &loop, url, headers, body, &pol, &t);
        printf("%-4s %-11s %10s  %s: %s\n",
               t.ok     ? "ok"
               : i == 0 ? "warn"
                        : "FAIL",
               "Autodiscover", "", url, t.line);
        if (t.ok) {
            snprintf(eas_url, cap, "%s", t.url);
            found = 0;
        }
    }
done:
    fflush(stdout);
    for (struct curl_slist *h = headers; h; h = h->next)
        OPENSSL_cleanse(h->data, strlen(h->data));
    curl_slist_free_all(headers);
    if (clear)
        OPENSSL_cleanse(clear, n);
    if (hdr)
        OPENSSL_cleanse(hdr, strlen(hdr));
    free(clear);
    free(hdr);
    el_http_loop_free(hl);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return found;
}
