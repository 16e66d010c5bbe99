/* cli.h - what the subcommands of the easload binary share: the table row, flag parsing,
 * whole-file input and exit codes.
 * Owns: nothing. Uses: core/buf.h, core/error.h. */
#ifndef EL_CLI_H
#define EL_CLI_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

/* Exit codes, documented in docs/cli.md. */
enum {
    EL_EXIT_OK = 0,
    EL_EXIT_FAIL = 1,  /* a check/threshold failed, or the input was malformed */
    EL_EXIT_USAGE = 2, /* bad flag, bad argument, command not built yet */
    EL_EXIT_FATAL = 3, /* target unreachable, I/O error, out of memory */
};

struct el_cli_cmd {
    const char *name;
    int (*run)(const struct el_cli_cmd *cmd, int argc, char **argv); /* NULL: not built yet */
    const char *summary;
    const char *usage; /* full --help text */
};

/* One flag a subcommand accepts. */
struct el_cli_flag {
    const char *name; /* "--out" */
    char short_name;  /* 'o' or 0 */
    int has_arg;
    const char **value; /* where the argument goes (has_arg) */
    int *set;           /* set to 1 when seen (no argument) */
};

/* Parses argv[1..] against flags; positional arguments are gathered in pos (at most max_pos).
 * "--help"/"-h" prints cmd->usage and returns 1 (caller exits 0). On an unknown flag or a
 * missing argument prints one line naming it and returns -1 (caller exits 2). */
int el_cli_parse(const struct el_cli_cmd *cmd, int argc, char **argv,
                 const struct el_cli_flag *flags, const char **pos, int max_pos, int *npos);

/* Every value of a repeatable flag (the parser keeps only the last): "--name V" and
 * "--name=V" in argv order, into out (borrowed from argv). The count, or -1 when more than cap
 * (the caller names the flag). */
int el_cli_collect(int argc, char **argv, const char *name, const char **out, unsigned cap);

/* --auth NAME of run and probe (issue 7): basic, bearer, ntlm, cert -> EL_CLI_AUTH_*; -1 for
 * another name. */
enum {
    EL_CLI_AUTH_BASIC,
    EL_CLI_AUTH_BEARER,
    EL_CLI_AUTH_NTLM,
    EL_CLI_AUTH_CERT
};
int el_cli_auth_lookup(const char *name);

/* Reads a whole file ("-" = stdin) into b, capped at b->max. 0 or EL_EIO / EL_ELIMIT with err. */
int el_cli_read_file(const char *path, struct el_buf *b, struct el_err *err);
/* Writes n bytes to path ("-" or NULL = stdout). 0 or EL_EIO with err. */
int el_cli_write_file(const char *path, const void *p, size_t n, struct el_err *err);

/* Prints "easload CMD: MESSAGE" on stderr. */
void el_cli_error(const struct el_cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int el_cli_wbxml(const struct el_cli_cmd *cmd, int argc, char **argv);
int el_cli_report(const struct el_cli_cmd *cmd, int argc, char **argv);
int el_cli_merge(const struct el_cli_cmd *cmd, int argc, char **argv);
int el_cli_serve(const struct el_cli_cmd *cmd, int argc, char **argv);
int el_cli_run(const struct el_cli_cmd *cmd, int argc, char **argv);
int el_cli_certs(const struct el_cli_cmd *cmd, int argc, char **argv);
int el_cli_certcheck(const struct el_cli_cmd *cmd, int argc, char **argv);
int el_cli_probe(const struct el_cli_cmd *cmd, int argc, char **argv);

/* ---- shared by certcheck and probe (cli_certcheck.c) ---- */
struct el_cli_url {
    int https;
    char host[256]; /* as curl gives it (an IPv6 literal keeps its brackets) */
    unsigned port;  /* the scheme's default when absent */
    char path[1024];
};
/* Splits an http(s) URL; 0 or -1 (not http/https, malformed, too long). */
int el_cli_split_url(const char *url, struct el_cli_url *out);
/* --resolve HOST:PORT:ADDR: copies ADDR when the entry is for host:port. 1 matched, 0 not (or
 * resolve is NULL), -1 malformed. */
int el_cli_resolve_addr(const char *resolve, const char *host, unsigned port, char *addr,
                        size_t cap);
/* probe's Autodiscover step (cli_probe_autodiscover.c): tries the POX endpoints in phone
 * order, prints a line per endpoint; 0 with eas_url set, or -1 when none gave one. */
struct el_eas_profile;
struct curl_slist;
struct el__cli_ad_opts {
    const char *email, *user, *password; /* borrowed; the password is not kept */
    const char *token;                   /* bearer token instead of the password, or NULL */
    unsigned port;                       /* 443 unless a test says otherwise */
    struct curl_slist *resolve;          /* borrowed; CURLOPT_RESOLVE entries */
    const char *ca_file;
    int trust_none;
    const struct el_eas_profile *profile;
    int verbose;
};
int el__cli_autodiscover(const struct el__cli_ad_opts *o, char *eas_url, size_t cap);

struct el_tls_policy;
/* The TLS policies of every device profile, or of the one named; the count (0: unknown name). */
int el_cli_tls_policies(const char *profile, struct el_tls_policy *out, unsigned cap);

#endif
