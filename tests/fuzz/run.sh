#!/bin/sh
# run.sh - runs every libFuzzer target built in BUILD_DIR/tests/fuzz for FUZZ_SECONDS each
# (default 60; make fuzz calls it) and prints the execs/s each reached. Corpora and crash
# artifacts stay in BUILD_DIR/tests/fuzz/work-<target>/. Exit status: non-zero if any target
# found a crash.
#   tests/fuzz/run.sh BUILD_DIR
set -u
build=${1:?usage: tests/fuzz/run.sh BUILD_DIR}
secs=${FUZZ_SECONDS:-60}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
status=0
for bin in "$build"/tests/fuzz/fuzz_*; do
    if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
        continue
    fi
    name=$(basename "$bin")
    case $name in
    *_xml) kind=xml ;;
    *) kind=wbxml ;;
    esac
    "$here/fuzz_one.sh" "$bin" "$secs" "$build/tests/fuzz/work-$name" "$src/tests/fixtures" \
        "$kind" "$build/cli/easload" "$src/core/wbxml_pages.txt" || status=1
done
exit $status
