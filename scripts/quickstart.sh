#!/usr/bin/env bash
# The README's quick start: builds Vessel, starts vesseld in the
# background (state in /var/lib/vessel, socket /run/vessel/vessel.sock,
# log /var/log/vesseld.log), imports the built-in busybox image and runs a
# container on it. Run as root from the repository. Idempotent: a running
# vesseld is reused, busybox:latest re-imported.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
# nftables: vesseld writes its firewall table (NAT, published ports)
# with nft.
for p in libseccomp-dev busybox-static procps nftables; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release --locked
bin=$PWD/target/release
if ! "$bin/vessel" images -q >/dev/null 2>&1; then
    nohup "$bin/vesseld" >>/var/log/vesseld.log 2>&1 &
    for _ in $(seq 100); do
        "$bin/vessel" images -q >/dev/null 2>&1 && break
        sleep 0.1
    done
fi
scripts/busybox-image.sh "$bin/vessel"
"$bin/vessel" run --rm busybox echo hello from vessel
