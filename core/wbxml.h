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

#define EL_WBXML_DEPTH_MAX 64 /* hard cap of nesting; a decoder may set a lower one */

enum el_wbxml_ev_type {
    EL_WBXML_EV_START,  /* tag; empty = 1 for a bare token (no content, an END event follows) */
    EL_WBXML_EV_END,    /* tag being closed; empty = 1 when it closes a bare token */
    EL_WBXML_EV_STR,    /* STR_I text: data/len, NUL-terminated in the input (NUL not counted) */
    EL_WBXML_EV_OPAQUE, /* OPAQUE bytes: data/len */
};

struct el_wbxml_ev {
    int type;             /* enum el_wbxml_ev_type */
    uint16_t tag;         /* START/END: the tag; STR/OPAQUE: the enclosing tag */
    uint8_t empty;        /* see EL_WBXML_EV_START/END */
    uint8_t depth;        /* START: depth of the element (root = 1) */
    const uint8_t *data;  /* STR/OPAQUE: borrowed from the input buffer */
    size_t len;           /* STR/OPAQUE: byte length */
    size_t offset;        /* offset of the token in the input */
};

struct el_wbxml_decoder {
    const uint8_t *in; /* borrowed: the whole message */
    size_t len;
    size_t pos;
    unsigned page;
    unsigned depth;
    unsigned max_depth;
    uint8_t pending_end; /* a bare token was returned: its END comes next */
    uint8_t done;        /* the root element has been closed */
    int rc;              /* sticky: first error, 0 if none */
    uint16_t stack[EL_WBXML_DEPTH_MAX];
};

/* Reads the WBXML header (version 1.x, charset UTF-8, string table skipped). in stays borrowed
 * for the decoder's life. max_depth: 0 = EL_WBXML_DEPTH_MAX. 0 or EL_EFORMAT/EL_ETRUNC. */
int el_wbxml_decoder_init(struct el_wbxml_decoder *d, const void *in, size_t len,
                          unsigned max_depth, struct el_err *err);
/* Next event. Returns 1 with *ev filled, 0 at the end of a complete document, or a negative
 * EL_E* (EL_ETRUNC, EL_EFORMAT, EL_EUNKNOWN, EL_EDEPTH) with err->offset at the bad byte.
 * After an error the decoder keeps returning it. Never reads outside [in, in + len). */
int el_wbxml_next(struct el_wbxml_decoder *d, struct el_wbxml_ev *ev, struct el_err *err);
/* Skips the rest of the element whose START was just returned (its END included). */
int el_wbxml_skip(struct el_wbxml_decoder *d, struct el_err *err);

/* ---- encoder ----------------------------------------------------------------------------- */

struct el_wbxml_encoder {
    struct el_buf *out; /* borrowed: the caller's buffer, appended to */
    unsigned page;
    unsigned depth;
    unsigned roots;  /* root elements opened: must end as 1 */
    int rc;          /* sticky: first error, 0 if none */
    uint16_t bad;    /* the tag that caused rc, for the message */
    size_t bad_off;  /* out->len when rc was set */
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
