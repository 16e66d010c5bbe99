/* wbxml_xml_parse.c - readable XML text -> WBXML: the reverse of wbxml_xml_print.c.
 * Accepts our own form (Page:Tag names) and libwbxml's (xmlns="Page:" default namespaces, its
 * tag spellings via aliases, a DOCTYPE, indentation). A subset of XML: elements, the attributes
 * xmlns, xmlns:P and opaque, text, entities, CDATA, comments and the <?opaque ENC DATA?> PI.
 * Owns: a text scratch buffer per call. Uses: wbxml_encode.c, wbxml_names.c. */
#include "wbxml.h"

#include <stdio.h>
#include <string.h>

#define NS_MAX 128

struct ns_entry {
    const char *prefix; /* NULL: default namespace; else points into the input */
    size_t plen;
    int page;
    unsigned depth; /* element depth that declared it */
};

struct elem {
    const char *qname; /* into the input, for matching the end tag */
    size_t qlen;
    int opaque;        /* 0 text, 1 base64, 2 hex */
};

struct parser {
    const char *s;
    size_t len;
    size_t pos;
    struct el_err *err;
    struct el_wbxml_encoder enc;
    struct el_buf text;   /* decoded text of the current node */
    int text_kept;        /* node holds CDATA or non-whitespace: never dropped */
    unsigned depth;
    struct elem stack[EL_WBXML_DEPTH_MAX];
    struct ns_entry ns[NS_MAX];
    unsigned nns;
};

static int perr(struct parser *p, int code, const char *fmt, const char *arg, size_t alen)
{
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < p->pos && i < p->len; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char what[160];
    snprintf(what, sizeof(what), fmt, (int)(alen > 60 ? 60 : alen), arg ? arg : "");
    return EL_ERR(p->err, code, p->pos, "line %u, column %u: %s", line, col, what);
}

static int starts(struct parser *p, const char *lit)
{
    size_t n = strlen(lit);
    return p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_space(struct parser *p)
{
    while (p->pos < p->len && is_space(p->s[p->pos]))
        p->pos++;
}

/* Moves past the next occurrence of lit; EL_ETRUNC if there is none. */
static int skip_past(struct parser *p, const char *lit, const char *what)
{
    size_t n = strlen(lit);
    for (size_t i = p->pos; i + n <= p->len; i++) {
        if (memcmp(p->s + i, lit, n) == 0) {
            p->pos = i + n;
            return 0;
        }
    }
    return perr(p, EL_ETRUNC, "unterminated %.*s", what, strlen(what));
}

static int is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == ':';
}

static size_t read_name(struct parser *p)
{
    size_t start = p->pos;
    while (p->pos < p->len && is_name_char(p->s[p->pos]))
        p->pos++;
    return p->pos - start;
}

/* ---- text and entities ------------------------------------------------------------------- */

static int put_utf8(struct el_buf *b, unsigned long cp)
{
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xC0 | (cp >> 6));
        u[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xE0 | (cp >> 12));
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xF0 | (cp >> 18));
        u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return el_buf_append(b, u, n);
}

static int read_entity(struct parser *p, struct el_buf *b)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'}, {"apos;", '\''}};
    size_t amp = p->pos; /* errors point at the '&' */
    p->pos++;
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        if (starts(p, named[i].name)) {
            p->pos += strlen(named[i].name);
            return el_buf_putc(b, (uint8_t)named[i].c);
        }
    }
    if (p->pos < p->len && p->s[p->pos] == '#') {
        p->pos++;
        int base = 10;
        if (p->pos < p->len && (p->s[p->pos] == 'x' || p->s[p->pos] == 'X')) {
            base = 16;
            p->pos++;
        }
        unsigned long cp = 0;
        size_t digits = 0;
        while (p->pos < p->len && p->s[p->pos] != ';' && digits < 8) {
            char c = p->s[p->pos];
            int v = (c >= '0' && c <= '9')   ? c - '0'
                    : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                             : 99;
            if (v >= base)
                break;
            cp = cp * (unsigned long)base + (unsigned long)v;
            digits++;
            p->pos++;
        }
        if (digits > 0 && p->pos < p->len && p->s[p->pos] == ';' && cp <= 0x10FFFF) {
            if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
                p->pos = amp;
                return perr(p, EL_EFORMAT,
                            "character reference to NUL or a surrogate is not "
                            "text (use opaque data)%.*s",
                            "", 0);
            }
            p->pos++; /* ';' */
            return put_utf8(b, cp);
        }
    }
    p->pos = amp;
    return perr(p, EL_EFORMAT, "bad entity reference%.*s", "", 0);
}

