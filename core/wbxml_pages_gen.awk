# wbxml_pages_gen.awk - turns core/wbxml_pages.txt into the code page tables (C) and the tag
# constants (header). Run by CMake: awk -v hdr=wbxml_tags.h -v src=wbxml_pages.c -f this data.
function ver(v) {
    sub(/\+$/, "", v); sub(/^-/, "", v)
    split(v, a, ".")
    return a[1] * 10 + a[2]
}
function fail(msg) {
    printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
    failed = 1
    exit 1
}
BEGIN {
    npages = 0
    nalias = 0
    dnt = "generated from core/wbxml_pages.txt by core/wbxml_pages_gen.awk; do not edit"
}
/^[ \t]*#/ || /^[ \t]*$/ { next }
$1 == "page" {
    page = $2 + 0
    if (page != npages) fail("pages must be numbered in order, expected " npages)
    pname[page] = $3
    prefix[page] = $4
    pdefault[page] = ($5 != "") ? ver($5) : 25
    npages++
    next
}
$1 == "alias" {
    if (npages == 0) fail("alias before the first page")
    aliasp[nalias] = page
    aliast[nalias] = $2
    aliasn[nalias] = $3
    nalias++
    next
}
{
    if (npages == 0) fail("token before the first page")
    if ($1 !~ /^[0-3][0-9A-F]$/) fail("bad token " $1)
    tok = $1
    key = page SUBSEP tok
    if (key in name) fail("token " tok " defined twice on page " page)
    name[key] = $2
    since[key] = pdefault[page]
    until[key] = 0
    legacy[key] = 0
    for (i = 3; i <= NF; i++) {
        if ($i == "legacy") legacy[key] = 1
        else if ($i ~ /\+$/) since[key] = ver($i)
        else if ($i ~ /^-/) until[key] = ver($i)
        else fail("bad field " $i)
    }
    up = toupper($2)
    cname = "EL_" prefix[page] "_" up
    if (cname in seen) fail("duplicate constant " cname)
    seen[cname] = 1
    consts[page] = consts[page] sprintf("#define %-48s 0x%02X%s\n", cname, page, tok)
}
END {
    if (failed) exit 1
    print "/* wbxml_tags.h - tag constants ((page << 8) | token) of every EAS WBXML tag.\n * " dnt " */" > hdr
    print "#ifndef EL_WBXML_TAGS_H\n#define EL_WBXML_TAGS_H\n" > hdr
    printf "#define EL_WBXML_PAGE_COUNT %d\n\n", npages > hdr
    for (p = 0; p < npages; p++) {
        printf "/* page %d: %s */\n#define EL_PAGE_%-43s %d\n", p, pname[p], toupper(pname[p]), p > hdr
        printf "%s\n", consts[p] > hdr
    }
    print "#endif" > hdr

    print "/* wbxml_pages.c - the EAS WBXML code page tables.\n * " dnt " */" > src
    print "#include \"wbxml.h\"\n" > src
    print "const struct el_wbxml_page el_wbxml_pages[EL_WBXML_PAGE_COUNT] = {" > src
    for (p = 0; p < npages; p++) {
        printf "    [%d] = {\n        .name = \"%s\",\n        .tags = {\n", p, pname[p] > src
        for (t = 0; t < 64; t++) {
            tok = sprintf("%02X", t)
            key = p SUBSEP tok
            if (!(key in name)) continue
            printf "            [0x%s] = {\"%s\", %d, %d, %d},\n", tok, name[key], since[key], until[key], legacy[key] > src
        }
        printf "        },\n    },\n" > src
    }
    print "};\n" > src
    print "/* Assigned tokens of each page as bits (the decoder's check per tag: 200 bytes). */" > src
    print "const uint64_t el_wbxml_assigned[EL_WBXML_PAGE_COUNT] = {" > src
    for (p = 0; p < npages; p++) {
        bits = ""
        for (t = 0; t < 64; t++) {
            key = p SUBSEP sprintf("%02X", t)
            if (key in name) bits = bits (bits == "" ? "" : " | ") sprintf("1ull << 0x%02X", t)
        }
        printf "    [%d] = %s,\n", p, (bits == "" ? "0" : bits) > src
    }
    print "};\n" > src
    printf "const struct el_wbxml_alias el_wbxml_aliases[] = {\n" > src
    for (i = 0; i < nalias; i++)
        printf "    {%d, 0x%s, \"%s\"},\n", aliasp[i], aliast[i], aliasn[i] > src
    printf "    {0, 0, NULL},\n};\n" > src
}
