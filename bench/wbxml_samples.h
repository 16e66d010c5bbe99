/* wbxml_samples.h - realistic EAS messages written with our encoder, for bench_wbxml.c and the
 * allocation test (tests/unit/test_wbxml_alloc.c): a 50-item email Sync response with HTML
 * bodies of 1-6 KB, a FolderSync response with 20 folders, a Ping request and a Ping response.
 * Owns: the sample data (struct el_bench_samples; bodies in one malloc'd store). The data is
 * generated once, deterministically, so writing a message is only encoder calls. */
#ifndef EL_BENCH_WBXML_SAMPLES_H
#define EL_BENCH_WBXML_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "wbxml.h"

#define EL_BENCH_SYNC_ITEMS 50
#define EL_BENCH_FOLDERS    20

struct el_bench_mail {
    char server_id[16];
    char to[96];
    char from[96];
    char display_to[64];
    char subject[128];
    char thread_topic[128];
    char date_received[32];
    unsigned importance;
    unsigned read;
    const char *body; /* borrowed from el_bench_samples.body_store */
    size_t body_len;
    uint8_t conversation_id[16];
    uint8_t conversation_index[5];
};

struct el_bench_folder {
    char server_id[8];
    char parent_id[8];
    char display_name[48];
    unsigned type;
};

struct el_bench_samples {
    struct el_bench_mail mail[EL_BENCH_SYNC_ITEMS];
    struct el_bench_folder folders[EL_BENCH_FOLDERS];
    char *body_store; /* owned: every mail body, one after another */
    size_t body_store_len;
};

/* Generates the sample data. 0 or EL_ENOMEM. */
int el_bench_samples_init(struct el_bench_samples *s);
void el_bench_samples_close(struct el_bench_samples *s);

/* One message kind: appends a whole document (header included) to out with the encoder.
 * Returns el_wbxml_encoder_finish()'s result: 0, or EL_ELIMIT if out's cap is too small. */
typedef int el_bench_write_fn(struct el_buf *out, const struct el_bench_samples *s,
                              struct el_err *err);

struct el_bench_msg_kind {
    const char *name; /* "sync50", "foldersync", "ping_req", "ping_resp" */
    el_bench_write_fn *write;
};

/* The message kinds; ends with a NULL name. */
extern const struct el_bench_msg_kind el_bench_msg_kinds[];

#endif
