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
# Usage (root): bench/engine.sh [ROUNDS]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-30}

need=()
for p in docker.io podman hyperfine busybox-static libseccomp-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release --quiet --locked
# A fresh build is still being written back to disk; let that finish
# before anything is timed.
sync

work=$(mktemp -d /tmp/vessel-bench.XXXXXX)
pids=()
cleanup() {
    "$bin/vessel" rm -f bench-exec >/dev/null 2>&1 || true
    docker -H "${dsock:-unix:///nonexistent}" rm -f bench-exec >/dev/null 2>&1 || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    umount "$work"/plib/overlay 2>/dev/null || true
    umount -R "$work" 2>/dev/null || true
    rm -rf "$work" "${vrun:-}"
}
trap cleanup EXIT
# Run installed copies, as docker and podman are: a binary the linker has
# just written is cached as many small pages and starts ~1 ms slower
# until its pages are read afresh.
bin=$work/bin
install -m 0755 -D -t "$bin" target/release/vessel target/release/vesseld target/release/vessel-shim

scripts/busybox-rootfs.sh "$work/rootfs"
tar -C "$work/rootfs" --numeric-owner -cf "$work/busybox.tar" .

# vessel (a short exec root: shims' socket paths must fit 108 bytes)
vrun=$(mktemp -d /run/vb.XXXX)
export VESSEL_HOST=unix://$vrun/vessel.sock
"$bin/vesseld" --root "$work/vlib" --exec-root "$vrun" >"$work/vesseld.log" 2>&1 &
pids+=($!)
until "$bin/vessel" images -q >/dev/null 2>&1; do
    kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/vesseld.log"; exit 1; }
    sleep 0.1
done
"$bin/vessel" import "$work/busybox.tar" busybox:latest >/dev/null

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

contenders=(-n vessel "$bin/vessel run --rm busybox true"
            -n docker "docker -H $dsock run --rm --network none busybox true")
podman_run="podman $proot run --rm --network none --ulimit host busybox true"
if why=$($podman_run 2>&1); then
    contenders+=(-n podman "$podman_run")
else
    echo "podman left out: it cannot run a container on this host: $why"
fi
hyperfine -N --style basic --warmup 3 --runs "$rounds" --export-json "$work/run.json" \
    "${contenders[@]}" >/dev/null
hyperfine -N --style basic --warmup 3 --runs "$rounds" --export-json "$work/exec.json" \
    -n vessel "$bin/vessel exec bench-exec true" \
    -n docker "docker -H $dsock exec bench-exec true" >/dev/null


python3 - "$work/run.json" "$work/exec.json" <<'PY'
import json, statistics, sys
for title, path in (("run --rm busybox true", sys.argv[1]), ("exec true", sys.argv[2])):
    results = json.load(open(path))["results"]
    med = {r["command"]: statistics.median(r["times"]) * 1000 for r in results}
    base = med.get("vessel")
    print(title)
    print(f"  {'engine':<8} {'median ms':>10} {'ratio to vessel':>16}")
    for name, ms in med.items():
        ratio = f"{ms / base:>16.2f}" if base else f"{'-':>16}"
        print(f"  {name:<8} {ms:>10.2f} {ratio}")
PY
