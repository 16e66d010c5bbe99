#!/usr/bin/env python3
"""check.py - reads one easload results.json of the SOGo peer suite, prints a summary (devices,
req/s, p50/p99 per command, push latency, connections, error outcomes) and checks it:
  --max-error-rate F    errors / requests at most F, not counting the allowed ones below
  --allow NAME=N        up to N errors counted under the counter NAME (e.g. eas.ping.status.5:
                        SOGo's Ping heartbeat bound, once per device) are expected
  --min NAME=N          counter, check (passed) or value histogram ("push") NAME at least N
  --max NAME=N          the same at most N (e.g. no mail fetched twice)
  --markdown FILE       appends a table row per command (bench/RESULTS.md form)
Exit 0 when every check holds, 1 otherwise (each failure named), 2 when the file is unreadable.
usage: check.py RESULTS.json LABEL [options]"""
import json
import sys


def fail_usage(msg):
    print("check.py: " + msg, file=sys.stderr)
    sys.exit(2)


def pair(arg):
    if "=" not in arg:
        fail_usage("expected NAME=N, got " + arg)
    name, n = arg.rsplit("=", 1)
    return name, float(n)


def ms(us):
    return "%.1f" % (us / 1000.0) if us is not None else "-"


def main(argv):
    if len(argv) < 3:
        fail_usage(__doc__)
    path, label = argv[1], argv[2]
    max_rate, allow, mins, maxs, md = None, {}, {}, {}, None
    i = 3
    while i < len(argv):
        opt = argv[i]
        if i + 1 >= len(argv):
            fail_usage(opt + " needs a value")
        val = argv[i + 1]
        if opt == "--max-error-rate":
            max_rate = float(val)
        elif opt == "--allow":
            k, v = pair(val)
            allow[k] = v
        elif opt == "--min":
            k, v = pair(val)
            mins[k] = v
        elif opt == "--max":
            k, v = pair(val)
            maxs[k] = v
        elif opt == "--markdown":
            md = val
        else:
            fail_usage("unknown option " + opt)
        i += 2
    try:
        with open(path) as f:
            r = json.load(f)
    except (OSError, ValueError) as e:
        fail_usage("%s: %s" % (path, e))

    dur = r.get("duration_s") or 1.0
    tot = r["totals"]
    counters = r.get("counters", {})
    checks = r.get("checks", {})
    values = r.get("values", {})
    print("  %s: %d devices, %.0f s, %d requests (%.1f req/s), %d errors" %
          (label, r.get("devices", 0), dur, tot["requests"], tot["requests"] / dur, tot["errors"]))
    for name, c in sorted(r.get("commands", {}).items()):
        lat = c.get("latency_us", {})
        bad = ", ".join("%s %d" % (o, v["requests"]) for o, v in sorted(c.get("outcomes", {}).items())
                        if v.get("error"))
        print("    %-16s %6d req %7.2f req/s  p50 %8s ms  p99 %8s ms%s" %
              (name, c["requests"], c["requests"] / dur, ms(lat.get("p50")), ms(lat.get("p99")),
               "  errors: " + bad if bad else ""))
    for name, v in sorted(values.items()):
        lat = v.get("latency_us", v)
        print("    value %-10s %6d     p50 %8s ms  p99 %8s ms  max %s ms" %
              (name, lat.get("count", 0), ms(lat.get("p50")), ms(lat.get("p99")), ms(lat.get("max"))))
    if counters:
        print("    counters: " + ", ".join("%s=%d" % kv for kv in sorted(counters.items())))
    for name, c in sorted(checks.items()):
        print("    check %r: %d passed, %d failed" % (name, c["passed"], c["failed"]))
    for t in r.get("thresholds", []):
        print("    threshold %s: %s" % (t["expr"], "ok" if t["passed"] else "FAILED " + t["message"]))

    failures = []
    if not r.get("passed", False) and r.get("thresholds") is not None:
        for t in r.get("thresholds", []):
            if not t["passed"]:
                failures.append("threshold " + t["message"])
        for name, c in checks.items():
            if c["failed"]:
                failures.append("check %r failed %d times" % (name, c["failed"]))
    errors = tot["errors"]
    for name, n in allow.items():
        got = counters.get(name, 0)
        if got > n:
            failures.append("%s = %d, more than the %d expected" % (name, got, n))
        errors -= min(got, n)
    if max_rate is not None and tot["requests"] > 0:
        rate = errors / tot["requests"]
        if rate > max_rate:
            failures.append("error rate %.2f%% (%d of %d, allowed ones aside) above %.2f%%" %
                            (100 * rate, errors, tot["requests"], 100 * max_rate))
    def measure(name):
        if name in counters:
            return counters[name]
        if name in checks:
            return checks[name]["passed"]
        if name in values:
            return values[name].get("latency_us", values[name]).get("count", 0)
        return 0

    for name, n in mins.items():
        if measure(name) < n:
            failures.append("%s = %d, expected at least %d" % (name, measure(name), n))
    for name, n in maxs.items():
        if measure(name) > n:
            failures.append("%s = %d, expected at most %d" % (name, measure(name), n))
    if tot["requests"] == 0:
        failures.append("no requests at all")

    if md:
        with open(md, "a") as f:
            for name, c in sorted(r.get("commands", {}).items()):
                lat = c.get("latency_us", {})
                f.write("| %s | %d | %s | %.1f | %s | %s | %d |\n" %
                        (label, r.get("devices", 0), name, c["requests"] / dur,
                         ms(lat.get("p50")), ms(lat.get("p99")), c["errors"]))
    for msg in failures:
        print("  FAIL %s: %s" % (label, msg))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
