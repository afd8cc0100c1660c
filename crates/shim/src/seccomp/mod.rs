//! A container's seccomp filter, compiled once per host and loaded from
//! then on as the BPF program it compiles to.
//!
//! libcontainer compiles a spec's `linux.seccomp` with libseccomp in the
//! container's process, every time: for Docker's default profile (some
//! 360 syscalls, three architectures) that is most of a container's start
//! on this host. The program libseccomp makes of a profile depends only on
//! the profile, libseccomp and the kernel, so here it is compiled once,
//! in the shim, and kept under the state root ([`cache`]), keyed by a hash
//! of those; every later container (and exec) with the same profile reads
//! the program and its process loads it with one `seccomp(2)` call.
//!
//! Compiled as runc compiles it ([`compile`]), which is what Docker's
//! profile is written for: an argument compared with `SCMP_CMP_MASKED_EQ`
//! is masked with `value` and compared with `valueTwo`.

mod cache;
mod compile;
mod relayout;

use std::borrow::Cow;
use std::path::Path;

use oci_spec::runtime::{
    LinuxSeccomp, LinuxSeccompArg, LinuxSeccompArgBuilder, LinuxSeccompFilterFlag,
    LinuxSeccompOperator, LinuxSyscall, Spec,
};

pub use cache::CACHE_DIR;

/// Why a filter could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("linux.seccomp.defaultAction {0:?} is not supported")]
    DefaultAction(String),
    #[error("linux.seccomp: seccomp notify is not supported")]
    Notify,
    #[error("linux.seccomp: {what}")]
    Compile {
        what: String,
        #[source]
        source: libseccomp::error::SeccompError,
    },
    #[error("linux.seccomp: an argument: {0}")]
    Argument(String),
    #[error("linux.seccomp: exporting the compiled filter")]
    Export(#[source] std::io::Error),
    #[error("linux.seccomp: the compiled filter is not a BPF program ({0} bytes)")]
    NotAProgram(usize),
}

/// A compiled filter: the BPF program and the flags `seccomp(2)` loads
/// it with.
#[derive(Debug, Clone)]
pub struct Filter {
    program: Vec<libc::sock_filter>,
    flags: libc::c_ulong,
}

impl Filter {
    /// The filter of `seccomp`: from the cache under `root` (the
    /// runtime's state root) when it holds it, else compiled and put
    /// there. A cache that cannot be written only costs the next
    /// container the compilation.
    pub fn for_spec(seccomp: &LinuxSeccomp, root: &Path) -> Result<Filter, SeccompError> {
        let flags = flags(seccomp);
        let key = cache::key(seccomp);
        let dir = root.join(CACHE_DIR);
        if let Some(program) = cache::read(&dir, &key) {
            return Ok(Filter { program, flags });
        }
        let bytes = compile::compile(seccomp)?;
        let program = program_of(&bytes).ok_or(SeccompError::NotAProgram(bytes.len()))?;
        let program = match relayout::relayout(&program) {
            Some(shorter) => {
                tracing::debug!(
                    from = program.len(),
                    to = shorter.len(),
                    "seccomp program laid out again"
                );
                shorter
            }
            None => program,
        };
        let bytes = bytes_of(&program);
        if let Err(e) = cache::write(&dir, &key, &bytes) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot keep the compiled seccomp filter");
        }
        Ok(Filter { program, flags })
    }

    /// Loads the filter into the calling thread. Without no_new_privs this
    /// needs CAP_SYS_ADMIN. Only the one system call: safe after a fork.
    #[allow(unsafe_code)]
    pub fn load(&self) -> Result<(), nix::errno::Errno> {
        let prog = libc::sock_fprog {
            len: self.program.len() as libc::c_ushort,
            filter: self.program.as_ptr().cast_mut(),
        };
        // SAFETY: `prog` points at `len` instructions that live in
        // `self.program` for the whole call; the kernel copies them and
        // writes nothing through the pointer.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                self.flags,
                &prog as *const libc::sock_fprog,
            )
        };
        nix::errno::Errno::result(rc).map(drop)
    }

    /// How many instructions the program has.
    pub fn len(&self) -> usize {
        self.program.len()
    }

    pub fn is_empty(&self) -> bool {
        self.program.is_empty()
    }
}