/* Ends the current text node: emits it as STR_I unless it is only indentation. The data of an
 * opaque="..." element is left to accumulate until its end tag. */
static int flush_text(struct parser *p)
{
    if (p->depth == 0 || p->stack[p->depth - 1].opaque)
        return 0;
    if (p->text_kept && p->text.len && memchr(p->text.data, 0, p->text.len) != NULL)
        return perr(p, EL_EFORMAT,
                    "text before this point holds a NUL byte (STR_I cannot carry "
                    "it; use opaque data)%.*s",
                    "", 0);
    if (p->text_kept)
        el_wbxml_str(&p->enc, p->text.len ? (const char *)p->text.data : "", p->text.len);
    el_buf_reset(&p->text);
    p->text_kept = 0;
    return 0;
}

static int read_chars(struct parser *p)
{
    int rc = 0;
    while (rc == 0 && p->pos < p->len && p->s[p->pos] != '<') {
        char c = p->s[p->pos];
        if (c == '&') {
            rc = read_entity(p, &p->text);
            p->text_kept = 1;
            continue;
        }
        if (!is_space(c))
            p->text_kept = 1;
        rc = el_buf_putc(&p->text, (uint8_t)c);
        p->pos++;
    }
    return rc;
}

/* ---- opaque data ------------------------------------------------------------------------- */

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes text (base64 or hex, whitespace ignored) in place into out. -1 on a bad character. */
static int decode_binary(const uint8_t *in, size_t n, int enc, struct el_buf *out)
{
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = (char)in[i];
        if (is_space(c) || (enc == 1 && c == '='))
            continue;
        int v;
        if (enc == 1) {
            v = b64val(c);
            if (v < 0)
                return -1;
            acc = (acc << 6) | (uint32_t)v;
            bits += 6;
        } else {
            v = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
            if (v < 0)
                return -1;
            acc = (acc << 4) | (uint32_t)v;
            bits += 4;
        }
        if (bits >= 8) {
            bits -= 8;
            if (el_buf_putc(out, (uint8_t)(acc >> bits)) < 0)
                return -2;
            acc &= (1u << bits) - 1;
        }
    }
    return (enc == 2 && bits != 0) ? -1 : 0;
}

static int encoding_of(const char *v, size_t n)
{
    if (n == 6 && memcmp(v, "base64", 6) == 0)
        return 1;
    if (n == 3 && memcmp(v, "hex", 3) == 0)
        return 2;
    return 0;
}

static int emit_opaque(struct parser *p, const uint8_t *data, size_t n, int enc)
{
    struct el_buf bin;
    el_buf_init(&bin, n + 1);
    int rc = decode_binary(data, n, enc, &bin);
    if (rc == 0)
        el_wbxml_opaque(&p->enc, bin.data ? bin.data : (const uint8_t *)"", bin.len);
    el_buf_close(&bin);
    if (rc < 0)
        return perr(p, EL_EFORMAT, "opaque data is not valid %.*s", enc == 1 ? "base64" : "hex",
                    enc == 1 ? 6 : 3);
    return 0;
}

