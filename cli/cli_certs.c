/* cli_certs.c - `easload certs make DIR`: writes the certificate fixture chains (core/tls.h,
 * tls_fixtures.c) and says how to serve and check them.
 * Owns: nothing. Uses: cli.h, core/tls.h. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

int el_cli_certs(const struct el_cli_cmd *cmd, int argc, char **argv)
{
    const char *clients = NULL, *domain = NULL;
    const struct el_cli_flag flags[] = {
        {"--clients", 0, 1, &clients, NULL},
        {"--client-domain", 0, 1, &domain, NULL},
        {NULL, 0, 0, NULL, NULL},
    };
    const char *pos[2];
    int npos = 0;
    int prc = el_cli_parse(cmd, argc, argv, flags, pos, 2, &npos);
    if (prc != 0)
        return prc > 0 ? EL_EXIT_OK : EL_EXIT_USAGE;
    if (npos != 2 || strcmp(pos[0], "make") != 0) {
        el_cli_error(cmd, "expected 'make DIR' (see --help)");
        return EL_EXIT_USAGE;
    }
    struct el_err err;
    memset(&err, 0, sizeof(err));
    char *end = NULL;
    unsigned long nclients = clients ? strtoul(clients, &end, 10) : 5;
    if (clients && (*end != '\0' || nclients > 100000)) {
        el_cli_error(cmd, "--clients: 0..100000");
        return EL_EXIT_USAGE;
    }
    int rc = el_tls_fixtures_make(pos[1], &err);
    if (rc == 0 && nclients > 0)
        rc = el_tls_fixtures_make_clients(pos[1], (unsigned)nclients,
                                          domain ? domain : "example.test", &err);
    if (rc < 0) {
        el_cli_error(cmd, "%s", err.msg);
        return EL_EXIT_FATAL;
    }
    printf("%s/root.pem  trusted roots (test root, expired root)\n", pos[1]);
    for (const char *const *n = el_tls_fixture_names; *n; n++)
        printf("%s/%s/  cert.pem key.pem%s\n", pos[1], *n,
               strcmp(*n, "self-signed") == 0 ? "" : " chain.pem");
    if (nclients > 0)
        printf("%s/client/ca.pem  client CA (serve --client-ca); client/user1..user%lu/ cert.pem "
               "key.pem\n",
               pos[1], nclients);
    return EL_EXIT_OK;
}
