#!/usr/bin/env bash
# Installs what a CodeBuild Ubuntu image lacks, each tool at a pinned version and checked before it runs:
# the builds that run it hold the test or deploy role's credentials. Everything lands in cached
# directories, so a warm build skips what is already there at the pinned version.
#   (no flag)     the Rust toolchain (clippy, rustfmt) and cargo-nextest     make test, make build
#   --terraform   also the Terraform CLI                                     the Plan and Apply builds
#   --deny        also cargo-deny                                            make audit
#   --no-rust     without the Rust toolchain and nextest                     the Apply build compiles nothing
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
toolchain="${RUST_TOOLCHAIN:-1.95.0}"
# rustup-init for x86_64-unknown-linux-gnu (CodeBuild's LINUX_CONTAINER), with the SHA-256 the Rust
# project publishes beside it, written here so a changed installer fails the check instead of running.
rustup_version=1.28.2
rustup_sha256=20a06e644b0d9bd2fbdbfd52d42540bdde820ea7df86e92e533c073da0cdd43c
# Built from crates.io with --locked: the registry checks each crate's checksum, and no prebuilt binary
# from an unpinned "latest" URL runs.
nextest_version=0.9.151
cargo_deny_version=0.20.2
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export PATH="$CARGO_HOME/bin:$PATH"

rust=true terraform=false deny=false
for arg in "$@"; do
  case "$arg" in
    --terraform) terraform=true ;;
    --deny) deny=true ;;
    --no-rust) rust=false ;;
    *) echo "ci-toolchain: unknown argument $arg" >&2; exit 2 ;;
  esac
done

if $rust; then
  if ! command -v rustup >/dev/null; then
    [ "$(uname -sm)" = "Linux x86_64" ] || { echo "ci-toolchain: rustup-init is pinned for Linux x86_64 only" >&2; exit 2; }
    tmp="$(mktemp -d)"
    curl --proto '=https' --tlsv1.2 -sSfo "$tmp/rustup-init" \
      "https://static.rust-lang.org/rustup/archive/$rustup_version/x86_64-unknown-linux-gnu/rustup-init"
    echo "$rustup_sha256  $tmp/rustup-init" | sha256sum -c --quiet -
    chmod +x "$tmp/rustup-init"
    "$tmp/rustup-init" -y --no-modify-path --profile minimal --default-toolchain "$toolchain"
    rm -rf "$tmp"
  fi
  rustup toolchain install "$toolchain" --profile minimal --component clippy,rustfmt
  rustup default "$toolchain"
  if ! cargo nextest --version 2>/dev/null | grep -q "^cargo-nextest $nextest_version "; then
    cargo install --locked "cargo-nextest@$nextest_version"
  fi
fi

if $deny && ! cargo deny --version 2>/dev/null | grep -q "^cargo-deny $cargo_deny_version\$"; then
  cargo install --locked "cargo-deny@$cargo_deny_version"
fi

if $terraform; then
  version="${TERRAFORM_VERSION:?TERRAFORM_VERSION}"
  if ! terraform version 2>/dev/null | grep -q "v$version"; then
    base="https://releases.hashicorp.com/terraform/$version"
    zip="terraform_${version}_linux_amd64.zip"
    tmp="$(mktemp -d)"
    curl -sSfo "$tmp/$zip" "$base/$zip"
    curl -sSfo "$tmp/sums" "$base/terraform_${version}_SHA256SUMS"
    curl -sSfo "$tmp/sums.sig" "$base/terraform_${version}_SHA256SUMS.sig"
    # The sums come from the same host as the zip, so only HashiCorp's signature over them says the zip
    # is HashiCorp's. scripts/hashicorp.asc is their release key (fingerprint
    # C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F, signing subkey valid until 2030-03-01), taken
    # from their own @hashicorp/js-releases package, which verifies downloads with it.
    # An empty GNUPGHOME: no key of the machine's own keyrings can vouch for the sums.
    export GNUPGHOME="$tmp/gnupg"
    gpg --batch --quiet --dearmor < "$root/scripts/hashicorp.asc" > "$tmp/hashicorp.gpg"
    gpgv --keyring "$tmp/hashicorp.gpg" "$tmp/sums.sig" "$tmp/sums"
    unset GNUPGHOME
    (cd "$tmp" && grep " $zip\$" sums | sha256sum -c -)
    unzip -o -q "$tmp/$zip" -d "$CARGO_HOME/bin"
    rm -rf "$tmp"
  fi
  terraform version
fi
