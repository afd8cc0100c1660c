//! A container's first process: its command, user and groups,
//! environment, working directory, terminal, capabilities, limits
//! (`--ulimit`), OOM score and no-new-privileges.

use std::path::PathBuf;

use oci_spec::runtime::{
    BoxBuilder, PosixRlimit, PosixRlimitBuilder, PosixRlimitType, Process, User,
};

use super::security_opts::SecurityOptions;
use super::{environment, oci_error, security, HostFacts};
use crate::container::Container;
use crate::error::{EngineError, Result};
use crate::image::Image;

/// The first process: the command, its user, environment, working
/// directory and terminal.
pub(super) fn process(
    c: &Container,
    image: &Image,
    hostname: &str,
    host: &HostFacts,
    opts: &SecurityOptions,
    init: bool,
) -> Result<Process> {
    // With `--init`, Docker's: the init runs the command after `--`.
    let init: &[&str] = match init {
        true => &[crate::init::IN_CONTAINER, "--"],
        false => &[],
    };
    let args: Vec<String> = init
        .iter()
        .map(|a| a.to_string())
        .chain(std::iter::once(c.path.clone()))
        .chain(c.args.iter().cloned())
        .collect();
    let mut user = match c.config.user.as_deref() {
        None | Some("") => user(&image.config.user),
        Some(u) => user(u),
    };
    // The primary group is set apart (the shim resolves a user's name);
    // the supplementary ones are those added (by name, the shim's too:
    // see `group_names`).
    if let Some(groups) = numeric_groups(c.host_config.group_add.as_deref().unwrap_or_default()) {
        user.set_additional_gids(Some(groups).filter(|g| !g.is_empty()));
    }
    let hc = &c.host_config;
    let caps = match super::privileged(c) {
        true => host.bounding.clone(),
        false => security::capabilities(
            hc.cap_add.as_deref().unwrap_or_default(),
            hc.cap_drop.as_deref().unwrap_or_default(),
            &host.bounding,
        )?,
    };
    // Root by number, or by the name `root` (with any group).
    let name = user
        .username()
        .as_deref()
        .map(|n| n.split(':').next().unwrap_or(n));
    let root = user.uid() == 0 && name.is_none_or(|n| n == "root" || n == "0");
    let caps = security::capability_sets(&caps, root);
    let cwd = match (
        c.config.working_dir.as_deref().unwrap_or_default(),
        image.config.working_dir.as_str(),
    ) {
        ("", "") => "/".to_string(),
        ("", w) | (w, _) => w.to_string(),
    };
    if !cwd.starts_with('/') {
        return Err(EngineError::InvalidParameter(format!(
            "WorkingDir: {cwd:?} is not an absolute path"
        )));
    }
    let env = environment(image, c.env(), hostname, c.tty());
    super::argv::check(&args, &env, ["Cmd", "Env"])?;
    let console_size = match c.host_config.console_size.as_deref() {
        Some(&[height, width]) if c.tty() && height > 0 && width > 0 => {
            let size = BoxBuilder::default()
                .height(height as u64)
                .width(width as u64)
                .build()
                .map_err(oci_error)?;
            Some(size)
        }
        _ => None,
    };
    // Every member is set: `Process::default` holds a shell, capabilities
    // and rlimits of its own that are not Vessel's.
    let mut p = Process::default();
    p.set_terminal(Some(c.tty()))
        .set_console_size(console_size)
        .set_user(user)
        .set_args(Some(args))
        .set_command_line(None)
        .set_env(Some(env))
        .set_cwd(PathBuf::from(cwd))
        .set_capabilities(Some(caps))
        .set_rlimits(rlimits(hc.ulimits.as_deref().unwrap_or_default())?)
        .set_no_new_privileges(opts.no_new_privileges.then_some(true))
        .set_apparmor_profile(None)
        .set_oom_score_adj(oom_score_adj(hc.oom_score_adj.unwrap_or(0))?)
        .set_selinux_label(None)
        .set_scheduler(None)
        .set_io_priority(None)
        .set_exec_cpu_affinity(None);
    Ok(p)
}

/// `uid[:gid]` as numbers, or a name the shim looks up in the container's
/// passwd.
pub(super) fn user(user: &str) -> User {
    let mut u = User::default();
    if user.is_empty() {
        return u;
    }
    let (name, group) = user.split_once(':').unwrap_or((user, ""));
    match (name.parse::<u32>(), group.parse::<u32>()) {
        (Ok(uid), Ok(gid)) => u.set_uid(uid).set_gid(gid),
        (Ok(uid), Err(_)) if group.is_empty() => u.set_uid(uid),
        _ => u.set_username(Some(user.to_string())),
    };
    u
}

