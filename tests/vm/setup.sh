#!/usr/bin/env bash
# Installs what the kernel VM lane needs (as root, on Debian bookworm or trixie): qemu, a static
# busybox, and Debian's stock cloud kernel, unpacked (never installed) into the cache directory.
# Idempotent: apt-get runs only when something is missing.
#
# Cache: $RDT_VM_DIR, default <repo>/target/vm. It ends up holding
#   vmlinuz          the kernel image the lane boots
#   config           its build configuration
#   kernel-package   the Debian package it came from
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${RDT_VM_DIR:-$repo/target/vm}"
mkdir -p "$cache"
export DEBIAN_FRONTEND=noninteractive

installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
# The guest's /bin/busybox must be busybox-static: Debian's dynamic busybox also installs
# /bin/busybox, but the initramfs carries only rdt's shared libraries (tests/vm.rs).
installed busybox-static || need+=(busybox-static)
if ((${#need[@]})); then
  apt-get update
  apt-get install -y --no-install-recommends "${need[@]}"
fi

# The versioned kernel package the cloud metapackage points at today; empty when the package
# lists are (apt-cache then fails, which must not end the script before the retry below).
kernel_package() {
  { apt-cache depends linux-image-cloud-amd64 2>/dev/null || true; } |
    sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1
}

if [[ ! -s "$cache/vmlinuz" ]]; then
  pkg="$(kernel_package)"
  if [[ -z "$pkg" ]]; then
    apt-get update
    pkg="$(kernel_package)"
  fi
  [[ -n "$pkg" ]] || { echo "tests/vm/setup.sh: cannot find the kernel package that linux-image-cloud-amd64 depends on" >&2; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # apt-get download as root leaves the file to root (apt notes it runs unsandboxed): harmless.
  (cd "$work" && apt-get download "$pkg")
  dpkg -x "$work"/*.deb "$work/root"
  cp "$work"/root/boot/vmlinuz-* "$cache/vmlinuz.tmp"
  cp "$work"/root/boot/config-* "$cache/config" 2>/dev/null || true
  echo "$pkg" > "$cache/kernel-package"
  mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
fi
echo "kernel VM lane ready: $(cat "$cache/kernel-package" 2>/dev/null) in $cache"