/* <?opaque ENC DATA?> */
static int read_pi(struct parser *p)
{
    p->pos += 2;
    size_t start = p->pos;
    size_t n = read_name(p);
    if (n != 6 || memcmp(p->s + start, "opaque", 6) != 0)
        return perr(p, EL_EFORMAT, "unknown processing instruction <?%.*s", p->s + start, n);
    skip_space(p);
    start = p->pos;
    n = read_name(p);
    int enc = encoding_of(p->s + start, n);
    if (enc == 0)
        return perr(p, EL_EFORMAT, "opaque encoding '%.*s', expected base64 or hex",
                    p->s + start, n);
    start = p->pos;
    int rc = skip_past(p, "?>", "processing instruction");
    if (rc < 0)
        return rc;
    if (p->depth == 0)
        return perr(p, EL_EFORMAT, "opaque data outside the root element%.*s", "", 0);
    return emit_opaque(p, (const uint8_t *)p->s + start, p->pos - 2 - start, enc);
}

/* ---- elements ---------------------------------------------------------------------------- */

static int ns_page(const char *v, size_t n)
{
    if (n > 0 && v[n - 1] == ':')
        n--;
    return el_wbxml_page_lookup(v, n);
}

static int resolve(struct parser *p, const char *q, size_t qlen)
{
    const char *colon = memchr(q, ':', qlen);
    int page = -1;
    const char *local = q;
    size_t llen = qlen;
    if (colon) {
        size_t plen = (size_t)(colon - q);
        local = colon + 1;
        llen = qlen - plen - 1;
        for (unsigned i = p->nns; i-- > 0;) {
            if (p->ns[i].prefix && p->ns[i].plen == plen && memcmp(p->ns[i].prefix, q, plen) == 0) {
                page = p->ns[i].page;
                break;
            }
        }
        if (page < 0)
            page = el_wbxml_page_lookup(q, plen);
        if (page < 0)
            return perr(p, EL_EUNKNOWN, "unknown code page '%.*s'", q, plen);
    } else {
        for (unsigned i = p->nns; i-- > 0;) {
            if (p->ns[i].prefix == NULL) {
                page = p->ns[i].page;
                break;
            }
        }
    }
    if (page >= 0) {
        int tag = el_wbxml_tag_lookup((unsigned)page, local, llen);
        if (tag < 0)
            return perr(p, EL_EUNKNOWN, "unknown tag <%.*s> on its code page", q, qlen);
        return tag;
    }
    /* No namespace at all: accept a name that exists on exactly one page. */
    int found = -1;
    for (unsigned pg = 0; pg < EL_WBXML_PAGE_COUNT; pg++) {
        int tag = el_wbxml_tag_lookup(pg, local, llen);
        if (tag >= 0 && found >= 0)
            return perr(p, EL_EUNKNOWN, "<%.*s> is on several code pages: write Page:Tag", q,
                        qlen);
        if (tag >= 0)
            found = tag;
    }
    if (found < 0)
        return perr(p, EL_EUNKNOWN, "unknown tag <%.*s>", q, qlen);
    return found;
}

