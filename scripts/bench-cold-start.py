#!/usr/bin/env python3
"""Cold start, warm latency and memory of the api Lambda next to a hello-world lambda_http function
built the same way.

Runs each binary as a fresh process under a Lambda Runtime API emulator (`--emulator`, the team's
lambda_emu.py: init_ms, process start to the first `invocation/next`; warm_p50_ms over `--invokes` warm
invocations; peak_rss_mb), one process of each binary per round, alternating, so that the machine's drift
hits both alike. Prints the medians of each (the first invocation too: the api loads its catalogue
snapshot then), the median of the per-round init ratios and the ratio of the medians, and the difference
of the warm medians.

usage: bench-cold-start.py --emulator PATH [--rounds N] [--invokes N] [--path P] [--local BINARY] NAME=BINARY ...
(the first NAME is the base). The event is an HTTP API v2 `GET <path>` (default `/country/PY`) made from
tests/events. Under scripts/with-emulators.sh (as `make bench-lambda` runs it) the api's environment names
the live moto and redis-server, and `--local` (the local server binary) first fills moto's tables: it
creates them and syncs the bundled catalogue at its first start, so the api answers from its catalogue
snapshot, loaded on the first invocation. Otherwise the endpoints are unreachable.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
ENV = {
    "COUNTRIES_TABLE": "bench-countries",
    "OPERATIONS_TABLE": "bench-operations",
    "FETCH_QUEUE_URL": "http://127.0.0.1:9/123456789012/bench",
    "REDIS_URL": "redis://127.0.0.1:9",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    # Every warm invocation still asks the limiter; this one must not say no.
    "RATE_LIMIT_READ": "1000000/1s",
}
if os.environ.get("TEST_AWS_ENDPOINT") and os.environ.get("TEST_REDIS_URL"):
    ENV.update(AWS_ENDPOINT_URL=os.environ["TEST_AWS_ENDPOINT"],
               FETCH_QUEUE_URL=os.environ["TEST_AWS_ENDPOINT"] + "/123456789012/bench",
               REDIS_URL=os.environ["TEST_REDIS_URL"])


def get_event(path):
    event = json.loads((ROOT / "tests/events/example-apigw-v2-request-no-authorizer.json").read_text())
    event.update(rawPath=path, rawQueryString="", routeKey="$default", queryStringParameters=None,
                 isBase64Encoded=False)
    event.pop("body", None)
    event["requestContext"]["http"].update(path=path, method="GET")
    event["requestContext"]["stage"] = "$default"
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(event, f)
    f.close()
    return f.name


def fill_tables(local):
    """The local server on moto creates the tables and syncs the bundled catalogue at its first start."""
    env = dict(os.environ, BACKEND="aws", AWS_CREATE_RESOURCES="true", PORT="0", RUST_LOG="warn",
               COUNTRIES_TABLE=ENV["COUNTRIES_TABLE"], OPERATIONS_TABLE=ENV["OPERATIONS_TABLE"],
               FETCH_QUEUE_URL=ENV["FETCH_QUEUE_URL"], AWS_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_ENDPOINT_URL=os.environ["TEST_AWS_ENDPOINT"])
    server = subprocess.Popen([local], env=env, stdout=subprocess.PIPE, text=True)
    try:
        base = next(w for w in server.stdout.readline().split() if w.startswith("http://"))
        for _ in range(300):
            with urllib.request.urlopen(base + "/sync") as r:
                syncs = json.load(r)["syncs"]
            if syncs and syncs[0]["state"] == "succeeded":
                return syncs[0]
            time.sleep(0.1)
        raise SystemExit("the local server's first sync did not finish")
    finally:
        server.terminate()
        server.wait()


def run(emulator, event, binary, invokes):
    cmd = ["python3", emulator, "--event", event, "--invokes", str(invokes), "--repeat", "1"]
    for k, v in ENV.items():
        cmd += ["--env", f"{k}={v}"]
    out = subprocess.run(cmd + ["--", binary], capture_output=True, text=True, check=True).stdout
    d = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    return d["init_ms"], d["peak_rss_mb"], d["warm_p50_ms"], d["first_ms"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--emulator", required=True)
    p.add_argument("--rounds", type=int, default=100)
    p.add_argument("--invokes", type=int, default=50)
    p.add_argument("--path", default="/country/PY")
    p.add_argument("--local")
    p.add_argument("binaries", nargs="+")
    a = p.parse_args()
    bins = dict(b.split("=", 1) for b in a.binaries)
    if a.local and os.environ.get("TEST_AWS_ENDPOINT"):
        sync = fill_tables(a.local)
        print(f"tables filled: the bundled catalogue, {sync['added']} countries")
    event = get_event(a.path)
    init = {k: [] for k in bins}
    rss = {k: [] for k in bins}
    warm = {k: [] for k in bins}
    first = {k: [] for k in bins}
    for _ in range(a.rounds):
        for name, path in bins.items():
            i, r, w, f = run(a.emulator, event, path, a.invokes)
            init[name].append(i)
            rss[name].append(r)
            warm[name].append(w)
            first[name].append(f)
    base = next(iter(bins))
    med = statistics.median
    for name in bins:
        print(f"{name}: init median {med(init[name]):.2f} ms, first invocation median {med(first[name]):.2f} ms, "
              f"warm GET {a.path} p50 median {med(warm[name]):.3f} ms, peak memory median {med(rss[name]):.2f} MB "
              f"({a.rounds} processes)")
    for name in list(bins)[1:]:
        ratios = [x / y for x, y in zip(init[name], init[base])]
        print(f"{name} / {base}: init, median of per-round ratios {med(ratios):.2f}, ratio of medians "
              f"{med(init[name]) / med(init[base]):.2f}; warm p50 {med(warm[name]) - med(warm[base]):+.3f} ms")


if __name__ == "__main__":
    main()
