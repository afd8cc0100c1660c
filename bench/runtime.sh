#!/usr/bin/env bash
# Times `run` of /bin/true on one lean busybox bundle with vessel, crun and
# runc, several rounds each, and prints medians and ratios to vessel.
#
# crun 1.8 refuses a cgroups-v1 hybrid host whose cgroup2 lists
# controllers, so the whole comparison runs in a private mount namespace
# where /sys/fs/cgroup/unified/cgroup.controllers reads empty; all three
# runtimes see the same host.
#
# Usage (root): bench/runtime.sh [ROUNDS]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-30}

need=()
for p in crun runc hyperfine busybox-static libseccomp-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release --quiet
# A fresh build is still being written back to disk; let that finish
# before anything is timed.
sync

work=$(mktemp -d /tmp/vessel-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
scripts/busybox-rootfs.sh "$work/bundle/rootfs"
scripts/demo-bundle.sh "$work/bundle" /bin/true
# Run installed copies, as crun and runc are: a binary the linker has
# just written is cached as many small pages and starts ~1 ms slower
# until its pages are read afresh.
install -m 0755 -D -t "$work/bin" target/release/vessel target/release/vessel-shim
vessel=$work/bin/vessel

inner=$(cat <<INNER
set -e
if [ -e /sys/fs/cgroup/unified/cgroup.controllers ]; then
    : > "$work/empty"
    mount --bind "$work/empty" /sys/fs/cgroup/unified/cgroup.controllers
fi
hyperfine -N --style basic --warmup 3 --runs $rounds --export-json "$work/times.json" \
    -n vessel "$vessel runtime --root $work/vessel run --bundle $work/bundle bench-v" \
    -n crun "crun --root $work/crun run --bundle $work/bundle bench-c" \
    -n runc "runc --root $work/runc run --bundle $work/bundle bench-r" >/dev/null
INNER
)
unshare -m --propagation private bash -c "$inner"

python3 - "$work/times.json" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
med = {r["command"]: statistics.median(r["times"]) * 1000 for r in results}
base = med["vessel"]
print(f"{'runtime':<8} {'median ms':>10} {'ratio to vessel':>16}")
for name, ms in med.items():
    print(f"{name:<8} {ms:>10.2f} {ms / base:>16.2f}")
PY