static int read_start_tag(struct parser *p)
{
    size_t lt = p->pos;
    p->pos++; /* '<' */
    const char *q = p->s + p->pos;
    size_t qlen = read_name(p);
    if (qlen == 0)
        return perr(p, EL_EFORMAT, "expected an element name%.*s", "", 0);
    if (p->depth >= EL_WBXML_DEPTH_MAX) {
        p->pos = lt;
        return perr(p, EL_EDEPTH, "nesting deeper than the limit at <%.*s>", q, qlen);
    }
    int opaque = 0;
    unsigned ns_mark = p->nns;
    for (;;) {
        skip_space(p);
        if (p->pos >= p->len)
            return perr(p, EL_ETRUNC, "input ends inside <%.*s>", q, qlen);
        char c = p->s[p->pos];
        if (c == '>' || (c == '/' && starts(p, "/>")))
            break;
        const char *an = p->s + p->pos;
        size_t alen = read_name(p);
        skip_space(p);
        if (alen == 0 || p->pos >= p->len || p->s[p->pos] != '=')
            return perr(p, EL_EFORMAT, "bad attribute in <%.*s>", q, qlen);
        p->pos++;
        skip_space(p);
        char quote = p->pos < p->len ? p->s[p->pos] : 0;
        if (quote != '"' && quote != '\'')
            return perr(p, EL_EFORMAT, "attribute value must be quoted in <%.*s>", q, qlen);
        const char *v = p->s + ++p->pos;
        const char *end = memchr(v, quote, p->len - p->pos);
        if (end == NULL)
            return perr(p, EL_ETRUNC, "unterminated attribute value in <%.*s>", q, qlen);
        size_t vlen = (size_t)(end - v);
        p->pos += vlen + 1;
        if (alen == 6 && memcmp(an, "opaque", 6) == 0) {
            opaque = encoding_of(v, vlen);
            if (opaque == 0)
                return perr(p, EL_EFORMAT, "opaque=\"%.*s\": expected base64 or hex", v, vlen);
        } else if ((alen == 5 && memcmp(an, "xmlns", 5) == 0) ||
                   (alen > 6 && memcmp(an, "xmlns:", 6) == 0)) {
            int page = ns_page(v, vlen);
            if (page < 0)
                return perr(p, EL_EUNKNOWN, "unknown namespace \"%.*s\"", v, vlen);
            if (p->nns >= NS_MAX)
                return perr(p, EL_ELIMIT, "too many namespace declarations%.*s", "", 0);
            struct ns_entry *e = &p->ns[p->nns++];
            e->prefix = alen == 5 ? NULL : an + 6;
            e->plen = alen == 5 ? 0 : alen - 6;
            e->page = page;
            e->depth = p->depth + 1;
        } else {
            return perr(p, EL_EFORMAT, "unsupported attribute %.*s", an, alen);
        }
    }
    size_t after = p->pos;
    p->pos = lt; /* errors about the name point at its '<' */
    int tag = resolve(p, q, qlen);
    if (tag < 0)
        return tag;
    p->pos = after;
    if (starts(p, "/>")) {
        p->pos += 2;
        p->nns = ns_mark;
        if (opaque)
            el_wbxml_opaque_elem(&p->enc, (uint16_t)tag, "", 0);
        else
            el_wbxml_empty(&p->enc, (uint16_t)tag);
        return 0;
    }
    p->pos++; /* '>' */
    el_wbxml_start(&p->enc, (uint16_t)tag);
    struct elem *e = &p->stack[p->depth++];
    e->qname = q;
    e->qlen = qlen;
    e->opaque = opaque;
    return 0;
}

static int read_end_tag(struct parser *p)
{
    size_t lt = p->pos;
    p->pos += 2;
    const char *q = p->s + p->pos;
    size_t qlen = read_name(p);
    skip_space(p);
    if (p->pos >= p->len || p->s[p->pos] != '>')
        return perr(p, EL_EFORMAT, "bad end tag </%.*s", q, qlen);
    if (p->depth == 0)
        return perr(p, EL_EFORMAT, "end tag </%.*s> with no open element", q, qlen);
    struct elem *e = &p->stack[p->depth - 1];
    if (e->qlen != qlen || memcmp(e->qname, q, qlen) != 0) {
        p->pos = lt;
        return perr(p, EL_EFORMAT, "end tag </%.*s> does not match its start tag", q, qlen);
    }
    p->pos++;
    if (e->opaque) {
        int rc = emit_opaque(p, p->text.data, p->text.len, e->opaque);
        el_buf_reset(&p->text);
        p->text_kept = 0;
        if (rc < 0)
            return rc;
    }
    el_wbxml_end(&p->enc);
    p->depth--;
    while (p->nns > 0 && p->ns[p->nns - 1].depth > p->depth)
        p->nns--;
    return 0;
}

