#!/usr/bin/env bash
# Times `docker pull` of two images from a registry on loopback into
# vesseld and into dockerd (the same docker CLI, each daemon with its own
# private roots), several rounds each, the image removed (and its layers
# freed) between rounds; prints medians, ratios to vessel, and what each
# daemon keeps on disk for the images.
#
# The images: "small", 3 layers of 20 MB, and "large", 5 layers of 40 MB;
# half of each layer's bytes random, half text (so gzip has work to do
# both ways). They are made with umoci and pushed with skopeo into
# Debian's docker-registry, which runs on 127.0.0.1 with its storage here.
#
# Usage (root): bench/pull.sh [ROUNDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}

. bench/prepare.sh
prepare docker.io docker-registry skopeo umoci busybox-static libseccomp-dev

work=$(mktemp -d /tmp/vessel-pull.XXXXXX)
vrun=$(mktemp -d /run/vp.XXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    umount -R "$work" 2>/dev/null || true
    rm -rf "$work" "$vrun"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
reg=127.0.0.1:$port
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $reg
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
until curl -sf "http://$reg/v2/" >/dev/null; do sleep 0.1; done

# An image of COUNT layers of MB megabytes each, pushed as NAME.
make_image() {
    local name=$1 count=$2 mb=$3 layout=$work/oci-$1 i
    umoci init --layout "$layout"
    umoci new --image "$layout:latest"
    for i in $(seq "$count"); do
        local dir=$work/layer-$name-$i
        mkdir -p "$dir/data"
        head -c $((mb * 512 * 1024)) /dev/urandom >"$dir/data/random-$i"
        { yes "line $i of a text file that compresses well" || true; } | head -c $((mb * 512 * 1024)) >"$dir/data/text-$i"
        tar -C "$dir" -cf "$dir.tar" data
        umoci raw add-layer --image "$layout:latest" "$dir.tar"
        rm -rf "$dir" "$dir.tar"
    done
    skopeo copy -q --dest-tls-verify=false "oci:$layout:latest" "docker://$reg/$name:latest"
    rm -rf "$layout"
}
make_image small 3 20
make_image large 5 40

bin=$work/bin
install -m 0755 -D -t "$bin" target/release/vessel target/release/vesseld target/release/vessel-shim
"$bin/vesseld" --root "$work/vessel-lib" --exec-root "$vrun" >"$work/vesseld.log" 2>&1 &
pids+=($!)
vhost=unix://$vrun/vessel.sock
dockerd --data-root "$work/docker-lib" --exec-root "$work/docker-run" \
    --host "unix://$work/docker.sock" --pidfile "$work/docker.pid" \
    --bridge none --iptables=false --ip-masq=false >"$work/dockerd.log" 2>&1 &
pids+=($!)
dhost=unix://$work/docker.sock
for h in "$vhost" "$dhost"; do
    until docker -H "$h" version >/dev/null 2>&1; do sleep 0.2; done
done

# Milliseconds one pull of IMAGE into the daemon at HOST takes.
pull_ms() {
    local host=$1 image=$2 t0 t1
    docker -H "$host" rmi -f "$image" >/dev/null 2>&1 || true
    docker -H "$host" image prune -af >/dev/null 2>&1 || true
    sync
    t0=$(date +%s%N)
    docker -H "$host" pull -q "$image" >/dev/null
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-8s %10s %10s %8s\n' image vessel docker ratio
for image in small large; do
    : >"$work/v.$image"
    : >"$work/d.$image"
    for _ in $(seq "$rounds"); do
        pull_ms "$vhost" "$reg/$image" >>"$work/v.$image"
        pull_ms "$dhost" "$reg/$image" >>"$work/d.$image"
    done
    v=$(median <"$work/v.$image")
    d=$(median <"$work/d.$image")
    printf '%-8s %8sms %8sms %7.1fx\n' "$image" "$v" "$d" "$(echo "$d / $v" | bc -l)"
done

# What each keeps for both images, pulled once more.
for image in small large; do
    docker -H "$vhost" pull -q "$reg/$image" >/dev/null
    docker -H "$dhost" pull -q "$reg/$image" >/dev/null
done
sync
vdisk=$(du -sb "$work/vessel-lib/image" | cut -f1)
ddisk=$(du -sb "$work/docker-lib/overlay2" "$work/docker-lib/image" | awk '{s+=$1} END {print s}')
printf 'disk for both images: vessel %d MB, docker %d MB\n' $((vdisk / 1000000)) $((ddisk / 1000000))
