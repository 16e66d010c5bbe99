#!/usr/bin/env python3
# check-manifests.py - validates the rendered Kubernetes manifests of a sharded easload run
# (deploy/render.sh output) offline, without a cluster or kubectl: kubectl's --dry-run=client
# still asks the API server for its resource list, and Debian 12 packages no schema validator.
# Needs only Debian's python3-yaml.
#
# Checks: (1) strict fields and types of the parts of v1 ConfigMap and batch/v1 Job that such a
# manifest uses (an unknown or misspelt field, a number where Kubernetes wants a string, a bad
# quantity or name are errors, as with `kubectl apply --validate=strict`); (2) what the shard Job
# needs to be right: completionMode Indexed, completions == parallelism == N, backoffLimit,
# activeDeadlineSeconds above ramp + duration, ttlSecondsAfterFinished, restartPolicy Never,
# `easload run ... --shard $(JOB_COMPLETION_INDEX)/N --out` a writable volume, every $(VAR)
# defined in the container's env, the scenario path on a mount of the ConfigMap that holds the
# file, --allow-remote with a non-loopback target, CPU and memory requests, a non-root
# read-only container, safe sysctls only.
#
# usage: deploy/check-manifests.py [--shards N] [--scenario FILE] MANIFEST.yaml|-
# Exit: 0 valid, 1 invalid (one line per problem on stderr), 2 usage or YAML syntax error.
import argparse
import re
import sys

import yaml

# ---- a small schema: type names, or dicts of field -> type ("*" = anything) ----
STR, INT, BOOL, QTY, ANY = "str", "int", "bool", "quantity", "*"


def LIST(t):
    return ("list", t)


def MAP(t):
    return ("map", t)


OBJECT_META = {
    "name": STR, "namespace": STR, "labels": MAP(STR), "annotations": MAP(STR),
    "generateName": STR,
}
CONFIG_MAP = {
    "apiVersion": STR, "kind": STR, "metadata": OBJECT_META, "data": MAP(STR),
    "binaryData": MAP(STR), "immutable": BOOL,
}
ENV_VAR = {
    "name": STR, "value": STR,
    "valueFrom": {
        "fieldRef": {"fieldPath": STR, "apiVersion": STR},
        "resourceFieldRef": {"resource": STR, "containerName": STR, "divisor": QTY},
        "configMapKeyRef": {"name": STR, "key": STR, "optional": BOOL},
        "secretKeyRef": {"name": STR, "key": STR, "optional": BOOL},
    },
}
CAPABILITIES = {"add": LIST(STR), "drop": LIST(STR)}
SECCOMP = {"type": STR, "localhostProfile": STR}
CONTAINER_SC = {
    "allowPrivilegeEscalation": BOOL, "readOnlyRootFilesystem": BOOL, "runAsNonRoot": BOOL,
    "runAsUser": INT, "runAsGroup": INT, "privileged": BOOL, "capabilities": CAPABILITIES,
    "seccompProfile": SECCOMP,
}
CONTAINER = {
    "name": STR, "image": STR, "imagePullPolicy": STR, "command": LIST(STR), "args": LIST(STR),
    "workingDir": STR, "env": LIST(ENV_VAR), "envFrom": LIST(ANY),
    "resources": {"requests": MAP(QTY), "limits": MAP(QTY)},
    "securityContext": CONTAINER_SC,
    "volumeMounts": LIST({"name": STR, "mountPath": STR, "readOnly": BOOL, "subPath": STR}),
    "ports": LIST(ANY), "terminationMessagePolicy": STR, "terminationMessagePath": STR,
}
VOLUME = {
    "name": STR,
    "configMap": {"name": STR, "items": LIST({"key": STR, "path": STR, "mode": INT}),
                  "defaultMode": INT, "optional": BOOL},
    "secret": {"secretName": STR, "items": LIST({"key": STR, "path": STR, "mode": INT}),
               "defaultMode": INT, "optional": BOOL},
    "emptyDir": {"medium": STR, "sizeLimit": QTY},
    "persistentVolumeClaim": {"claimName": STR, "readOnly": BOOL},
}
POD_SPEC = {
    "restartPolicy": STR, "containers": LIST(CONTAINER), "initContainers": LIST(CONTAINER),
    "volumes": LIST(VOLUME), "automountServiceAccountToken": BOOL, "enableServiceLinks": BOOL,
    "terminationGracePeriodSeconds": INT, "serviceAccountName": STR,
    "securityContext": {
        "runAsNonRoot": BOOL, "runAsUser": INT, "runAsGroup": INT, "fsGroup": INT,
        "seccompProfile": SECCOMP, "sysctls": LIST({"name": STR, "value": STR}),
        "supplementalGroups": LIST(INT),
    },
    "topologySpreadConstraints": LIST({
        "maxSkew": INT, "topologyKey": STR, "whenUnsatisfiable": STR,
        "labelSelector": {"matchLabels": MAP(STR), "matchExpressions": LIST(ANY)},
        "minDomains": INT, "matchLabelKeys": LIST(STR),
    }),
    "nodeSelector": MAP(STR), "tolerations": LIST(ANY), "affinity": ANY,
    "imagePullSecrets": LIST({"name": STR}), "priorityClassName": STR, "dnsPolicy": STR,
    "hostNetwork": BOOL,
}
JOB = {
    "apiVersion": STR, "kind": STR, "metadata": OBJECT_META,
    "spec": {
        "completionMode": STR, "completions": INT, "parallelism": INT, "backoffLimit": INT,
        "backoffLimitPerIndex": INT, "maxFailedIndexes": INT,
        "activeDeadlineSeconds": INT, "ttlSecondsAfterFinished": INT, "suspend": BOOL,
        "podFailurePolicy": {"rules": LIST({
            "action": STR,
            "onExitCodes": {"containerName": STR, "operator": STR, "values": LIST(INT)},
            "onPodConditions": LIST({"type": STR, "status": STR}),
        })},
        "template": {"metadata": OBJECT_META, "spec": POD_SPEC},
    },
}

