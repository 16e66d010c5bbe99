/* buf.c - growth policy of struct el_buf: doubling, bounded by the buffer's cap.
 * Owns: the buffer's data array. Uses: buf.h. */
#include "buf.h"

#include <stdlib.h>

void el_buf_init(struct el_buf *b, size_t max_bytes)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max_bytes;
}

void el_buf_close(struct el_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int el_buf_reserve(struct el_buf *b, size_t n)
{
    if (n <= b->cap - b->len)
        return 0;
    if (n > b->max || b->len > b->max - n)
        return EL_ELIMIT;
    size_t want = b->len + n;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    if (cap > b->max)
        cap = b->max;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
        return EL_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int el_buf_append(struct el_buf *b, const void *p, size_t n)
{
    int rc = el_buf_reserve(b, n);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}
