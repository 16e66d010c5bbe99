#!/bin/sh
# test_report_merge.sh - end-to-end test of `easload report` and `easload merge`: the table,
# thresholds and exit codes of report (0 pass, 1 failed or malformed, 2 usage, 3 I/O); merge of
# three shards writes the same results.json as the unsplit run; merge refuses another schema
# version, histogram configuration or scenario, naming the file.
# usage: test_report_merge.sh PATH/TO/easload PATH/TO/test_results SOURCE_DIR
set -eu
easload=$1
gen=$2
src=$3
golden=$src/tests/fixtures/results/results-v1.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
checks=0

fail() {
    echo "FAIL: $*" >&2
    failed=$((failed + 1))
}

# run EXPECTED_EXIT CMD...: stdout in $tmp/out, stderr in $tmp/err
run() {
    want=$1
    shift
    checks=$((checks + 1))
    set +e
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    set -e
    if [ "$got" -ne "$want" ]; then
        fail "$* exited $got, expected $want; stderr: $(head -c 300 "$tmp/err")"
        return 1
    fi
    return 0
}

out_has() {
    for t in "$@"; do
        grep -qF -- "$t" "$tmp/out" || fail "stdout lacks '$t'"
    done
}

# err_has TEXT...: stderr is exactly one line and contains every TEXT
err_has() {
    lines=$(wc -l <"$tmp/err")
    [ "$lines" -eq 1 ] || fail "expected one stderr line, got $lines: $(cat "$tmp/err")"
    for t in "$@"; do
        grep -qF -- "$t" "$tmp/err" || fail "stderr lacks '$t': $(cat "$tmp/err")"
    done
}

# edit IN OUT PYTHON: OUT is IN's JSON after the python statements (on d) ran
edit() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"), indent=1)
PY
}

# ---- report -----------------------------------------------------------------------------------
if run 1 "$easload" report "$golden"; then
    out_has "scenario  mixed (scenarios/mixed.lua)" "target    http://127.0.0.1:8080" \
        "command            requests" "sync " "total                 30000" \
        "outcomes http_status 2981" "late      310 requests" "counters  http.503 3055" \
        "devices   64: bytes per device" "FAIL  inbox has mail" "PASS  login ok" \
        "FAIL  sync.p99<800ms" "PASS  requests.count>=1000" "result    FAIL (3 checks"
fi
edit "$golden" "$tmp/pass.json" 'd["thresholds"] = d["thresholds"][2:]; del d["checks"]["inbox has mail"]'
run 0 "$easload" report "$tmp/pass.json" && out_has "PASS  requests.count>=1000" "result    PASS"
run 0 "$easload" report "$tmp/pass.json" --junit "$tmp/j.xml" --timeline "$tmp/t.csv" && {
    head -1 "$tmp/t.csv" | grep -qx 'second,requests,errors,p50_ms,p99_ms,bytes_in,bytes_out' ||
        fail "timeline.csv header: $(head -1 "$tmp/t.csv")"
    [ "$(wc -l <"$tmp/t.csv")" -eq 41 ] || fail "timeline.csv: $(wc -l <"$tmp/t.csv") lines, not 41"
    grep -q 'tests="2" failures="0"' "$tmp/j.xml" || fail "junit.xml counts: $(head -3 "$tmp/j.xml")"
}
edit "$golden" "$tmp/nohist.json" 'del d["commands"]["sync"]["outcomes"]["ok"]["histogram"]'
run 1 "$easload" report "$tmp/nohist.json" &&
    err_has "easload report: $tmp/nohist.json: commands.sync.outcomes.ok.histogram: missing field"
edit "$golden" "$tmp/badhist.json" 'd["values"]["push"]["histogram"] = "v1:AYDI!"'
run 1 "$easload" report "$tmp/badhist.json" &&
    err_has "values.push.histogram: bad histogram encoding at offset 8"
