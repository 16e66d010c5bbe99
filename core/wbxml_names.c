/* wbxml_names.c - name <-> token lookups over the generated code page tables.
 * Owns: nothing. Uses: wbxml_pages.c. Not on the hot path (XML form, CLI, tests). */
#include "wbxml.h"

#include <strings.h>
#include <string.h>

const char *el_wbxml_tag_name(uint16_t tag)
{
    unsigned page = EL_WBXML_PAGE_OF(tag);
    if (page >= EL_WBXML_PAGE_COUNT || (tag & 0xC0) != 0)
        return NULL;
    return el_wbxml_pages[page].tags[EL_WBXML_TOKEN_OF(tag)].name;
}

const char *el_wbxml_page_name(unsigned page)
{
    return page < EL_WBXML_PAGE_COUNT ? el_wbxml_pages[page].name : NULL;
}

static int name_eq(const char *a, const char *b, size_t blen, int nocase)
{
    size_t alen = strlen(a);
    if (alen != blen)
        return 0;
    return nocase ? strncasecmp(a, b, blen) == 0 : memcmp(a, b, blen) == 0;
}

/* Page names seen for the same page elsewhere: "ItemEstimate" (libwbxml's source comments and
 * older captures; libwbxml 0.11.8 itself writes "GetItemEstimate:"). */
static const struct {
    const char *name;
    int page;
} page_aliases[] = {
    {"ItemEstimate", EL_PAGE_GETITEMESTIMATE},
};

int el_wbxml_page_lookup(const char *name, size_t len)
{
    /* Namespaces are case-insensitive in practice ("airsync:" in some captures). */
    for (int p = 0; p < EL_WBXML_PAGE_COUNT; p++)
        if (name_eq(el_wbxml_pages[p].name, name, len, 1))
            return p;
    for (size_t i = 0; i < sizeof(page_aliases) / sizeof(page_aliases[0]); i++)
        if (name_eq(page_aliases[i].name, name, len, 1))
            return page_aliases[i].page;
    return -1;
}

int el_wbxml_tag_lookup(unsigned page, const char *name, size_t len)
{
    if (page >= EL_WBXML_PAGE_COUNT)
        return -1;
    const struct el_wbxml_tag_info *tags = el_wbxml_pages[page].tags;
    for (int t = 5; t < 64; t++)
        if (tags[t].name && name_eq(tags[t].name, name, len, 0))
            return EL_WBXML_TAG(page, t);
    for (const struct el_wbxml_alias *a = el_wbxml_aliases; a->name; a++)
        if (a->page == page && name_eq(a->name, name, len, 0))
            return EL_WBXML_TAG(page, a->token);
    return -1;
}
