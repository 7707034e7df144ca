#!/usr/bin/env bash
# Install the tools the benchmarks need (Debian packages). Idempotent: packages already
# present are not reinstalled and the package lists are only refreshed when something is missing.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: must run as root (apt-get install)" >&2
    exit 1
fi

# command -> Debian package
declare -A want=(
    [bpftrace]=bpftrace
    [hyperfine]=hyperfine
    [bpftool]=bpftool
    [gcc]=gcc
)
missing=()
for cmd in "${!want[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
# /usr/bin/time (GNU time, for peak RSS); the shell keyword `time` does not count.
[[ -x /usr/bin/time ]] || missing+=(time)

if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# tracefs is not mounted at boot on the development machine.
if [[ ! -d /sys/kernel/tracing/events ]]; then
    mount -t tracefs nodev /sys/kernel/tracing
fi

echo "bpftrace:  $(bpftrace --version 2>&1 | head -n1)"
echo "hyperfine: $(hyperfine --version 2>&1 | head -n1)"
echo "bpftool:   $(bpftool version 2>&1 | head -n1)"
echo "time:      $(/usr/bin/time --version 2>&1 | head -n1)"
