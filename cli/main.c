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
     "                   [--log LEVEL] [--no-progress] [--allow-remote] [--shard I/N]\n"
     "                   [--resolve HOST:PORT:ADDR]... [--var KEY=VALUE]...\n"
     "                   [--auth basic|bearer|ntlm|cert] [--token-file F] [--client-certs DIR]\n"
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
     "--shard I/N        run slice I (0..N-1) of the devices (and arrivals) only, e.g. one\n"
     "                   machine or Kubernetes completion index of N; device numbers, users,\n"
     "                   seeds and profiles stay those of the whole run, so `easload merge`\n"
     "                   of the N results equals one unsharded run\n"
     "--resolve H:P:ADDR connect to ADDR for host H port P, as curl's (repeatable): a\n"
     "                   certificate's names (owa.example.com) reach 127.0.0.1, which then\n"
     "                   counts as a loopback target\n"
     "--var KEY=VALUE    a scenario parameter, easload.var(\"KEY\") in Lua (repeatable)\n"
     "--auth MODE        basic (default: Authorization: Basic), bearer (the user's token from\n"
     "                   --token-file), ntlm (NTLMv2 through libcurl, per connection), cert\n"
     "                   (no Authorization: the client certificate names the user)\n"
     "--token-file F     user,token CSV (`easload serve --issue-tokens F`): the users and\n"
     "                   their bearer tokens; implies --auth bearer\n"
     "--client-certs DIR each device presents DIR/<user>/cert.pem and key.pem when the\n"
     "                   server asks (`easload certs make D --clients N`: DIR = D/client)\n"
     "\n"
     "Progress: one line a second on stderr (devices active, req/s, errors, p99 so far).\n"
     "Ctrl-C stops gracefully (a second Ctrl-C cancels requests in flight at once).\n"
     "Exit: 0 ok, 1 a threshold or check failed, 2 usage or scenario load error, 3 fatal.\n"},
    {"serve", el_cli_serve, "the built-in reference EAS server",
     "usage: easload serve [--listen 127.0.0.1:8080] [--tls-listen ADDR --cert F --key F\n"
     "                     [--chain F] | --tls-listen ADDR --cert-fixture DIR/NAME]\n"
     "                     [--admin ADDR] [--users N | --users-file F] [--seed N]\n"
     "                     [--items N] [--workers N] [--max-body BYTES]\n"
     "                     [--duration SECONDS] [--allow-remote]\n"
     "                     [--max-devices-per-user N] [--max-concurrency-per-user N]\n"
     "                     [--budget-per-user N/60s] [--retry-after S] [--mailbox-quota BYTES]\n"
     "                     [--redirect URL] [--fault SPEC]... [--no-policy] [--sync-replay]\n"
     "                     [--issue-tokens F] [--client-ca F] [--ntlm]\n"
     "\n"
     "--listen ADDR      plain HTTP EAS endpoint (default 127.0.0.1:8080 when no --tls-listen);\n"
     "                   port 0 picks a free port\n"
     "--tls-listen ADDR  HTTPS endpoint with --cert (PEM, may hold the chain), --key and\n"
     "                   optionally --chain (PEM intermediates)\n"
     "--cert-fixture DIR/NAME  serve a chain of `easload certs make` (DIR/NAME/cert.pem and\n"
     "                   key.pem) on --tls-listen, instead of --cert/--key/--chain\n"
     "--issue-tokens F   issue one OAuth bearer token per user, written to F as CSV\n"
     "                   (user,token); requests may then authenticate with\n"
     "                   'Authorization: Bearer TOKEN' instead of Basic\n"
     "--client-ca F      require a client certificate issued by this CA (PEM) in the TLS\n"
     "                   handshake (`easload certs make` writes DIR/client/ca.pem); a\n"
     "                   request without Authorization is the user it names (email SAN\n"
     "                   local part, else CN; an unknown user gets 403)\n"
     "--ntlm             also accept NTLM (NTLMv2), which authenticates a connection\n"
     "--admin ADDR       admin JSON API (loopback only): POST /deliver /wipe /policy,\n"
     "                   GET /state[?user=U[&device=D]] /stats, GET|POST /limits /faults,\n"
     "                   POST /redirect (docs/server.md)\n"
     "--users N          user1..userN with passwords pass1..passN (default 100)\n"
     "--users-file F     CSV with header user,password[,email,...]\n"
     "--seed N           mailboxes are generated from it (default 1)\n"
     "--items N          generated items per mail folder (default: the server's)\n"

     "--workers N        threads, each with its own event loop (default: cores)\n"
     "--max-body BYTES   larger request bodies get 413 (default 16M; suffix k, M)\n"
     "--duration T       stop after T seconds (suffix s, m, h); else on SIGTERM/SIGINT\n"
     "--allow-remote     allow a listener on a non-loopback address\n"
     "--no-policy        no device policy, like servers without one (SOGo): commands need no\n"
     "                   X-MS-PolicyKey, never 142-144/449 (a pending wipe still gets 140);\n"
     "                   Provision still works. For bench/peers: tools that cannot provision\n"
     "--sync-replay      a Sync answers its window but leaves the folder's state and SyncKey\n"
     "                   as they were: the same request gets the same answer again (for\n"
     "                   bench/engine.sh: wrk and a bare curl loop replay one body)\n"
     "\n"
     "Throttling (Exchange-like; all changeable during a run with POST /limits):\n"
     "--max-devices-per-user N  device partnerships per mailbox (EASMaxDevices); a new device\n"
     "                   beyond it gets status 177 (12.1: 403); default 10, 0 = no limit\n"
     "                   (--max-devices N is the same flag)\n"
     "--max-concurrency-per-user N  requests in flight per user, held Pings included\n"
     "                   (EASMaxConcurrency); over it: 503, Retry-After, X-MS-ASThrottle\n"
     "--budget-per-user N/60s  requests per window per user (token bucket; window s, m, h);\n"
     "                   over it: 503 with Retry-After = seconds until the next token\n"
     "--retry-after S    Retry-After of a concurrency 503 (default 5)\n"
     "--mailbox-quota BYTES  at or over it: Sync Adds get Status 9, SendMail, SmartReply,\n"
     "                   SmartForward and MoveItems 113 (12.1: HTTP 507); suffix k, M, G\n"
     "--redirect URL     answer every request with 451 and X-MS-Location: URL (another\n"
     "                   easload serve); POST /redirect does it per user\n"
     "\n"
     "Fault injection (off unless asked; repeatable; POST /faults during a run):\n"
     "--fault SPEC       COMMANDS:ACTION[@WHEN]\n"
     "   COMMANDS        all, or names joined by +: sync, ping+foldersync, sendmail, ...\n"
     "   ACTION          latency=DUR (2000ms, 2s)  http500  http503[=RETRY_AFTER_S]  http507\n"
     "                   drop (no answer, connection closed)  cut (half the body, closed)\n"
     "                   truncate (half the WBXML body)  malformed (inverted bytes)\n"
     "                   trickle[=DUR] (body in ~20 chunks DUR apart)\n"
     "                   vanish[=N] (Sync: N held items deleted on the server first)\n"
     "                   resetkey (Sync status 3, FolderSync status 9)\n"
     "   WHEN            P% (0.25%), everyN (every100), FROM-TO (10s-30s after start);\n"
     "                   none = every matching request; draws are deterministic per --seed\n"
     "   e.g. --fault sync:drop@5% --fault 'ping:latency=2000ms@10%' --fault all:http500@every100\n"
     "Counters of every knob and fault: GET /stats (sections throttle, faults).\n"
     "\n"
     "Once ready, prints one line per listener on stdout:\n"
     "  easload serve: listening on http://127.0.0.1:PORT\n"
     "  easload serve: listening on https://127.0.0.1:PORT\n"
     "  easload serve: listening on admin http://127.0.0.1:PORT\n"
     "Exit: 0 stopped, 2 usage error, 3 cannot listen or read a file.\n"},
    {"probe", el_cli_probe, "one device against a server, every step traced",
     "usage: easload probe URL|--email ADDR --user NAME [--password P | --token-file F]\n"
     "                     [--auth basic|bearer|ntlm|cert] [--client-cert F [--client-key F]]\n"
     "                     [--profile P]\n"
     "                     [--ca FILE|system|none] [--resolve HOST:PORT:ADDR]...\n"
     "                     [--autodiscover-port N] [--heartbeat S] [--no-ping] [-v]\n"
     "\n"
     "URL                the EAS server (http:// or https://; /Microsoft-Server-ActiveSync is\n"
     "                   added when the path is empty)\n"
     "--email ADDR       Autodiscover first: POST to https://DOMAIN/autodiscover/autodiscover.xml,\n"
     "                   then https://autodiscover.DOMAIN/... (phone order); each endpoint's\n"
     "                   answer or failure is shown; without URL the EAS URL found is probed\n"
     "--autodiscover-port N  port of the Autodiscover endpoints (default 443)\n"
     "--user NAME        the mailbox user\n"
     "--password P       else $EASLOAD_PASSWORD, else asked on the terminal; never printed\n"
     "--token-file F     OAuth bearer token instead of a password: F holds the token, or is\n"
     "                   the user,token CSV of `easload serve --issue-tokens`\n"
     "--client-cert F    client certificate (PEM) for servers that require one; --client-key F\n"
     "                   its key (default: in F)\n"
     "--auth MODE        basic (default), bearer (--token-file), ntlm (NTLMv2 through libcurl,\n"
     "                   with the password), cert (no Authorization: --client-cert names the\n"
     "                   user); ntlm and cert need the EAS URL (no --email)\n"
     "--profile P        android-14.1 (default), ios-16.1, outlook-16.1, wm-12.1\n"
     "--ca FILE          trusted roots (PEM); 'system' (default) or 'none'\n"
     "--resolve H:P:A    connect to address A for host H port P (as curl; repeatable), e.g.\n"
     "                   owa.example.com:8443:127.0.0.1\n"
     "--heartbeat S      Ping HeartbeatInterval (default 60, the smallest servers accept)\n"
     "--no-ping          stop after Sync\n"
     "-v                 show each request and response: headers (Authorization redacted) and\n"
     "                   WBXML bodies decoded as XML\n"
     "\n"
     "Steps, each with its time: DNS, TCP, TLS (the certcheck verdict for the profile), OPTIONS\n"
     "(versions, commands; a proxy that blocks OPTIONS), authentication (401, a forms login page\n"
     "or a redirect in front of EAS), Provision, FolderSync, Sync of the Inbox, Ping.\n"
     "Exit: 0 every step passed, 1 a step failed, 2 usage error, 3 fatal.\n"},
    {"certcheck", el_cli_certcheck, "judge a server's certificate chain as phones would",
     "usage: easload certcheck https://HOST[:PORT] [--names a,b,c] [--ca FILE|system|none]\n"
     "                         [--profile P] [--resolve HOST:PORT:ADDR] [--json]\n"
     "\n"
     "Fetches the chain with one handshake (phones do not fetch missing intermediates) and\n"
     "prints each check: chain complete, root trusted and not expired, every certificate's\n"
     "validity with days left, every name covered by a SAN, wildcard use, signature and key\n"
     "strength; then a verdict per device profile with the code the phone shows (0x80072F0D\n"
     "untrusted root or incomplete chain, 0x80072F06 name, 0x80072F05 date, ...).\n"
     "--names a,b,c      the names phones use (default: HOST), e.g.\n"
     "                   owa.example.com,autodiscover.example.com\n"
     "--ca FILE          trusted roots (PEM); 'system' (default) or 'none'\n"
     "--profile P        judge for one profile only (default: every profile)\n"
     "--resolve H:P:A    connect to address A for HOST:PORT (as curl)\n"
     "--json             one JSON object instead of text\n"
     "Exit: 0 every profile accepts, 1 a profile rejects, 2 usage error, 3 cannot connect.\n"},
    {"certs", el_cli_certs, "generate certificate fixture chains",
     "usage: easload certs make DIR [--clients N] [--client-domain D]\n"
     "\n"
     "Writes DIR/root.pem (the roots to trust: test root and expired root) and one directory per\n"
     "chain: valid, expired-root, expired-leaf, not-yet-valid, self-signed, san-missing,\n"
     "wildcard, incomplete-chain, sha1, rsa1024 (EC P-256 leaves but rsa1024) and\n"
     "valid-rsa2048, each with cert.pem (leaf + what the server\n"
     "sends), key.pem and chain.pem (the intermediates). Names: exchange.example.local,\n"
     "owa.example.com, mail.example.com, autodiscover.example.com. Validity is relative to now.\n"
     "Client certificates: DIR/client/ca.pem and DIR/client/userN/{cert,key}.pem for\n"
     "N = 1..--clients (default 5), UPN and address userN@D (default example.test).\n"
     "Serve one with: easload serve --tls-listen 127.0.0.1:8443 --cert-fixture DIR/valid\n"},
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
