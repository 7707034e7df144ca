#!/usr/bin/env bash
# Start-to-exit time and peak memory of one-liners, rdt vs bpftrace, in one run.
#
#   bench/startup.sh [RUNS]          (as root; RUNS defaults to 10)
#
# Environment: RDT (default target/release/rdt), BPFTRACE (default bpftrace),
#              RSS_RUNS (default 3), OUT (directory for the JSON exports; default a temp dir).
set -euo pipefail

cd "$(dirname "$0")/.."

RUNS=${1:-10}
RSS_RUNS=${RSS_RUNS:-3}
RDT=${RDT:-target/release/rdt}
BPFTRACE=${BPFTRACE:-bpftrace}
# The one-liners, one row each: NAME, then the script. `tracepoint` is the headline one (it
# attaches a syscall probe and a timer, and prints a map); `BEGIN` is compile + load + run with
# nothing attached; `kernel-types` also reads kernel BTF (`curtask`); `uprobe` resolves a symbol
# in an ELF file and attaches a uprobe (it exits from a timer, not BEGIN: rdt runs BEGIN before
# attaching, so an exit() there would attach nothing).
CASES=(
    tracepoint 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); } interval:ms:1 { exit(); }'
    BEGIN 'BEGIN { printf("hello %d\n", pid); exit(); }'
    kernel-types 'BEGIN { printf("%d %s\n", curtask->real_parent->pid, curtask->comm); exit(); }'
    uprobe 'uprobe:/bin/bash:readline { @ = count(); } interval:ms:1 { exit(); }'
)