/// `--ulimit NAME=SOFT[:HARD]`, as Docker's `Ulimits` carries them: each
/// name one of Docker's, soft at most hard.
fn rlimits(
    ulimits: &[bollard_stubs::models::ResourcesUlimits],
) -> Result<Option<Vec<PosixRlimit>>> {
    if ulimits.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for (i, u) in ulimits.iter().enumerate() {
        let name = u.name.as_deref().unwrap_or_default();
        let field = format!("HostConfig.Ulimits[{i}]");
        let typ = rlimit_type(name).ok_or_else(|| {
            EngineError::InvalidParameter(format!("{field}: invalid ulimit type: {name}"))
        })?;
        // -1 is unlimited, as Docker takes it.
        let value = |v: Option<i64>| match v.unwrap_or(0) {
            -1 => Ok(u64::MAX),
            v if v >= 0 => Ok(v as u64),
            v => Err(EngineError::InvalidParameter(format!(
                "{field}: {name}: {v} is not a limit (a number, or -1 for none)"
            ))),
        };
        let (soft, hard) = (value(u.soft)?, value(u.hard)?);
        if soft > hard {
            return Err(EngineError::InvalidParameter(format!(
                "{field}: {name}: the soft limit {soft} is above the hard limit {hard}"
            )));
        }
        let limit = PosixRlimitBuilder::default()
            .typ(typ)
            .soft(soft)
            .hard(hard)
            .build()
            .map_err(oci_error)?;
        out.push(limit);
    }
    Ok(Some(out))
}

/// A ulimit's name as Docker spells it.
fn rlimit_type(name: &str) -> Option<PosixRlimitType> {
    use PosixRlimitType::*;
    Some(match name {
        "as" => RlimitAs,
        "core" => RlimitCore,
        "cpu" => RlimitCpu,
        "data" => RlimitData,
        "fsize" => RlimitFsize,
        "locks" => RlimitLocks,
        "memlock" => RlimitMemlock,
        "msgqueue" => RlimitMsgqueue,
        "nice" => RlimitNice,
        "nofile" => RlimitNofile,
        "nproc" => RlimitNproc,
        "rss" => RlimitRss,
        "rtprio" => RlimitRtprio,
        "rttime" => RlimitRttime,
        "sigpending" => RlimitSigpending,
        "stack" => RlimitStack,
        _ => return None,
    })
}

/// `--oom-score-adj`, within the kernel's range; none when zero.
fn oom_score_adj(adj: i64) -> Result<Option<i32>> {
    if !(-1000..=1000).contains(&adj) {
        return Err(EngineError::InvalidParameter(format!(
            "HostConfig.OomScoreAdj: invalid value {adj}, range for oom score adj is [-1000, 1000]"
        )));
    }
    Ok((adj != 0).then_some(adj as i32))
}

/// `--group-add` when every group is given by number: their ids.
fn numeric_groups(groups: &[String]) -> Option<Vec<u32>> {
    groups.iter().map(|g| g.parse::<u32>().ok()).collect()
}

/// `--group-add` when a group is given by name: every group, in order,
/// for the shim to look up in the container's /etc/group (the spec's
/// [`vessel_runtime::bundle::GROUPS_ANNOTATION`]); none otherwise. A name
/// that no /etc/group could hold is refused here.
pub(super) fn group_names(groups: &[String]) -> Result<Option<Vec<String>>> {
    if numeric_groups(groups).is_some() {
        return Ok(None);
    }
    for (i, g) in groups.iter().enumerate() {
        if g.is_empty() || g.contains([':', '\n', '\0']) {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.GroupAdd[{i}]: {g:?} is not a group name or id"
            )));
        }
    }
    Ok(Some(groups.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard_stubs::models::ResourcesUlimits;

    fn ulimit(name: &str, soft: i64, hard: i64) -> ResourcesUlimits {
        ResourcesUlimits {
            name: Some(name.into()),
            soft: Some(soft),
            hard: Some(hard),
        }
    }

    #[test]
    fn ulimits_become_rlimits_and_bad_ones_are_named() {
        let r = rlimits(&[ulimit("nofile", 100, 200)]).unwrap().unwrap();
        assert_eq!(r[0].typ(), PosixRlimitType::RlimitNofile);
        assert_eq!((r[0].soft(), r[0].hard()), (100, 200));
        let e = rlimits(&[ulimit("bogus", 1, 1)]).unwrap_err().to_string();
        assert!(e.contains("Ulimits[0]") && e.contains("bogus"), "{e}");
        assert!(rlimits(&[ulimit("nofile", 300, 200)]).is_err());
        let r = rlimits(&[ulimit("memlock", -1, -1)]).unwrap().unwrap();
        assert_eq!(r[0].hard(), u64::MAX);
        assert!(rlimits(&[ulimit("nofile", -2, 1)]).is_err());
    }

    #[test]
    fn oom_scores_and_groups_are_checked() {
        assert_eq!(oom_score_adj(500).unwrap(), Some(500));
        assert_eq!(oom_score_adj(0).unwrap(), None);
        assert!(oom_score_adj(2000)
            .unwrap_err()
            .to_string()
            .contains("2000"));
        let groups = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(numeric_groups(&groups(&["5", "44"])).unwrap(), [5, 44]);
        assert!(group_names(&groups(&["5", "44"])).unwrap().is_none());
        assert_eq!(
            group_names(&groups(&["5", "audio"])).unwrap().unwrap(),
            ["5", "audio"]
        );
        assert!(group_names(&groups(&["a:b"]))
            .unwrap_err()
            .to_string()
            .contains("GroupAdd[0]"));
    }
}
