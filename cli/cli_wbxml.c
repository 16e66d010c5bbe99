/* cli_wbxml.c - `easload wbxml decode|encode`: WBXML captures <-> readable XML.
 * Owns: the input and output buffers of one call. Uses: core/wbxml.h, cli.h. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wbxml.h"

#define INPUT_MAX_BYTES  (64u << 20)
#define OUTPUT_MAX_BYTES (512u << 20)

int el_cli_wbxml(const struct el_cli_cmd *cmd, int argc, char **argv)
{
    const char *out_path = NULL;
    int hex = 0;
    const struct el_cli_flag flags[] = {
        {"--out", 'o', 1, &out_path, NULL},
        {"--hex", 0, 0, NULL, &hex},
        {NULL, 0, 0, NULL, NULL},
    };
    const char *pos[2];
    int npos;
    int rc = el_cli_parse(cmd, argc, argv, flags, pos, 2, &npos);
    if (rc != 0)
        return rc > 0 ? EL_EXIT_OK : EL_EXIT_USAGE;
    if (npos != 2 || (strcmp(pos[0], "decode") != 0 && strcmp(pos[0], "encode") != 0)) {
        el_cli_error(cmd, "expected 'decode FILE|-' or 'encode FILE|-' (see --help)");
        return EL_EXIT_USAGE;
    }
    int decode = strcmp(pos[0], "decode") == 0;
    const char *in_path = pos[1];
    if (!decode && (out_path == NULL || strcmp(out_path, "-") == 0) && isatty(STDOUT_FILENO)) {
        el_cli_error(cmd, "refusing to write binary WBXML to a terminal: use -o FILE or a pipe");
        return EL_EXIT_USAGE;
    }

    struct el_buf in, out;
    struct el_err err;
    el_buf_init(&in, INPUT_MAX_BYTES);
    el_buf_init(&out, OUTPUT_MAX_BYTES);
    int exit_code = EL_EXIT_OK;
    rc = el_cli_read_file(in_path, &in, &err);
    if (rc < 0) {
        el_cli_error(cmd, "%s", err.msg);
        exit_code = EL_EXIT_FATAL;
        goto done;
    }
    if (decode)
        rc = el_wbxml_to_xml(in.data, in.len, hex ? EL_WBXML_XML_HEX : 0, &out, &err);
    else
        rc = el_wbxml_from_xml(in.len ? (const char *)in.data : "", in.len, &out, &err);
    if (rc < 0) {
        el_cli_error(cmd, "%s: %s", strcmp(in_path, "-") == 0 ? "<stdin>" : in_path, err.msg);
        exit_code = rc == EL_ENOMEM ? EL_EXIT_FATAL : EL_EXIT_FAIL;
        goto done;
    }
    rc = el_cli_write_file(out_path, out.data, out.len, &err);
    if (rc < 0) {
        el_cli_error(cmd, "%s", err.msg);
        exit_code = EL_EXIT_FATAL;
    }
done:
    el_buf_close(&in);
    el_buf_close(&out);
    return exit_code;
}
