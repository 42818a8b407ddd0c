#!/usr/bin/env bash
# Installs what a CodeBuild Ubuntu image lacks for `make test` / `make deploy`: the pinned Rust toolchain
# (with clippy and rustfmt), cargo-nextest, and with --terraform the pinned Terraform CLI, checked
# against its published SHA-256. Everything lands in cached directories, so a warm build skips it.
set -euo pipefail
toolchain="${RUST_TOOLCHAIN:-1.95.0}"
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export PATH="$CARGO_HOME/bin:$PATH"

if ! command -v rustup >/dev/null; then
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
    | sh -s -- -y --no-modify-path --profile minimal --default-toolchain "$toolchain"
fi
rustup toolchain install "$toolchain" --profile minimal --component clippy,rustfmt
rustup default "$toolchain"
if ! cargo nextest --version >/dev/null 2>&1; then
  curl -LsSf https://get.nexte.st/latest/linux | tar zxf - -C "$CARGO_HOME/bin"
fi

if [ "${1:-}" = "--terraform" ]; then
  version="${TERRAFORM_VERSION:?TERRAFORM_VERSION}"
  if ! terraform version 2>/dev/null | grep -q "v$version"; then
    base="https://releases.hashicorp.com/terraform/$version"
    zip="terraform_${version}_linux_amd64.zip"
    tmp="$(mktemp -d)"
    curl -sSfo "$tmp/$zip" "$base/$zip"
    curl -sSfo "$tmp/sums" "$base/terraform_${version}_SHA256SUMS"
    (cd "$tmp" && grep " $zip\$" sums | sha256sum -c -)
    unzip -o -q "$tmp/$zip" -d "$CARGO_HOME/bin"
    rm -rf "$tmp"
  fi
  terraform version
fi
