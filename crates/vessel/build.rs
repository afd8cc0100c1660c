//! Links `vessel` and `vessel-shim` as position-dependent executables.
//!
//! As a PIE, every start of either binary had the dynamic loader apply
//! about 27,000 relative relocations, copying each of the ~120 pages of
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

fn main() {
    println!("cargo:rustc-link-arg-bin=vessel=-no-pie");
    println!("cargo:rustc-link-arg-bin=vessel-shim=-no-pie");
}