head -c 2000 "$golden" >"$tmp/cut.json"
run 1 "$easload" report "$tmp/cut.json" && err_has "$tmp/cut.json: line "
run 3 "$easload" report "$tmp/nonexistent.json" && err_has "nonexistent.json"
run 1 "$easload" report "$golden" --html "$tmp/r.html" && {
    for id in latency-over-time requests-over-time latency-per-command outcomes bytes-per-device; do
        grep -q "<svg id=\"$id\"" "$tmp/r.html" || fail "report.html lacks the $id plot"
    done
    [ "$(grep -c '<polyline class="series"' "$tmp/r.html")" -eq 4 ] || fail "report.html: lines"
    grep -q 'sync.p99&lt;800ms' "$tmp/r.html" || fail "report.html lacks the thresholds"
    if grep -Eq '<script|src=|href=|@import|url\(' "$tmp/r.html"; then
        fail "report.html refers to something outside itself"
    fi
}
run 2 "$easload" report && err_has "expected one results.json"
run 2 "$easload" report a.json b.json && err_has "unexpected argument 'b.json'"
run 0 "$easload" report --help && out_has "usage: easload report"

# ---- merge ------------------------------------------------------------------------------------
"$gen" --write-shards "$tmp" || fail "test_results --write-shards failed"
run 0 "$easload" merge "$tmp/shard-2.json" "$tmp/shard-0.json" "$tmp/shard-1.json" \
    -o "$tmp/merged.json" && {
    cmp -s "$tmp/merged.json" "$tmp/whole.json" ||
        fail "merged shards differ from the unsplit run: $(diff "$tmp/merged.json" "$tmp/whole.json" | head -5)"
}
# the golden file predates the timeline's "throttled" column: without it, through easload's own
# writer, the unsplit run is that file byte for byte
edit "$tmp/whole.json" "$tmp/whole6.json" '
d["timeline"]["columns"] = d["timeline"]["columns"][:6]
d["timeline"]["seconds"] = [row[:6] for row in d["timeline"]["seconds"]]'
run 0 "$easload" merge "$tmp/whole6.json" -o "$tmp/whole6-canonical.json" &&
    { cmp -s "$tmp/whole6-canonical.json" "$golden" ||
        fail "the unsplit run differs from the golden results-v1.json"; }
run 0 "$easload" merge "$golden" -o "$tmp/one.json" && {
    cmp -s "$tmp/one.json" "$golden" || fail "merging one file changed it"
}
run 0 "$easload" merge "$golden" "$golden" -o "$tmp/twice.json" && {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["totals"]["requests"] == 60000, d["totals"]
assert d["devices"] == 128 and d["device_bytes"]["devices"] == 64, d["devices"]
assert d["counters"]["http.503"] == 6110
' "$tmp/twice.json" || fail "merging the golden twice: wrong totals"
}
edit "$golden" "$tmp/v2.json" 'd["schema"] = "easload.results/2"'
run 1 "$easload" merge "$golden" "$tmp/v2.json" -o "$tmp/x.json" &&
    err_has "$tmp/v2.json: schema: unsupported schema 'easload.results/2'"
edit "$golden" "$tmp/cfg.json" '
d["histogram_config"]["sig_figs"] = 2
d["commands"] = {}
d["values"] = {}'
run 1 "$easload" merge "$golden" "$tmp/cfg.json" -o "$tmp/x.json" &&
    err_has "$tmp/cfg.json: cannot merge" "histogram configurations differ"
edit "$golden" "$tmp/cfg2.json" 'd["histogram_config"]["sig_figs"] = 2'
run 1 "$easload" merge "$golden" "$tmp/cfg2.json" -o "$tmp/x.json" &&
    err_has "$tmp/cfg2.json: commands." "histogram configuration differs from histogram_config"
edit "$golden" "$tmp/other.json" 'd["scenario"] = "other"'
run 1 "$easload" merge "$golden" "$tmp/other.json" -o "$tmp/x.json" &&
    err_has "$tmp/other.json: scenario 'other' differs from 'mixed'"
[ -e "$tmp/x.json" ] && fail "a refused merge wrote its output"
run 2 "$easload" merge "$golden" && err_has "missing -o merged.json"
run 2 "$easload" merge -o "$tmp/x.json" && err_has "expected at least one results.json"
run 3 "$easload" merge "$golden" -o "$tmp/no/such/dir/x.json" && err_has "x.json"

if [ "$failed" -ne 0 ]; then
    echo "$failed of $checks checks failed" >&2
    exit 1
fi
echo "$checks passed, 0 failed"
