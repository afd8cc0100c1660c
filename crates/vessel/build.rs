//! How the binaries of this package are linked.
//!
//! `vessel` and `vessel-shim` are position-dependent executables. As a
//! PIE, every start of either binary had the dynamic loader apply about
//! 27,000 relative relocations, copying each of the ~120 pages of
//! `.data.rel.ro` on write. For `vessel` that was a third of the command's
//! page faults and 0.75 ms of its 1.9 ms of CPU time to print its version
//! (`perf stat`), 5% of a runtime `run`. A `vessel-shim` starts for every
//! container (the spare the daemon keeps): as a PIE, `run --rm` took 5%
//! longer (0.7 ms, an A/B of the two shims under one daemon). Linked at a
//! fixed address, the linker resolves them once.
//!
//! The price is that the code of `vessel` and of the shims is not at a
//! random address (their libraries, heap and stack still are), as with the
//! Go shims and runtimes Docker ships. `vesseld`, started once, stays a
//! PIE.
//!
//! All three take the unwinder (what a panic unwinds with) from GCC's
//! static `libgcc_eh.a` instead of loading `libgcc_s.so.1`, whose
//! constructor probes the CPU with a series of `cpuid` instructions at
//! every start. Under a hypervisor each `cpuid` traps: on the machines
//! Vessel is tested on, loading `libgcc_s` made an empty C program's start
//! take 1.6 ms instead of 1.2 ms, and every `run` and `exec` starts the
//! CLI. Named here, ahead of the standard library's `-lgcc_s`, the archive
//! resolves the unwinder's symbols first and the linker (`--as-needed`)
//! leaves `libgcc_s` out.

fn main() {
    println!("cargo:rustc-link-arg-bin=vessel=-no-pie");
    println!("cargo:rustc-link-arg-bin=vessel-shim=-no-pie");
    println!("cargo:rustc-link-lib=static=gcc_eh");
}
