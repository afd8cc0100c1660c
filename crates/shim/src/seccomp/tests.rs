use std::process::Command;

use oci_spec::runtime::{
    LinuxBuilder, LinuxSeccompAction, LinuxSeccompBuilder, LinuxSyscallBuilder, SpecBuilder,
};

use super::*;

#[test]
fn a_program_is_whole_instructions_within_the_kernels_limit() {
    assert!(program_of(&[]).is_none());
    assert!(program_of(&[0; 12]).is_none());
    assert!(program_of(&vec![0; 8 * 4097]).is_none());
    let one = program_of(&[0x06, 0, 1, 2, 0, 0, 0xff, 0x7f]).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!((one[0].code, one[0].jt, one[0].jf), (6, 1, 2));
    assert_eq!(one[0].k, 0x7fff_0000);
}

/// A spec whose filter refuses a `clone` unless CLONE_NEWUSER is among
/// its flags: a masked comparison with `value` and no `valueTwo`, as
/// Docker's clone rule is written. Read as runc reads it (masked with
/// `value`, compared with 0) a plain fork is refused and a clone into a
/// new user namespace is not; read the other way round, every clone is.
fn spec() -> Spec {
    let arg = LinuxSeccompArgBuilder::default()
        .index(0usize)
        .value(libc::CLONE_NEWUSER as u64)
        .op(LinuxSeccompOperator::ScmpCmpMaskedEq)
        .build()
        .unwrap();
    let clone = LinuxSyscallBuilder::default()
        .names(vec!["clone".to_string()])
        .action(LinuxSeccompAction::ScmpActErrno)
        .args(vec![arg])
        .build()
        .unwrap();
    let seccomp = LinuxSeccompBuilder::default()
        .default_action(LinuxSeccompAction::ScmpActAllow)
        .syscalls(vec![clone])
        .build()
        .unwrap();
    let linux = LinuxBuilder::default().seccomp(seccomp).build().unwrap();
    SpecBuilder::default().linux(linux).build().unwrap()
}

/// Whether a raw `clone` with `flags` is allowed (its child exits at once).
#[allow(unsafe_code)]
fn clone_allowed(flags: libc::c_int) -> bool {
    // SAFETY: a clone without CLONE_VM is a fork: the child has its own
    // copy of everything and only calls `_exit`.
    let pid = unsafe { libc::syscall(libc::SYS_clone, flags | libc::SIGCHLD, 0, 0, 0, 0) };
    match pid {
        -1 => false,
        // SAFETY: the child of a fork, leaving at once.
        0 => unsafe { libc::_exit(0) },
        pid => {
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid as i32), None);
            true
        }
    }
}

const CHILD: &str = "VESSEL_SECCOMP_TEST_LOADER";

/// Runs in a process of its own (see below): loads the filter of [`spec`]
/// the way `$VESSEL_SECCOMP_TEST_LOADER` names, and prints what a fork
/// and a clone into a new user namespace then get.
#[test]
fn loaded_in_a_process_of_its_own() {
    let Ok(loader) = std::env::var(CHILD) else {
        return;
    };
    nix::sys::prctl::set_no_new_privs().unwrap();
    let spec = spec();
    match loader.as_str() {
        "shim" => {
            let seccomp = spec.linux().as_ref().unwrap().seccomp().as_ref().unwrap();
            let root = tempfile::tempdir().unwrap();
            Filter::for_spec(seccomp, root.path())
                .unwrap()
                .load()
                .unwrap();
        }
        _ => {
            let spec = in_libcontainer_order(&spec).unwrap();
            let seccomp = spec.linux().as_ref().unwrap().seccomp().as_ref().unwrap();
            libcontainer::seccomp::initialize_seccomp(seccomp).unwrap();
        }
    }
    println!(
        "fork={} newuser={}",
        clone_allowed(0),
        clone_allowed(libc::CLONE_NEWUSER)
    );
}

/// The outcome of [`loaded_in_a_process_of_its_own`] with `loader`.
fn outcome(loader: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "seccomp::tests::loaded_in_a_process_of_its_own"])
        .args(["--nocapture", "--test-threads=1"])
        .env(CHILD, loader)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn masked_comparisons_mean_what_runc_means_whoever_compiles_them() {
    assert!(outcome("shim").contains("fork=false newuser=true"));
    assert!(outcome("libcontainer").contains("fork=false newuser=true"));
}

#[test]
fn only_masked_comparisons_are_swapped_for_libcontainer() {
    let plain = SpecBuilder::default().build().unwrap();
    assert!(matches!(
        in_libcontainer_order(&plain).unwrap(),
        Cow::Borrowed(_)
    ));
    let spec = spec();
    let swapped = in_libcontainer_order(&spec).unwrap();
    let seccomp = swapped.linux().as_ref().unwrap().seccomp().clone().unwrap();
    let arg = seccomp.syscalls().as_ref().unwrap()[0]
        .args()
        .as_ref()
        .unwrap()[0];
    assert_eq!(
        (arg.value(), arg.value_two()),
        (0, Some(libc::CLONE_NEWUSER as u64))
    );
}
