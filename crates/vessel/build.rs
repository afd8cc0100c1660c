//! Links the `vessel` command line as a position-dependent executable.
//!
//! As a PIE, every start of `vessel` had the dynamic loader apply about
//! 27,000 relative relocations, copying each of the ~120 pages of
//! `.data.rel.ro` on write: a third of the command's page faults and
//! 0.75 ms of its 1.9 ms of CPU time to print its version (`perf stat`),
//! 5% of a runtime `run`. Linked at a fixed address, the linker resolves
//! them once. The price is that `vessel`'s own code is not at a random
//! address (its libraries, heap and stack still are), nor is that of the
//! shims `vessel runtime` forks; `vesseld` and the `vessel-shim` binary
//! the daemon runs stay PIEs.

fn main() {
    println!("cargo:rustc-link-arg-bin=vessel=-no-pie");
}
