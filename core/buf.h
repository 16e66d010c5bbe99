/* buf.h - a caller-owned growable byte buffer with a hard cap (base layer, below wbxml).
 * Owns: data (malloc'd, freed by el_buf_close). Every buffer gets its maximum size at init;
 * growing past it fails with EL_ELIMIT instead of eating memory. */
#ifndef EL_BUF_H
#define EL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"

struct el_buf {
    uint8_t *data; /* owned; NULL until the first growth */
    size_t len;
    size_t cap;
    size_t max; /* hard cap in bytes */
};

/* Empty buffer that may grow to max_bytes; allocates nothing yet. */
void el_buf_init(struct el_buf *b, size_t max_bytes);
/* Frees data; the buffer is then empty and may be reused. */
void el_buf_close(struct el_buf *b);
/* Makes room for n more bytes. 0, EL_ELIMIT past the cap, EL_ENOMEM. */
int el_buf_reserve(struct el_buf *b, size_t n);
/* Appends n bytes; same returns as el_buf_reserve. */
int el_buf_append(struct el_buf *b, const void *p, size_t n);

static inline void el_buf_reset(struct el_buf *b)
{
    b->len = 0;
}

static inline int el_buf_putc(struct el_buf *b, uint8_t c)
{
    if (b->len == b->cap) {
        int rc = el_buf_reserve(b, 1);
        if (rc < 0)
            return rc;
    }
    b->data[b->len++] = c;
    return 0;
}

#endif
