use std::str::FromStr;

use oci_spec::runtime::LinuxSeccompOperator;

use super::*;
use crate::spec::security::DEFAULT_CAPABILITIES;

const HOST: Host = Host { kernel: (6, 1) };

fn caps(extra: &[&str]) -> Vec<Capability> {
    DEFAULT_CAPABILITIES
        .iter()
        .chain(extra)
        .map(|c| Capability::from_str(c).unwrap())
        .collect()
}

fn resolved(caps: &[Capability], host: Host) -> LinuxSeccomp {
    default_profile().resolve("f", caps, host).unwrap().unwrap()
}

/// Each rule's first name, and how many it has.
fn outline(s: &LinuxSeccomp) -> Vec<(String, usize)> {
    let rules = s.syscalls().clone().unwrap();
    rules
        .iter()
        .map(|r| (r.names()[0].clone(), r.names().len()))
        .collect()
}

#[test]
fn the_default_profile_is_dockers_for_a_default_container() {
    let s = resolved(&caps(&[]), HOST);
    assert_eq!(s.default_action(), LinuxSeccompAction::ScmpActErrno);
    assert_eq!(s.default_errno_ret(), None);
    assert_eq!(
        s.architectures().clone().unwrap(),
        [Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
    );
    let want: Vec<(String, usize)> = [
        ("accept", 346),
        ("ptrace", 1),
        ("personality", 1),
        ("personality", 1),
        ("personality", 1),
        ("personality", 1),
        ("personality", 1),
        ("arch_prctl", 1),
        ("modify_ldt", 1),
        ("clone", 1),
        ("clone3", 1),
        ("chroot", 1),
    ]
    .iter()
    .map(|(n, c)| (n.to_string(), *c))
    .collect();
    assert_eq!(outline(&s), want);
    let rules = s.syscalls().clone().unwrap();
    let allowed = &rules[0].names();
    for name in [
        "read",
        "execve",
        "setgroups",
        "capset",
        "close_range",
        "socket",
    ] {
        assert!(allowed.contains(&name.to_string()), "{name}");
    }
    for name in [
        "mount",
        "unshare",
        "setns",
        "keyctl",
        "init_module",
        "reboot",
    ] {
        assert!(
            !rules.iter().any(|r| r.names().contains(&name.to_string())),
            "{name}"
        );
    }
    // clone: only without namespace flags (runc's order: masked with
    // `value`); clone3: ENOSYS.
    let clone_arg = rules[9].args().clone().unwrap()[0];
    assert_eq!(clone_arg.op(), LinuxSeccompOperator::ScmpCmpMaskedEq);
    assert_eq!(
        (clone_arg.value(), clone_arg.value_two()),
        (0x7E02_0000, None)
    );
    assert_eq!(rules[10].action(), LinuxSeccompAction::ScmpActErrno);
    assert_eq!(rules[10].errno_ret(), Some(38));
    let personalities: Vec<u64> = rules[2..7]
        .iter()
        .map(|r| r.args().clone().unwrap()[0].value())
        .collect();
    assert_eq!(personalities, [0, 8, 0x20000, 0x20008, 0xffff_ffff]);
}

#[test]
fn capabilities_bring_their_calls() {
    let s = resolved(&caps(&["SYS_ADMIN"]), HOST);
    let got = outline(&s);
    // No masked clone and no ENOSYS clone3 with CAP_SYS_ADMIN: both are
    // allowed among its calls.
    assert!(!got.iter().any(|(n, _)| n == "clone3"));
    assert!(got.contains(&("bpf".into(), 24)));
    let time = outline(&resolved(&caps(&["SYS_TIME"]), HOST));
    assert_eq!(time.last().unwrap(), &("settimeofday".to_string(), 3));
    // Dropped: CAP_SYS_CHROOT's chroot is gone.
    let none = outline(&resolved(&[], HOST));
    assert!(!none.iter().any(|(n, _)| n == "chroot"));
}

#[test]
fn rules_follow_the_kernel_version() {
    let old = outline(&resolved(&caps(&[]), Host { kernel: (4, 4) }));
    assert!(!old.iter().any(|(n, _)| n == "ptrace"));
    let profile = parse(
        "f",
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["a"],"action":"SCMP_ACT_ERRNO","excludes":{"minKernel":"5.10"}},
            {"names":["b"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"5.10"}}]}"#,
    )
    .unwrap();
    let names = |kernel| outline(&profile.resolve("f", &[], Host { kernel }).unwrap().unwrap());
    assert_eq!(names((5, 4)), [("a".to_string(), 1)]);
    assert_eq!(names((5, 10)), [("b".to_string(), 1)]);
}

#[test]
fn a_users_profile_is_resolved_as_docker_resolves_it() {
    let profile = parse(
        "f",
        r#"{"defaultAction":"SCMP_ACT_ALLOW","defaultErrnoRet":1,
            "archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]},
                       {"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]}],
            "syscalls":[
              {"name":"mkdir","action":"SCMP_ACT_ERRNO","errnoRet":13},
              {"names":["x"],"action":"SCMP_ACT_ERRNO","includes":{"caps":["CAP_CHOWN","CAP_SYS_ADMIN"]}},
              {"names":["y"],"action":"SCMP_ACT_ERRNO","includes":{"arches":["s390x"]}},
              {"names":["z"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":2,"valueTwo":3,"op":"SCMP_CMP_MASKED_EQ"}]}
            ]}"#,
    )
    .unwrap();
    let s = profile.resolve("f", &caps(&[]), HOST).unwrap().unwrap();
    assert_eq!(s.default_errno_ret(), Some(1));
    assert_eq!(
        s.architectures().clone().unwrap(),
        [Arch::ScmpArchX86_64, Arch::ScmpArchX86]
    );
    // `name` is a rule of one; a rule needing a capability the container
    // lacks, or another architecture, is left out.
    assert_eq!(
        outline(&s),
        [("mkdir".to_string(), 1), ("z".to_string(), 1)]
    );
    let rules = s.syscalls().clone().unwrap();
    assert_eq!(rules[0].errno_ret(), Some(13));
    assert_eq!(rules[1].args().clone().unwrap()[0].value_two(), Some(3));
}

#[test]
fn a_profile_docker_refuses_is_refused_naming_where() {
    let refused = |json: &str| {
        let profile = parse("HostConfig.SecurityOpt[0]", json).unwrap();
        let e = profile
            .resolve("HostConfig.SecurityOpt[0]", &[], HOST)
            .unwrap_err()
            .to_string();
        assert!(e.contains("HostConfig.SecurityOpt[0]"), "{e}");
        e
    };
    let e = refused(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert!(
        e.contains("syscalls[0]") && e.contains("'name' and 'names'"),
        "{e}"
    );
    let e = refused(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#,
    );
    assert!(e.contains("archMap"), "{e}");
    let e = refused(r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#);
    assert!(e.contains("notify"), "{e}");
    let e = refused(r#"{"syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO"}]}"#);
    assert!(e.contains("defaultAction"), "{e}");
    let e = refused(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"new"}}]}"#,
    );
    assert!(e.contains("invalid kernel version"), "{e}");
    // Neither a default action nor a rule: no filter, as Docker reads it.
    let empty = parse("f", "{}").unwrap();
    assert!(empty.resolve("f", &[], HOST).unwrap().is_none());
    let e = parse("HostConfig.SecurityOpt[2]", "{\"defaultAction\": 3}")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("HostConfig.SecurityOpt[2]") && e.contains("defaultAction"),
        "{e}"
    );
}
