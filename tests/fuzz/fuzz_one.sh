#!/bin/sh
# fuzz_one.sh - runs one libFuzzer target; used by ctest (tests/fuzz/CMakeLists.txt) and run.sh.
#   fuzz_one.sh BIN SECONDS WORK_DIR FIXTURES_DIR KIND [EASLOAD_BIN PAGES_TXT]
# KIND is wbxml or xml: which fixtures seed it. SECONDS > 0: fuzz that long on WORK_DIR/corpus
# (kept between runs, all in the build tree) seeded from FIXTURES_DIR/wbxml/*.KIND, the crash
# reproducers in FIXTURES_DIR/wbxml-crashes/ and, for xml, the .wbxml fixtures converted with
# `EASLOAD_BIN wbxml decode`; PAGES_TXT supplies tag names for the dictionary.
# SECONDS = 0: replay FIXTURES_DIR/wbxml-crashes/*.KIND once each (regression test).
# Exit status: the fuzzer's (non-zero on a crash, sanitizer report, leak or timeout); new
# crash inputs land in WORK_DIR/artifacts/. Prints `fuzz=NAME execs=N execs_per_s=N`.
set -u
bin=$1 secs=$2 work=$3 fixtures=$4 kind=$5
easload=${6:-} pages=${7:-}
name=$(basename "$bin")
crashes=$fixtures/wbxml-crashes

if [ "$secs" = 0 ]; then
    set --
    for f in "$crashes"/*."$kind"; do
        [ -f "$f" ] && set -- "$@" "$f"
    done
    if [ $# = 0 ]; then
        echo "$name: no regression inputs in $crashes"
        exit 0
    fi
    exec "$bin" -runs=1 "$@"
fi

mkdir -p "$work/corpus" "$work/artifacts"
rm -rf "$work/seeds"
mkdir -p "$work/seeds"
for f in "$fixtures"/wbxml/*."$kind" "$crashes"/*."$kind"; do
    [ -f "$f" ] && cp "$f" "$work/seeds/"
done
if [ "$kind" = xml ] && [ -n "$easload" ]; then
    for f in "$fixtures"/wbxml/*.wbxml; do
        [ -f "$f" ] || continue
        "$easload" wbxml decode "$f" -o "$work/seeds/$(basename "$f" .wbxml).from-wbxml.xml" ||
            echo "$name: could not convert seed $f" >&2
    done
fi

# Dictionary: the syntax either format is built of, plus every page and tag name.
dict=$work/$name.dict
if [ "$kind" = xml ]; then
    cat >"$dict" <<'DICT'
"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
"<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" \"http://www.microsoft.com/\">"
"<![CDATA["
"]]>"
"<!--"
"-->"
"<!---->"
"<?opaque base64 "
"<?opaque hex "
"?>"
" opaque=\"base64\""
" opaque=\"hex\""
" xmlns=\""
" xmlns:"
"</"
"/>"
"&amp;"
"&lt;"
"&#x"
"&#"
DICT
    if [ -n "$pages" ] && [ -f "$pages" ]; then
        awk '$1 == "page" { print "\"" $3 ":\"" } $1 ~ /^[0-9A-F][0-9A-F]$/ { print "\"" $2 "\"" }
             $1 == "alias" { print "\"" $3 "\"" }' "$pages" | sort -u >>"$dict"
    fi
else
    cat >"$dict" <<'DICT'
"\x03\x01\x6A\x00"
"\x00\x11"
"\x00\x07"
"\x03\x00"
"\x01\x01"
"\xC3\x81\x00"
DICT
fi

log=$work/last.log
"$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 -dict="$dict" \
    -artifact_prefix="$work/artifacts/" "$work/corpus" "$work/seeds" >"$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
echo "fuzz=$name seconds=$secs execs=${execs:-?} execs_per_s=${rate:-?} corpus=$(find "$work/corpus" -type f | wc -l) rc=$rc"
if [ $rc -ne 0 ]; then
    tail -n 60 "$log"
    echo "$name: failed (rc=$rc); reproducers: $(find "$work/artifacts" -type f | tr '\n' ' ')"
fi
exit $rc
