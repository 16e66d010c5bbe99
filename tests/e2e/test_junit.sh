#!/bin/sh
# test_junit.sh - junit.xml as a real consumer reads it: `easload report --junit` on the golden
# results.json, parsed by Debian's python3-junitparser; one testcase per check and threshold,
# failures with their messages, the suite's counts matching.
# usage: test_junit.sh PATH/TO/easload SOURCE_DIR   (ctest passes both)
set -eu
easload=$1
src=$2
fixture=$src/tests/fixtures/results/results-v1.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Debian's python3 has the package; a python3 earlier on PATH (pyenv, venv) may not.
py=
for candidate in /usr/bin/python3 python3; do
    if "$candidate" -c 'import junitparser' 2>/dev/null; then
        py=$candidate
        break
    fi
done
if [ -z "$py" ]; then
    echo "FAIL: python3-junitparser is not installed (deploy/debian-packages.txt)" >&2
    exit 1
fi
set +e
"$easload" report "$fixture" --junit "$tmp/junit.xml" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
if [ "$rc" -ne 1 ]; then
    echo "FAIL: report exited $rc, expected 1 (the fixture fails thresholds): $(cat "$tmp/err")" >&2
    exit 1
fi

"$py" - "$tmp/junit.xml" <<'PY'
import sys
from junitparser import JUnitXml, Failure, TestSuite

xml = JUnitXml.fromfile(sys.argv[1])
suites = list(xml) if not isinstance(xml, TestSuite) else [xml]
assert len(suites) == 1, f"{len(suites)} suites"
suite = suites[0]
assert suite.name == "easload.mixed", suite.name
cases = list(suite)
names = [(c.classname, c.name) for c in cases]
want = [
    ("easload.checks", "inbox has mail"),
    ("easload.checks", "login ok"),
    ("easload.thresholds", "sync.p99<800ms"),
    ("easload.thresholds", "errors.rate<0.1%"),
    ("easload.thresholds", "requests.count>=1000"),
]
assert names == want, names
failed = {c.name: [r for r in c.result if isinstance(r, Failure)] for c in cases}
assert [n for n, f in failed.items() if f] == ["inbox has mail", "sync.p99<800ms",
                                               "errors.rate<0.1%"], failed
assert failed["sync.p99<800ms"][0].message.startswith("sync.p99 = "), failed
assert "not < 800 ms" in failed["sync.p99<800ms"][0].message
assert failed["inbox has mail"][0].message == "check failed 3 of 2728 times"
assert suite.tests == 5 and suite.failures == 3 and suite.errors == 0, (suite.tests, suite.failures)
print("junit: 5 testcases, 3 failures, read by junitparser")
PY
echo "1 passed, 0 failed"
