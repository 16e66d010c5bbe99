/* cli_merge.c - `easload merge A.json B.json ... -o merged.json`: adds the results of workers,
 * shards or runs of one scenario exactly (histograms bucket by bucket, counters, checks, devices,
 * timeline); refuses files of another schema version, histogram configuration or scenario,
 * naming the file. Owns: the results of one call. Uses: results/results.h, cli.h. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "results.h"

#define MERGE_MAX_FILES 4096

static int same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static int exit_for(int rc)
{
    return rc == EL_EIO || rc == EL_ENOMEM ? EL_EXIT_FATAL : EL_EXIT_FAIL;
}

int el_cli_merge(const struct el_cli_cmd *cmd, int argc, char **argv)
{
    const char *out_path = NULL;
    const struct el_cli_flag flags[] = {
        {"--out", 'o', 1, &out_path, NULL},
        {NULL, 0, 0, NULL, NULL},
    };
    static const char *pos[MERGE_MAX_FILES];
    int npos;
    int rc = el_cli_parse(cmd, argc, argv, flags, pos, MERGE_MAX_FILES, &npos);
    if (rc != 0)
        return rc > 0 ? EL_EXIT_OK : EL_EXIT_USAGE;
    if (npos < 1) {
        el_cli_error(cmd, "expected at least one results.json to merge (see --help)");
        return EL_EXIT_USAGE;
    }
    if (out_path == NULL) {
        el_cli_error(cmd, "missing -o merged.json (see --help)");
        return EL_EXIT_USAGE;
    }

    struct el_err err;
    struct el_results *dst = NULL;
    struct el_results_meta meta;
    int exit_code = EL_EXIT_OK;
    rc = el_results_read_json(pos[0], &dst, &meta, &err);
    if (rc < 0) {
        el_cli_error(cmd, "%s", err.msg);
        return exit_for(rc);
    }
    for (int i = 1; i < npos; i++) {
        struct el_results *src = NULL;
        struct el_results_meta m;
        rc = el_results_read_json(pos[i], &src, &m, &err);
        if (rc < 0) {
            el_cli_error(cmd, "%s", err.msg);
            exit_code = exit_for(rc);
            goto done;
        }
        if (!same_str(m.scenario, meta.scenario)) {
            el_cli_error(cmd, "%s: scenario '%s' differs from '%s' in %s", pos[i],
                         m.scenario ? m.scenario : "(none)",
                         meta.scenario ? meta.scenario : "(none)", pos[0]);
            exit_code = EL_EXIT_FAIL;
        } else {
            rc = el_results_merge(dst, src, &err);
            if (rc < 0) {
                el_cli_error(cmd, "%s: cannot merge into %s: %s", pos[i], pos[0], err.msg);
                exit_code = exit_for(rc == EL_EINVAL ? EL_EFORMAT : rc);
            }
        }
        if (exit_code == EL_EXIT_OK) {
            if (m.start_unix_us < meta.start_unix_us)
                meta.start_unix_us = m.start_unix_us;
            if (m.end_unix_us > meta.end_unix_us)
                meta.end_unix_us = m.end_unix_us;
            meta.devices += m.devices;
        }
        el_results_meta_clear(&m);
        el_results_free(src);
        if (exit_code != EL_EXIT_OK)
            goto done;
    }
    if (npos > 1) {
        meta.shard = 0;
        meta.shards = 1;
    }
    rc = el_results_write_json(dst, &meta, out_path, &err);
    if (rc < 0) {
        el_cli_error(cmd, "%s", err.msg);
        exit_code = EL_EXIT_FATAL;
    }
done:
    el_results_meta_clear(&meta);
    el_results_free(dst);
    return exit_code;
}
