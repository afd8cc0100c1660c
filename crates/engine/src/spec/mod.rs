//! The OCI runtime spec of a container, from its record and its image (the
//! daemon's `createSpec`), as `oci_spec`'s typed values.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    BoxBuilder, Linux, LinuxNamespace, LinuxNamespaceType, Process, Root, Spec, User,
};
use vessel_runtime::bundle::LAYERS_ANNOTATION;

use crate::container::Container;
use crate::error::{EngineError, Result};
use crate::image::Image;

mod devices;
mod mounts;
mod resources;
mod security;

pub use mounts::SHM_SIZE;
pub use security::{host_bounding_set, MASKED_PATHS, READONLY_PATHS};

/// What the spec takes from the host, read once by the daemon.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// The daemon's capability bounding set: what a container may be
    /// given (all of it, when privileged).
    pub bounding: Vec<oci_spec::runtime::Capability>,
}

pub use resources::resources;

/// The PATH a container gets when neither the image nor the user set one.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The process a container runs: entrypoint then cmd, the create request's
/// overriding the image's (a given entrypoint drops the image's cmd; `[""]`,
/// docker's `--entrypoint ""`, is none at all).
pub fn command(
    c_entry: &Option<Vec<String>>,
    c_cmd: &Option<Vec<String>>,
    image: &Image,
) -> Vec<String> {
    let entrypoint = match c_entry.as_deref() {
        Some([reset]) if reset.is_empty() => Vec::new(),
        Some(given) => given.to_vec(),
        None => image.config.entrypoint.clone().unwrap_or_default(),
    };
    let cmd = match (c_cmd, c_entry) {
        (Some(cmd), _) => cmd.clone(),
        (None, Some(_)) => Vec::new(),
        (None, None) => image.config.cmd.clone().unwrap_or_default(),
    };
    entrypoint.into_iter().chain(cmd).collect()
}

/// The environment: the image's, then the container's (later wins), with
/// a default PATH and HOSTNAME, and `TERM=xterm` for a terminal, as
/// Docker's. A missing HOME is left to the runtime, which reads the user's
/// from the container's /etc/passwd.
pub fn environment(
    image: &Image,
    container_env: &[String],
    hostname: &str,
    tty: bool,
) -> Vec<String> {
    let mut env: Vec<String> = Vec::new();
    let mut set = |entry: &str| {
        let key = entry.split('=').next().unwrap_or(entry);
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(entry.to_string());
    };
    set(DEFAULT_PATH);
    set(&format!("HOSTNAME={hostname}"));
    if tty {
        set("TERM=xterm");
    }
    for e in image.config.env.iter().chain(container_env) {
        set(e);
    }
    env
}

/// The container's hostname: its own, or (for a record from before create
/// set it) its short id.
pub fn hostname(c: &Container) -> String {
    match c.config.hostname.as_deref() {
        None | Some("") => c.id[..12].to_string(),
        Some(h) => h.to_string(),
    }
}

/// An error of `oci_spec`'s builders: a value Vessel made itself is wrong.
fn oci_error(e: oci_spec::OciSpecError) -> EngineError {
    EngineError::Internal(format!("building the runtime spec: {e}"))
}

/// Builds the spec. `layers` are the image's layer directories, bottom
/// first; `etc` is the directory holding the container's own `hostname`,
/// `hosts` and `resolv.conf` (see [`crate::etc`]), mounted over the
/// image's (none when the spec is only being checked).
pub fn build(
    c: &Container,
    image: &Image,
    layers: &[PathBuf],
    etc: Option<&Path>,
    host: &HostFacts,
) -> Result<Spec> {
    let hc = &c.host_config;
    let hostname = hostname(c);
    let process = process(c, image, &hostname, host)?;

    let mut mounts = mounts::defaults(privileged(c))?;
    // A missing bind source is made only when the container starts: a
    // create that fails later must leave nothing on the host.
    let starting = etc.is_some();
    let binds = hc
        .binds
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, bind)| mounts::bind(bind, i, starting))
        .collect::<Result<Vec<_>>>()?;
    let etc_files = match etc {
        Some(dir) => mounts::etc_files(dir, &binds)?,
        None => Vec::new(),
    };
    mounts.extend(binds);
    mounts.extend(etc_files);

    // Overlayfs wants the top layer first.
    let lower: Vec<String> = layers
        .iter()
        .rev()
        .map(|p| p.display().to_string())
        .collect();
    let lower = serde_json::to_string(&lower).unwrap_or_default();

    let mut root = Root::default();
    root.set_path(PathBuf::from("rootfs"))
        .set_readonly(Some(hc.readonly_rootfs.unwrap_or(false)));

    let mut spec = Spec::default();
    spec.set_version("1.0.2".into())
        .set_process(Some(process))
        .set_root(Some(root))
        .set_hostname(Some(hostname))
        .set_mounts(Some(mounts))
        .set_annotations(Some(HashMap::from([(
            LAYERS_ANNOTATION.to_string(),
            lower,
        )])))
        .set_linux(Some(linux(c, etc.is_some())?));
    Ok(spec)
}

