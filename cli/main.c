/* main.c - the easload binary: dispatches the first argument through the subcommand table.
 * Owns: nothing. Uses: cli.h and one entry function per subcommand. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct el_cli_cmd commands[] = {
    {"run", NULL, "run a Lua scenario of simulated phones against a target",
     "usage: easload run SCENARIO --target URL [--devices N] [--ramp 30s] [--duration 5m]\n"
     "                   [--users FILE | --user-pattern 'user%d:pass%d'] [--out DIR]\n"
     "                   [--workers N] [--ca FILE | --insecure] [--threshold EXPR]...\n"},
    {"serve", NULL, "the built-in reference EAS server",
     "usage: easload serve [--listen 127.0.0.1:8080] [--tls-listen ADDR --cert F --key F]\n"
     "                     [--users N | --users-file F] [--seed N] [--admin ADDR] [--workers N]\n"},
    {"probe", NULL, "one device against a server, every step traced",
     "usage: easload probe URL --user NAME [--password P] [--profile P]\n"},
    {"certcheck", NULL, "judge a server's certificate chain as phones would",
     "usage: easload certcheck https://HOST[:PORT] --names a,b,c [--ca FILE] [--profile P]\n"},
    {"certs", NULL, "generate certificate fixture chains",
     "usage: easload certs make DIR\n"},
    {"report", NULL, "render results.json as a summary or an HTML report",
     "usage: easload report results.json [--html report.html]\n"},
    {"merge", NULL, "merge results of workers or shards exactly",
     "usage: easload merge A.json B.json ... -o merged.json\n"},
    {"wbxml", el_cli_wbxml, "decode or encode WBXML captures",
     "usage: easload wbxml decode [--hex] [-o OUT] FILE|-\n"
     "       easload wbxml encode [-o OUT] FILE|-\n"
     "\n"
     "decode  WBXML -> readable XML: tags as Page:Tag, <Tag/> for an empty element,\n"
     "        opaque data as <Tag opaque=\"base64\"> (--hex: opaque=\"hex\").\n"
     "encode  XML -> WBXML; the exact reverse of decode, and also libwbxml's form\n"
     "        (xmlns=\"Page:\" namespaces, its tag spellings such as Recurrence_Type).\n"
     "\n"
     "Errors name the file and the byte offset (decode) or line and column (encode).\n"
     "Exit: 0 ok, 1 malformed input, 2 usage error, 3 I/O error.\n"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: easload COMMAND [ARGS]   (easload COMMAND --help for its flags)\n\n"
                 "Exchange ActiveSync load tester, version %s\n\ncommands:\n",
            EL_VERSION);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s%s\n", commands[i].name, commands[i].summary,
                commands[i].run ? "" : " (not built yet)");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("easload %s\n", EL_VERSION);
        return EL_EXIT_OK;
    }
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return EL_EXIT_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const struct el_cli_cmd *c = &commands[i];
        if (strcmp(c->name, name) != 0)
            continue;
        if (c->run)
            return c->run(c, argc - 1, argv + 1);
        for (int a = 2; a < argc; a++) {
            if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
                fputs(c->usage, stdout);
                printf("\n'easload %s' is not built yet in this version.\n", c->name);
                return EL_EXIT_OK;
            }
        }
        el_cli_error(c, "not built yet in easload %s", EL_VERSION);
        return EL_EXIT_USAGE;
    }
    if (name[0] == '-')
        fprintf(stderr, "easload: unknown flag '%s' (see easload --help)\n", name);
    else
        fprintf(stderr, "easload: unknown command '%s' (see easload --help)\n", name);
    return EL_EXIT_USAGE;
}
