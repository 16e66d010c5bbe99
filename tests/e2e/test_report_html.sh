#!/bin/sh
# test_report_html.sh - issue 6 item 5 and issue 8 item 6: report.html rendered in headless
# Chromium (Debian's chromium). For a fresh run (`easload serve` + `easload run
# scenarios/sync.lua`, 20 phones for 3 s on loopback), a throttled run (scenarios/throttle.lua,
# 8 phones for 4 s against `easload serve --max-concurrency-per-user 1 --retry-after 1` with a
# 503 without Retry-After on 20% of Syncs) and the golden tests/fixtures/results/results-v1.json
# it checks:
#  - the page names no URL and loads nothing: no script, src, href, url() or @import, and no
#    http(s) anywhere outside the <pre> summary (which shows the target); Chromium's net log
#    (--log-net-log) has no request made for the page (site_for_cookies file://);
#  - no console error or uncaught exception (--enable-logging=stderr --v=0);
#  - after layout (--dump-dom of a copy with tests/e2e/report_probe.js appended), each of the five
#    plots of issue 6 is an <svg> of readable size with drawn marks, tick labels and a unit, and
#    no overlapping or cut-off labels; so are the throttling plots (share throttled per second,
#    back-off waits) and faults by class of the throttled run, and faults by class of the golden
#    file; the clean run's page has no throttling plot; the throttled run's terminal summary has
#    its throttling line;
#  - the screenshot (--screenshot, decoded by png_stats) is not blank: many colours, a share of
#    non-background pixels, and the plots' palette colours drawn.
# Negative controls prove each check can fail: a copy without the outcomes <svg>, one whose bars
# are gone, one whose throttling line is gone, one with an <img> on a dead loopback port and a
# script error, a blank page.
# usage: test_report_html.sh PATH/TO/easload PATH/TO/png_stats SOURCE_DIR
set -eu
easload=$1
png_stats=$2
src=$3
golden=$src/tests/fixtures/results/results-v1.json
probe_js=$src/tests/e2e/report_probe.js
plots="latency-over-time requests-over-time latency-per-command outcomes bytes-per-device"
throttle_plots="throttling backoff faults-by-class"
# the plots' palette (results/report_html.c colors[]): blue, red, green, orange
palette="#1f77b4 #d62728 #2ca02c #ff7f0e"
tmp=$(mktemp -d)
srv_pid=
cleanup() {
    if [ -n "$srv_pid" ]; then
        kill "$srv_pid" 2>/dev/null || true
        wait "$srv_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
failed=0
checks=0

fail() {
    echo "FAIL: $*" >&2
    failed=$((failed + 1))
}

chromium_bin=$(command -v chromium || true)
if [ -z "$chromium_bin" ]; then
    echo "FAIL: no chromium (Debian's chromium, in deploy/debian-packages.txt): make deps" >&2
    exit 1
fi

# chrome NAME ARG...: headless Chromium, stderr log in $tmp/NAME.log, net log in $tmp/NAME.net.
# The flags keep the browser's own background traffic down and the run free of profile state.
chrome() {
    name=$1
    shift
    mkdir -p "$tmp/profile-$name"
    XDG_CONFIG_HOME=$tmp/xdg XDG_CACHE_HOME=$tmp/xdg timeout -k 5 60 "$chromium_bin" \
        --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-extensions --user-data-dir="$tmp/profile-$name" --hide-scrollbars \
        --enable-logging=stderr --v=0 --log-net-log="$tmp/$name.net" "$@" 2>"$tmp/$name.log"
}

# static_ok HTML: the file refers to nothing outside itself
static_ok() {
    ok=0
    refs='<script|<link|<iframe|<object|<embed|src=|href=|srcset=|@import|url\('
    if grep -Eiq "$refs" "$1"; then
        echo "refers to something outside itself: $(grep -Eio ".{0,30}($refs).{0,30}" "$1" | head -1)"
        ok=1
    fi
    # the summary <pre> shows the target URL as text; nothing else may name one
    if sed '/<pre>/,/<\/pre>/d' "$1" | grep -Eiq 'https?:'; then
        echo "names a URL: $(sed '/<pre>/,/<\/pre>/d' "$1" | grep -Eio '.{0,30}https?:.{0,30}' | head -1)"
        ok=1
    fi
    return $ok
}

# render_ok NAME HTML: load HTML; no request made for the page, no console error; NAME.png
render_ok() {
    ok=0
    chrome "$1" --window-size=1000,2600 --screenshot="$tmp/$1.png" "file://$2" >/dev/null || {
        echo "chromium exited $?: $(grep -v dbus "$tmp/$1.log" | tail -3)"
        return 1
    }
    [ -s "$tmp/$1.net" ] || { echo "chromium wrote no net log" && ok=1; }
    # a request on behalf of the page carries the page's site; the browser's own do not
    reqs=$(grep '"url":"' "$tmp/$1.net" | grep -c 'site=file://' || true)
    if [ "$reqs" -ne 0 ]; then
        echo "the page made $reqs network request(s): $(grep 'site=file://' "$tmp/$1.net" | grep -o '"url":"[^"]*"' | sort -u | head -3 | tr '\n' ' ')"
        ok=1
    fi
    if grep -Eq 'CONSOLE|Uncaught' "$tmp/$1.log"; then
        echo "console: $(grep -E 'CONSOLE|Uncaught' "$tmp/$1.log" | head -2)"
        ok=1
    fi
    return $ok
}

# plots_ok NAME HTML [ID...]: the probe's verdict on each plot after layout: the five plots and
# the IDs, which must be there; any other plot on the page must pass too
plots_ok() {
    grep -v '^</body></html>$' "$2" >"$tmp/$1.probe.html"
    {
        printf '<script>\n'
        cat "$probe_js"
        printf '</script>\n</body></html>\n'
    } >>"$tmp/$1.probe.html"
    chrome "$1.probe" --dump-dom "file://$tmp/$1.probe.html" >"$tmp/$1.dom" || {
        echo "chromium --dump-dom exited $?"
        return 1
    }
    ok=0
    grep -qx 'probe done' "$tmp/$1.dom" || { echo "the probe did not finish: $(grep -E 'CONSOLE|Uncaught' "$tmp/$1.probe.log" | head -2)" && return 1; }
    if grep -Eq 'CONSOLE|Uncaught' "$tmp/$1.probe.log"; then
        echo "console: $(grep -E 'CONSOLE|Uncaught' "$tmp/$1.probe.log" | head -2)"
        ok=1
    fi
    name=$1
    shift 2
    for id in $plots "$@"; do
        if ! grep -q "^ok $id " "$tmp/$name.dom"; then
            grep -q "^FAIL $id: " "$tmp/$name.dom" || echo "FAIL $id: no verdict"
            ok=1
        fi
    done
    # the probe's FAIL lines: a required plot's, or another plot's on the page
    if grep "^FAIL " "$tmp/$name.dom"; then
        ok=1
    fi
    return $ok
}

# screenshot_ok PNG: not blank, the palette drawn
screenshot_ok() {
    # shellcheck disable=SC2086
    "$png_stats" "$1" $palette >"$tmp/png.txt" || return 1
    ok=0
    colours=$(sed -n 's/.* colours=\([0-9]*\).*/\1/p' "$tmp/png.txt")
    ink=$(sed -n 's/.*unlike_background_permille=\([0-9]*\).*/\1/p' "$tmp/png.txt")
    [ "${colours:-0}" -ge 64 ] || { echo "$colours colours" && ok=1; }
    [ "${ink:-0}" -ge 20 ] || { echo "only $ink permille of the pixels are not background" && ok=1; }
    for c in $palette; do
        n=$(sed -n "s/^$c=//p" "$tmp/png.txt")
        [ "${n:-0}" -ge 30 ] || { echo "colour $c: $n pixels" && ok=1; }
    done
    return $ok
}

# expect_ok WHAT CHECK ARG...: CHECK must pass
expect_ok() {
    what=$1
    shift
    checks=$((checks + 1))
    if ! out=$("$@"); then
        fail "$what: $out"
    fi
}

# expect_fail WHAT PATTERN CHECK ARG...: CHECK must fail, saying PATTERN (a negative control)
expect_fail() {
    what=$1
    pattern=$2
    shift 2
    checks=$((checks + 1))
    if out=$("$@"); then
        fail "$what: the check passed a broken page"
    elif ! printf '%s\n' "$out" | grep -q -- "$pattern"; then
        fail "$what: failed, but not with '$pattern': $out"
    fi
}

# start_server ARG...: easload serve on ephemeral loopback ports, bounded; sets srv_pid, target
start_server() {
    "$easload" serve --listen 127.0.0.1:0 --admin 127.0.0.1:0 --duration 60 "$@" \
        >"$tmp/serve.out" 2>"$tmp/serve.log" &
    srv_pid=$!
    i=0
    while ! grep -q "listening on admin" "$tmp/serve.out" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 200 ] || ! kill -0 "$srv_pid" 2>/dev/null; then
            echo "FAIL: easload serve did not start: $(cat "$tmp/serve.log")" >&2
            exit 1
        fi
        sleep 0.1
    done
    target=$(grep -m1 "listening on http://" "$tmp/serve.out" | sed 's/.*listening on //')
}

# run_scenario OUT SCENARIO ARG...: easload run against $target into $tmp/OUT, then the server
# stops; stdout in $tmp/OUT.out
run_scenario() {
    out=$1
    scenario=$2
    shift 2
    set +e
    timeout -k 5 60 "$easload" run "$src/scenarios/$scenario" --target "$target" --workers 1 \
        --no-progress --out "$tmp/$out" "$@" >"$tmp/$out.out" 2>"$tmp/$out.err"
    rc=$?
    set -e
    kill "$srv_pid" 2>/dev/null || true
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=
    checks=$((checks + 1))
    # exit 1 is a failed threshold; a sanitizer report also exits 1, so stderr is read too
    if [ "$rc" -gt 1 ] || [ ! -s "$tmp/$out/results.json" ] ||
        grep -Eq 'Sanitizer|runtime error' "$tmp/$out.err"; then
        echo "FAIL: easload run $scenario exited $rc: $(tail -3 "$tmp/$out.err")" >&2
        exit 1
    fi
}

# ---- a fresh run: easload serve + easload run scenarios/sync.lua, bounded ---------------------
start_server --users 20
run_scenario run sync.lua --devices 20 --ramp 1s --duration 3s --user-count 20

# ---- a throttled run: one request in flight per user, Retry-After 1 s, and 503s without it ----
start_server --users 2 --max-concurrency-per-user 1 --retry-after 1 --fault 'sync:http503@20%'
run_scenario throttled throttle.lua --devices 8 --ramp 1s --duration 4s
checks=$((checks + 1))
line=$(grep '^throttled ' "$tmp/throttled.out" || true)
if ! printf '%s\n' "$line" |
    grep -Eq '^throttled [1-9][0-9]* \([0-9.]+%\), backoff p50 [0-9.]+ ms / p99 [0-9.]+ ms, Retry-After honoured [1-9][0-9]* of [1-9][0-9]* waits$'; then
    fail "throttled run: summary line is '$line'"
fi

# ---- the real reports -------------------------------------------------------------------------
for case in fresh throttled golden; do
    json=$tmp/run/results.json
    extra=
    case $case in
    throttled)
        json=$tmp/throttled/results.json
        extra=$throttle_plots
        ;;
    golden)
        json=$golden
        extra=faults-by-class # the golden file has throttled requests but no per-second counts
        ;;
    esac
    checks=$((checks + 1))
    set +e
    "$easload" report "$json" --html "$tmp/$case.html" >/dev/null 2>"$tmp/report.err"
    rc=$?
    set -e
    if [ "$rc" -gt 1 ] || [ ! -s "$tmp/$case.html" ] ||
        grep -Eq 'Sanitizer|runtime error' "$tmp/report.err"; then
        fail "$case: easload report --html exited $rc: $(cat "$tmp/report.err")"
        continue
    fi
    expect_ok "$case: static" static_ok "$tmp/$case.html"
    expect_ok "$case: render" render_ok "$case" "$tmp/$case.html"
    # shellcheck disable=SC2086
    expect_ok "$case: plots" plots_ok "$case" "$tmp/$case.html" $extra
    expect_ok "$case: screenshot" screenshot_ok "$tmp/$case.png"
    sed -n "s/^ok /$case: ok /p" "$tmp/$case.dom" 2>/dev/null || true
    [ -s "$tmp/png.txt" ] && echo "$case: screenshot $(tr '\n' ' ' <"$tmp/png.txt")"
