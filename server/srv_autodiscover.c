/* srv_autodiscover.c - the reference server's Autodiscover (POX, mobilesync schema 2006) for its
 * users: POST /autodiscover/autodiscover.xml with Basic auth (or a bearer token it issued) and
 * <EMailAddress> answers the EAS URL of the listener the request came in on (scheme + Host header),
 * as Exchange does for phones; an address that is not the authenticated user's gets the schema's
 * error. Issue 7. Owns: nothing (the answer is built in a buffer freed before return). Uses:
 * srv_http_int.h (worker, Basic decoding, send), srv.h (el_srv_auth). */
#include "srv_http_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#define MOBILESYNC_RESPONSE                                                                        \
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"

struct ad_handler {
    h2o_handler_t super;
    struct el_srv_http *h;
};

/* The text of the first element whose name ends in `tag` ("EMailAddress"), namespace prefix
 * allowed; 0, or -1 if absent or longer than cap. */
static int element_text(const char *p, size_t n, const char *tag, char *out, size_t cap)
{
    size_t tl = strlen(tag);
    for (size_t i = 0; i + tl + 1 < n; i++) {
        if (memcmp(p + i, tag, tl) != 0 || p[i + tl] != '>')
            continue;
        if (i == 0 || (p[i - 1] != '<' && p[i - 1] != ':'))
            continue;
        size_t s = i + tl + 1, e = s;
        while (e < n && p[e] != '<')
            e++;
        while (s < e && (p[s] == ' ' || p[s] == '\n' || p[s] == '\r' || p[s] == '\t'))
            s++;
        while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\n' || p[e - 1] == '\r'))
            e--;
        if (e - s >= cap)
            return -1;
        memcpy(out, p + s, e - s);
        out[e - s] = '\0';
        return 0;
    }
    return -1;
}

/* Host header characters we echo into the URL: a host name, an IP, brackets, a port. */
static int authority_ok(h2o_iovec_t a)
{
    if (a.len == 0 || a.len > 255)
        return 0;
    for (size_t i = 0; i < a.len; i++) {
        char c = a.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return 0;
    }
    return 1;
}

static void answer(struct el__srv_worker *w, h2o_req_t *req, int status, const char *xml)
{
    struct el_buf body;
    el_buf_init(&body, 1u << 16);
    struct el_srv_response rs;
    memset(&rs, 0, sizeof(rs));
    rs.http_status = status;
    rs.content_type = "text/xml; charset=utf-8";
    if (status == 401) {
        rs.nheaders = 1;
        rs.hdr_name[0] = "WWW-Authenticate";
        rs.hdr_value[0] = "Basic realm=\"easload\"";
    }
    if (xml && el_buf_append(&body, xml, strlen(xml)) == 0)
        rs.body = &body;
    el__srv_send(w, req, &rs);
    el_buf_close(&body);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct ad_handler *ah = (struct ad_handler *)self;
    struct el__srv_worker *w = el__srv_worker_of(req);
    atomic_fetch_add_explicit(&w->n_req, 1, memory_order_relaxed);
    if (!h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("POST"))) {
        answer(w, req, 405, NULL);
        return 0;
    }
    const struct el_srv_user *u = NULL;
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i >= 0) {
        const h2o_iovec_t *v = &req->headers.entries[i].value;
        u = el__srv_tokens_auth(ah->h->tokens, ah->h->st, v->base, v->len);
        char buf[512];
        size_t ulen = 0, plen = 0;
        const char *pass = NULL;
        if (u == NULL &&
            el__srv_basic_decode(v->base, v->len, buf, sizeof(buf), &ulen, &pass, &plen) == 0)
            u = el_srv_auth(ah->h->st, buf, ulen, pass, plen);
        OPENSSL_cleanse(buf, sizeof(buf));
    }
    if (u == NULL) {
        el__srv_log(w->h, &w->lograte, w->id, EL__SRV_LOG_WARN, NULL, "Autodiscover: 401 %s",
                    i >= 0 ? "bad credentials" : "no credentials");
        answer(w, req, 401, NULL);
        return 0;
    }
    char email[256], xml[2048];
    const char *body = req->entity.base ? req->entity.base : "";
    size_t blen = req->entity.base ? req->entity.len : 0;
    if (element_text(body, blen, "EMailAddress", email, sizeof(email)) != 0 ||
        !authority_ok(req->authority)) {
        answer(w, req, 400, NULL);
        return 0;
    }
    if (strcasecmp(email, u->email) != 0) {
        snprintf(xml, sizeof(xml),
                 "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                 "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
                 "responseschema/2006\">\n"
                 "  <Response xmlns=\"" MOBILESYNC_RESPONSE "\">\n"
                 "    <Culture>en:us</Culture>\n"
                 "    <Action><Error><Status>1</Status><Message>The email address can't be "
                 "found.</Message><DebugData>MailUser</DebugData></Error></Action>\n"
                 "  </Response>\n"
                 "</Autodiscover>\n");
        answer(w, req, 200, xml);
        return 0;
    }
    const char *scheme = req->scheme == &H2O_URL_SCHEME_HTTPS ? "https" : "http";
    char url[400];
    snprintf(url, sizeof(url), "%s://%.*s/Microsoft-Server-ActiveSync", scheme,
             (int)req->authority.len, req->authority.base);
    snprintf(xml, sizeof(xml),
             "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
             "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
             "responseschema/2006\">\n"
             "  <Response xmlns=\"" MOBILESYNC_RESPONSE "\">\n"
             "    <Culture>en:us</Culture>\n"
             "    <User><DisplayName>%s</DisplayName><EMailAddress>%s</EMailAddress></User>\n"
             "    <Action><Settings><Server><Type>MobileSync</Type><Url>%s</Url><Name>%s</Name>"
             "</Server></Settings></Action>\n"
             "  </Response>\n"
             "</Autodiscover>\n",
             u->name, u->email, url, url);
    answer(w, req, 200, xml);
    return 0;
}

int el__srv_autodiscover_register(struct el_srv_http *h, h2o_hostconf_t *host)
{
    /* h2o picks the first registered path that matches, so these go before "/"; paths are
     * case-sensitive in h2o: the spellings phones use */
    static const char *const paths[] = {"/autodiscover/autodiscover.xml",
                                        "/Autodiscover/Autodiscover.xml",
                                        "/AutoDiscover/AutoDiscover.xml"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        h2o_pathconf_t *pc = h2o_config_register_path(host, paths[i], 0);
        struct ad_handler *ah = (struct ad_handler *)h2o_create_handler(pc, sizeof(*ah));
        ah->super.on_req = on_req;
        ah->h = h;
    }
    return 0;
}
