#!/usr/bin/python3
"""peers.py - helpers of bench/peers/run.sh (Debian's /usr/bin/python3, standard library only).

  peers.py stat ADMIN_URL KEY...        a number of the server's GET /stats (e.g. http requests)
  peers.py errs ADMIN_URL               answers that were not 2xx (GET /stats http responses)
  peers.py wait ADMIN_URL VALUE SECONDS KEY...   polls /stats until KEY >= VALUE; exit 1 on
                                        timeout (prints the last value)
  peers.py proc PID...                  "TICKS RSS_KB NPROC": utime+stime (clock ticks) and VmRSS
                                        summed over each PID and all its descendants (/proc)
  peers.py tree PID...                  the PIDs of the trees, one line
  peers.py alive PID...                 those of the PIDs that still run (not gone, not zombies)
  peers.py table RESULTS_FILE           the table, ratios and goals from run.sh's bench= lines
"""
import json
import os
import sys
import time
import urllib.request


def stats(admin):
    for attempt in range(5):
        try:
            with urllib.request.urlopen(admin + "/stats", timeout=10) as r:
                return json.load(r)
        except (OSError, ValueError) as e:
            print("peers.py: %s/stats: %s (attempt %d)" % (admin, e, attempt + 1), file=sys.stderr)
            time.sleep(1)
    raise SystemExit(3)


def stat(admin, keys):
    d = stats(admin)
    for k in keys:
        d = d.get(k, 0) if isinstance(d, dict) else 0
    return d if isinstance(d, int) else 0


def tree(roots):
    kids = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(p))
    out, todo = [], [int(r) for r in roots]
    while todo:
        p = todo.pop()
        if p in out or not os.path.exists("/proc/%d" % p):
            continue
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def proc(roots):
    ticks = rss = n = 0
    for p in tree(roots):
        try:
            with open("/proc/%d/stat" % p) as f:
                s = f.read()
            f2 = s[s.rindex(")") + 2:].split()
            t = int(f2[11]) + int(f2[12])  # utime, stime (fields 14, 15)
            r = 0
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        r = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
        ticks += t
        rss += r
        n += 1
    return ticks, rss, n


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            if not line.startswith("bench=peers"):
                continue
            d = {}
            for tok in line.split():
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    d[k] = v
            rows.append(d)
    return rows


def fnum(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def table(path):
    rows = parse(path)
    cpu = {(r["mode"], r["tool"], int(r["n"])): r for r in rows if r["bench"] == "peers_cpu"}
    mem = {(r["mode"], r["tool"]): r for r in rows if r["bench"] == "peers_mem"}
    tools = []
    for r in rows:
        if r.get("tool") and r["tool"] not in tools:
            tools.append(r["tool"])
    modes = sorted({r["mode"] for r in rows}, key=lambda m: m != "http")
    sizes = sorted({int(r["n"]) for r in rows if r["bench"] == "peers_cpu"})
    print("| mode | tool | " + " | ".join("us/req N=%d (req/s)" % n for n in sizes) +
          " | KB per held device | RSS KB (N1 / N2) |")
    print("|-|-|" + "-|" * len(sizes) + "-|-|")
    for m in modes:
        for t in tools:
            cells = []
            for n in sizes:
                r = cpu.get((m, t, n))
                if r is None:
                    cells.append("")
                elif fnum(r.get("us_per_req")) is None:
                    cells.append("failed")
                else:
                    cells.append("%.1f (%s)" % (float(r["us_per_req"]),
                                                format(int(float(r["req_s"])), ",")))
            r = mem.get((m, t))
            kb = r["kb_per_device"] if r else ""
            rss = "%s / %s" % (r["rss1_kb"], r["rss2_kb"]) if r else ""
            print("| %s | %s | %s | %s | %s |" % (m, t, " | ".join(cells), kb, rss))
    print()
    # ratios: the peer over easload (above 1: easload uses less)
    print("Ratios, peer / easload (above 1 = easload uses less):")
    print()
    print("| mode | N | " + " | ".join("%s CPU" % t for t in tools if t != "easload") +
          " |")
    print("|-|-|" + "-|" * (len(tools) - 1))
    for m in modes:
        for n in sizes:
            e = fnum(cpu.get((m, "easload", n), {}).get("us_per_req"))
            cells = []
            for t in tools:
                if t == "easload":
                    continue
                p = fnum(cpu.get((m, t, n), {}).get("us_per_req"))
                cells.append("%.2f" % (p / e) if e and p else "")
            print("| %s | %d | %s |" % (m, n, " | ".join(cells)))
    for m in modes:
        e = fnum(mem.get((m, "easload"), {}).get("kb_per_device"))
        cells = []
        for t in tools:
            p = fnum(mem.get((m, t), {}).get("kb_per_device"))
            if t != "easload" and e and p:
                cells.append("%s %.2f" % (t, p / e))
        if cells:
            print("\nmemory per held device, %s, peer / easload: %s" % (m, ", ".join(cells)))
    print()
    print("Goals:")
    for m in modes:
        for n in sizes:
            e = fnum(cpu.get((m, "easload", n), {}).get("us_per_req"))
            if not e:
                continue
            g = []
            for t, lim, what in (("tsung", 0.5, "<= 1/2 Tsung"), ("locust", 1 / 3, "<= 1/3 Locust"),
                                 ("curl_floor", 1.25, "<= 1.25x curl floor")):
                p = fnum(cpu.get((m, t, n), {}).get("us_per_req"))
                if p:
                    g.append("%s: %.2f %s" % (what, e / p, "met" if e <= lim * p else "MISSED"))
            print("- CPU %s N=%d: %s" % (m, n, "; ".join(g)))
    for m in modes:
        e = fnum(mem.get((m, "easload"), {}).get("kb_per_device"))
        if e is None:
            continue
        ts = fnum(mem.get((m, "tsung"), {}).get("kb_per_device"))
        lc = fnum(mem.get((m, "locust"), {}).get("kb_per_device"))
        if m == "http" and ts:
            print("- memory http: easload %.1f KB <= Tsung %.1f KB: %s" % (e, ts, "met" if e <= ts else "MISSED"))
        if m == "https" and ts and lc:
            ok = e < ts and e < lc
            print("- memory https: easload %.1f KB < Tsung %.1f and Locust %.1f KB: %s" %
                  (e, ts, lc, "met" if ok else "MISSED"))


def main(a):
    cmd = a[0]
    if cmd == "stat":
        print(stat(a[1], a[2:]))
    elif cmd == "errs":
        r = stats(a[1])["http"]["responses"]
        print(sum(v for k, v in r.items() if k != "2xx"))
    elif cmd == "wait":
        want, end = int(a[2]), time.time() + float(a[3])
        v = 0
        while time.time() < end:
            try:
                v = stat(a[1], a[4:])
            except SystemExit:
                v = 0
            if v >= want:
                print(v)
                return 0
            time.sleep(0.25)
        print(v)
        return 1
    elif cmd == "proc":
        print("%d %d %d" % proc(a[1:]))
    elif cmd == "alive":
        out = []
        for p in a[1:]:
            try:
                with open("/proc/%s/stat" % p) as f:
                    s = f.read()
                if s[s.rindex(")") + 2] != "Z":
                    out.append(p)
            except OSError:
                pass
        print(" ".join(out))
    elif cmd == "tree":
        print(" ".join(str(p) for p in tree(a[1:])))
    elif cmd == "table":
        table(a[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
