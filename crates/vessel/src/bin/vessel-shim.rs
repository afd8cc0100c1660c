//! `vessel-shim`: started by `vessel` and `vesseld`, never by hand. It reads
//! one create request (a JSON line) on stdin, answers on stdout once, then
//! supervises the container.

fn main() -> std::process::ExitCode {
    vessel_shim::main()
}
