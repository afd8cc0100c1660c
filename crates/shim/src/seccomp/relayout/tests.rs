use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArgBuilder, LinuxSeccompBuilder,
    LinuxSeccompOperator, LinuxSyscallBuilder,
};

use libseccomp::{ScmpArch, ScmpSyscall};

use super::check::run;
use super::*;
use crate::seccomp::{compile, program_of};

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
const X32_BIT: u32 = 0x4000_0000;
const ALLOW: u32 = 0x7fff_0000;

/// Syscalls refused by [`profile`]: reboot, init_module, kexec_load.
const REFUSED: [i32; 3] = [169, 175, 246];

/// Docker's shape of profile: most calls allowed (the x86-64 ones up to
/// 334 but [`REFUSED`] and those below), one allowed with one of several
/// values of its first argument (personality, 135), one with a masked
/// argument (clone, 56), one failing with its own errno (clone3, 435),
/// the rest EPERM, on three architectures.
fn profile() -> LinuxSeccomp {
    let names: Vec<String> = (0..335)
        .filter(|nr| !REFUSED.contains(nr) && ![56, 135].contains(nr))
        .filter_map(|nr| ScmpSyscall::from(nr).get_name_by_arch(ScmpArch::X8664).ok())
        .collect();
    let allow = LinuxSyscallBuilder::default()
        .names(names)
        .action(LinuxSeccompAction::ScmpActAllow)
        .build()
        .unwrap();
    let with_arg = |name: &str, op, value: u64| {
        let arg = LinuxSeccompArgBuilder::default()
            .index(0usize)
            .value(value)
            .op(op)
            .build()
            .unwrap();
        LinuxSyscallBuilder::default()
            .names(vec![name.to_string()])
            .action(LinuxSeccompAction::ScmpActAllow)
            .args(vec![arg])
            .build()
            .unwrap()
    };
    let enosys = LinuxSyscallBuilder::default()
        .names(vec!["clone3".to_string()])
        .action(LinuxSeccompAction::ScmpActErrno)
        .errno_ret(libc::ENOSYS as u32)
        .build()
        .unwrap();
    let mut rules = vec![allow];
    for p in [0u64, 8, 0x20000, 0x20008, 0xffff_ffff] {
        rules.push(with_arg("personality", LinuxSeccompOperator::ScmpCmpEq, p));
    }
    rules.push(with_arg(
        "clone",
        LinuxSeccompOperator::ScmpCmpMaskedEq,
        0x7E02_0000,
    ));
    rules.push(enosys);
    LinuxSeccompBuilder::default()
        .default_action(LinuxSeccompAction::ScmpActErrno)
        .architectures(vec![
            Arch::ScmpArchX86_64,
            Arch::ScmpArchX86,
            Arch::ScmpArchX32,
        ])
        .syscalls(rules)
        .build()
        .unwrap()
}

fn compiled(seccomp: &LinuxSeccomp) -> Vec<sock_filter> {
    program_of(&compile::compile(seccomp).unwrap()).unwrap()
}

fn decide(program: &[sock_filter], arch: u32, nr: u32, arg0: u64) -> u32 {
    let mut data = [0u32; DATA_LEN as usize / 4];
    data[0] = nr;
    data[1] = arch;
    data[4] = arg0 as u32;
    data[5] = (arg0 >> 32) as u32;
    run(program, &data).unwrap()
}

