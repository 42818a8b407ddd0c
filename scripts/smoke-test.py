#!/usr/bin/env python3
"""Smoke test of a running service (a deployment's URL, or `make run`'s): health, the OpenAPI document,
a client error, then one whole fetch (forced, so it always goes through the queue): queued, processed by
the worker, stored, served, and found in the catalogue (`/countries`, `/v3.1/alpha/...`).
Before the upstream key is put (the first pipeline run creates its secret empty), the fetch ends
`failed` naming the key's secret: that is reported, the catalogue routes are still checked, and the
test passes, since everything the deploy made works.

usage: smoke-test.py BASE_URL [COUNTRY]   (SMOKE_TIMEOUT seconds to wait for the fetch, default 120)
Standard library only: it runs on a CodeBuild image as it is.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request


def get(base, path):
    req = urllib.request.Request(base.rstrip("/") + path, headers={"accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, body.decode(errors="replace")


def check(ok, what, detail):
    if not ok:
        sys.exit(f"smoke test FAILED: {what}: {detail}")
    print(f"ok   {what}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    base, country = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "PY")
    timeout = float(os.environ.get("SMOKE_TIMEOUT", "120"))

    status, body = get(base, "/health")
    check(status == 200 and body.get("status") == "ok", "GET /health", (status, body))
    status, body = get(base, "/openapi.json")
    check(status == 200 and "/country/{country}" in body.get("paths", {}), "GET /openapi.json", status)
    status, body = get(base, "/country/not-a-country")
    check(status == 404 and "Code" in body, "GET /country/not-a-country is a 404 with an error body", (status, body))

    # Forced: a stored, fresh document would answer 200 without going through the queue and the worker.
    status, body = get(base, f"/fetch/{country}?force=true")
    check(status == 202, f"GET /fetch/{country}?force=true is queued", (status, body))
    deadline = time.monotonic() + timeout
    while True:
        status, body = get(base, f"/status/{country}?limit=1")
        if status != 200:
            sys.exit(f"smoke test FAILED: GET /status/{country}: {(status, body)}")
        op = (body.get("operations") or [{}])[0]
        if op.get("state") in ("succeeded", "not_found", "failed"):
            break
        if time.monotonic() > deadline:
            sys.exit(f"smoke test FAILED: the fetch of {country} is not final after {timeout:.0f}s: {op}")
        time.sleep(1)
    if op["state"] == "failed" and "key is not set" in (op.get("error") or ""):
        print(f"smoke test: the upstream key is not put yet, so the fetch failed as it must: {op['error']}")
        status, body = get(base, "/countries?limit=1&fields=cca2")
        check(status == 200 and "total" in body, "GET /countries answers", (status, body))
        print(f"smoke test passed against {base}, but for a fetch: put the upstream key (docs/operations.md)")
        return
    check(op["state"] == "succeeded", f"the fetch of {country} succeeded", op)
    status, body = get(base, f"/country/{country}")
    check(status == 200 and body.get("cca2") == country.upper(), f"GET /country/{country} serves it", status)

    # The fetch wrote it into the catalogue, which the reads see within CATALOGUE_REFRESH (10 s).
    status, body = get(base, "/countries?limit=1&fields=cca2")
    check(status == 200 and "total" in body, "GET /countries answers", (status, body))
    deadline = time.monotonic() + 15
    while True:
        status, body = get(base, f"/v3.1/alpha/{country}")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)
    check(status == 200 and body[0].get("cca2") == country.upper(), f"GET /v3.1/alpha/{country} serves it", status)
    print(f"smoke test passed against {base}")


if __name__ == "__main__":
    main()