static int skip_prolog_item(struct parser *p)
{
    if (starts(p, "<?xml"))
        return skip_past(p, "?>", "XML declaration");
    if (starts(p, "<!--"))
        return skip_past(p, "-->", "comment");
    if (starts(p, "<!DOCTYPE")) {
        size_t close = p->pos;
        while (close < p->len && p->s[close] != '>' && p->s[close] != '[')
            close++;
        p->pos = close;
        if (close < p->len && p->s[close] == '[')
            if (skip_past(p, "]", "DOCTYPE") < 0)
                return EL_ETRUNC;
        return skip_past(p, ">", "DOCTYPE");
    }
    return 1;
}

static int parse(struct parser *p)
{
    if (starts(p, "\xEF\xBB\xBF"))
        p->pos += 3;
    for (;;) {
        skip_space(p);
        int rc = skip_prolog_item(p);
        if (rc < 0)
            return rc;
        if (rc == 1)
            break;
    }
    if (p->pos >= p->len || p->s[p->pos] != '<')
        return perr(p, EL_EFORMAT, "expected the root element%.*s", "", 0);
    int rc = read_start_tag(p);
    while (rc == 0 && p->depth > 0) {
        if (p->pos >= p->len)
            return perr(p, EL_ETRUNC, "input ends inside <%.*s>", p->stack[p->depth - 1].qname,
                        p->stack[p->depth - 1].qlen);
        if (p->s[p->pos] != '<') {
            rc = read_chars(p);
        } else if (starts(p, "<![CDATA[")) {
            p->pos += 9;
            size_t start = p->pos;
            rc = skip_past(p, "]]>", "CDATA section");
            if (rc == 0)
                rc = el_buf_append(&p->text, p->s + start, p->pos - 3 - start);
            p->text_kept = 1;
        } else if (p->stack[p->depth - 1].opaque && !starts(p, "</")) {
            if (starts(p, "<!--"))
                rc = skip_past(p, "-->", "comment");
            else
                rc = perr(p, EL_EFORMAT, "an opaque=\"...\" element holds only data%.*s", "", 0);
        } else {
            rc = flush_text(p);
            if (rc < 0)
                break;
            if (starts(p, "</"))
                rc = read_end_tag(p);
            else if (starts(p, "<!--"))
                rc = skip_past(p, "-->", "comment");
            else if (starts(p, "<?"))
                rc = read_pi(p);
            else
                rc = read_start_tag(p);
        }
    }
    if (rc < 0)
        return rc;
    for (;;) {
        skip_space(p);
        if (p->pos >= p->len)
            return 0;
        if (starts(p, "<!--")) {
            rc = skip_past(p, "-->", "comment");
        } else if (p->s[p->pos] == '<' && p->pos + 1 < p->len && is_name_char(p->s[p->pos + 1])) {
            size_t save = p->pos++;
            size_t n = read_name(p);
            const char *q = p->s + save + 1;
            p->pos = save;
            return perr(p, EL_EFORMAT, "a second root element <%.*s>", q, n);
        } else {
            return perr(p, EL_EFORMAT, "content after the root element%.*s", "", 0);
        }
        if (rc < 0)
            return rc;
    }
}

int el_wbxml_from_xml(const char *xml, size_t len, struct el_buf *out, struct el_err *err)
{
    struct parser p;
    memset(&p, 0, sizeof(p));
    p.s = xml;
    p.len = len;
    p.err = err;
    el_buf_init(&p.text, len + 16);
    size_t start = out->len;
    el_wbxml_encoder_init(&p.enc, out);
    int rc = parse(&p);
    if (rc == 0) {
        rc = el_wbxml_encoder_finish(&p.enc, err);
        if (rc < 0 && err)
            err->offset = EL_NO_OFFSET;
    }
    el_buf_close(&p.text);
    if (rc < 0)
        out->len = start;
    return rc;
}