#[test]
fn the_profile_is_laid_out_shorter_and_decides_the_same() {
    let original = compiled(&profile());
    let laid = relayout(&original).expect("laid out");
    // Docker's own profile: 1200 instructions laid out in 238.
    assert!(
        laid.len() * 2 < original.len(),
        "{} of {}",
        laid.len(),
        original.len()
    );
    let errno = |e: i32| 0x0005_0000 | e as u32;
    // x86-64: read 0, personality 135, clone 56, clone3 435, reboot 169.
    let x86_64 = |nr, arg0| decide(&laid, AUDIT_ARCH_X86_64, nr, arg0);
    assert_eq!(x86_64(0, 0), ALLOW);
    assert_eq!(x86_64(169, 0), errno(libc::EPERM));
    assert_eq!(x86_64(435, 0), errno(libc::ENOSYS));
    assert_eq!(x86_64(135, 8), ALLOW);
    assert_eq!(x86_64(135, 9), errno(libc::EPERM));
    assert_eq!(x86_64(135, 0x1_0000_0008), errno(libc::EPERM));
    assert_eq!(x86_64(56, libc::SIGCHLD as u64), ALLOW);
    assert_eq!(x86_64(56, libc::CLONE_NEWNS as u64), errno(libc::EPERM));
    // x32 (read is 0 with the x32 bit), i386 (read is 3, reboot 88).
    assert_eq!(x86_64(X32_BIT, 0), ALLOW);
    assert_eq!(decide(&laid, AUDIT_ARCH_I386, 3, 0), ALLOW);
    assert_eq!(decide(&laid, AUDIT_ARCH_I386, 88, 0), errno(libc::EPERM));
    // Another architecture is killed, as libseccomp's program does.
    let other = decide(&original, 0xc000_00b7, 0, 0);
    assert_eq!(decide(&laid, 0xc000_00b7, 0, 0), other);
    // Every number, on each architecture, with a few first arguments.
    for arch in [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, 0, u32::MAX] {
        for nr in (0..1100).chain(X32_BIT..X32_BIT + 1100).chain([u32::MAX]) {
            for arg0 in [
                0,
                8,
                9,
                0x20008,
                0xffff_ffff,
                1 << 40,
                libc::CLONE_NEWUSER as u64,
            ] {
                assert_eq!(
                    decide(&laid, arch, nr, arg0),
                    decide(&original, arch, nr, arg0),
                    "arch {arch:#x} nr {nr:#x} arg0 {arg0:#x}"
                );
            }
        }
    }
}

#[test]
fn every_jump_of_the_layout_lands_inside_it_and_only_goes_forward() {
    let laid = relayout(&compiled(&profile())).unwrap();
    for (pc, i) in laid.iter().enumerate() {
        let targets = match i.code {
            JA => vec![i.k as usize],
            JEQ | JGT | JGE | JSET => vec![i.jt as usize, i.jf as usize],
            _ => vec![],
        };
        for t in targets {
            assert!(
                pc + 1 + t < laid.len(),
                "instruction {pc} jumps past the end"
            );
        }
    }
    assert_eq!(laid.last().unwrap().code, RET_K);
}

#[test]
fn a_program_with_what_the_layout_does_not_know_is_left_as_it_is() {
    // `tax` (0x07) copies the accumulator to X: not followed.
    let program = [
        insn(LD_W_ABS, 0, 0, NR),
        insn(0x07, 0, 0, 0),
        insn(RET_K, 0, 0, ALLOW),
    ];
    assert!(relayout(&program).is_none());
    // A bit test of the syscall number breaks its stretches.
    let program = [
        insn(LD_W_ABS, 0, 0, NR),
        insn(JSET, 0, 1, 1),
        insn(RET_K, 0, 0, 0),
        insn(RET_K, 0, 0, ALLOW),
    ];
    assert!(relayout(&program).is_none());
    // A jump past the end.
    let program = [
        insn(LD_W_ABS, 0, 0, NR),
        insn(JEQ, 9, 0, 1),
        insn(RET_K, 0, 0, 0),
    ];
    assert!(relayout(&program).is_none());
}

#[test]
fn far_returns_are_repeated_and_far_branches_jumped_to() {
    // Every number its own answer: a search too long for 8-bit jumps.
    let mut program = vec![insn(LD_W_ABS, 0, 0, NR)];
    let n = 600u32;
    for nr in 0..n {
        program.push(insn(JEQ, 0, 1, nr));
        program.push(insn(RET_K, 0, 0, 0x0005_0000 | (nr % 7)));
    }
    program.push(insn(RET_K, 0, 0, ALLOW));
    let laid = relayout(&program).expect("laid out");
    for nr in (0..n + 3).chain([u32::MAX]) {
        assert_eq!(
            decide(&laid, 0, nr, 0),
            decide(&program, 0, nr, 0),
            "nr {nr}"
        );
    }
}
