/* cli_certcheck.c - `easload certcheck https://HOST[:PORT] --names a,b,c`: fetch the chain as a
 * phone would, print each check and a verdict per device profile (core/tls.h, tls_check.c); and
 * the helpers probe shares with it (URL split, --resolve, profiles to TLS policies).
 * Owns: nothing beyond the call. Uses: cli.h, core/tls.h, core/eas.h (profiles), libcurl (URL). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "eas.h"
#include "tls.h"

int el_cli_split_url(const char *url, struct el_cli_url *out)
{
    memset(out, 0, sizeof(*out));
    CURLU *u = curl_url();
    if (u == NULL)
        return -1;
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto done;
    if (strlen(host) >= sizeof(out->host) || strlen(path) >= sizeof(out->path))
        goto done;
    out->https = strcasecmp(scheme, "https") == 0;
    if (!out->https && strcasecmp(scheme, "http") != 0)
        goto done;
    snprintf(out->host, sizeof(out->host), "%s", host);
    snprintf(out->path, sizeof(out->path), "%s", path);
    out->port = (unsigned)strtoul(port, NULL, 10);
    rc = 0;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

int el_cli_resolve_addr(const char *resolve, const char *host, unsigned port, char *addr,
                        size_t cap)
{
    if (resolve == NULL)
        return 0;
    /* HOST:PORT:ADDR[,ADDR...]; an IPv6 address may be in brackets */
    const char *c1 = strchr(resolve, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c1 == NULL || c2 == NULL)
        return -1;
    if ((size_t)(c1 - resolve) != strlen(host) || strncasecmp(resolve, host, strlen(host)) != 0 ||
        strtoul(c1 + 1, NULL, 10) != port)
        return 0;
    const char *a = c2 + 1;
    size_t n = strcspn(a, ",");
    if (n > 0 && a[0] == '[' && a[n - 1] == ']') {
        a++;
        n -= 2;
    }
    if (n == 0 || n >= cap)
        return -1;
    memcpy(addr, a, n);
    addr[n] = '\0';
    return 1;
}

int el_cli_tls_policies(const char *profile, struct el_tls_policy *out, unsigned cap)
{
    unsigned n = 0;
    for (const struct el_eas_profile *p = el_eas_profiles; p->name && n < cap; p++) {
        if (profile && strcasecmp(profile, p->name) != 0)
            continue;
        out[n].name = p->name;
        out[n].security_level = p->tls_security_level;
        out[n].accepts_wildcard = p->accepts_wildcard;
        n++;
    }
    return (int)n;
}

/* Splits "a,b,c" into names (pointers into buf, NULL-terminated). */
static int split_names(char *buf, const char **names, unsigned cap)
{
    unsigned n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n + 1 >= cap)
            return -1;
        names[n++] = t;
    }
    names[n] = NULL;
    return (int)n;
}

int el_cli_certcheck(const struct el_cli_cmd *cmd, int argc, char **argv)
{
    const char *names_arg = NULL, *ca = NULL, *profile = NULL, *resolve = NULL;
    int json = 0;
    const struct el_cli_flag flags[] = {
        {"--names", 0, 1, &names_arg, NULL}, {"--ca", 0, 1, &ca, NULL},
        {"--profile", 0, 1, &profile, NULL}, {"--resolve", 0, 1, &resolve, NULL},
        {"--json", 0, 0, NULL, &json},       {NULL, 0, 0, NULL, NULL},
    };
    const char *pos[1];
    int npos = 0;
    int prc = el_cli_parse(cmd, argc, argv, flags, pos, 1, &npos);
    if (prc != 0)
        return prc > 0 ? EL_EXIT_OK : EL_EXIT_USAGE;
    struct el_cli_url u;
    if (npos != 1 || el_cli_split_url(pos[0], &u) != 0 || !u.https) {
        el_cli_error(cmd, "expected one https://HOST[:PORT] URL (see --help)");
        return EL_EXIT_USAGE;
    }
    struct el_tls_policy policies[EL_TLS_CHECK_MAX_POLICIES];
    int npol = el_cli_tls_policies(profile, policies, EL_TLS_CHECK_MAX_POLICIES);
    if (npol <= 0) {
        el_cli_error(cmd, "--profile: unknown profile '%s'", profile);
        return EL_EXIT_USAGE;
    }
    char namebuf[2048];
    const char *names[EL_TLS_CHECK_MAX_NAMES + 1] = {u.host, NULL};
    if (names_arg) {
        snprintf(namebuf, sizeof(namebuf), "%s", names_arg);
        if (split_names(namebuf, names, EL_TLS_CHECK_MAX_NAMES + 1) <= 0) {
            el_cli_error(cmd, "--names: expected 1 to %d names separated by commas",
                         EL_TLS_CHECK_MAX_NAMES);
            return EL_EXIT_USAGE;
        }
    }
    char addr[128];
    int rr = el_cli_resolve_addr(resolve, u.host, u.port, addr, sizeof(addr));
    if (rr < 0) {
        el_cli_error(cmd, "--resolve: expected HOST:PORT:ADDR");
        return EL_EXIT_USAGE;
    }
    struct el_tls_check_opts o = {
        .host = u.host,
        .port = u.port,
        .connect_addr = rr > 0 ? addr : NULL,
        .ca_file = ca && strcmp(ca, "system") != 0 && strcmp(ca, "none") != 0 ? ca : NULL,
        .trust_none = ca && strcmp(ca, "none") == 0,
        .names = names,
        .policies = policies,
        .npolicies = (unsigned)npol,
    };
    struct el_tls_check *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        el_cli_error(cmd, "out of memory");
        return EL_EXIT_FATAL;
    }
    struct el_err err;
    memset(&err, 0, sizeof(err));
    int rc = el_tls_check_run(&o, c, &err);
    if (rc < 0) {
        el_cli_error(cmd, "%s", err.msg);
        free(c);
        return rc == EL_EINVAL ? EL_EXIT_USAGE : EL_EXIT_FATAL;
    }
    if (json)
        el_tls_check_print_json(c, stdout);
    else
        el_tls_check_print(c, stdout);
    int passed = el_tls_check_passed(c);
    free(c);
    return passed ? EL_EXIT_OK : EL_EXIT_FAIL;
}
