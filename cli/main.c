/* main.c - the easload binary: dispatches the first argument through the subcommand table.
 * Owns: nothing. Uses: cli.h and one entry function per subcommand. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct el_cli_cmd commands[] = {
    {"run", el_cli_run, "run a Lua scenario of simulated phones against a target",
     "usage: easload run SCENARIO --target URL [--devices N] [--ramp 30s] [--duration 5m]\n"
     "                   [--users FILE | --user-pattern 'user%d:pass%d' [--user-count N]]\n"
     "                   [--out DIR] [--workers N] [--ca FILE | --insecure]\n"
     "                   [--threshold EXPR]... [--admin URL] [--profile P] [--seed N]\n"
     "                   [--log LEVEL] [--no-progress] [--allow-remote]\n"
     "\n"
     "SCENARIO           a Lua file: scenario{...} and function device(d) (lua/README.md)\n"
     "--target URL       the EAS server, http:// or https:// (loopback only unless\n"
     "                   --allow-remote); TLS is verified (--ca FILE adds roots)\n"
     "--devices N        simulated phones (overrides scenario.devices)\n"
     "--ramp T           start the devices evenly over T (30s, 5m)\n"
     "--duration T       load phase; then requests in flight get 5 s, long polls end at once\n"
     "--users FILE       CSV with header user,password[,email]; several devices share a user\n"
     "                   when devices > users\n"
     "--user-pattern P   'user%d:pass%d' for users 1..--user-count (default 100: easload\n"
     "                   serve's users); default when neither is given\n"
     "--out DIR          results.json, timeline.csv, junit.xml (default ./results); written\n"
     "                   also after Ctrl-C or a fatal error\n"
     "--workers N        worker processes (default: cores); devices are split among them and\n"
     "                   their results merged exactly\n"
     "--threshold EXPR   e.g. 'sync.p99<800ms', 'errors.rate<1%' (repeatable; adds to the\n"
     "                   scenario's)\n"
     "--admin URL        easload serve's admin API, for easload.deliver() and push latency\n"
     "--profile P        android-14.1, ios-16.1, outlook-16.1, wm-12.1 (overrides the\n"
     "                   scenario's profile or shares)\n"
     "--log LEVEL        error, warn, info (default), debug (a line per failed request)\n"
     "\n"
     "Progress: one line a second on stderr (devices active, req/s, errors, p99 so far).\n"
     "Ctrl-C stops gracefully (a second Ctrl-C cancels requests in flight at once).\n"
     "Exit: 0 ok, 1 a threshold or check failed, 2 usage or scenario load error, 3 fatal.\n"},
    {"serve", el_cli_serve, "the built-in reference EAS server",
     "usage: easload serve [--listen 127.0.0.1:8080] [--tls-listen ADDR --cert F --key F\n"
     "                     [--chain F]] [--admin ADDR] [--users N | --users-file F] [--seed N]\n"
     "                     [--items N] [--max-devices N] [--workers N] [--max-body BYTES]\n"
     "                     [--duration SECONDS] [--allow-remote]\n"
     "\n"
     "--listen ADDR      plain HTTP EAS endpoint (default 127.0.0.1:8080 when no --tls-listen);\n"
     "                   port 0 picks a free port\n"
     "--tls-listen ADDR  HTTPS endpoint with --cert (PEM, may hold the chain), --key and\n"
     "                   optionally --chain (PEM intermediates)\n"
     "--admin ADDR       admin JSON API (loopback only): POST /deliver /wipe /policy,\n"
     "                   GET /state[?user=U[&device=D]] /stats\n"
     "--users N          user1..userN with passwords pass1..passN (default 100)\n"
     "--users-file F     CSV with header user,password[,email,...]\n"
     "--seed N           mailboxes are generated from it (default 1)\n"
     "--items N          generated items per mail folder (default: the server's)\n"
     "--max-devices N    device partnerships per mailbox, then status 177 (default 0: no limit)\n"
     "--workers N        threads, each with its own event loop (default: cores)\n"
     "--max-body BYTES   larger request bodies get 413 (default 16M; suffix k, M)\n"
     "--duration T       stop after T seconds (suffix s, m, h); else on SIGTERM/SIGINT\n"
     "--allow-remote     allow a listener on a non-loopback address\n"
     "\n"
     "Once ready, prints one line per listener on stdout:\n"
     "  easload serve: listening on http://127.0.0.1:PORT\n"
     "  easload serve: listening on https://127.0.0.1:PORT\n"
     "  easload serve: listening on admin http://127.0.0.1:PORT\n"
     "Exit: 0 stopped, 2 usage error, 3 cannot listen or read a file.\n"},
    {"probe", NULL, "one device against a server, every step traced",
     "usage: easload probe URL --user NAME [--password P] [--profile P]\n"},
    {"certcheck", NULL, "judge a server's certificate chain as phones would",
     "usage: easload certcheck https://HOST[:PORT] --names a,b,c [--ca FILE] [--profile P]\n"},
    {"certs", NULL, "generate certificate fixture chains",
     "usage: easload certs make DIR\n"},
    {"report", el_cli_report, "render results.json as a summary or an HTML report",
     "usage: easload report results.json [--junit junit.xml] [--timeline timeline.csv]\n"
     "                      [--html report.html]\n"
     "\n"
     "Prints the run's table (requests, errors, late starts, p50/p90/p99/max, bytes per\n"
     "command), outcome classes, counters, per-device bytes, checks and thresholds.\n"
     "--junit FILE     also write junit.xml (one testcase per check and threshold)\n"
     "--timeline FILE  also write timeline.csv (one row per second)\n"
     "--html FILE      also write a self-contained HTML page (inline SVG plots, no network)\n"
     "Exit: 0 all checks and thresholds passed, 1 one failed or the file is malformed,\n"
     "2 usage error, 3 I/O error.\n"},
    {"merge", el_cli_merge, "merge results of workers or shards exactly",
     "usage: easload merge A.json B.json ... -o merged.json\n"
     "\n"
     "Adds the runs' histograms bucket by bucket (percentiles of the merge are exact), counters,\n"
     "checks, per-device bytes and timelines; start/end span all inputs, devices add up.\n"
     "Refuses files of another schema version, histogram configuration or scenario.\n"
     "Exit: 0 merged, 1 malformed or incompatible input, 2 usage error, 3 I/O error.\n"},
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