/// The first process: the command, its user, environment, working
/// directory and terminal.
fn process(c: &Container, image: &Image, hostname: &str, host: &HostFacts) -> Result<Process> {
    let args: Vec<String> = std::iter::once(c.path.clone())
        .chain(c.args.iter().cloned())
        .collect();
    let user = match c.config.user.as_deref() {
        None | Some("") => user(&image.config.user),
        Some(u) => user(u),
    };
    let hc = &c.host_config;
    let caps = match privileged(c) {
        true => host.bounding.clone(),
        false => security::capabilities(
            hc.cap_add.as_deref().unwrap_or_default(),
            hc.cap_drop.as_deref().unwrap_or_default(),
            &host.bounding,
        )?,
    };
    let root = user.uid() == 0 && user.username().as_deref().is_none_or(|n| n == "root");
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
    let mut env = environment(image, c.env(), hostname, c.tty());
    env.dedup();
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
        .set_rlimits(None)
        .set_no_new_privileges(Some(false))
        .set_apparmor_profile(None)
        .set_oom_score_adj(None)
        .set_selinux_label(None)
        .set_scheduler(None)
        .set_io_priority(None)
        .set_exec_cpu_affinity(None);
    Ok(p)
}

/// Whether the container is privileged: every capability of the host,
/// every device, nothing hidden.
fn privileged(c: &Container) -> bool {
    c.host_config.privileged.unwrap_or(false)
}

/// The namespaces, cgroup, limits, devices and hidden paths. The host's
/// devices a privileged container gets are listed only when `starting`.
fn linux(c: &Container, starting: bool) -> Result<Linux> {
    let mut kinds = vec![
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
    ];
    match c.network_mode() {
        "" | "none" | "default" => kinds.push(LinuxNamespaceType::Network),
        "host" => {}
        other => {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.NetworkMode: {other:?} is not supported yet (none or host)"
            )))
        }
    }
    let namespaces = kinds
        .into_iter()
        .map(|typ| {
            let mut ns = LinuxNamespace::default();
            ns.set_typ(typ).set_path(None);
            ns
        })
        .collect();
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let privileged = privileged(c);
    let mut resources = resources(&c.host_config)?;
    resources.set_devices(Some(security::device_rules(privileged)?));
    let devices = match privileged && starting {
        true => Some(devices::host_devices(Path::new("/dev"))),
        false => None,
    };
    let hidden = |paths: &[&str]| (!privileged).then(|| strings(paths));
    // Every member is set: `Linux::default` has namespaces, devices and
    // paths of its own.
    let mut linux = Linux::default();
    linux
        .set_uid_mappings(None)
        .set_gid_mappings(None)
        .set_sysctl(None)
        .set_resources(Some(resources))
        .set_cgroups_path(Some(PathBuf::from(
            vessel_runtime::bundle::default_cgroups_path(&c.id),
        )))
        .set_namespaces(Some(namespaces))
        .set_devices(devices)
        .set_seccomp(None)
        .set_rootfs_propagation(None)
        .set_masked_paths(hidden(MASKED_PATHS))
        .set_readonly_paths(hidden(READONLY_PATHS))
        .set_mount_label(None)
        .set_intel_rdt(None)
        .set_personality(None)
        .set_net_devices(None)
        .set_memory_policy(None)
        .set_time_offsets(None);
    Ok(linux)
}

