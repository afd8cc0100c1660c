//! A spec's `linux.seccomp` compiled with libseccomp to a BPF program, as
//! runc compiles it.

use std::os::fd::AsFd;

use libseccomp::{error::SeccompError as ScmpError, ScmpSyscall};
use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext};
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompOperator, LinuxSyscall,
};

use super::SeccompError;

fn fail(what: String) -> impl FnOnce(ScmpError) -> SeccompError {
    move |source| SeccompError::Compile { what, source }
}

/// libseccomp's optimization level that sorts syscalls into a tree.
pub(super) const BINARY_TREE: u32 = 2;

/// The program libseccomp makes of `seccomp`, as it exports it.
pub(super) fn compile(seccomp: &LinuxSeccomp) -> Result<Vec<u8>, SeccompError> {
    if libcontainer::seccomp::is_notify(seccomp) {
        return Err(SeccompError::Notify);
    }
    let default = seccomp.default_action();
    let default_action = action(default, seccomp.default_errno_ret())
        .ok_or_else(|| SeccompError::DefaultAction(format!("{default:?}")))?;
    let mut ctx = ScmpFilterContext::new(default_action)
        .map_err(fail(format!("defaultAction {default:?}")))?;
    for &arch in seccomp.architectures().iter().flatten() {
        ctx.add_arch(scmp_arch(arch))
            .map_err(fail(format!("architecture {arch:?}")))?;
    }
    // Loaded by `Filter::load`, which sets no_new_privs only when the spec
    // asks (libseccomp's own load would set it anyway).
    ctx.set_ctl_nnp(false)
        .map_err(fail("no_new_privs".to_string()))?;
    // Each architecture's syscalls as a binary tree rather than a list: the
    // same decisions, but the kernel, which runs the program for every
    // syscall number when it loads it (to cache the ones always allowed),
    // loads Docker's profile in about half the time (0.4 ms, not 0.8).
    ctx.set_ctl_optimize(BINARY_TREE)
        .map_err(fail("optimize".to_string()))?;
    for (i, rule) in seccomp.syscalls().iter().flatten().enumerate() {
        add_rule(&mut ctx, rule, default_action)
            .map_err(fail(format!("syscalls[{i}] {:?}", rule.names())))?;
    }
    let memfd = rustix::fs::memfd_create("seccomp", rustix::fs::MemfdFlags::CLOEXEC)
        .map_err(|e| SeccompError::Export(e.into()))?;
    ctx.export_bpf(memfd.as_fd())
        .map_err(fail("exporting the program".to_string()))?;
    let mut file = std::fs::File::from(memfd);
    let mut bytes = Vec::new();
    use std::io::{Read, Seek};
    file.rewind()
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(SeccompError::Export)?;
    Ok(bytes)
}

/// One rule of the spec, for each of its syscalls this libseccomp knows
/// (a name it does not know is a syscall this kernel cannot have). A rule
/// with the default's action changes nothing and is left out.
fn add_rule(
    ctx: &mut ScmpFilterContext,
    rule: &LinuxSyscall,
    default: ScmpAction,
) -> Result<(), ScmpError> {
    // Notify was refused before: as the default, it leaves the rule out.
    let action = action(rule.action(), rule.errno_ret()).unwrap_or(default);
    if action == default {
        return Ok(());
    }
    let args: Vec<ScmpArgCompare> = rule.args().iter().flatten().map(compare).collect();
    // libseccomp compares each argument once per rule: several comparisons
    // of one argument are rules of their own (either may match), as runc
    // adds them.
    let mut indexes: Vec<usize> = rule.args().iter().flatten().map(|a| a.index()).collect();
    indexes.sort_unstable();
    let repeated = indexes.windows(2).any(|w| w[0] == w[1]);
    for name in rule.names() {
        let Ok(syscall) = ScmpSyscall::from_name(name) else {
            tracing::debug!(syscall = %name, "not a syscall of this libseccomp, left out");
            continue;
        };
        if args.is_empty() {
            ctx.add_rule(action, syscall)?;
        } else if repeated {
            for arg in &args {
                ctx.add_rule_conditional(action, syscall, std::slice::from_ref(arg))?;
            }
        } else {
            ctx.add_rule_conditional(action, syscall, &args)?;
        }
    }
    Ok(())
}

/// An action of the spec; none for notify, which needs a listener.
fn action(action: LinuxSeccompAction, errno: Option<u32>) -> Option<ScmpAction> {
    let errno = errno.map_or(libc::EPERM, |e| e as i32);
    Some(match action {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno),
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(errno as u16),
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActNotify => return None,
    })
}

/// A comparison as runc makes it: for `SCMP_CMP_MASKED_EQ` the argument
/// is masked with `value` and compared with `valueTwo` (Docker's clone
/// rule, `value` 0x7E020000 and no `valueTwo`, allows a clone that asks
/// for no new namespace).
fn compare(arg: &LinuxSeccompArg) -> ScmpArgCompare {
    let index = arg.index() as u32;
    let op = match arg.op() {
        LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
        LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
        LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
        LinuxSeccompOperator::ScmpCmpEq => ScmpCompareOp::Equal,
        LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
        LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
        LinuxSeccompOperator::ScmpCmpMaskedEq => {
            let mask = arg.value();
            let datum = arg.value_two().unwrap_or(0);
            return ScmpArgCompare::new(index, ScmpCompareOp::MaskedEqual(mask), datum);
        }
    };
    ScmpArgCompare::new(index, op, arg.value())
}

fn scmp_arch(arch: Arch) -> ScmpArch {
    match arch {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}
