#!/usr/bin/env python3
"""The saved plan for the person who approves it: writes `terraform show -no-color PLAN` to PLAN.txt and
prints one line of what the plan does, as `terraform plan` counts it (a replacement is one add and one
destroy), naming what it would destroy, which is what an approver must not miss.

    scripts/plan-summary.py target/terraform/prod-service.tfplan [--chdir terraform/service]

`terraform show -json` carries sensitive values in the clear, so it is read from a pipe and never
written; the text form masks them. With --json FILE the counting runs on a JSON document instead of
calling terraform (the tests use it).
"""
import argparse
import json
import os
import subprocess
import sys

# The line becomes the approval's message (CustomData): well inside the 1,000 characters an action's
# configuration field may hold.
LIMIT = 500


def summary(plan: dict, limit: int = LIMIT) -> str:
    add = change = destroy = 0
    destroyed, replaced = [], []
    for rc in plan.get("resource_changes", []):
        actions = rc["change"]["actions"]
        if "create" in actions:
            add += 1
        if "delete" in actions:
            destroy += 1
            (replaced if "create" in actions else destroyed).append(rc["address"])
        if actions == ["update"]:
            change += 1
    line = f"Plan: {add} to add, {change} to change, {destroy} to destroy."
    if not (add or change or destroy):
        line = "No changes."
    for label, names in (("replaces", replaced), ("destroys", destroyed)):
        if names:
            line += f" It {label} {', '.join(names)}."
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return line


def terraform(chdir: str, *args: str) -> bytes:
    tf = os.environ.get("TERRAFORM", "terraform")
    return subprocess.run([tf, f"-chdir={chdir}", *args], check=True, capture_output=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", help="the saved plan (an absolute path, or relative to the current directory)")
    parser.add_argument("--chdir", default="terraform/service", help="the stack's directory (default: %(default)s)")
    parser.add_argument("--json", help="count this `terraform show -json` document instead of the plan's")
    args = parser.parse_args()
    if args.json:
        with open(args.json) as f:
            print(summary(json.load(f)))
        return
    plan = os.path.abspath(args.plan)
    with open(plan + ".txt", "wb") as f:
        f.write(terraform(args.chdir, "show", "-no-color", plan))
    print(summary(json.loads(terraform(args.chdir, "show", "-json", plan))))


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as e:
        sys.stderr.write(e.stderr.decode(errors="replace"))
        sys.exit(f"plan-summary: {' '.join(e.cmd)} failed ({e.returncode})")
