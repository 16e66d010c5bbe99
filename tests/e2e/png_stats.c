/* png_stats.c - test helper: decodes an 8-bit, non-interlaced PNG (grey, RGB, grey+alpha, RGBA:
 * what Chromium's --screenshot writes) and prints what a blank or broken screenshot lacks: size,
 * number of distinct colours, share of pixels unlike the top-left (background) one, and how many
 * pixels have each colour asked for.
 * usage: png_stats FILE [#rrggbb]...   exit 0 decoded, 1 not a PNG it can read, 2 usage.
 * Owns: the file's bytes and the decoded rows. Uses: zlib (inflate). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define MAX_SIDE       16384
#define MAX_FILE_BYTES (64u << 20)

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c;
    int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    if (pa <= pb && pa <= pc)
        return a;
    return pb <= pc ? b : c;
}

/* Undoes the row filters in place; raw holds height rows of 1 + stride bytes. */
static int unfilter(unsigned char *raw, size_t height, size_t stride, size_t bpp)
{
    unsigned char *prev = NULL;
    for (size_t y = 0; y < height; y++) {
        unsigned char *row = raw + y * (stride + 1);
        unsigned char type = row[0];
        unsigned char *px = row + 1;
        for (size_t i = 0; i < stride; i++) {
            int a = i >= bpp ? px[i - bpp] : 0;
            int b = prev ? prev[i] : 0;
            int c = prev && i >= bpp ? prev[i - bpp] : 0;
            int add;
            switch (type) {
            case 0:
                add = 0;
                break;
            case 1:
                add = a;
                break;
            case 2:
                add = b;
                break;
            case 3:
                add = (a + b) / 2;
                break;
            case 4:
                add = paeth(a, b, c);
                break;
            default:
                return -1;
            }
            px[i] = (unsigned char)(px[i] + add);
        }
        prev = px;
    }
    return 0;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    unsigned char *data = malloc(MAX_FILE_BYTES);
    size_t n = data ? fread(data, 1, MAX_FILE_BYTES, f) : 0;
    fclose(f);
    *len = n;
    return data;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: png_stats FILE [#rrggbb]...\n", stderr);
        return 2;
    }
    size_t ncolors = (size_t)argc - 2;
    uint32_t want[16];
    uint64_t seen[16] = {0};
    if (ncolors > 16) {
        fputs("png_stats: at most 16 colours\n", stderr);
        return 2;
    }
    for (size_t k = 0; k < ncolors; k++) {
        const char *c = argv[k + 2];
        char *end = NULL;
        if (c[0] == '#' && strlen(c) == 7)
            want[k] = (uint32_t)strtoul(c + 1, &end, 16);
        if (end == NULL || *end != '\0') {
            fprintf(stderr, "png_stats: '%s' is not #rrggbb\n", c);
            return 2;
        }
    }
    int rc = 1;
    size_t len = 0;
    unsigned char *file = read_file(argv[1], &len);
    unsigned char *idat = NULL, *raw = NULL, *colors = NULL;
    const char *why = "cannot read the file";
    if (file == NULL)
        goto fail;
    why = "not a PNG";
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len < 8 + 25 || memcmp(file, sig, 8) != 0 || memcmp(file + 12, "IHDR", 4) != 0)
        goto fail;
    size_t width = be32(file + 16), height = be32(file + 20);
    int depth = file[24], type = file[25], interlace = file[28];
    size_t channels = type == 0 ? 1 : type == 2 ? 3 : type == 4 ? 2 : type == 6 ? 4 : 0;
    why = "unsupported PNG (only 8-bit grey, RGB, grey+alpha, RGBA, not interlaced)";
    if (depth != 8 || channels == 0 || interlace != 0 || width == 0 || height == 0 ||
        width > MAX_SIDE || height > MAX_SIDE)
        goto fail;
    /* gather the IDAT chunks */
    why = "truncated chunk";
    size_t idat_len = 0;
    idat = malloc(len);
    if (idat == NULL)
        goto fail;
    for (size_t off = 8; off + 12 <= len;) {
        size_t clen = be32(file + off);
        if (clen > len - off - 12)
            goto fail;
        if (memcmp(file + off + 4, "IDAT", 4) == 0) {
            memcpy(idat + idat_len, file + off + 8, clen);
            idat_len += clen;
        }
        if (memcmp(file + off + 4, "IEND", 4) == 0)
            break;
        off += clen + 12;
    }
    size_t stride = width * channels;
    uLongf raw_len = (uLongf)((stride + 1) * height);
    raw = malloc(raw_len);
    why = "bad image data";
    if (raw == NULL || uncompress(raw, &raw_len, idat, idat_len) != Z_OK ||
        raw_len != (stride + 1) * height || unfilter(raw, height, stride, channels) != 0)
        goto fail;
    /* one bit per 24-bit colour */
    colors = calloc((size_t)1 << 21, 1);
    if (colors == NULL)
        goto fail;
    uint64_t distinct = 0, unlike_bg = 0;
    uint32_t bg = 0;
    for (size_t y = 0; y < height; y++) {
        const unsigned char *px = raw + y * (stride + 1) + 1;
        for (size_t x = 0; x < width; x++, px += channels) {
            uint32_t rgb = channels >= 3 ? (uint32_t)px[0] << 16 | (uint32_t)px[1] << 8 | px[2]
                                         : (uint32_t)px[0] * 0x010101u;
            if (x == 0 && y == 0)
                bg = rgb;
            unlike_bg += rgb != bg;
            if (!(colors[rgb >> 3] & (1u << (rgb & 7)))) {
                colors[rgb >> 3] |= (unsigned char)(1u << (rgb & 7));
                distinct++;
            }
            for (size_t k = 0; k < ncolors; k++)
                seen[k] += rgb == want[k];
        }
    }
    printf("width=%zu height=%zu colours=%llu unlike_background_permille=%llu\n", width, height,
           (unsigned long long)distinct,
           (unsigned long long)(unlike_bg * 1000 / ((uint64_t)width * height)));
    for (size_t k = 0; k < ncolors; k++)
        printf("%s=%llu\n", argv[k + 2], (unsigned long long)seen[k]);
    rc = 0;
fail:
    if (rc != 0)
        fprintf(stderr, "png_stats: %s: %s\n", argv[1], why);
    free(colors);
    free(raw);
    free(idat);
    free(file);
    return rc;
}
