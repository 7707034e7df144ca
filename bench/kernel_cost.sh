#!/usr/bin/env bash
# Kernel cost per event, rdt vs bpftrace, in one run.
#
#   bench/kernel_cost.sh [EVENTS]      (as root; EVENTS defaults to 1000000)
#
# Each tracer runs `tracepoint:syscalls:sys_enter_getpid { @ = count(); }` while a small C
# program calls getpid(2) EVENTS times, three times over (medians are reported). With kernel.bpf_stats_enabled=1 the kernel accounts the
# run time of every BPF program; `bpftool prog show` reports run_time_ns and run_cnt, and the
# deltas over the load give the BPF program's ns/event. The load generator also times its own
# syscalls, so the table shows the whole per-event overhead (tracepoint dispatch included)
# against a run with no tracer.
#
# Environment: RDT (default target/release/rdt), BPFTRACE (default bpftrace).
set -euo pipefail

cd "$(dirname "$0")/.."

EVENTS=${1:-1000000}
RDT=${RDT:-target/release/rdt}
BPFTRACE=${BPFTRACE:-bpftrace}
PROG='tracepoint:syscalls:sys_enter_getpid { @ = count(); }'

die() { echo "kernel_cost.sh: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (tracers load BPF programs)"
command -v bpftool >/dev/null 2>&1 || die "bpftool missing: run bench/setup.sh"
command -v gcc >/dev/null 2>&1 || die "gcc missing: run bench/setup.sh"
if [[ ! -d /sys/kernel/tracing/events ]]; then
    mount -t tracefs nodev /sys/kernel/tracing
fi

WORK=$(mktemp -d -t rdt-kcost.XXXXXX)
OLD_STATS=$(sysctl -n kernel.bpf_stats_enabled)
TRACER_PID=
cleanup() {
    if [[ -n $TRACER_PID ]] && kill -0 "$TRACER_PID" 2>/dev/null; then
        kill -INT "$TRACER_PID" 2>/dev/null || true
        wait "$TRACER_PID" 2>/dev/null || true
    fi
    sysctl -q -w kernel.bpf_stats_enabled="$OLD_STATS" >/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# The load generator: N getpid syscalls (glibc does not cache getpid, but go through
# syscall(2) to be sure); prints the mean ns per call.
cat >"$WORK/getpid_loop.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        syscall(SYS_getpid);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    printf("%.1f\n", n > 0 ? ns / n : 0.0);
    return 0;
}
EOF
gcc -O2 -o "$WORK/getpid_loop" "$WORK/getpid_loop.c"
LOAD=$WORK/getpid_loop

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ids of the loaded BPF programs, one per line
prog_ids() { bpftool prog show | awk -F: '/^[0-9]+:/ { print $1 }' | sort -n; }

# "run_time_ns run_cnt" summed over the programs whose ids are listed in file $1
prog_stats() {
    bpftool prog show | awk -v idfile="$1" '
        BEGIN { while ((getline id < idfile) > 0) want[id] = 1 }
        /^[0-9]+:/ {
            id = $1; sub(":", "", id)
            if (!(id in want)) next
            for (i = 1; i < NF; i++) {
                if ($i == "run_time_ns") ns += $(i + 1)
                if ($i == "run_cnt") cnt += $(i + 1)
            }
        }
        END { printf "%d %d\n", ns, cnt }'
}

sysctl -q -w kernel.bpf_stats_enabled=1

echo "baseline: $EVENTS getpid calls without a tracer..." >&2
"$LOAD" 1000 >/dev/null
BASE=$(for _ in 1 2 3; do "$LOAD" "$EVENTS"; done | median)

declare -A BPF_NS SYS_NS EVENTS_SEEN
tools=()

# measure NAME CMD...
measure() {
    local name=$1
    shift
    echo "measuring $name..." >&2
    prog_ids >"$WORK/before"
    "$@" >"$WORK/$name.log" 2>&1 &
    TRACER_PID=$!

    # Wait until the tracer's programs are loaded and fire (at most 30 s).
    local deadline=$((SECONDS + 30)) attached=0
    while ((SECONDS < deadline)); do
        if ! kill -0 "$TRACER_PID" 2>/dev/null; then
            break
        fi
        prog_ids | comm -13 "$WORK/before" - >"$WORK/$name.ids"
        if [[ -s $WORK/$name.ids ]]; then
            "$LOAD" 100 >/dev/null
            local cnt
            cnt=$(prog_stats "$WORK/$name.ids" | awk '{ print $2 }')
            if ((cnt > 0)); then
                attached=1
                break
            fi
        fi
        sleep 0.1
    done
    if ((!attached)); then
        echo "$name: did not attach; its output:" >&2
        sed 's/^/    /' "$WORK/$name.log" | head -n 20 >&2
        if kill -0 "$TRACER_PID" 2>/dev/null; then
            kill -INT "$TRACER_PID" 2>/dev/null || true
        fi
        wait "$TRACER_PID" 2>/dev/null || true
        TRACER_PID=
        return 0
    fi

    local ns0 cnt0 ns1 cnt1 sys
    read -r ns0 cnt0 < <(prog_stats "$WORK/$name.ids")
    sys=$(for _ in 1 2 3; do "$LOAD" "$EVENTS"; done | median)
    read -r ns1 cnt1 < <(prog_stats "$WORK/$name.ids")

    kill -INT "$TRACER_PID"
    wait "$TRACER_PID" 2>/dev/null || true
    TRACER_PID=

    EVENTS_SEEN[$name]=$((cnt1 - cnt0))
    BPF_NS[$name]=$(awk -v n=$((ns1 - ns0)) -v c=$((cnt1 - cnt0)) 'BEGIN { printf "%.1f", (c > 0 ? n / c : 0) }')
    SYS_NS[$name]=$sys
    tools+=("$name")
}

if command -v "$BPFTRACE" >/dev/null 2>&1; then
    measure bpftrace "$BPFTRACE" -e "$PROG"
else
    echo "bpftrace: not found ($BPFTRACE); run bench/setup.sh" >&2
fi
if [[ -x $RDT ]]; then
    measure rdt "$RDT" -e "$PROG"
else
    echo "rdt: no binary at $RDT (build it with 'cargo build --release -p rdt', or set RDT=path); measuring bpftrace only" >&2
fi

echo
echo "probe: $PROG"
echo "kernel $(uname -r), $(nproc) CPUs, 3 x $EVENTS getpid calls; getpid without a tracer: $BASE ns/call"
echo
printf '%-10s %10s %16s %16s %16s\n' tool events "BPF ns/event" "getpid ns/call" "overhead ns/ev"
for t in "${tools[@]}"; do
    printf '%-10s %10s %16s %16s %16s\n' "$t" "${EVENTS_SEEN[$t]}" "${BPF_NS[$t]}" "${SYS_NS[$t]}" \
        "$(awk -v a="${SYS_NS[$t]}" -v b="$BASE" 'BEGIN { printf "%.1f", a - b }')"
done
if [[ -n ${BPF_NS[rdt]:-} && -n ${BPF_NS[bpftrace]:-} ]]; then
    echo
    awk -v r="${BPF_NS[rdt]}" -v b="${BPF_NS[bpftrace]}" \
        -v rs="${SYS_NS[rdt]}" -v bs="${SYS_NS[bpftrace]}" -v base="$BASE" 'BEGIN {
        printf "ratio rdt/bpftrace: BPF ns/event %.3f, overhead ns/event %.3f\n",
            r / b, (rs - base) / (bs - base) }'
fi
echo
echo "BPF ns/event: run_time_ns/run_cnt of the tracer's programs (kernel.bpf_stats_enabled=1, which adds its own ~2 clock reads)."
echo "overhead: getpid ns/call with the tracer minus without (tracepoint dispatch + program + stats)."