/// `uid[:gid]` as numbers, or a name the shim looks up in the container's
/// passwd.
fn user(user: &str) -> User {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageConfig;

    fn image(entry: Option<&[&str]>, cmd: Option<&[&str]>) -> Image {
        Image {
            id: "sha256:1".into(),
            created: String::new(),
            layers: vec![],
            size: 0,
            config: ImageConfig {
                entrypoint: entry.map(|e| e.iter().map(|s| s.to_string()).collect()),
                cmd: cmd.map(|e| e.iter().map(|s| s.to_string()).collect()),
                env: vec!["PATH=/bin".into(), "A=1".into()],
                ..Default::default()
            },
            comment: String::new(),
        }
    }

    fn v(s: &[&str]) -> Option<Vec<String>> {
        Some(s.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn the_command_follows_dockers_entrypoint_and_cmd_rules() {
        let img = image(Some(&["/init"]), Some(&["serve"]));
        assert_eq!(command(&None, &None, &img), ["/init", "serve"]);
        assert_eq!(command(&None, &v(&["x"]), &img), ["/init", "x"]);
        assert_eq!(command(&v(&["sh"]), &None, &img), ["sh"]);
        assert_eq!(
            command(&v(&["sh"]), &v(&["-c", "x"]), &img),
            ["sh", "-c", "x"]
        );
        // --entrypoint "": none, and not the image's cmd either.
        assert_eq!(
            command(&v(&[""]), &v(&["echo", "hi"]), &img),
            ["echo", "hi"]
        );
        assert!(command(&v(&[""]), &None, &img).is_empty());
    }

    #[test]
    fn the_containers_environment_overrides_the_images() {
        let env = environment(
            &image(None, None),
            &["A=2".into(), "B=3".into()],
            "h",
            false,
        );
        assert_eq!(env, ["HOSTNAME=h", "PATH=/bin", "A=2", "B=3"]);
        let env = environment(&image(None, None), &["TERM=vt100".into()], "h", true);
        assert_eq!(env, ["HOSTNAME=h", "PATH=/bin", "A=1", "TERM=vt100"]);
        let env = environment(&image(None, None), &[], "h", true);
        assert_eq!(env, ["HOSTNAME=h", "TERM=xterm", "PATH=/bin", "A=1"]);
    }

    /// `oci_spec`'s defaults (a shell, capabilities, rlimits, its own
    /// namespaces and mounts) never reach a container's spec.
    #[test]
    fn the_spec_holds_only_what_vessel_sets() {
        let c = Container {
            id: "b".repeat(64),
            created: String::new(),
            path: "echo".into(),
            args: vec!["hi".into()],
            state: Default::default(),
            image: "sha256:1".into(),
            name: "/c".into(),
            restart_count: 0,
            log_path: String::new(),
            config: Default::default(),
            host_config: Default::default(),
        };
        let host = HostFacts {
            bounding: security::bounding_set("CapBnd:\t000001ffffffffff\n"),
        };
        let spec = build(&c, &image(None, None), &[], None, &host).unwrap();
        let p = spec.process().as_ref().unwrap();
        assert_eq!(p.args().as_deref().unwrap(), ["echo", "hi"]);
        let caps = p.capabilities().as_ref().unwrap();
        assert_eq!(caps.bounding().as_ref().unwrap().len(), 14);
        assert!(p.rlimits().is_none());
        assert_eq!(p.no_new_privileges(), Some(false));
        assert_eq!(spec.hostname().as_deref(), Some("bbbbbbbbbbbb"));
        assert_eq!(spec.root().as_ref().unwrap().readonly(), Some(false));
        assert_eq!(spec.mounts().as_ref().unwrap().len(), 6);
        let linux = spec.linux().as_ref().unwrap();
        assert_eq!(linux.namespaces().as_ref().unwrap().len(), 5);
        assert!(linux.devices().is_none() && linux.seccomp().is_none());
        assert_eq!(linux.masked_paths().as_ref().unwrap().len(), 10);
        let text = serde_json::to_string(&spec).unwrap();
        assert!(
            !text.contains("youki") && !text.contains("CAP_SYS_ADMIN"),
            "{text}"
        );
    }

    #[test]
    fn users_are_numbers_or_names() {
        let ids = |u: &User| (u.uid(), u.gid(), u.username().clone());
        assert_eq!(ids(&user("1000:100")), (1000, 100, None));
        assert_eq!(ids(&user("7")), (7, 0, None));
        assert_eq!(ids(&user("")), (0, 0, None));
        assert_eq!(ids(&user("nobody")), (0, 0, Some("nobody".into())));
    }
}
