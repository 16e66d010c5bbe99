/* cli_args.c - flag parsing, whole-file I/O and error lines shared by all subcommands.
 * Owns: nothing. Uses: cli.h. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void el_cli_error(const struct el_cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "easload %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const struct el_cli_flag *find_long(const struct el_cli_flag *flags, const char *arg,
                                           size_t n)
{
    for (const struct el_cli_flag *f = flags; f && f->name; f++)
        if (strlen(f->name) == n && strncmp(f->name, arg, n) == 0)
            return f;
    return NULL;
}

static const struct el_cli_flag *find_short(const struct el_cli_flag *flags, char c)
{
    for (const struct el_cli_flag *f = flags; f && f->name; f++)
        if (f->short_name == c)
            return f;
    return NULL;
}

int el_cli_parse(const struct el_cli_cmd *cmd, int argc, char **argv,
                 const struct el_cli_flag *flags, const char **pos, int max_pos, int *npos)
{
    *npos = 0;
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
            if (*npos >= max_pos) {
                el_cli_error(cmd, "unexpected argument '%s' (see --help)", a);
                return -1;
            }
            pos[(*npos)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(cmd->usage, stdout);
            return 1;
        }
        const struct el_cli_flag *f;
        const char *inline_val = NULL;
        if (a[1] == '-') {
            const char *eq = strchr(a, '=');
            size_t n = eq ? (size_t)(eq - a) : strlen(a);
            f = find_long(flags, a, n);
            if (eq)
                inline_val = eq + 1;
        } else {
            f = a[2] == '\0' ? find_short(flags, a[1]) : NULL;
        }
        if (f == NULL) {
            el_cli_error(cmd, "unknown flag '%s' (see --help)", a);
            return -1;
        }
        if (!f->has_arg) {
            if (inline_val) {
                el_cli_error(cmd, "flag '%s' takes no value", f->name);
                return -1;
            }
            *f->set = 1;
            continue;
        }
        if (inline_val == NULL) {
            if (i + 1 >= argc) {
                el_cli_error(cmd, "flag '%s' needs a value", a);
                return -1;
            }
            inline_val = argv[++i];
        }
        *f->value = inline_val;
    }
    return 0;
}

int el_cli_auth_lookup(const char *name)
{
    static const char *const names[] = {[EL_CLI_AUTH_BASIC] = "basic",
                                        [EL_CLI_AUTH_BEARER] = "bearer",
                                        [EL_CLI_AUTH_NTLM] = "ntlm",
                                        [EL_CLI_AUTH_CERT] = "cert"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return (int)i;
    return -1;
}

int el_cli_collect(int argc, char **argv, const char *name, const char **out, unsigned cap)
{
    size_t n = strlen(name);
    unsigned k = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], name) == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
            v = argv[i] + n + 1;
        if (v == NULL)
            continue;
        if (k >= cap)
            return -1;
        out[k++] = v;
    }
    return (int)k;
}

int el_cli_read_file(const char *path, struct el_buf *b, struct el_err *err)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL)
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: %s", path, strerror(errno));
    int rc = 0;
    for (;;) {
        rc = el_buf_reserve(b, 65536);
        if (rc == EL_ELIMIT && b->len < b->max)
            rc = el_buf_reserve(b, b->max - b->len);
        if (rc < 0) {
            rc = EL_ERR(err, rc, EL_NO_OFFSET, "%s: larger than the limit of %zu bytes", path,
                        b->max);
            break;
        }
        size_t n = fread(b->data + b->len, 1, b->cap - b->len, f);
        b->len += n;
        if (n == 0) {
            if (ferror(f))
                rc = EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: read error: %s", path,
                            strerror(errno));
            break;
        }
    }
    if (!is_stdin)
        fclose(f);
    return rc;
}

int el_cli_write_file(const char *path, const void *p, size_t n, struct el_err *err)
{
    int is_stdout = path == NULL || strcmp(path, "-") == 0;
    FILE *f = is_stdout ? stdout : fopen(path, "wb");
    if (f == NULL)
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: %s", path, strerror(errno));
    int bad = n > 0 && fwrite(p, 1, n, f) != n;
    if (fflush(f) != 0)
        bad = 1;
    if (!is_stdout && fclose(f) != 0)
        bad = 1;
    if (bad)
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "%s: write error: %s",
                      is_stdout ? "stdout" : path, strerror(errno));
    return 0;
}
