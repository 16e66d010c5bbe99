/* hist_codec.c - the "v1:" text form of a histogram for results.json: encoder and strict decoder.
 * Owns: nothing; the encoder appends to the caller's el_buf, the decoder reads the caller's text
 * in place (no copy, no allocation except el_hist_decode_new's histogram).
 * Uses: hist.h, hist_int.h, buf.h. Format: results/README.md, "Text encoding". */
#include "hist.h"

#include <string.h>

#include "hist_int.h"

#define PREFIX     "v1:"
#define PREFIX_LEN 3

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* --- encoder: bytes -> base64 groups, appended to the buffer ------------------------------- */

struct enc {
    struct el_buf *out; /* borrowed */
    uint8_t group[3];
    int n;  /* bytes waiting in group */
    int rc; /* first buffer error, then everything is skipped */
};

static void enc_flush(struct enc *e)
{
    if (e->n == 0 || e->rc < 0)
        return;
    uint32_t v = (uint32_t)e->group[0] << 16;
    if (e->n > 1)
        v |= (uint32_t)e->group[1] << 8;
    if (e->n > 2)
        v |= e->group[2];
    char c[4];
    c[0] = b64_alphabet[(v >> 18) & 63];
    c[1] = b64_alphabet[(v >> 12) & 63];
    c[2] = e->n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
    c[3] = e->n > 2 ? b64_alphabet[v & 63] : '=';
    e->rc = el_buf_append(e->out, c, sizeof(c));
    e->n = 0;
}

static void enc_byte(struct enc *e, uint8_t b)
{
    e->group[e->n++] = b;
    if (e->n == 3)
        enc_flush(e);
}