QTY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
CM_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
VAR_REF = re.compile(r"(\$+)\(([A-Za-z_][A-Za-z0-9_]*)\)")
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
}
INDEX_ANNOTATION = "metadata.annotations['batch.kubernetes.io/job-completion-index']"

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def check_type(value, schema, where):
    """Strict structural check of value against schema; errors go to err()."""
    if schema == ANY:
        return
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            err(where, f"expected an object, got {type(value).__name__}")
            return
        for k, v in value.items():
            if k not in schema:
                err(where, f"unknown field '{k}'")
            else:
                check_type(v, schema[k], f"{where}.{k}")
        return
    if isinstance(schema, tuple):
        kind, inner = schema
        if kind == "list":
            if not isinstance(value, list):
                err(where, f"expected a list, got {type(value).__name__}")
                return
            for i, v in enumerate(value):
                check_type(v, inner, f"{where}[{i}]")
        else:
            if not isinstance(value, dict):
                err(where, f"expected a map, got {type(value).__name__}")
                return
            for k, v in value.items():
                if not isinstance(k, str):
                    err(where, f"key {k!r} is not a string")
                check_type(v, inner, f"{where}.{k}")
        return
    if schema == STR and not isinstance(value, str):
        err(where, f"expected a string, got {type(value).__name__} {value!r} (quote it)")
    elif schema == INT and (not isinstance(value, int) or isinstance(value, bool)):
        err(where, f"expected an integer, got {type(value).__name__} {value!r}")
    elif schema == BOOL and not isinstance(value, bool):
        err(where, f"expected true or false, got {value!r}")
    elif schema == QTY:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or \
                not QTY_RE.match(str(value)):
            err(where, f"not a Kubernetes quantity: {value!r}")


def qty_bytes(q):
    m = re.match(r"^([0-9.]+)([A-Za-z]*)$", str(q))
    mult = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 1024, "Mi": 1024**2,
            "Gi": 1024**3, "Ti": 1024**4}
    return float(m.group(1)) * mult.get(m.group(2), 1) if m else 0


def seconds(s):
    m = re.match(r"^([0-9]+)(ms|s|m|h)?$", str(s))
    if not m:
        return None
    n = int(m.group(1))
    return {"ms": n / 1000, "s": n, None: n, "m": n * 60, "h": n * 3600}[m.group(2)]


def is_loopback(url):
    host = re.sub(r"^https?://", "", url).split("/")[0]
    host = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return host.startswith("127.") or host in ("localhost", "[::1]")


def get(d, *path):
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def check_meta(doc, where):
    name = get(doc, "metadata", "name")
    if not isinstance(name, str) or not DNS_LABEL.match(name) or len(name) > 63:
        err(where, f"metadata.name {name!r} is not a DNS-1123 label")
    for part in ("metadata",):
        labels = get(doc, part, "labels") or {}
        for k, v in labels.items() if isinstance(labels, dict) else []:
            if not isinstance(v, str) or len(v) > 63 or not LABEL_VALUE.match(v):
                err(where, f"label {k}={v!r} is not a valid label value")


