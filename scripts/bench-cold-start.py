#!/usr/bin/env python3
"""Cold start of the api Lambda next to a hello-world lambda_http function built the same way.

Runs each binary as a fresh process under a Lambda Runtime API emulator (`--emulator`, the team's
lambda_emu.py: it reports init_ms, process start to the first `invocation/next`, and peak_rss_mb), one
process of each binary per round, alternating, so that the machine's drift hits both alike. Prints the
median init and peak memory of each, the median of the per-round ratios and the ratio of the medians.

usage: bench-cold-start.py --emulator PATH [--rounds N] [--event FILE] NAME=BINARY ...   (the first is the base)
The event defaults to an HTTP API v2 `GET /health` made from tests/events. Under
scripts/with-emulators.sh (as `make bench-lambda` runs it) the api's environment names the live moto and
redis-server; otherwise unreachable endpoints. Its start-up builds clients but makes no request.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
ENV = {
    "COUNTRIES_TABLE": "bench-countries",
    "OPERATIONS_TABLE": "bench-operations",
    "FETCH_QUEUE_URL": "http://127.0.0.1:9/123456789012/bench",
    "REDIS_URL": "redis://127.0.0.1:9",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}
if os.environ.get("TEST_AWS_ENDPOINT") and os.environ.get("TEST_REDIS_URL"):
    ENV.update(AWS_ENDPOINT_URL=os.environ["TEST_AWS_ENDPOINT"],
               FETCH_QUEUE_URL=os.environ["TEST_AWS_ENDPOINT"] + "/123456789012/bench",
               REDIS_URL=os.environ["TEST_REDIS_URL"])


def health_event():
    event = json.loads((ROOT / "tests/events/example-apigw-v2-request-no-authorizer.json").read_text())
    event.update(rawPath="/health", rawQueryString="", routeKey="$default", queryStringParameters=None,
                 isBase64Encoded=False)
    event.pop("body", None)
    event["requestContext"]["http"].update(path="/health", method="GET")
    event["requestContext"]["stage"] = "$default"
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(event, f)
    f.close()
    return f.name


def run(emulator, event, binary):
    cmd = ["python3", emulator, "--event", event, "--invokes", "3", "--repeat", "1"]
    for k, v in ENV.items():
        cmd += ["--env", f"{k}={v}"]
    out = subprocess.run(cmd + ["--", binary], capture_output=True, text=True, check=True).stdout
    d = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    return d["init_ms"], d["peak_rss_mb"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--emulator", required=True)
    p.add_argument("--rounds", type=int, default=100)
    p.add_argument("--event")
    p.add_argument("binaries", nargs="+")
    a = p.parse_args()
    bins = dict(b.split("=", 1) for b in a.binaries)
    event = a.event or health_event()
    init = {k: [] for k in bins}
    rss = {k: [] for k in bins}
    for _ in range(a.rounds):
        for name, path in bins.items():
            i, r = run(a.emulator, event, path)
            init[name].append(i)
            rss[name].append(r)
    base = next(iter(bins))
    for name in bins:
        print(f"{name}: init median {statistics.median(init[name]):.2f} ms, peak memory median "
              f"{statistics.median(rss[name]):.2f} MB ({a.rounds} processes)")
    for name in list(bins)[1:]:
        ratios = [x / y for x, y in zip(init[name], init[base])]
        print(f"{name} / {base}: median of per-round ratios {statistics.median(ratios):.2f}, "
              f"ratio of medians {statistics.median(init[name]) / statistics.median(init[base]):.2f}")


if __name__ == "__main__":
    main()
