/* wbxml.h - EAS WBXML: code page tables, streaming decoder, encoder, readable XML text form.
 * The bottom layer of easload: uses only error.h and buf.h, no other project module.
 *
 * A tag is a uint16_t: (page << 8) | token, with constants EL_<PAGE>_<NAME> in wbxml_tags.h
 * (EL_AS_SYNCKEY, EL_FH_FOLDERSYNC, ...). Only what EAS uses of WBXML 1.3 is supported:
 * SWITCH_PAGE, END, STR_I, OPAQUE and tags without attributes ([MS-ASWBXML] 2.1.3). */
#ifndef EL_WBXML_H
#define EL_WBXML_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "wbxml_tags.h"

/* ---- code pages -------------------------------------------------------------------------- */

struct el_wbxml_tag_info {
    const char *name; /* NULL: token unassigned on this page */
    uint8_t since;    /* first protocol version x10 (25, 120, 121, 140, 141, 160, 161) */
    uint8_t until;    /* last protocol version x10, 0 = still current */
    uint8_t legacy;   /* 2.5-era token: decoded, never emitted by easload's own requests */
};

struct el_wbxml_page {
    const char *name; /* also the XML namespace prefix: "AirSync" */
    struct el_wbxml_tag_info tags[64];
};

struct el_wbxml_alias {
    uint8_t page;
    uint8_t token;
    const char *name; /* NULL ends the list */
};

extern const struct el_wbxml_page el_wbxml_pages[EL_WBXML_PAGE_COUNT];
extern const struct el_wbxml_alias el_wbxml_aliases[];
/* Bit t of el_wbxml_assigned[page]: token t is assigned on that page (tags[t].name != NULL). */
extern const uint64_t el_wbxml_assigned[EL_WBXML_PAGE_COUNT];

#define EL_WBXML_TAG(page, token) ((uint16_t)(((page) << 8) | (token)))
#define EL_WBXML_PAGE_OF(tag)     ((unsigned)(tag) >> 8)
#define EL_WBXML_TOKEN_OF(tag)    ((unsigned)(tag)&0x3F)

/* Name of a tag ("SyncKey") or of a page ("AirSync"); NULL if unassigned. */
const char *el_wbxml_tag_name(uint16_t tag);
const char *el_wbxml_page_name(unsigned page);
/* Page number by name (case-insensitive, length-delimited: libwbxml writes "Gal"); -1 if none. */
int el_wbxml_page_lookup(const char *name, size_t len);
/* Tag by page and name, also by alias (libwbxml spellings); -1 if none. */
int el_wbxml_tag_lookup(unsigned page, const char *name, size_t len);

/* ---- streaming decoder (pull cursor) ----------------------------------------------------- */

#define EL_WBXML_DEPTH_MAX 64  /* hard cap of nesting; a decoder may set a lower one */
#define EL_WBXML_KEEP      256 /* text cut by a chunk's end: bytes of it an event carries */
#define EL_WBXML_MORE      2   /* el_wbxml_next: the chunk is used up, feed the next one */

enum el_wbxml_ev_type {
    EL_WBXML_EV_START,  /* tag; empty = 1 for a bare token (no content, an END event follows) */
    EL_WBXML_EV_END,    /* tag being closed; empty = 1 when it closes a bare token */
    EL_WBXML_EV_STR,    /* STR_I text: data/len, NUL-terminated in the input (NUL not counted) */
    EL_WBXML_EV_OPAQUE, /* OPAQUE bytes: data/len */
};

struct el_wbxml_ev {
    int type;            /* enum el_wbxml_ev_type */
    uint16_t tag;        /* START/END: the tag; STR/OPAQUE: the enclosing tag */
    uint8_t empty;       /* see EL_WBXML_EV_START/END */
    uint8_t depth;       /* START: depth of the element (root = 1) */
    const uint8_t *data; /* STR/OPAQUE: borrowed from the input (or the decoder, see below) */
    size_t len;          /* STR/OPAQUE: bytes at data */
    size_t full_len;     /* STR/OPAQUE: length of the whole value; equals len except for text
                            that a chunk's end cut (fed input): then data holds its first
                            min(full_len, EL_WBXML_KEEP) bytes, copied into the decoder */
    size_t offset;       /* offset of the token in the whole message */
};

struct el_wbxml_decoder {
    const uint8_t *in; /* borrowed: the whole message, or the chunk being read */
    size_t len;
    size_t pos;
    size_t base; /* offset of in[0] in the whole message */
    unsigned page;
    unsigned depth;
    unsigned max_depth;
    uint8_t pending_end;  /* a bare token was returned: its END comes next */
    uint8_t done;         /* the root element has been closed */
    uint8_t last;         /* in is the end of the message */
    uint8_t part;         /* what the end of the previous chunk cut (header, token, text) */
    int rc;               /* sticky: first error, 0 if none */
    const uint64_t *want; /* borrowed: el_wbxml_decoder_want; NULL = every event */
    /* a cut token: its offset, numbers so far, the first bytes of its text */
    size_t part_off;
    size_t part_len;
    uint32_t part_n;
    uint8_t part_nb;
    uint8_t nhdr;
    uint8_t hdr[24];
    uint16_t stack[EL_WBXML_DEPTH_MAX];
    uint8_t keep[EL_WBXML_KEEP];
};

/* Reads the WBXML header (version 1.x, charset UTF-8, string table skipped). in stays borrowed
 * for the decoder's life. max_depth: 0 = EL_WBXML_DEPTH_MAX. 0 or EL_EFORMAT/EL_ETRUNC. */