done

# a clean run keeps the page of issue 6: no throttling plot
checks=$((checks + 1))
grep -q '<svg id="throttling"' "$tmp/fresh.html" && fail "fresh: a throttling plot on a clean run"

# ---- negative controls: each check fails on a page broken for it -----------------------------
page=$tmp/fresh.html
# one plot removed: from its <h2> to its </svg>
sed '/<h2>Outcome classes<\/h2>/,/<\/svg>/d' "$page" >"$tmp/no-svg.html"
grep -q '<svg id="outcomes"' "$tmp/no-svg.html" && fail "the sed did not remove the outcomes plot"
expect_fail "no outcomes plot" "FAIL outcomes: missing" plots_ok no-svg "$tmp/no-svg.html"
# a plot with its frame and labels but nothing drawn
sed '/<svg id="bytes-per-device"/,/<\/svg>/{/class="bar"/d}' "$page" >"$tmp/no-bars.html"
expect_fail "empty bytes plot" "FAIL bytes-per-device: no drawn content" plots_ok no-bars \
    "$tmp/no-bars.html"
# the throttling plot without its line and points
sed '/<svg id="throttling"/,/<\/svg>/{/class="series"/d;/class="point"/d}' "$tmp/throttled.html" \
    >"$tmp/no-line.html"
expect_fail "empty throttling plot" "FAIL throttling: no drawn content" plots_ok no-line \
    "$tmp/no-line.html" throttling
# a request to a dead loopback port and a script error
sed 's#</body>#<img src="http://127.0.0.1:9/x.png"><script>no_such_function()</script></body>#' \
    "$page" >"$tmp/net.html"
expect_fail "static: a URL" "refers to something outside itself" static_ok "$tmp/net.html"
expect_fail "net log: a request" "the page made 1 network request" render_ok net "$tmp/net.html"
expect_fail "console: an error" "Uncaught ReferenceError" render_ok net2 "$tmp/net.html"
# a blank page
printf '<!DOCTYPE html>\n<html><body></body></html>\n' >"$tmp/blank.html"
checks=$((checks + 1))
if chrome blank --window-size=1000,2600 --screenshot="$tmp/blank.png" "file://$tmp/blank.html" \
    >/dev/null; then
    expect_fail "blank screenshot" "colours" screenshot_ok "$tmp/blank.png"
else
    fail "chromium failed on a blank page: $(tail -3 "$tmp/blank.log")"
fi

if [ "$failed" -ne 0 ]; then
    echo "$failed of $checks checks failed" >&2
    exit 1
fi
echo "$checks passed, 0 failed"
