/* cli_report.c - `easload report results.json`: prints the summary table, outcome classes,
 * per-device bytes, checks and thresholds (PASS/FAIL) of a run or a merged run; --junit,
 * --timeline and --html also write junit.xml, timeline.csv and a self-contained report.html. Exit 1
 * if a check or threshold failed. Owns: the results of one call. Uses: results/results.h, cli.h. */
#include "cli.h"

#include <stdio.h>

#include "results.h"

int el_cli_report(const struct el_cli_cmd *cmd, int argc, char **argv)
{
    const char *html = NULL, *junit = NULL, *timeline = NULL;
    const struct el_cli_flag flags[] = {
        {"--html", 0, 1, &html, NULL},
        {"--junit", 0, 1, &junit, NULL},
        {"--timeline", 0, 1, &timeline, NULL},
        {NULL, 0, 0, NULL, NULL},
    };
    const char *pos[1];
    int npos;
    int rc = el_cli_parse(cmd, argc, argv, flags, pos, 1, &npos);
    if (rc != 0)
        return rc > 0 ? EL_EXIT_OK : EL_EXIT_USAGE;
    if (npos != 1) {
        el_cli_error(cmd, "expected one results.json (see --help)");
        return EL_EXIT_USAGE;
    }
    struct el_err err;
    struct el_results *r = NULL;
    struct el_results_meta meta;
    rc = el_results_read_json(pos[0], &r, &meta, &err);
    if (rc < 0) {
        el_cli_error(cmd, "%s", err.msg);
        return rc == EL_EIO || rc == EL_ENOMEM ? EL_EXIT_FATAL : EL_EXIT_FAIL;
    }
    int exit_code = EL_EXIT_OK;
    if (junit != NULL && (rc = el_results_write_junit(r, &meta, junit, &err)) < 0) {
        el_cli_error(cmd, "%s", err.msg);
        exit_code = EL_EXIT_FATAL;
    }
    if (exit_code == EL_EXIT_OK && timeline != NULL &&
        (rc = el_results_write_timeline_csv(r, timeline, &err)) < 0) {
        el_cli_error(cmd, "%s", err.msg);
        exit_code = EL_EXIT_FATAL;
    }
    if (exit_code == EL_EXIT_OK && html != NULL &&
        (rc = el_results_write_html(r, &meta, html, &err)) < 0) {
        el_cli_error(cmd, "%s", err.msg);
        exit_code = EL_EXIT_FATAL;
    }
    if (exit_code == EL_EXIT_OK) {
        el_results_print_report(r, &meta, stdout);
        if (fflush(stdout) != 0) {
            el_cli_error(cmd, "stdout: write error");
            exit_code = EL_EXIT_FATAL;
        } else if (el_results_evaluate(r) > 0) {
            exit_code = EL_EXIT_FAIL;
        }
    }
    el_results_meta_clear(&meta);
    el_results_free(r);
    return exit_code;
}
