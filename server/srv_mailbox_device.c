/* srv_mailbox_device.c - device partnerships and their per-folder sync state: which items a
 * device holds (a bitmap by item index), the change cursor, the current and previous sync key,
 * FilterType visibility and the pending-change count that Ping and GetItemEstimate use.
 * Owns: struct el__device and its bitmaps and device information. Uses: srv_int.h.
 * Called with the state mutex held. */
#include "srv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t el__new_key(struct el_srv_state *st)
{
    /* odd steps of a counter starting at a seed-dependent value: keys never repeat and never 0 */
    st->key_counter += 1 + (uint32_t)(el__mix64(st->key_counter) % 7u);
    if (st->key_counter == 0)
        st->key_counter = 1;
    return st->key_counter;
}

struct el__device *el__device_find(struct el__user *u, const char *id)
{
    for (struct el__device *d = u->devices; d; d = d->next)
        if (strcmp(d->id, id) == 0)
            return d;
    return NULL;
}

struct el__device *el__device_get(struct el_srv_state *st, struct el__user *u, const char *id,
                                  const char *type)
{
    struct el__device *d = el__device_find(u, id);
    if (d)
        return d;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    snprintf(d->id, sizeof(d->id), "%s", id);
    snprintf(d->type, sizeof(d->type), "%s", type ? type : "");
    d->next = u->devices;
    u->devices = d;
    st->stats.devices++;
    st->device_bytes += sizeof(*d);
    return d;
}

static size_t bm_bytes(uint32_t nbits)
{
    return (nbits + 7) / 8;
}

void el__device_free(struct el_srv_state *st, struct el__device *d)
{
    if (d == NULL)
        return;
    el__replay_drop(d);
    for (int i = 0; i < EL__FOLDERS_MAX; i++) {
        st->device_bytes -= bm_bytes(d->f[i].nbits) + bm_bytes(d->f[i].prev_nbits);
        free(d->f[i].have);
        free(d->f[i].prev_have);
        st->device_bytes -= d->f[i].nadds * sizeof(struct el__addmap);
        free(d->f[i].adds);
    }
    if (d->info) {
        st->device_bytes -= sizeof(*d->info);
        free(d->info);
    }
    st->device_bytes -= sizeof(*d);
    st->stats.devices--;
    free(d);
}

void el__device_drop(struct el_srv_state *st, struct el__user *u, struct el__device *d)
{
    for (struct el__device **pp = &u->devices; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            el__device_free(st, d);
            return;
        }
    }
}

/* ---- folder sync state --------------------------------------------------------------------- */

int el__fstate_reset(struct el_srv_state *st, struct el__fstate *fs, uint32_t key)
{
    if (fs->have)
        memset(fs->have, 0, bm_bytes(fs->nbits));
    fs->cursor = 0;
    fs->key = key;
    fs->prev_key = 0;
    fs->prev_ok = 0;
    fs->filter = 0;
    (void)st;
    return 0;
}

static int bm_copy(struct el_srv_state *st, uint8_t **dst, uint32_t *dbits, const uint8_t *src,
                   uint32_t sbits)
{
    if (bm_bytes(*dbits) != bm_bytes(sbits)) {
        uint8_t *p = realloc(*dst, bm_bytes(sbits) ? bm_bytes(sbits) : 1);
        if (p == NULL)
            return EL_ENOMEM;
        st->device_bytes += bm_bytes(sbits);
        st->device_bytes -= bm_bytes(*dbits);
        *dst = p;
    }
    *dbits = sbits;
    if (sbits)
        memcpy(*dst, src, bm_bytes(sbits));
    return 0;
}

int el__fstate_commit(struct el_srv_state *st, struct el__fstate *fs, uint32_t allow_retry)
{
    int rc = bm_copy(st, &fs->prev_have, &fs->prev_nbits, fs->have, fs->nbits);
    if (rc < 0)
        return rc;
    fs->prev_key = fs->key;
    fs->prev_cursor = fs->cursor;
    fs->prev_filter = fs->filter;
    fs->prev_ok = (uint8_t)(allow_retry != 0);
    return 0;
}

void el__fstate_rollback(struct el_srv_state *st, struct el__fstate *fs)
{
    (void)st;
    uint8_t *h = fs->have;
    uint32_t nb = fs->nbits;
    fs->have = fs->prev_have;
    fs->nbits = fs->prev_nbits;
    fs->prev_have = h;
    fs->prev_nbits = nb;
    fs->key = fs->prev_key;
    fs->cursor = fs->prev_cursor;
    fs->filter = fs->prev_filter;
    fs->prev_ok = 0;
}

int el__fstate_has(const struct el__fstate *fs, uint32_t ii)
{
    return ii < fs->nbits && (fs->have[ii / 8] >> (ii % 8)) & 1;
}

int el__fstate_set(struct el_srv_state *st, struct el__fstate *fs, uint32_t ii, int on)
{
    if (ii >= fs->nbits) {
        if (!on)
            return 0;
        uint32_t nbits = (ii + 64) & ~63u;
        size_t old = bm_bytes(fs->nbits), want = bm_bytes(nbits);
        uint8_t *p = realloc(fs->have, want);
        if (p == NULL)
            return EL_ENOMEM;
        memset(p + old, 0, want - old);
        st->device_bytes += want - old;
        fs->have = p;
        fs->nbits = nbits;
    }
    if (on)
        fs->have[ii / 8] |= (uint8_t)(1u << (ii % 8));
    else
        fs->have[ii / 8] &= (uint8_t) ~(1u << (ii % 8));
    return 0;
}

/* ---- visibility and pending changes -------------------------------------------------------- */

static const int filter_days[] = {0, 1, 3, 7, 14, 30, 90, 180};

int el__filter_ok(const struct el_srv_state *st, int cls, const struct el__item *it,
                  unsigned filter, int64_t now_ms)
{
    if (now_ms == 0)
        now_ms = st->base_ms;
    if (filter == 0)
        return 1;
    if (cls == EL__CLS_TASKS)
        return filter == 8 ? !(it->flags & EL__IF_COMPLETE) : 1;
    if (filter > 7 || (cls != EL__CLS_EMAIL && cls != EL__CLS_CALENDAR))
        return 1;
    int64_t cutoff = now_ms - (int64_t)filter_days[filter] * 24 * 3600000ll;
    if (cls == EL__CLS_CALENDAR)
        return (it->flags & EL__IF_RECUR) || it->date_ms + 4 * 3600000ll >= cutoff;
    return it->date_ms >= cutoff;
}

uint32_t el__pending(const struct el_srv_state *st, const struct el__folder *f, int cls,
                     const struct el__fstate *fs, int64_t now_ms)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < f->n; i++) {
        const struct el__item *it = &f->items[i];
        int have = el__fstate_has(fs, i);
        int live = !(it->flags & EL__IF_DELETED) && el__filter_ok(st, cls, it, fs->filter, now_ms);
        if (live != have || (live && it->seq > fs->cursor))
            n++;
    }
    return n;
}
