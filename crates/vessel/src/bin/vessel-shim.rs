//! `vessel-shim '<create request as JSON>'`: started by `vessel`, never by
//! hand. It answers on stdout once, then supervises the container.

fn main() -> std::process::ExitCode {
    vessel_shim::main()
}