def check_configmap(cm, where):
    check_type(cm, CONFIG_MAP, where)
    check_meta(cm, where)
    data = cm.get("data") or {}
    total = 0
    for k, v in data.items():
        if not CM_KEY.match(str(k)):
            err(where, f"data key {k!r} is not a valid ConfigMap key")
        total += len(str(v).encode())
    if total > 1024 * 1024:
        err(where, f"data is {total} bytes; a ConfigMap holds at most 1 MiB")


def mounted_file(path, mounts, volumes, configmaps, where, what):
    """path must be a file on a configMap volume whose ConfigMap holds it."""
    for m in mounts:
        mp = m.get("mountPath", "").rstrip("/")
        if path.startswith(mp + "/"):
            rel = path[len(mp) + 1:]
            vol = volumes.get(m.get("name"))
            cmv = vol.get("configMap") if vol else None
            if not cmv:
                err(where, f"{what} {path} is on volume {m.get('name')!r}, not a ConfigMap")
                return
            cm = configmaps.get(cmv.get("name"))
            if cm is None:
                err(where, f"{what} {path}: ConfigMap {cmv.get('name')!r} is not in the manifest")
                return
            items = cmv.get("items")
            key = rel
            if items:
                key = next((i.get("key") for i in items if i.get("path") == rel), None)
            if key not in (cm.get("data") or {}):
                err(where, f"{what} {path}: ConfigMap {cmv.get('name')!r} has no key {rel!r}")
            return cm, key
    err(where, f"{what} {path} is on no volume mount (the ConfigMap must be mounted there)")
    return None


