#!/bin/sh
# demo.sh - what `make demo` runs. Until the load engine lands: decodes each shipped EAS
# message of tests/fixtures/wbxml to XML, encodes the XML back and checks the bytes are identical.
set -eu
easload=${1:-build/cli/easload}
dir=$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/wbxml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
same=0
for f in "$dir"/*.wbxml; do
    name=$(basename "$f" .wbxml)
    printf '\n=== %s (%s bytes) ===\n' "$name" "$(wc -c <"$f")"
    "$easload" wbxml decode "$f" | tee "$tmp/$name.xml"
    "$easload" wbxml encode -o "$tmp/$name.wbxml" "$tmp/$name.xml"
    n=$((n + 1))
    if cmp -s "$f" "$tmp/$name.wbxml"; then
        same=$((same + 1))
    else
        echo "demo: $name: re-encoded bytes differ from the capture" >&2
    fi
done
printf '\ndemo: %d of %d EAS messages decoded and re-encoded byte for byte\n' "$same" "$n"
[ "$same" -eq "$n" ]