int el_wbxml_decoder_init(struct el_wbxml_decoder *d, const void *in, size_t len,
                          unsigned max_depth, struct el_err *err);

/* A decoder for a message that arrives in chunks (an HTTP body as it is received): no input
 * yet; give each chunk with el_wbxml_decoder_feed. Events, offsets and errors are those of
 * el_wbxml_decoder_init on the whole message, except that text cut by a chunk's end carries
 * only its first EL_WBXML_KEEP bytes (see el_wbxml_ev.full_len). */
void el_wbxml_decoder_open(struct el_wbxml_decoder *d, unsigned max_depth);

/* The next chunk, borrowed until el_wbxml_next returns EL_WBXML_MORE (the previous one must be
 * used up); last = 1: the message ends with it (a zero-length last chunk is fine). */
void el_wbxml_decoder_feed(struct el_wbxml_decoder *d, const void *chunk, size_t len, int last);

/* From now on returns only the events of the tags whose bit is set in want[page] (bit token,
 * EL_WBXML_WANT): their START and END, and text directly inside them. Every token is still read
 * and checked (unknown tags, nesting, lengths: the same errors), the stack still tracks every
 * element. want (EL_WBXML_PAGE_COUNT entries) is borrowed; NULL = every event again. */
#define EL_WBXML_WANT(tag) (1ull << EL_WBXML_TOKEN_OF(tag))
void el_wbxml_decoder_want(struct el_wbxml_decoder *d, const uint64_t *want);

/* Next event. Returns 1 with *ev filled, 0 at the end of a complete document, EL_WBXML_MORE
 * when a fed chunk is used up before the last one, or a negative EL_E* (EL_ETRUNC, EL_EFORMAT,
 * EL_EUNKNOWN, EL_EDEPTH) with err->offset at the bad byte. After an error the decoder keeps
 * returning it. Never reads outside the input given. */
int el_wbxml_next(struct el_wbxml_decoder *d, struct el_wbxml_ev *ev, struct el_err *err);

/* Skips the rest of the element whose START was just returned (its END included). Whole
 * messages only (el_wbxml_decoder_init). */
int el_wbxml_skip(struct el_wbxml_decoder *d, struct el_err *err);

/* ---- encoder ----------------------------------------------------------------------------- */

struct el_wbxml_encoder {
    struct el_buf *out; /* borrowed: the caller's buffer, appended to */
    unsigned page;
    unsigned depth;
    unsigned roots; /* root elements opened: must end as 1 */
    int rc;         /* sticky: first error, 0 if none */
    uint16_t bad;   /* the tag that caused rc, for the message */
    size_t bad_off; /* out->len when rc was set */
    uint16_t stack[EL_WBXML_DEPTH_MAX];
};

/* Starts a document: writes the header 03 01 6A 00 to out (appending). */
void el_wbxml_encoder_init(struct el_wbxml_encoder *e, struct el_buf *out);
/* Opens an element with content; close it with el_wbxml_end(). */
void el_wbxml_start(struct el_wbxml_encoder *e, uint16_t tag);
/* Writes an empty element as a bare token (<GetChanges/>). */
void el_wbxml_empty(struct el_wbxml_encoder *e, uint16_t tag);
/* Writes an element opened with content and closed at once (53 01): "" in some encoders. */
void el_wbxml_start_end(struct el_wbxml_encoder *e, uint16_t tag);
void el_wbxml_end(struct el_wbxml_encoder *e);
/* STR_I text (must not contain NUL: use el_wbxml_opaque for that) and OPAQUE data. */
void el_wbxml_str(struct el_wbxml_encoder *e, const char *s, size_t len);
void el_wbxml_opaque(struct el_wbxml_encoder *e, const void *p, size_t len);
/* <tag>text</tag>, <tag>decimal</tag> and <tag>OPAQUE</tag> in one call. */
void el_wbxml_text(struct el_wbxml_encoder *e, uint16_t tag, const char *s);
void el_wbxml_uint(struct el_wbxml_encoder *e, uint16_t tag, unsigned long v);
void el_wbxml_opaque_elem(struct el_wbxml_encoder *e, uint16_t tag, const void *p, size_t len);
/* Ends the document: 0, or the first error (EL_EUNKNOWN bad tag, EL_EDEPTH, EL_ELIMIT buffer
 * cap, EL_EINVAL NUL in STR_I or unbalanced END) with a message in err. */
int el_wbxml_encoder_finish(struct el_wbxml_encoder *e, struct el_err *err);

/* mb_u_int32 (exposed for tests): writes v, returns bytes written (1-5) into out[5]. */
size_t el_wbxml_mbuint_put(uint8_t out[5], uint32_t v);

/* ---- XML text form ----------------------------------------------------------------------- */

/* Flags of el_wbxml_to_xml. */
#define EL_WBXML_XML_HEX 1u /* opaque data as hex instead of base64 */

/* WBXML -> readable XML: tags as Page:Tag, two-space indentation, text escaped, an empty
 * element as <Tag/>, OPAQUE as <Tag opaque="base64">...</Tag>. Appends to out. 0 or the
 * decoder's error (err names the byte offset). */
int el_wbxml_to_xml(const void *in, size_t len, unsigned flags, struct el_buf *out,
                    struct el_err *err);
/* XML text -> WBXML, the reverse of el_wbxml_to_xml; also accepts xmlns="Page:" default
 * namespaces and libwbxml's tag spellings. Appends to out. Errors name line and column. */
int el_wbxml_from_xml(const char *xml, size_t len, struct el_buf *out, struct el_err *err);

#endif