die() { echo "startup.sh: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (tracers load BPF programs)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing: run bench/setup.sh"
if [[ ! -d /sys/kernel/tracing/events ]]; then
    mount -t tracefs nodev /sys/kernel/tracing
fi

OUT=${OUT:-$(mktemp -d -t rdt-bench.XXXXXX)}
mkdir -p "$OUT"

# median of numbers on stdin (one per line)
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# wall_ms NAME CMD... -> prints "median min max" in milliseconds
wall_ms() {
    local name=$1
    shift
    local json="$OUT/$name.json"
    if command -v hyperfine >/dev/null 2>&1; then
        local cmdline
        cmdline=$(printf '%q ' "$@")
        hyperfine -N --runs "$RUNS" --warmup 1 --style none --export-json "$json" "$cmdline" >/dev/null
        # One result; pull median/min/max (seconds) out of the JSON without a JSON tool.
        local med min max
        med=$(grep -o '"median": *[0-9.eE+-]*' "$json" | head -n1 | sed 's/.*: *//')
        min=$(grep -o '"min": *[0-9.eE+-]*' "$json" | head -n1 | sed 's/.*: *//')
        max=$(grep -o '"max": *[0-9.eE+-]*' "$json" | head -n1 | sed 's/.*: *//')
        awk -v a="$med" -v b="$min" -v c="$max" 'BEGIN { printf "%.1f %.1f %.1f\n", a * 1000, b * 1000, c * 1000 }'
    else
        local i t0 t1 times=()
        "$@" >/dev/null 2>&1 # warm-up
        for ((i = 0; i < RUNS; i++)); do
            t0=$(date +%s%N)
            "$@" >/dev/null 2>&1
            t1=$(date +%s%N)
            times+=("$(((t1 - t0) / 1000))")
        done
        printf '%s\n' "${times[@]}" >"$OUT/$name.us"
        local med min max
        med=$(printf '%s\n' "${times[@]}" | median)
        min=$(printf '%s\n' "${times[@]}" | sort -g | head -n1)
        max=$(printf '%s\n' "${times[@]}" | sort -g | tail -n1)
        awk -v a="$med" -v b="$min" -v c="$max" 'BEGIN { printf "%.1f %.1f %.1f\n", a / 1000, b / 1000, c / 1000 }'
    fi
}

# rss_mb CMD... -> median peak RSS (MiB) over RSS_RUNS runs
rss_mb() {
    local i kb=()
    for ((i = 0; i < RSS_RUNS; i++)); do
        kb+=("$(/usr/bin/time -f '%M' -o "$OUT/time.out" "$@" >/dev/null 2>&1 && tail -n1 "$OUT/time.out")")
    done
    printf '%s\n' "${kb[@]}" | median | awk '{ printf "%.1f\n", $1 / 1024 }'
}

# check NAME CMD...: runs once, must exit 0 and print a map; else explains and returns 1
check() {
    local name=$1
    shift
    local log="$OUT/$name.check" rc=0
    "$@" >"$log" 2>&1 || rc=$?
    if ((rc != 0)); then
        echo "$name: the one-liner failed (exit status $rc); its output:" >&2
        sed 's/^/    /' "$log" | head -n 20 >&2
        return 1
    fi
    # The 1 ms window may see no openat at all (an empty map), but the probes must have attached;
    # BEGIN-only scripts must print their line.
    if ! grep -qE '^Attach|^hello|^[0-9]+ ' "$log"; then
        echo "$name: the one-liner attached nothing; its output:" >&2
        sed 's/^/    /' "$log" | head -n 20 >&2
        return 1
    fi
}

declare -A WALL RSS VERSION
tools=()
case_names=()

# measure CASE TOOL CMD...
measure() {
    local case=$1 name=$2
    shift 2
    echo "measuring $name, $case ($RUNS runs)..." >&2
    check "$name-$case" "$@" || return 0
    WALL[$case/$name]=$(wall_ms "$name-$case" "$@")
    RSS[$case/$name]=$(rss_mb "$@")
}

have_bpftrace=false
if command -v "$BPFTRACE" >/dev/null 2>&1; then
    have_bpftrace=true
    VERSION[bpftrace]=$("$BPFTRACE" --version 2>/dev/null | head -n1)
    tools+=(bpftrace)
else
    echo "bpftrace: not found ($BPFTRACE); run bench/setup.sh" >&2
fi
have_rdt=false
if [[ -x $RDT ]]; then
    have_rdt=true
    VERSION[rdt]=$("$RDT" --version 2>/dev/null | head -n1 || true)
    tools+=(rdt)
else
    echo "rdt: no binary at $RDT (build it with 'cargo build --release -p rdt', or set RDT=path); measuring bpftrace only" >&2
fi

for ((c = 0; c < ${#CASES[@]}; c += 2)); do
    case_name=${CASES[c]}
    prog=${CASES[c + 1]}
    case_names+=("$case_name")
    if $have_bpftrace; then measure "$case_name" bpftrace "$BPFTRACE" -e "$prog"; fi
    if $have_rdt; then measure "$case_name" rdt "$RDT" -e "$prog"; fi
done

echo
echo "kernel $(uname -r), $(nproc) CPUs, $RUNS runs per tool (wall: hyperfine median; RSS: median of $RSS_RUNS runs of /usr/bin/time -f %M)"
for t in "${tools[@]}"; do echo "$t: ${VERSION[$t]:-}"; done
for ((c = 0; c < ${#CASES[@]}; c += 2)); do
    case_name=${CASES[c]}
    echo
    echo "$case_name: ${CASES[c + 1]}"
    printf '  %-10s %12s %10s %10s %14s\n' tool "wall med ms" "min ms" "max ms" "peak RSS MiB"
    for t in "${tools[@]}"; do
        [[ -n ${WALL[$case_name/$t]:-} ]] || continue
        read -r med min max <<<"${WALL[$case_name/$t]}"
        printf '  %-10s %12s %10s %10s %14s\n' "$t" "$med" "$min" "$max" "${RSS[$case_name/$t]}"
    done
    if [[ -n ${WALL[$case_name/rdt]:-} && -n ${WALL[$case_name/bpftrace]:-} ]]; then
        read -r rmed _ _ <<<"${WALL[$case_name/rdt]}"
        read -r bmed _ _ <<<"${WALL[$case_name/bpftrace]}"
        awk -v rw="$rmed" -v bw="$bmed" -v rr="${RSS[$case_name/rdt]}" -v br="${RSS[$case_name/bpftrace]}" 'BEGIN {
            printf "  ratio rdt/bpftrace: wall %.3f, peak RSS %.3f   (bpftrace/rdt: wall %.1fx, RSS %.1fx)\n",
                rw / bw, rr / br, bw / rw, br / rr }'
    fi
done
echo
echo "raw data: $OUT" >&2
