# Sourced by the benchmark scripts: `prepare PACKAGE...` installs the
# Debian packages that are missing and builds Vessel in release mode.
prepare() {
    local need=() p
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
    done
    if [ ${#need[@]} -gt 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
    cargo build --release --quiet --locked
    # A fresh build is still being written back to disk; let that finish
    # before anything is timed.
    sync
}
