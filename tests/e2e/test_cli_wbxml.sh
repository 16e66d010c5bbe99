#!/bin/sh
# test_cli_wbxml.sh - end-to-end test of the easload binary's command line: `wbxml decode|encode`
# on files and stdin against the fixtures, the error line of bad input, usage errors (exit 2 and
# one line naming the flag), reserved commands, --help, --version, and scenarios/demo.sh.
# usage: test_cli_wbxml.sh PATH/TO/easload SOURCE_DIR   (ctest passes both)
set -eu
easload=$1
src=$2
fixtures=$src/tests/fixtures/wbxml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
checks=0

fail() {
    echo "FAIL: $*" >&2
    failed=$((failed + 1))
}

# run EXPECTED_EXIT CMD...: runs CMD with stdout in $tmp/out, stderr in $tmp/err; checks the exit
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

# err_has TEXT...: stderr is exactly one line and contains every TEXT
err_has() {
    lines=$(wc -l <"$tmp/err")
    [ "$lines" -eq 1 ] || fail "expected one stderr line, got $lines: $(cat "$tmp/err")"
    for t in "$@"; do
        grep -qF -- "$t" "$tmp/err" || fail "stderr lacks '$t': $(cat "$tmp/err")"
    done
}

# ---- decode and encode every fixture, from files and from stdin ----------------------------
n=0
for f in "$fixtures"/*.wbxml; do
    name=$(basename "$f" .wbxml)
    golden=$fixtures/$name.xml
    n=$((n + 1))
    if run 0 "$easload" wbxml decode "$f"; then
        cmp -s "$tmp/out" "$golden" || fail "decode $name.wbxml differs from $name.xml"
    fi
    if run 0 "$easload" wbxml decode - <"$f"; then
        cmp -s "$tmp/out" "$golden" || fail "decode of $name from stdin differs"
    fi
    if run 0 "$easload" wbxml encode -o "$tmp/$name.wbxml" "$golden"; then
        cmp -s "$tmp/$name.wbxml" "$f" || fail "encode $name.xml differs from $name.wbxml"
    fi
    if run 0 "$easload" wbxml encode - <"$golden"; then
        cmp -s "$tmp/out" "$f" || fail "encode of $name from stdin to a pipe differs"
    fi
done
[ "$n" -ge 18 ] || fail "expected at least 18 fixtures, found $n"

# --hex, --out=FILE and -o - forms
if run 0 "$easload" wbxml decode --hex "$fixtures/sendmail-request.wbxml"; then
    grep -q '<ComposeMail:Mime opaque="hex">46726f6d3a20' "$tmp/out" ||
        fail "--hex did not print the Mime as hex"
    cp "$tmp/out" "$tmp/hex.xml"
    run 0 "$easload" wbxml encode --out="$tmp/hex.wbxml" "$tmp/hex.xml" &&
        { cmp -s "$tmp/hex.wbxml" "$fixtures/sendmail-request.wbxml" ||
            fail "the --hex form does not re-encode to the fixture"; }
fi
run 0 "$easload" wbxml decode -o - "$fixtures/ping-request.wbxml" &&
    { cmp -s "$tmp/out" "$fixtures/ping-request.xml" || fail "-o - did not write stdout"; }

# ---- malformed input: exit 1, one line naming the file and the place --------------------------
head -c 18 "$fixtures/sync-request.wbxml" >"$tmp/cut.wbxml" # cut after <GetChanges/>
run 1 "$easload" wbxml decode "$tmp/cut.wbxml" &&
    err_has "easload wbxml: $tmp/cut.wbxml: byte 18:" "input ends inside <AirSync:Collection>"
[ -s "$tmp/out" ] && fail "decode wrote output for a malformed file"
printf '\003\001\152\000\105\077\001' >"$tmp/badtoken.wbxml"
run 1 "$easload" wbxml decode "$tmp/badtoken.wbxml" &&
    err_has "$tmp/badtoken.wbxml: byte 5:" "unknown tag 0x3F on page 0"
run 1 "$easload" wbxml decode - <"$tmp/cut.wbxml" && err_has "<stdin>: byte 18:"
head -c 20 "$fixtures/sync-request.wbxml" >"$tmp/cut2.wbxml" # cut inside the STR_I "50"
run 1 "$easload" wbxml decode "$tmp/cut2.wbxml" &&
    err_has "$tmp/cut2.wbxml: byte 19:" "STR_I without its NUL terminator"

printf '<AirSync:Sync>\n  <AirSync:SyncKey>1</AirSync:SyncKey>\n  <AirSync:Bogus/>\n' \
    >"$tmp/bad.xml"
printf '</AirSync:Sync>\n' >>"$tmp/bad.xml"
run 1 "$easload" wbxml encode -o "$tmp/bad.wbxml" "$tmp/bad.xml" &&
    err_has "easload wbxml: $tmp/bad.xml: line 3, column 3:" "unknown tag <AirSync:Bogus>"
[ -e "$tmp/bad.wbxml" ] && fail "encode created its output file for malformed input"
run 1 "$easload" wbxml encode -o "$tmp/bad.wbxml" - <"$tmp/bad.xml" &&
    err_has "<stdin>: line 3, column 3:"
printf '<AirSync:Sync><AirSync:SyncKey>1</AirSync:Sync>' >"$tmp/mismatch.xml"
run 1 "$easload" wbxml encode -o "$tmp/m.wbxml" "$tmp/mismatch.xml" &&
    err_has "line 1, column 33:" "does not match"

run 3 "$easload" wbxml decode "$tmp/does-not-exist.wbxml" &&
    err_has "$tmp/does-not-exist.wbxml:"

# ---- usage errors: exit 2, one line naming the flag ----------------------------------------
run 2 "$easload" wbxml --bogus decode "$fixtures/ping-request.wbxml" && err_has "'--bogus'"
run 2 "$easload" wbxml decode -x "$fixtures/ping-request.wbxml" && err_has "'-x'"
run 2 "$easload" wbxml decode --hex=1 "$fixtures/ping-request.wbxml" && err_has "'--hex'"
run 2 "$easload" wbxml decode "$fixtures/ping-request.wbxml" -o && err_has "'-o'" "needs a value"
run 2 "$easload" --bogus && err_has "unknown flag '--bogus'"
run 2 "$easload" wbxml frobnicate x && err_has "expected 'decode FILE|-' or 'encode FILE|-'"
run 2 "$easload" wbxml decode && err_has "expected 'decode FILE|-'"
run 2 "$easload" nosuchcommand && err_has "unknown command 'nosuchcommand'"
run 2 "$easload" || true

# ---- reserved commands, --help, --version ---------------------------------------------------
run 0 "$easload" --help || true
cp "$tmp/out" "$tmp/help.txt"
grep -q '^  wbxml ' "$tmp/help.txt" || fail "--help does not list wbxml"
reserved=0
for cmd in run serve probe certcheck certs report merge; do
    grep -q "^  $cmd " "$tmp/help.txt" || fail "--help does not list $cmd"
    if grep -q "^  $cmd .*(not built yet)" "$tmp/help.txt"; then
        reserved=$((reserved + 1))
        run 2 "$easload" "$cmd" --target x && err_has "easload $cmd: not built yet"
        run 0 "$easload" "$cmd" --help && {
            grep -q '^usage: easload' "$tmp/out" || fail "$cmd --help prints no usage"
            grep -q 'not built yet' "$tmp/out" || fail "$cmd --help does not say not built yet"
        }
    else
        echo "note: '$cmd' is built in this tree; only its --help is checked here"
        run 0 "$easload" "$cmd" --help &&
            { grep -q '^usage: easload' "$tmp/out" || fail "$cmd --help prints no usage"; }
    fi
done
run 0 "$easload" wbxml --help && { grep -q '^usage: easload wbxml decode' "$tmp/out" ||
    fail "wbxml --help prints no usage"; }
run 0 "$easload" wbxml -h || true
run 0 "$easload" help || true
run 0 "$easload" --version &&
    { grep -qE '^easload [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" || fail "--version: $(cat "$tmp/out")"; }
run 0 "$easload" version || true

# ---- the demo (scenarios/demo.sh: WBXML round trip, then easload serve + easload run; here
# with 20 devices for 3 s instead of 1,000 for 45 s) ---------------------------------------------
export DEMO_OUT="$tmp/demo"
run 0 sh "$src/scenarios/demo.sh" "$easload" 20 3s &&
    { grep -q "re-encoded byte for byte" "$tmp/out" && grep -q "demo: easload run exited 0" "$tmp/out" ||
        fail "demo.sh: $(tail -n 3 "$tmp/out")"; }

if [ "$failed" -ne 0 ]; then
    echo "test_cli_wbxml: $failed failures over $checks commands run" >&2
    exit 1
fi
echo "test_cli_wbxml: $checks commands checked ($n fixtures, $reserved reserved commands)"
