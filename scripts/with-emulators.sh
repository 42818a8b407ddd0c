#!/usr/bin/env bash
# Runs a command with the protocol servers the adapter and end-to-end tests talk to, started once for the
# whole run on free loopback ports and stopped on exit (also when the command fails):
#   - moto in server mode (DynamoDB, SQS, Secrets Manager), from a virtualenv in .venv
#   - a second moto that enforces IAM on every call after the first three, which create its admin user:
#     the Lambda tests run the functions there under roles rendered from the Terraform's policies
#   - redis-server, no persistence
# and exports TEST_AWS_ENDPOINT, TEST_AWS_IAM_ENDPOINT (with TEST_AWS_IAM_ADMIN, "key:secret", and
# TEST_MOTO_PYTHON, whose boto3 creates roles there), TEST_REDIS_URL and TEST_REDIS_PORT for the tests.
# Installs what is missing: the virtualenv and moto from PyPI, redis-server from Debian's packages.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
work="$root/.tmp/emulators"
mkdir -p "$work"

if [ ! -x "$venv/bin/moto_server" ]; then
  echo "with-emulators: creating $venv with moto[server]" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5,<6'
fi
if ! command -v redis-server >/dev/null; then
  echo "with-emulators: installing redis-server" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq redis-server >/dev/null
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

moto_port=$(free_port)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
iam_port=$(free_port)
INITIAL_NO_AUTH_ACTION_COUNT=3 "$venv/bin/moto_server" -H 127.0.0.1 -p "$iam_port" >"$work/moto-iam.log" 2>&1 &
pids+=($!)
redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --daemonize no \
  --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)

wait_for() { # name, command
  for _ in $(seq 1 100); do
    if eval "$2" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "with-emulators: $1 did not start; its log:" >&2
  cat "$work/$1.log" >&2
  exit 1
}
wait_for moto "python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:$moto_port/moto-api/\")'"
wait_for moto-iam "python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:$iam_port/moto-api/\")'"
# The three calls moto admits unauthenticated: the admin user, its policy, its key. Everything after
# them, the tests' own set-up included, is signed and checked against IAM.
admin=$("$venv/bin/python" - "http://127.0.0.1:$iam_port" <<'PY'
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="admin")
iam.put_user_policy(UserName="admin", PolicyName="admin", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="admin")["AccessKey"]
print(f'{key["AccessKeyId"]}:{key["SecretAccessKey"]}')
PY
)
wait_for redis "python3 -c 'import socket; s=socket.create_connection((\"127.0.0.1\", $redis_port)); s.sendall(b\"PING\r\n\"); assert s.recv(16).startswith(b\"+PONG\")'"

export TEST_AWS_ENDPOINT="http://127.0.0.1:$moto_port"
export TEST_AWS_IAM_ENDPOINT="http://127.0.0.1:$iam_port"
export TEST_AWS_IAM_ADMIN="$admin"
export TEST_MOTO_PYTHON="$venv/bin/python"
export TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
export TEST_REDIS_PORT="$redis_port"
echo "with-emulators: moto on $TEST_AWS_ENDPOINT, moto with IAM on $TEST_AWS_IAM_ENDPOINT, redis on $TEST_REDIS_URL" >&2
"$@"
