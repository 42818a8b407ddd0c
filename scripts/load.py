#!/usr/bin/env python3
"""Load and soak figures for docs/performance.md (`make load`; release build, wrk at 32 connections).

For each backend (memory; the AWS adapters on moto and redis-server, when TEST_AWS_ENDPOINT is set by
scripts/with-emulators.sh): requests per second, p50 and p99 of /country/PY, /status/PY and /fetch/PY,
and the server's peak memory. Then a soak on the memory backend: at least 200,000 mixed requests (valid,
invalid and unknown identifiers, on every route) with the server's memory before, after, and 10 s later.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "countries-local")
CONNECTIONS = 32

MIXED = [
    "/country/PY", "/country/paraguay", "/status/PY", "/fetch/PY", "/country/DE?fields=name,capital",
    "/country/atlantis", "/fetch/narnia", "/status/%00", "/country/..%2F..", "/fetch/" + "A" * 120,
    "/country/PY?fields=nope", "/status/PY?limit=abc", "/health", "/nowhere", "/country/%FF",
]


def start(env):
    full = {"PATH": os.environ["PATH"], "PORT": "0", "RUST_LOG": "warn",
            # One client (wrk) makes every request: limits it never reaches.
            "RATE_LIMIT_FETCH": "100000000/1s", "RATE_LIMIT_READ": "100000000/1s",
            # The runs fetch their countries first and measure /fetch itself: no catalogue at start.
            "SYNC_ON_START": "never"}
    full.update(env)
    proc = subprocess.Popen([BINARY], env=full, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    banner = proc.stdout.readline()
    base = next(w for w in banner.split() if w.startswith("http://"))
    return proc, base


def memory_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def fetched(base, countries):
    for c in countries:
        get(f"{base}/fetch/{c}")
    deadline = time.time() + 60
    for c in countries:
        while time.time() < deadline:
            _, body = get(f"{base}/status/{c}?limit=1")
            if body and body["operations"] and body["operations"][0]["state"] == "succeeded":
                break
            time.sleep(0.05)


def wrk(url, seconds, script=None):
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", script]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    latency = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(50|99)%\s+(\S+)", out, re.M)}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "total": total, "p50": latency.get("50"), "p99": latency.get("99"),
            "non2xx": int(non_2xx.group(1)) if non_2xx else 0, "errors": errors.group(1) if errors else ""}


def backend_runs(name, env, seconds):
    proc, base = start(env)
    try:
        fetched(base, ["PY", "DE"])
        rows = []
        for path in ["/country/PY", "/status/PY", "/fetch/PY"]:
            r = wrk(base + path, seconds)
            rows.append((name, path, r))
        peak = memory_kib(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        proc.wait()
    return rows, peak


def soak(requests, seconds_cap):
    proc, base = start({})
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    paths = ", ".join(json.dumps(p) for p in MIXED)
    script.write(f"local paths = {{{paths}}}\nlocal i = 0\n"
                 "request = function()\n  i = i + 1\n  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n")
    script.close()
    try:
        fetched(base, ["PY", "DE"])
        wrk(base + "/health", 2)  # warm-up
        before = memory_kib(proc.pid, "VmRSS")
        done, started, answers = 0, time.time(), []
        while done < requests and time.time() - started < seconds_cap:
            r = wrk(base, 10, script.name)
            done += r["total"]
            answers.append(r)
        after = memory_kib(proc.pid, "VmRSS")
        time.sleep(10)
        later = memory_kib(proc.pid, "VmRSS")
        alive = get(base + "/health")[0] == 200
    finally:
        proc.terminate()
        proc.wait()
        os.unlink(script.name)
    return done, before, after, later, alive


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per route")
    parser.add_argument("--soak", type=int, default=200_000, help="mixed requests in the soak, at least")
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} is missing: cargo build --release -p countries-local")
    runs, peaks = [], []
    rows, peak = backend_runs("memory", {}, args.seconds)
    runs += rows
    peaks.append(("memory", peak))
    endpoint, redis = os.environ.get("TEST_AWS_ENDPOINT"), os.environ.get("TEST_REDIS_URL")
    if endpoint and redis:
        suffix = f"{os.getpid()}-{int(time.time())}"
        env = {"BACKEND": "aws", "AWS_CREATE_RESOURCES": "true", "AWS_ENDPOINT_URL": endpoint,
               "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "load", "AWS_SECRET_ACCESS_KEY": "load",
               "COUNTRIES_TABLE": f"load-c-{suffix}", "OPERATIONS_TABLE": f"load-o-{suffix}",
               "FETCH_QUEUE_URL": f"{endpoint}/123456789012/load-{suffix}", "REDIS_URL": redis,
               "RATE_LIMIT_KEY_PREFIX": f"load-{suffix}:"}
        rows, peak = backend_runs("aws (moto, redis)", env, args.seconds)
        runs += rows
        peaks.append(("aws (moto, redis)", peak))
    print(f"| backend | route | requests/s | p50 | p99 | non-2xx | socket errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, path, r in runs:
        print(f"| {name} | `{path}` | {r['rps']:.0f} | {r['p50']} | {r['p99']} | {r['non2xx']} | {r['errors'] or 'none'} |")
    print()
    for name, peak in peaks:
        print(f"peak memory ({name}): {peak / 1024:.1f} MiB")
    done, before, after, later, alive = soak(args.soak, 600)
    print()
    print(f"soak: {done} mixed requests; memory (RSS) {before / 1024:.1f} MiB before, "
          f"{after / 1024:.1f} MiB after, {later / 1024:.1f} MiB 10 s later; still answering: {alive}")
    if done < args.soak or not alive:
        sys.exit("load: the soak did not complete")


if __name__ == "__main__":
    main()
