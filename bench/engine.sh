#!/usr/bin/env bash
# Times `run --rm busybox true` end to end with vessel, docker and podman
# on the same busybox image, and `exec true` with vessel and docker,
# several rounds each;
# prints medians and ratios to vessel.
#
# Each engine gets its own state: vesseld and dockerd are started here
# with private roots and sockets, podman uses a private --root. The
# busybox image is the one the quick start builds, imported into each.
#
# Usage (root): bench/engine.sh [ROUNDS]   (default 30, taken in 5 blocks
# that alternate the contenders). With BASELINE=DIR (a directory holding
# another build's vessel, vesseld and vessel-shim), that build runs too,
# as "vessel-base", with a vesseld of its own: an A/B of two builds in
# one run.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-30}

. bench/prepare.sh
prepare docker.io podman hyperfine busybox-static libseccomp-dev

work=$(mktemp -d /tmp/vessel-bench.XXXXXX)
pids=()
cleanup() {
    "$bin/vessel" rm -f bench-exec >/dev/null 2>&1 || true
    [ -z "${base:-}" ] || "$base/vessel" --host "$bhost" rm -f bench-exec >/dev/null 2>&1 || true
    docker -H "${dsock:-unix:///nonexistent}" rm -f bench-exec >/dev/null 2>&1 || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    umount "$work"/plib/overlay 2>/dev/null || true
    umount -R "$work" 2>/dev/null || true
    rm -rf "$work" "${vrun:-}" "${brun:-}"
}
trap cleanup EXIT
# Run installed copies, as docker and podman are: a binary the linker has
# just written is cached as many small pages and starts ~1 ms slower
# until its pages are read afresh.
bin=$work/bin
install -m 0755 -D -t "$bin" target/release/vessel target/release/vesseld target/release/vessel-shim

scripts/busybox-rootfs.sh "$work/rootfs"
tar -C "$work/rootfs" --numeric-owner -cf "$work/busybox.tar" .

# A vesseld of BIN's build with roots of its own (a short exec root:
# shims' socket paths must fit 108 bytes); prints its --host.
start_vesseld() {
    local bin=$1 name=$2 run
    run=$(mktemp -d /run/vb.XXXX)
    echo "$run" >"$work/$name.run"
    "$bin/vesseld" --root "$work/$name-lib" --exec-root "$run" >"$work/$name.log" 2>&1 &
    echo $! >"$work/$name.pid"
    until "$bin/vessel" --host "unix://$run/vessel.sock" images -q >/dev/null 2>&1; do
        kill -0 "$(cat "$work/$name.pid")" 2>/dev/null || { cat "$work/$name.log" >&2; exit 1; }
        sleep 0.1
    done
    "$bin/vessel" --host "unix://$run/vessel.sock" import "$work/busybox.tar" busybox:latest >/dev/null
}
start_vesseld "$bin" vessel
vrun=$(cat "$work/vessel.run"); pids+=("$(cat "$work/vessel.pid")")
export VESSEL_HOST=unix://$vrun/vessel.sock
base=${BASELINE:-}
if [ -n "$base" ]; then
    base=$work/base
    install -m 0755 -D -t "$base" "$BASELINE/vessel" "$BASELINE/vesseld" "$BASELINE/vessel-shim"
    start_vesseld "$base" base
    brun=$(cat "$work/base.run"); pids+=("$(cat "$work/base.pid")")
    bhost=unix://$brun/vessel.sock
fi

# docker, with its own daemon and data root
dsock=unix://$work/docker.sock
dockerd --data-root "$work/dlib" --exec-root "$work/d" --pidfile "$work/docker.pid" \
    -H "$dsock" --bridge none --iptables=false --ip6tables=false >"$work/dockerd.log" 2>&1 &
pids+=($!)
until docker -H "$dsock" info >/dev/null 2>&1; do sleep 0.2; done
docker -H "$dsock" import "$work/busybox.tar" busybox:latest >/dev/null

# podman, with its own storage (--ulimit host: its default RLIMIT_NOFILE
# is refused where the host withholds CAP_SYS_RESOURCE)
proot="--root $work/plib --runroot $work/p"
podman $proot import "$work/busybox.tar" busybox:latest >/dev/null

"$bin/vessel" run -d --name bench-exec busybox sleep 3600 >/dev/null
docker -H "$dsock" run -d --network none --name bench-exec busybox sleep 3600 >/dev/null

run=(-n vessel "$bin/vessel run --rm --network none busybox true"
     -n docker "docker -H $dsock run --rm --network none busybox true")
exec=(-n vessel "$bin/vessel exec bench-exec true"
      -n docker "docker -H $dsock exec bench-exec true")
if [ -n "$base" ]; then
    "$base/vessel" --host "$bhost" run -d --name bench-exec busybox sleep 3600 >/dev/null
    run+=(-n vessel-base "$base/vessel --host $bhost run --rm --network none busybox true")
    exec+=(-n vessel-base "$base/vessel --host $bhost exec bench-exec true")
fi
podman_run="podman $proot run --rm --network none --ulimit host busybox true"
if why=$($podman_run 2>&1); then
    run+=(-n podman "$podman_run")
else
    echo "podman left out: it cannot run a container on this host: $why"
fi

# This host's speed drifts between minutes, so the contenders take turns:
# blocks of a few rounds each, the order reversed every other block; the
# medians are taken over every round of every block.
blocks=5
per_block=$(( (rounds + blocks - 1) / blocks ))
reverse() { # reverses "-n NAME COMMAND" triples
    local out=() i
    for ((i = $# - 2; i >= 1; i -= 3)); do out+=("${@:i:3}"); done
    printf '%s\0' "${out[@]}"
}
for b in $(seq $blocks); do
    for what in run exec; do
        unset -n list 2>/dev/null || true
        declare -n list=$what
        order=("${list[@]}")
        [ $((b % 2)) = 0 ] && mapfile -d '' order < <(reverse "${list[@]}")
        hyperfine -N --style basic --warmup 3 --runs "$per_block" \
            --export-json "$work/$what-$b.json" "${order[@]}" >/dev/null
    done
done

python3 - "$work" <<'PY'
import glob, json, statistics, sys
for title, what in (("run --rm busybox true", "run"), ("exec true", "exec")):
    times = {}
    for path in sorted(glob.glob(f"{sys.argv[1]}/{what}-*.json")):
        for r in json.load(open(path))["results"]:
            times.setdefault(r["command"], []).extend(r["times"])
    med = {name: statistics.median(t) * 1000 for name, t in times.items()}
    base = med.get("vessel")
    print(f"{title}   ({len(times.get('vessel', []))} rounds each)")
    print(f"  {'engine':<12} {'median ms':>10} {'ratio to vessel':>16}")
    for name, ms in med.items():
        ratio = f"{ms / base:>16.2f}" if base else f"{'-':>16}"
        print(f"  {name:<12} {ms:>10.2f} {ratio}")
PY
