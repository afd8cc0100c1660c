//! Docker's default seccomp profile (as dockerd 20.10 applies it): the
//! syscalls every container may make, those it may make with an argument
//! Docker allows, and those that come with a capability. Everything else
//! fails with EPERM; `clone3` fails with ENOSYS unless the container has
//! CAP_SYS_ADMIN, so that a C library falls back to `clone`, whose
//! namespace flags the filter can see.

use std::sync::OnceLock;

use oci_spec::runtime::{Arch, LinuxSeccompAction, LinuxSeccompOperator};

use super::{ArchMap, Arg, Profile, Rule, When};

/// What every container may call.
const ALLOWED: &str = "
    accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown
    chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime
    clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect
    copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl
    epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2
    execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64
    fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl
    fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat
    fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_time64
    futex_waitv futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid
    geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid
    getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid
    getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt
    get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch
    inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents
    io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit
    io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule
    landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat
    listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64
    madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat
    mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
    mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink
    mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap nanosleep
    newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe
    pipe2 poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64
    process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead
    readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
    remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq
    rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
    rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity
    sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
    sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64
    sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield
    seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile
    sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid
    setgid32 setgroups setgroups32 setitimer setpgid setpriority setregid setregid32
    setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit
    set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32
    setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
    sigprocmask sigreturn socket socketcall socketpair splice stat stat64 statfs
    statfs64 statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time
    timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64
    timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64
    timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask
    uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4
    waitid waitpid write writev
";

/// Namespace flags a `clone` may not ask for without CAP_SYS_ADMIN:
/// CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET.
const CLONE_NAMESPACE_FLAGS: u64 = 0x7E02_0000;

/// `personality` values a container may set: PER_LINUX, PER_LINUX32,
/// UNAME26, UNAME26|PER_LINUX32, and 0xffffffff (a query).
const PERSONALITIES: [u64; 5] = [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// The calls that come with each capability, in Docker's order.
const WITH_CAPABILITY: &[(&str, &str)] = &[
    ("CAP_DAC_READ_SEARCH", "open_by_handle_at"),
    (
        "CAP_SYS_ADMIN",
        "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount \
         mount_setattr move_mount name_to_handle_at open_tree perf_event_open quotactl \
         quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare",
    ),
];

/// The calls that come with each capability after `clone`'s rules.
const WITH_CAPABILITY_LATER: &[(&str, &str)] = &[
    ("CAP_SYS_BOOT", "reboot"),
    ("CAP_SYS_CHROOT", "chroot"),
    ("CAP_SYS_MODULE", "delete_module init_module finit_module"),
    ("CAP_SYS_PACCT", "acct"),
    (
        "CAP_SYS_PTRACE",
        "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace",
    ),
    ("CAP_SYS_RAWIO", "iopl ioperm"),
    ("CAP_SYS_TIME", "settimeofday stime clock_settime"),
    ("CAP_SYS_TTY_CONFIG", "vhangup"),
    ("CAP_SYS_NICE", "get_mempolicy mbind set_mempolicy"),
    ("CAP_SYSLOG", "syslog"),
];

/// Docker's default profile, made once.
pub fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    PROFILE.get_or_init(build)
}

fn build() -> Profile {
    let mut rules = vec![allow(ALLOWED), with_kernel(allow("ptrace"), "4.8")];
    rules.extend(PERSONALITIES.map(|p| with_args(allow("personality"), 0, p, Eq)));
    rules.extend([
        on_arches(
            allow("arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls"),
            &["arm", "arm64"],
        ),
        on_arches(allow("arch_prctl"), &["amd64", "x32"]),
        on_arches(allow("modify_ldt"), &["amd64", "x32", "x86"]),
    ]);
    rules.extend(
        WITH_CAPABILITY
            .iter()
            .map(|(cap, names)| with_cap(allow(names), cap)),
    );
    let mut clone = with_args(allow("clone"), 0, CLONE_NAMESPACE_FLAGS, Masked);
    clone.excludes.caps = vec!["CAP_SYS_ADMIN".into()];
    clone.excludes.arches = vec!["s390".into(), "s390x".into()];
    let mut clone3 = rule("clone3", LinuxSeccompAction::ScmpActErrno);
    clone3.errno_ret = Some(libc_enosys());
    clone3.excludes.caps = vec!["CAP_SYS_ADMIN".into()];
    rules.extend([clone, clone3]);
    rules.extend(
        WITH_CAPABILITY_LATER
            .iter()
            .map(|(cap, names)| with_cap(allow(names), cap)),
    );
    Profile {
        default_action: Some(LinuxSeccompAction::ScmpActErrno),
        arch_map: vec![
            ArchMap {
                architecture: Arch::ScmpArchX86_64,
                sub_architectures: vec![Arch::ScmpArchX86, Arch::ScmpArchX32],
            },
            ArchMap {
                architecture: Arch::ScmpArchAarch64,
                sub_architectures: vec![Arch::ScmpArchArm],
            },
        ],
        syscalls: rules,
        ..Profile::default()
    }
}

/// ENOSYS: "no such call", what a C library takes as "use the older one".
fn libc_enosys() -> u32 {
    38
}

use Comparison::{Eq, Masked};

enum Comparison {
    Eq,
    /// The argument masked with the value is zero.
    Masked,
}

fn rule(names: &str, action: LinuxSeccompAction) -> Rule {
    Rule {
        name: String::new(),
        names: names.split_whitespace().map(String::from).collect(),
        action,
        errno_ret: None,
        args: Vec::new(),
        includes: When::default(),
        excludes: When::default(),
    }
}

fn allow(names: &str) -> Rule {
    rule(names, LinuxSeccompAction::ScmpActAllow)
}

fn with_args(mut rule: Rule, index: usize, value: u64, how: Comparison) -> Rule {
    let op = match how {
        Eq => LinuxSeccompOperator::ScmpCmpEq,
        Masked => LinuxSeccompOperator::ScmpCmpMaskedEq,
    };
    rule.args = vec![Arg {
        index,
        value,
        value_two: None,
        op,
    }];
    rule
}

fn with_cap(mut rule: Rule, cap: &str) -> Rule {
    rule.includes.caps = vec![cap.to_string()];
    rule
}

fn on_arches(mut rule: Rule, arches: &[&str]) -> Rule {
    rule.includes.arches = arches.iter().map(|a| a.to_string()).collect();
    rule
}

fn with_kernel(mut rule: Rule, version: &str) -> Rule {
    rule.includes.min_kernel = Some(version.to_string());
    rule
}
