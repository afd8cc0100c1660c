#!/usr/bin/env bash
# Networks, Vessel beside Docker: `run --rm busybox true` on each engine's
# default bridge and with `--network none`; connection setup to a
# published port on 127.0.0.1 (an HTTP GET to busybox httpd, new
# connection each); and a bulk transfer of 500 MB from 127.0.0.1 into a
# container through a published port (received by bench/sink.c, built
# static into the image). Prints medians and ratios.
#
# dockerd runs with its own roots and its default bridge (docker0, its
# iptables rules, its userland proxy); what it adds to the host is
# removed afterwards when the host did not have it before.
#
# Usage (root): bench/network.sh [ROUNDS]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-30}

. bench/prepare.sh
prepare docker.io hyperfine busybox-static libseccomp-dev nftables gcc libc6-dev

work=$(mktemp -d /tmp/vessel-netbench.XXXXXX)
tables_before=$(nft list tables)
had_docker0=$(ip link show docker0 >/dev/null 2>&1 && echo yes || echo no)
pids=()
cleanup() {
    "$bin/vessel" rm -f bench-web bench-sink >/dev/null 2>&1 || true
    docker -H "${dsock:-unix:///nonexistent}" rm -f bench-web bench-sink >/dev/null 2>&1 || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ "$had_docker0" = yes ] || ip link delete docker0 2>/dev/null || true
    nft list tables | while read -r _ family name; do
        grep -qx "table $family $name" <<<"$tables_before" || nft delete table "$family" "$name" 2>/dev/null || true
    done
    umount -R "$work" 2>/dev/null || true
    rm -rf "$work" "${vrun:-}"
}
trap cleanup EXIT
bin=$work/bin
install -m 0755 -D -t "$bin" target/release/vessel target/release/vesseld target/release/vessel-shim
scripts/busybox-rootfs.sh "$work/rootfs"
cc -static -O2 -o "$work/rootfs/sink" bench/sink.c
tar -C "$work/rootfs" --numeric-owner -cf "$work/busybox.tar" .

vrun=$(mktemp -d /run/vb.XXXX)
"$bin/vesseld" --root "$work/vlib" --exec-root "$vrun" >"$work/vesseld.log" 2>&1 &
pids+=($!)
export VESSEL_HOST=unix://$vrun/vessel.sock
until "$bin/vessel" images -q >/dev/null 2>&1; do sleep 0.1; done
"$bin/vessel" import "$work/busybox.tar" busybox:latest >/dev/null

dsock=unix://$work/docker.sock
dockerd --data-root "$work/dlib" --exec-root "$work/d" --pidfile "$work/docker.pid" \
    -H "$dsock" >"$work/dockerd.log" 2>&1 &
pids+=($!)
until docker -H "$dsock" info >/dev/null 2>&1; do sleep 0.2; done
docker -H "$dsock" import "$work/busybox.tar" busybox:latest >/dev/null

hyperfine -N --style basic --warmup 3 --runs "$rounds" --export-json "$work/run.json" \
    -n "vessel bridge" "$bin/vessel run --rm busybox true" \
    -n "vessel none" "$bin/vessel run --rm --network none busybox true" \
    -n "docker bridge" "docker -H $dsock run --rm busybox true" \
    -n "docker none" "docker -H $dsock run --rm --network none busybox true" >/dev/null

web='mkdir /www && head -c 100 /dev/zero > /www/index.html && exec httpd -f -p 80 -h /www'
"$bin/vessel" run -d --name bench-web -p 127.0.0.1:18181:80 busybox sh -c "$web" >/dev/null
docker -H "$dsock" run -d --name bench-web -p 127.0.0.1:18182:80 busybox sh -c "$web" >/dev/null

python3 - "$work" "$rounds" "$bin/vessel" "$dsock" <<'PY'
import json, socket, statistics, subprocess, sys, time
work, rounds, vessel, dsock = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def get(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    while s.recv(65536):
        pass
    s.close()

def connections(port, n=200):
    for _ in range(50):
        try:
            get(port)
            break
        except OSError:
            time.sleep(0.1)
    t = []
    for _ in range(n):
        start = time.perf_counter()
        get(port)
        t.append(time.perf_counter() - start)
    return statistics.median(t) * 1000

def bulk(run, port, size=500 << 20):
    """MB/s pushing `size` bytes into the sink in a new container, until it
    has read them all (it closes when its input ends)."""
    subprocess.run(run + ["run", "-d", "--name", "bench-sink", "-p", f"127.0.0.1:{port}:5000",
                          "busybox", "/sink", "5000"],
                   check=True, stdout=subprocess.DEVNULL)
    chunk = b"\0" * (1 << 20)
    for _ in range(100):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            break
        except OSError:
            time.sleep(0.1)
    start = time.perf_counter()
    for _ in range(size >> 20):
        s.sendall(chunk)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    took = time.perf_counter() - start
    s.close()
    subprocess.run(run + ["rm", "-f", "bench-sink"], check=True, stdout=subprocess.DEVNULL)
    return (size / took) / 1e6

res = json.load(open(f"{work}/run.json"))["results"]
med = {r["command"]: statistics.median(r["times"]) * 1000 for r in res}
print(f"run --rm busybox true   ({rounds} rounds each)")
print(f"  {'engine':<14} {'median ms':>10} {'ratio to vessel bridge':>23}")
for name, ms in med.items():
    print(f"  {name:<14} {ms:>10.2f} {ms / med['vessel bridge']:>23.2f}")
print(f"  vessel's bridge costs {med['vessel bridge'] / med['vessel none']:.2f}x its none")

v, d = connections(18181), connections(18182)
print("GET through a published port on 127.0.0.1 (new connection each, median of 200)")
print(f"  vessel {v:.3f} ms   docker {d:.3f} ms   ({d / v:.2f}x)")
vb = max(bulk([vessel], 18183) for _ in range(3))
db = max(bulk(["docker", "-H", dsock], 18184) for _ in range(3))
print("500 MB from 127.0.0.1 into a container through a published port (best of 3)")
print(f"  vessel {vb:.0f} MB/s   docker {db:.0f} MB/s   ({vb / db:.2f}x)")
PY
