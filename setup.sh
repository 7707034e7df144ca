#!/usr/bin/env bash
# Installs what rdt needs to build, test and run on Debian (12 bookworm, 13 trixie), as root, and
# builds target/release/rdt. Idempotent: apt-get and rustup run only when something is missing.
# This file owns the list of Debian packages; .ci/run calls it (and tests/vm/setup.sh adds what
# the kernel VM lane needs).
set -euo pipefail
cd "$(dirname "$0")"

# gcc and libc6-dev: the tests compile tests/targets/*.c with `gcc`. binutils: readelf.
# systemtap-sdt-dev: <sys/sdt.h> for the USDT test target. curl and ca-certificates: rustup.
packages=(ca-certificates curl gcc libc6-dev binutils systemtap-sdt-dev)

installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

need=()
for p in "${packages[@]}"; do
  installed "$p" || need+=("$p")
done
if ((${#need[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${need[@]}"
fi

# The Rust the workspace declares (`rust-version` in Cargo.toml). Debian's own cargo is older
# (bookworm has 1.63), so a `cargo` on PATH is not enough: its version is checked.
rust_version="$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' Cargo.toml)"
[[ -n "$rust_version" ]] || { echo "setup.sh: no rust-version in Cargo.toml" >&2; exit 1; }

# A rustup installed earlier, even when this shell's PATH does not have it yet.
# shellcheck source=/dev/null
if [[ -f "$HOME/.cargo/env" ]]; then . "$HOME/.cargo/env"; fi

# Whether `cargo` and `rustc` exist here and rustc is at least $rust_version.
rust_is_recent() {
  command -v cargo >/dev/null || return 1
  local have
  have="$(rustc --version 2>/dev/null | awk '{print $2}')" || return 1
  [[ -n "$have" ]] || return 1
  [[ "$(printf '%s\n%s\n' "$rust_version" "$have" | sort -V | head -n1)" == "$rust_version" ]]
}

if ! rust_is_recent; then
  if command -v rustup >/dev/null; then
    # Only this directory uses it: the user's default toolchain stays as it is.
    rustup toolchain install "$rust_version" --profile minimal
    rustup override set "$rust_version"
  else
    # Debian's older cargo may be in /usr/bin: rustup's goes before it on PATH.
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
      RUSTUP_INIT_SKIP_PATH_CHECK=yes sh -s -- -y --profile minimal --default-toolchain "$rust_version"
    # shellcheck source=/dev/null
    . "$HOME/.cargo/env"
  fi
  rust_is_recent || {
    echo "setup.sh: rustc $rust_version or newer is needed; found: $(rustc --version 2>&1)" >&2
    exit 1
  }
fi

cargo build --release -p rdt
echo "built target/release/rdt ($(rustc --version))"
