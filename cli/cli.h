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
int el_cli_run(const struct el_cli_cmd *cmd, int argc, char **argv);

#endif
