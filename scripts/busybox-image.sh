#!/usr/bin/env bash
# Builds the built-in busybox image (Debian's busybox-static, with
# /etc/passwd and /etc/group) and imports it into a running vesseld as
# busybox:latest. Usage: busybox-image.sh [VESSEL]   (default: vessel on
# PATH, else target/release/vessel)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vessel=${1:-$(command -v vessel || echo "$here/../target/release/vessel")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/busybox-rootfs.sh" "$work/rootfs"
tar -C "$work/rootfs" --numeric-owner -cf "$work/busybox.tar" .
"$vessel" import --change 'CMD ["sh"]' "$work/busybox.tar" busybox:latest
