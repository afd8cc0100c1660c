#!/usr/bin/env bash
# Times `run` of /bin/true on one lean busybox bundle with vessel, crun and
# runc, several rounds each, and prints medians and ratios to vessel.
#
# crun 1.8 refuses a cgroups-v1 hybrid host whose cgroup2 lists
# controllers, so the whole comparison runs in a private mount namespace
# where /sys/fs/cgroup/unified/cgroup.controllers reads empty; all three
# runtimes see the same host.
#
# Two passes: "back to back", each run started the moment the one before
# returned (what a loop of runs gets; vessel's shim removes a container's
# cgroups and mounts after the command has returned, crun and runc
# before, so there the next run may meet the last one's teardown), and
# "quiet", with 50 ms between runs (what one run costs the user who waits
# for it).
#
# Usage (root): bench/runtime.sh [ROUNDS]   (default 30 per pass; taken in
# 10 blocks that alternate the contenders). With BASELINE=DIR (a directory
# holding another build's vessel), that build runs too, as
# "vessel-base": an A/B of two builds in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-30}

. bench/prepare.sh
prepare crun runc hyperfine busybox-static libseccomp-dev

work=$(mktemp -d /tmp/vessel-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
scripts/busybox-rootfs.sh "$work/bundle/rootfs"
scripts/demo-bundle.sh "$work/bundle" /bin/true
# Run installed copies, as crun and runc are: a binary the linker has
# just written is cached as many small pages and starts ~1 ms slower
# until its pages are read afresh.
install -m 0755 -D -t "$work/bin" target/release/vessel target/release/vessel-shim
vessel=$work/bin/vessel
base=
if [ -n "${BASELINE:-}" ]; then
    install -m 0755 -D "$BASELINE/vessel" "$work/base/vessel"
    base=$work/base/vessel
fi

# This host's speed drifts by a third between minutes, so the contenders
# take turns: blocks of a few rounds each, in a rotating order, and the
# medians are taken over every round of every block.
blocks=10
per_block=$(( (rounds + blocks - 1) / blocks ))
inner=$(cat <<INNER
set -e
if [ -e /sys/fs/cgroup/unified/cgroup.controllers ]; then
    : > "$work/empty"
    mount --bind "$work/empty" /sys/fs/cgroup/unified/cgroup.controllers
fi
v=(-n vessel "$vessel runtime --root $work/vessel run --bundle $work/bundle bench-v")
c=(-n crun "crun --root $work/crun run --bundle $work/bundle bench-c")
r=(-n runc "runc --root $work/runc run --bundle $work/bundle bench-r")
b=()
if [ -n "$base" ]; then
    b=(-n vessel-base "$base runtime --root $work/vbase run --bundle $work/bundle bench-b")
fi
for pass in back-to-back quiet; do
prepare=()
[ "\$pass" = quiet ] && prepare=(--prepare "sleep 0.05")
for i in \$(seq $blocks); do
    case \$((i % 4)) in
        0) order=("\${v[@]}" "\${c[@]}" "\${r[@]}" "\${b[@]}") ;;
        1) order=("\${c[@]}" "\${r[@]}" "\${b[@]}" "\${v[@]}") ;;
        2) order=("\${r[@]}" "\${b[@]}" "\${v[@]}" "\${c[@]}") ;;
        3) order=("\${b[@]}" "\${v[@]}" "\${c[@]}" "\${r[@]}") ;;
    esac
    hyperfine -N --style basic --warmup 2 --runs $per_block "\${prepare[@]}" \
        --export-json "$work/times-\$pass-\$i.json" "\${order[@]}" >/dev/null
done
done
INNER
)
unshare -m --propagation private bash -c "$inner"

for pass in back-to-back quiet; do
echo "$pass:"
python3 - "$work"/times-$pass-*.json <<'PY'
import json, statistics, sys
times = {}
for path in sys.argv[1:]:
    for r in json.load(open(path))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
med = {name: statistics.median(t) * 1000 for name, t in sorted(times.items())}
base = med["vessel"]
print(f"{'runtime':<12} {'median ms':>10} {'ratio to vessel':>16}   ({len(times['vessel'])} rounds each)")
for name, ms in med.items():
    print(f"{name:<12} {ms:>10.2f} {ms / base:>16.2f}")
PY
done