/* Unsigned LEB128: 7 bits a byte, least significant first, high bit = more follows. */
static void enc_uvarint(struct enc *e, uint64_t v)
{
    while (v >= 0x80) {
        enc_byte(e, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    enc_byte(e, (uint8_t)v);
}

/* Body tokens, zigzag-mapped: a count c > 0 is 2c, a run of r >= 1 empty buckets is 2r - 1. */
static void enc_count(struct enc *e, uint64_t count)
{
    enc_uvarint(e, count << 1);
}

static void enc_run(struct enc *e, uint64_t run)
{
    enc_uvarint(e, ((run - 1) << 1) | 1);
}

int el_hist_encode(const struct el_hist *h, struct el_buf *out, struct el_err *err)
{
    struct enc e = {.out = out};
    e.rc = el_buf_append(out, PREFIX, PREFIX_LEN);
    enc_uvarint(&e, (uint64_t)h->cfg.lowest_us);
    enc_uvarint(&e, (uint64_t)h->cfg.highest_us);
    enc_uvarint(&e, (uint64_t)h->cfg.sig_figs);
    enc_uvarint(&e, h->below);
    enc_uvarint(&e, h->above);
    enc_uvarint(&e, (uint64_t)h->min_us);
    enc_uvarint(&e, (uint64_t)h->max_us);
    uint64_t run = 0;
    for (size_t i = 0; i < h->counts_len; i++) {
        if (h->counts[i] == 0) {
            run++;
            continue;
        }
        if (run > 0)
            enc_run(&e, run);
        run = 0;
        enc_count(&e, h->counts[i]);
    }
    enc_flush(&e);
    if (e.rc < 0)
        return EL_ERR(err, e.rc, EL_NO_OFFSET, "histogram encode: output buffer: %s",
                      el_strerror(e.rc));
    return 0;
}

/* --- decoder: strict base64 -> bytes, each with the offset of the character it starts in ---- */

struct rd {
    const char *s; /* borrowed: the caller's text */
    size_t len;
    size_t pos; /* next character to read */
    uint8_t group[3];
    int n, i;         /* bytes in group, next one to hand out */
    size_t group_off; /* offset of the group's first character */
};

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes the next group of four characters. */
static int rd_group(struct rd *r, struct el_err *err)
{
    if (r->len - r->pos < 4)
        return EL_ERR(err, EL_EFORMAT, r->len,
                      "histogram decode: text ends inside a base64 group at byte %zu", r->len);
    const char *c = r->s + r->pos;
    bool last = r->len - r->pos == 4;
    int v[4];
    int data_chars = 4;
    for (int k = 0; k < 4; k++) {
        size_t off = r->pos + (size_t)k;
        v[k] = b64_value(c[k]);
        if (v[k] >= 0 && data_chars == 4)
            continue;
        if (v[k] >= 0)
            return EL_ERR(err, EL_EFORMAT, off,
                          "histogram decode: base64 data after padding at byte %zu", off);
        if (c[k] != '=')
            return EL_ERR(err, EL_EFORMAT, off, "histogram decode: byte %zu (0x%02x) is not base64",
                          off, (unsigned)(unsigned char)c[k]);
        if (k < 2 || !last)
            return EL_ERR(err, EL_EFORMAT, off,
                          "histogram decode: padding '=' at byte %zu is not at the end", off);
        if (data_chars == 4)
            data_chars = k;
        v[k] = 0;
    }
    uint32_t bits =
        (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    int n = data_chars - 1;
    uint32_t spare = n == 3 ? 0 : bits & (n == 1 ? 0xFFFFu : 0xFFu);
    if (spare != 0)
        return EL_ERR(err, EL_EFORMAT, r->pos + (size_t)data_chars - 1,
                      "histogram decode: unused base64 bits set at byte %zu",
                      r->pos + (size_t)data_chars - 1);
    r->group[0] = (uint8_t)(bits >> 16);
    r->group[1] = (uint8_t)(bits >> 8);
    r->group[2] = (uint8_t)bits;
    r->n = n;
    r->i = 0;
    r->group_off = r->pos;
    r->pos += 4;
    return 0;
}

/* Next byte: 1 and *b, *off set; 0 at the end of the text; or EL_EFORMAT. Byte k of a group
 * starts in character k of that group, so *off is exact. */
static int rd_byte(struct rd *r, uint8_t *b, size_t *off, struct el_err *err)
{
    if (r->i == r->n) {
        if (r->pos == r->len)
            return 0;
        int rc = rd_group(r, err);
        if (rc < 0)
            return rc;
    }
    *off = r->group_off + (size_t)r->i;
    *b = r->group[r->i++];
    return 1;
}

/* Next varint: 1 and *v, *off (its first byte) set; 0 if the text ends before it starts. */
static int rd_uvarint(struct rd *r, uint64_t *v, size_t *off, const char *what, struct el_err *err)
{
    uint64_t x = 0;
    for (int k = 0; k < 10; k++) {
        uint8_t b;
        size_t at;
        int rc = rd_byte(r, &b, &at, err);
        if (rc < 0)
            return rc;
        if (rc == 0 && k == 0)
            return 0;
        if (rc == 0)
            return EL_ERR(err, EL_EFORMAT, r->len, "histogram decode: text ends inside %s", what);
        if (k == 0)
            *off = at;
        if (k == 9 && b > 1)
            return EL_ERR(err, EL_EFORMAT, at,
                          "histogram decode: %s at byte %zu does not fit 64 bits", what, *off);
        x |= (uint64_t)(b & 0x7F) << (7 * k);
        if ((b & 0x80) == 0) {
            if (b == 0 && k > 0)
                return EL_ERR(err, EL_EFORMAT, at,
                              "histogram decode: %s at byte %zu has a redundant zero byte", what,
                              *off);
            *v = x;
            return 1;
        }
    }
    return EL_ERR(err, EL_EFORMAT, *off, "histogram decode: %s too long", what); /* not reached */
}

/* A header field that must be present. */
static int rd_field(struct rd *r, uint64_t *v, size_t *off, const char *what, struct el_err *err)
{
    int rc = rd_uvarint(r, v, off, what, err);
    if (rc == 0)
        return EL_ERR(err, EL_EFORMAT, r->len, "histogram decode: text ends before %s", what);
    return rc < 0 ? rc : 0;
}

struct header {
    struct el_hist_config cfg;
    uint64_t below, above, min, max;
    size_t cfg_off, min_off, max_off;
};

static int rd_header(struct rd *r, struct header *hd, struct el_err *err)
{
    uint64_t lowest, highest, sig;
    size_t off;
    int rc = rd_field(r, &lowest, &hd->cfg_off, "lowest value", err);
    if (rc == 0)
        rc = rd_field(r, &highest, &off, "highest value", err);
    if (rc == 0)
        rc = rd_field(r, &sig, &off, "significant digits", err);
    if (rc == 0)
        rc = rd_field(r, &hd->below, &off, "below-range count", err);
    if (rc == 0)
        rc = rd_field(r, &hd->above, &off, "above-range count", err);
    if (rc == 0)
        rc = rd_field(r, &hd->min, &hd->min_off, "minimum", err);
    if (rc == 0)
        rc = rd_field(r, &hd->max, &hd->max_off, "maximum", err);
    if (rc < 0)
        return rc;
    if (lowest > INT64_MAX || highest > INT64_MAX || sig > 5)
        return EL_ERR(err, EL_EFORMAT, hd->cfg_off,
                      "histogram decode: unsupported configuration at byte %zu", hd->cfg_off);
    hd->cfg.lowest_us = (int64_t)lowest;
    hd->cfg.highest_us = (int64_t)highest;
    hd->cfg.sig_figs = (int)sig;
    return 0;
}

struct body {
    uint64_t total;
    size_t first, last; /* indexes of the first and last non-empty bucket (total > 0) */
};

/* Reads the bucket tokens to the end of the text, checking them against lay's layout; adds the
 * counts to counts[] if not NULL. */
static int rd_body(struct rd *r, const struct el_hist *lay, uint64_t *counts, struct body *bd,
                   struct el_err *err)
{
    size_t lowest_index = el__hist_index(lay, lay->cfg.lowest_us);
    size_t i = 0;
    bool after_run = false;
    size_t off = r->pos;
    memset(bd, 0, sizeof(*bd));
    for (;;) {
        uint64_t tok;
        int rc = rd_uvarint(r, &tok, &off, "bucket token", err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        if (tok & 1) {
            uint64_t run = (tok >> 1) + 1;
            if (after_run)
                return EL_ERR(err, EL_EFORMAT, off,
                              "histogram decode: two runs of empty buckets in a row at byte %zu",
                              off);
            if (run > lay->counts_len - i)
                return EL_ERR(err, EL_EFORMAT, off,
                              "histogram decode: too many buckets: run of %llu at byte %zu "
                              "passes bucket %zu",
                              (unsigned long long)run, off, lay->counts_len);
            i += (size_t)run;
            after_run = true;
            continue;
        }
        uint64_t count = tok >> 1;
        if (count == 0)
            return EL_ERR(err, EL_EFORMAT, off,
                          "histogram decode: zero count at byte %zu (empty buckets are runs)", off);
        if (i >= lay->counts_len)
            return EL_ERR(err, EL_EFORMAT, off,
                          "histogram decode: too many buckets: count at byte %zu is past "
                          "bucket %zu",
                          off, lay->counts_len);
        if (i < lowest_index)
            return EL_ERR(err, EL_EFORMAT, off,
                          "histogram decode: count at byte %zu is below the lowest value", off);
        if (count > (uint64_t)INT64_MAX - bd->total)
            return EL_ERR(err, EL_EFORMAT, off,
                          "histogram decode: counts overflow 2^63 - 1 at byte %zu", off);
        if (bd->total == 0)
            bd->first = i;
        bd->last = i;
        bd->total += count;
        if (counts != NULL)
            counts[i] += count;
        i++;
        after_run = false;
    }
    if (after_run)
        return EL_ERR(err, EL_EFORMAT, off,
                      "histogram decode: trailing run of empty buckets at byte %zu", off);
    return 0;
}

/* min and max must be exact values that fall in the first and last non-empty buckets. */
static int check_min_max(const struct el_hist *lay, const struct header *hd, const struct body *bd,
                         struct el_err *err)
{
    if (bd->total == 0) {
        if (hd->min != 0 || hd->max != 0)
            return EL_ERR(err, EL_EFORMAT, hd->min_off,
                          "histogram decode: empty histogram with a minimum or maximum at "
                          "byte %zu",
                          hd->min_off);
        return 0;
    }
    uint64_t lo = (uint64_t)lay->cfg.lowest_us;
    uint64_t hi = (uint64_t)lay->cfg.highest_us;
    if (hd->min < lo || hd->min > hi || el__hist_index(lay, (int64_t)hd->min) != bd->first)
        return EL_ERR(err, EL_EFORMAT, hd->min_off,
                      "histogram decode: minimum at byte %zu is not in the first bucket",
                      hd->min_off);
    if (hd->max < hd->min || hd->max > hi || el__hist_index(lay, (int64_t)hd->max) != bd->last)
        return EL_ERR(err, EL_EFORMAT, hd->max_off,
                      "histogram decode: maximum at byte %zu is not in the last bucket",
                      hd->max_off);
    return 0;
}

/* Decodes into `into` (same configuration required) or, if NULL, into a new histogram set in
 * *out. Checks everything first, then writes: on failure nothing changes. */
static int decode(const char *text, size_t len, struct el_hist *into, struct el_hist **out,
                  struct el_err *err)
{
    if (len < PREFIX_LEN || memcmp(text, PREFIX, PREFIX_LEN) != 0)
        return EL_ERR(err, EL_EFORMAT, 0, "histogram decode: text does not start with \"%s\"",
                      PREFIX);
    struct rd r = {.s = text, .len = len, .pos = PREFIX_LEN, .group_off = PREFIX_LEN};
    struct header hd;
    int rc = rd_header(&r, &hd, err);
    if (rc < 0)
        return rc;
    struct el_hist lay = {.counts_len = 0};
    struct el_err why;
    if (el__hist_layout(&lay, &hd.cfg, &why) < 0)
        return EL_ERR(err, EL_EFORMAT, hd.cfg_off, "histogram decode: at byte %zu: %s", hd.cfg_off,
                      why.msg);
    if (into != NULL && !el__hist_same_config(into, &lay))
        return EL_ERR(err, EL_EINVAL, hd.cfg_off,
                      "histogram decode: encoded %lld..%lld us/%d digits, histogram has "
                      "%lld..%lld us/%d digits",
                      (long long)lay.cfg.lowest_us, (long long)lay.cfg.highest_us, lay.cfg.sig_figs,
                      (long long)into->cfg.lowest_us, (long long)into->cfg.highest_us,
                      into->cfg.sig_figs);
    struct rd body_start = r;
    struct body bd;
    rc = rd_body(&r, &lay, NULL, &bd, err);
    if (rc == 0)
        rc = check_min_max(&lay, &hd, &bd, err);
    if (rc < 0)
        return rc;

    struct el_hist *h = into;
    if (h == NULL) {
        if (lay.counts_len > EL_HIST_DECODE_MAX_BYTES / sizeof(uint64_t))
            return EL_ERR(err, EL_ELIMIT, hd.cfg_off,
                          "histogram decode: configuration at byte %zu needs %zu buckets, "
                          "limit %zu bytes",
                          hd.cfg_off, lay.counts_len, EL_HIST_DECODE_MAX_BYTES);
        rc = el_hist_new(&hd.cfg, &h, err);
        if (rc < 0)
            return rc;
    }
    el_hist_reset(h);
    r = body_start;
    rc = rd_body(&r, h, h->counts, &bd, NULL);
    (void)rc; /* checked above; the text is the same */
    h->total = bd.total;
    h->below = hd.below;
    h->above = hd.above;
    h->min_us = (int64_t)hd.min;
    h->max_us = (int64_t)hd.max;
    if (out != NULL)
        *out = h;
    return 0;
}

int el_hist_decode(struct el_hist *h, const char *text, size_t len, struct el_err *err)
{
    return decode(text, len, h, NULL, err);
}

int el_hist_decode_new(const char *text, size_t len, struct el_hist **out, struct el_err *err)
{
    return decode(text, len, NULL, out, err);
}