/// `spec` as libcontainer is to compile its seccomp filter, where the shim
/// does not: libcontainer masks a `SCMP_CMP_MASKED_EQ` argument with
/// `valueTwo` and compares it with `value`, the other way round from runc
/// (and [`compile`]), so those two are swapped. A spec without such an
/// argument is given as it is.
pub fn in_libcontainer_order(spec: &Spec) -> Result<Cow<'_, Spec>, SeccompError> {
    let masked = |a: &LinuxSeccompArg| a.op() == LinuxSeccompOperator::ScmpCmpMaskedEq;
    let rules = spec
        .linux()
        .as_ref()
        .and_then(|l| l.seccomp().as_ref())
        .and_then(|s| s.syscalls().as_ref());
    let Some(rules) =
        rules.filter(|rules| rules.iter().any(|r| r.args().iter().flatten().any(masked)))
    else {
        return Ok(Cow::Borrowed(spec));
    };
    let swap = |arg: &LinuxSeccompArg| {
        if !masked(arg) {
            return Ok(*arg);
        }
        LinuxSeccompArgBuilder::default()
            .index(arg.index())
            .op(arg.op())
            .value(arg.value_two().unwrap_or(0))
            .value_two(arg.value())
            .build()
            .map_err(|e| SeccompError::Argument(e.to_string()))
    };
    let swapped: Vec<LinuxSyscall> = rules
        .iter()
        .cloned()
        .map(|mut rule| {
            let args = rule.args().as_ref().map(|a| a.iter().map(swap).collect());
            rule.set_args(args.transpose()?);
            Ok(rule)
        })
        .collect::<Result<_, SeccompError>>()?;
    let mut spec = spec.clone();
    if let Some(seccomp) = spec
        .linux_mut()
        .as_mut()
        .and_then(|l| l.seccomp_mut().as_mut())
    {
        seccomp.set_syscalls(Some(swapped));
    }
    Ok(Cow::Owned(spec))
}

/// Does ahead what the first filter of a process would otherwise wait
/// for: the hash's detection of the CPU's features (a few `cpuid`
/// instructions, each a trap to the hypervisor in a VM) and libseccomp's
/// version, both kept for the process's life. A spare shim calls this
/// before its request comes.
pub fn warm_up() {
    let _ = cache::key(&LinuxSeccomp::default());
}

/// The filter flags of the spec, as `seccomp(2)` takes them.
fn flags(seccomp: &LinuxSeccomp) -> libc::c_ulong {
    seccomp
        .flags()
        .iter()
        .flatten()
        .map(|flag| match flag {
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => {
                libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
            }
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => {
                libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
            }
        })
        .fold(0, |all, flag| all | flag)
}

/// `program` as libseccomp exports one: eight bytes an instruction, in
/// the host's byte order.
fn bytes_of(program: &[libc::sock_filter]) -> Vec<u8> {
    program
        .iter()
        .flat_map(|i| {
            let mut b = [0; 8];
            b[..2].copy_from_slice(&i.code.to_ne_bytes());
            b[2] = i.jt;
            b[3] = i.jf;
            b[4..].copy_from_slice(&i.k.to_ne_bytes());
            b
        })
        .collect()
}

/// The instructions in `bytes` (libseccomp's export: the host's byte
/// order, eight bytes each), if they are a program the kernel could take.
fn program_of(bytes: &[u8]) -> Option<Vec<libc::sock_filter>> {
    const MAX_INSTRUCTIONS: usize = 4096;
    if bytes.is_empty() || bytes.len() % 8 != 0 || bytes.len() / 8 > MAX_INSTRUCTIONS {
        return None;
    }
    Some(
        bytes
            .chunks_exact(8)
            .map(|i| libc::sock_filter {
                code: u16::from_ne_bytes([i[0], i[1]]),
                jt: i[2],
                jf: i[3],
                k: u32::from_ne_bytes([i[4], i[5], i[6], i[7]]),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests;
