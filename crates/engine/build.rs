//! Builds `vessel-init` (the `vessel-init` crate's one file), the init `--init` runs in
//! a container, as a static executable the engine carries in its binary:
//! it has to run in any image, with or without a C library. One rustc
//! call, with the toolchain cargo uses.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let source = "../init/src/main.rs";
    println!("cargo:rerun-if-changed={source}");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "bin",
            "--crate-name",
            "vessel_init",
        ])
        .args(["--target", &target])
        .args([
            "-C",
            "opt-level=s",
            "-C",
            "panic=abort",
            "-C",
            "strip=symbols",
        ])
        .args(["-C", "target-feature=+crt-static"])
        .arg("-o")
        .arg(out.join("vessel-init"))
        .arg(source)
        // The rustc flags meant for the engine are not this program's.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .expect("running rustc for vessel-init");
    assert!(status.success(), "building vessel-init failed");
}
