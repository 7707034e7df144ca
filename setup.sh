#!/usr/bin/env bash
# Installs what rdt needs to build and run on Debian (as root), and builds it.
# Idempotent: apt-get runs only when something is missing.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v cc >/dev/null || need+=(gcc libc6-dev)
command -v readelf >/dev/null || need+=(binutils)
# <sys/sdt.h>, for the USDT test target (tests/targets/usdt_target.c).
echo '#include <sys/sdt.h>' | cc -E -x c - >/dev/null 2>&1 || need+=(systemtap-sdt-dev)
if ((${#need[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${need[@]}"
fi
if ! command -v cargo >/dev/null; then
  echo "setup.sh: cargo (Rust 1.95) is required: https://rustup.rs" >&2
  exit 1
fi
cargo build --release -p rdt
echo "built target/release/rdt"