def check_job(job, configmaps, want_shards, where):
    check_type(job, JOB, where)
    check_meta(job, where)
    if job.get("apiVersion") != "batch/v1":
        err(where, f"apiVersion {job.get('apiVersion')!r}, expected batch/v1")
    spec = job.get("spec") or {}
    if spec.get("completionMode") != "Indexed":
        err(where, "spec.completionMode must be Indexed (completion index -> shard)")
    comp, par = spec.get("completions"), spec.get("parallelism")
    if not isinstance(comp, int) or comp < 1:
        err(where, "spec.completions: a positive integer is required for an Indexed Job")
    if comp != par:
        err(where, f"spec.parallelism {par!r} != completions {comp!r}: every shard must run "
            "at the same time")
    if want_shards is not None and comp != want_shards:
        err(where, f"spec.completions {comp!r}, expected {want_shards} shards")
    for f in ("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        if not isinstance(spec.get(f), int) or spec.get(f) < 0:
            err(where, f"spec.{f}: required, a non-negative integer")
    if isinstance(spec.get("activeDeadlineSeconds"), int) and spec["activeDeadlineSeconds"] < 1:
        err(where, "spec.activeDeadlineSeconds must be at least 1")
    if "selector" in spec or "manualSelector" in spec:
        err(where, "spec.selector: leave it to the Job controller")
    tmpl = spec.get("template") or {}
    pod = tmpl.get("spec") or {}
    tl, sl = get(tmpl, "metadata", "labels") or {}, {}
    if pod.get("restartPolicy") != "Never":
        err(where, "template.spec.restartPolicy must be Never (podFailurePolicy, one result "
            "per pod)")
    containers = pod.get("containers") or []
    if len(containers) != 1:
        err(where, f"expected one container, found {len(containers)}")
        return
    c = containers[0]
    cw = f"{where}: container {c.get('name')!r}"
    names = [c.get("name")]
    for rule in get(spec, "podFailurePolicy", "rules") or []:
        oe = rule.get("onExitCodes")
        if oe and oe.get("containerName") not in names:
            err(where, f"podFailurePolicy names container {oe.get('containerName')!r}")
        if oe and 0 in (oe.get("values") or []) and oe.get("operator") == "In":
            err(where, "podFailurePolicy: exit code 0 cannot be matched")
        if rule.get("action") not in ("FailJob", "Ignore", "Count", "FailIndex"):
            err(where, f"podFailurePolicy action {rule.get('action')!r}")
    if not c.get("image") or not isinstance(c.get("image"), str):
        err(cw, "image is required")

    # env: $(VAR) of args and env values must be defined (else Kubernetes leaves them as is)
    env = {}
    for e in c.get("env") or []:
        for m in VAR_REF.finditer(str(e.get("value", ""))):
            if len(m.group(1)) % 2 == 1 and m.group(2) not in env:
                err(cw, f"env {e.get('name')}: $({m.group(2)}) is not defined before it")
        if e.get("name") in env:
            err(cw, f"env {e.get('name')} defined twice")
        env[e.get("name")] = e
    argv = list(c.get("command") or []) + list(c.get("args") or [])
    for a in argv:
        for m in VAR_REF.finditer(str(a)):
            if len(m.group(1)) % 2 == 1 and m.group(2) not in env:
                err(cw, f"argument {a!r}: $({m.group(2)}) is not in the container's env")
    jci = env.get("JOB_COMPLETION_INDEX")
    if jci is not None and get(jci, "valueFrom", "fieldRef", "fieldPath") != INDEX_ANNOTATION:
        err(cw, "env JOB_COMPLETION_INDEX must come from the job-completion-index annotation")

    def expand(a):
        """argv element with $(VAR) replaced by literal env values; None if not literal."""
        def sub(m):
            if len(m.group(1)) % 2 == 0:
                return m.group(0)
            e = env.get(m.group(2)) or {}
            if m.group(2) == "JOB_COMPLETION_INDEX":
                return "$(JOB_COMPLETION_INDEX)"
            return str(e["value"]) if "value" in e else m.group(0)
        return VAR_REF.sub(sub, str(a))

    xargv = [expand(a) for a in argv]
    if "run" not in xargv:
        err(cw, "the command does not run `easload run` (no 'run' argument)")
        return
    if not any(str(a).split("/")[-1] in ("easload", "easload-shard") for a in argv[:1]):
        err(cw, f"command {argv[:1]} is not easload or easload-shard")
    run = xargv[xargv.index("run") + 1:]
    opts, pos, i = {}, [], 0
    flags = {"--allow-remote", "--no-progress", "--insecure"}
    while i < len(run):
        a = run[i]
        if a.startswith("--") and "=" in a:
            k, v = a.split("=", 1)
            opts.setdefault(k, []).append(v)
        elif a.startswith("--") and a not in flags:
            opts.setdefault(a, []).append(run[i + 1] if i + 1 < len(run) else None)
            i += 1
        elif a.startswith("--"):
            opts[a] = [True]
        else:
            pos.append(a)
        i += 1
    one = {k: v[-1] for k, v in opts.items()}
    shard = one.get("--shard")
    if not shard:
        err(cw, "easload run has no --shard")
    else:
        m = re.match(r"^\$\(JOB_COMPLETION_INDEX\)/([0-9]+)$", shard)
        if not m:
            err(cw, f"--shard {shard!r}: expected $(JOB_COMPLETION_INDEX)/N")
        elif int(m.group(1)) != comp:
            err(cw, f"--shard {shard!r}: N is not spec.completions ({comp})")
    if "$(JOB_COMPLETION_INDEX)" not in str(c.get("args") or []) + str(c.get("command") or []):
        err(cw, "the command does not use $(JOB_COMPLETION_INDEX)")
    target = one.get("--target")
    if not target or not re.match(r"^https?://[^\s\"'$]+$", target):
        err(cw, f"--target {target!r}: an http:// or https:// URL is required")
    elif not is_loopback(target) and "--allow-remote" not in one:
        err(cw, f"--target {target} is not loopback: easload refuses it without --allow-remote")
    dur = seconds(one.get("--duration")) if one.get("--duration") else None
    if dur is None or dur <= 0:
        err(cw, "--duration: required and positive (every run is bounded)")
    ramp = seconds(one.get("--ramp", "0")) or 0
    ads = spec.get("activeDeadlineSeconds")
    if dur and isinstance(ads, int) and ads <= dur + ramp + 5:
        err(where, f"activeDeadlineSeconds {ads} does not leave room for ramp + duration + "
            f"the 5 s drain ({ramp + dur + 5:g} s)")
    dev = one.get("--devices")
    if dev is not None and (not str(dev).isdigit() or (isinstance(comp, int) and int(dev) < comp)):
        err(cw, f"--devices {dev!r}: a whole number, at least one per shard")
    if len(pos) < 1:
        err(cw, "easload run has no scenario file")

    # volumes and mounts
    volumes = {}
    for v in pod.get("volumes") or []:
        if v.get("name") in volumes:
            err(where, f"volume {v.get('name')!r} defined twice")
        volumes[v.get("name")] = v
    mounts = c.get("volumeMounts") or []
    seen = set()
    for m in mounts:
        if m.get("name") not in volumes:
            err(cw, f"volumeMount {m.get('name')!r} names no volume")
        if m.get("mountPath") in seen:
            err(cw, f"mountPath {m.get('mountPath')!r} used twice")
        seen.add(m.get("mountPath"))
    for v in volumes.values():
        cmv = v.get("configMap")
        if cmv and cmv.get("name") not in configmaps:
            err(where, f"volume {v.get('name')!r}: ConfigMap {cmv.get('name')!r} not in the "
                "manifest")
    scen = None
    if pos:
        scen = mounted_file(pos[0], mounts, volumes, configmaps, cw, "scenario")
    for f in ("--ca", "--users"):
        if one.get(f):
            mounted_file(one[f], mounts, volumes, configmaps, cw, f)
    out = one.get("--out")
    if not out:
        err(cw, "easload run has no --out (its results.json is the shard's result)")
    else:
        ok = False
        for m in mounts:
            mp = m.get("mountPath", "").rstrip("/")
            if out.startswith(mp + "/") and not m.get("readOnly"):
                ok = bool(volumes.get(m.get("name"), {}).get("emptyDir")
                          or volumes.get(m.get("name"), {}).get("persistentVolumeClaim"))
        if not ok:
            err(cw, f"--out {out} is not on a writable emptyDir or PVC mount")

    # resources and security
    req = get(c, "resources", "requests") or {}
    for r in ("cpu", "memory"):
        if r not in req:
            err(cw, f"resources.requests.{r} is required")
    lim = get(c, "resources", "limits") or {}
    if "memory" in lim and "memory" in req and qty_bytes(lim["memory"]) < qty_bytes(req["memory"]):
        err(cw, "resources.limits.memory is below the request")
    psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
    if not (csc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
        err(cw, "runAsNonRoot must be true")
    uid = csc.get("runAsUser", psc.get("runAsUser"))
    if uid == 0:
        err(cw, "runAsUser 0")
    if csc.get("allowPrivilegeEscalation") is not False:
        err(cw, "securityContext.allowPrivilegeEscalation must be false")
    if csc.get("readOnlyRootFilesystem") is not True:
        err(cw, "securityContext.readOnlyRootFilesystem must be true")
    if "ALL" not in (get(csc, "capabilities", "drop") or []):
        err(cw, "securityContext.capabilities.drop must hold ALL")
    for s in psc.get("sysctls") or []:
        if s.get("name") not in SAFE_SYSCTLS:
            err(where, f"sysctl {s.get('name')} is not a safe sysctl (the kubelet refuses it)")
    for k, v in tl.items():
        if not isinstance(v, str) or len(v) > 63 or not LABEL_VALUE.match(v):
            err(where, f"template label {k}={v!r} is not a valid label value")
    return scen


def main():
    ap = argparse.ArgumentParser(description="validate easload shard Job manifests offline")
    ap.add_argument("--shards", type=int, help="expected number of shards")
    ap.add_argument("--scenario", help="the ConfigMap's scenario must equal this file")
    ap.add_argument("manifest")
    a = ap.parse_args()
    try:
        text = sys.stdin.read() if a.manifest == "-" else open(a.manifest).read()
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        print(f"check-manifests: {e}", file=sys.stderr)
        return 2
    configmaps, jobs = {}, []
    ns = set()
    for i, d in enumerate(docs):
        if not isinstance(d, dict):
            err(f"document {i}", "not an object")
            continue
        kind, where = d.get("kind"), f"{d.get('kind')}/{get(d, 'metadata', 'name')}"
        ns.add(get(d, "metadata", "namespace"))
        if kind == "ConfigMap" and d.get("apiVersion") == "v1":
            check_configmap(d, where)
            configmaps[get(d, "metadata", "name")] = d
        elif kind == "Job":
            jobs.append((d, where))
        else:
            err(where, f"unexpected {d.get('apiVersion')} {kind}")
    if len(ns) > 1:
        err("manifest", f"documents in several namespaces: {sorted(map(str, ns))}")
    if len(jobs) != 1:
        err("manifest", f"expected one Job, found {len(jobs)}")
    for job, where in jobs:
        scen = check_job(job, configmaps, a.shards, where)
        if a.scenario and scen:
            cm, key = scen
            want = open(a.scenario, encoding="utf-8").read()
            got = (cm.get("data") or {}).get(key)
            if got is None or got.rstrip("\n") != want.rstrip("\n"):
                err(where, f"ConfigMap key {key!r} differs from {a.scenario}")
    for e in errors:
        print(f"check-manifests: {e}", file=sys.stderr)
    if errors:
        return 1
    print(f"check-manifests: ok: {len(configmaps)} ConfigMap(s), {len(jobs)} Job(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
