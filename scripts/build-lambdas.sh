#!/usr/bin/env bash
# Builds the two Lambda zips with cargo-lambda (from PyPI, with zig as the linker; both pinned with
# their hashes in scripts/lambda-tools.txt):
#   target/lambda/api-lambda/bootstrap.zip, target/lambda/worker-lambda/bootstrap.zip
# for arm64 (Graviton: cheaper per ms) when the Rust target can be installed, else x86_64. The chosen
# architecture is written to target/lambda/ARCH for Terraform (`lambda_architecture`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
cd "$root"
# The tools run with the deploy role's credentials in the pipeline: exact versions, and wheels whose
# SHA-256 scripts/lambda-tools.txt lists. A stamp of that file reinstalls them when a pin moves.
tools="$root/scripts/lambda-tools.txt"
stamp="$venv/.lambda-tools.sha256"
want="$(sha256sum "$tools" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/cargo-lambda" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "build-lambdas: installing cargo-lambda and ziglang (scripts/lambda-tools.txt) into $venv" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  # Through python, not bin/pip: a cached venv restored into another build directory keeps scripts
  # whose #! names the old one.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --only-binary=:all: -r "$tools"
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"

arch="${LAMBDA_ARCH:-}"
if [ -z "$arch" ]; then
  if rustup target list --installed 2>/dev/null | grep -q '^aarch64-unknown-linux-gnu$' \
     || rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1; then
    arch=arm64
  else
    echo "build-lambdas: the aarch64 Rust target cannot be installed here; building x86_64 (CodeBuild builds arm64)" >&2
    arch=x86_64
  fi
fi
flag=$([ "$arch" = arm64 ] && echo --arm64 || echo --x86-64)
# Non-PIE (as `make bench-lambda` measures them): the loader applies no relocations at a cold start.
export RUSTFLAGS="${RUSTFLAGS:-} -C relocation-model=static"
cargo lambda build --profile lambda-release "$flag" --output-format zip --bin api-lambda --bin worker-lambda
echo "$arch" > target/lambda/ARCH
for f in api-lambda worker-lambda; do
  printf '%s: %s bytes (%s)\n' "target/lambda/$f/bootstrap.zip" "$(stat -c %s "target/lambda/$f/bootstrap.zip")" "$arch"
done
