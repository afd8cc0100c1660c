//! The OCI runtime spec of a container, from its record and its image (the
//! daemon's `createSpec`), as `oci_spec`'s typed values.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{Capability, Linux, LinuxSeccomp, Root, Spec};
use vessel_runtime::bundle::{GROUPS_ANNOTATION, LAYERS_ANNOTATION};

use crate::container::Container;
use crate::error::{EngineError, Result};
use crate::image::Image;

mod argv;
mod devices;
mod mounts;
mod namespaces;
mod process;
mod propagation;
mod resources;
mod seccomp;
mod security;
mod security_opts;

pub use mounts::SHM_SIZE;
pub use namespaces::{Peer, Peers};
pub use security::{capability_sets, host_bounding_set, MASKED_PATHS, READONLY_PATHS};

/// What the spec takes from the host, read once by the daemon.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// The daemon's capability bounding set: what a container may be
    /// given (all of it, when privileged).
    pub bounding: Vec<oci_spec::runtime::Capability>,
    /// Whether the kernel limits memory and swap together (cgroup v2, or
    /// v1 with swap accounting).
    pub swap_limit: bool,
    /// The kernel's version, major and minor (a seccomp profile's rules
    /// may depend on it).
    pub kernel: (u32, u32),
    /// Docker's sysctls of a container's own network namespace (ports
    /// below 1024 and ping for any user) that this kernel has.
    pub network_sysctls: Vec<(&'static str, &'static str)>,
    /// Where the daemon installed the init `--init` runs
    /// ([`crate::init`]); none if it could not.
    pub init: Option<PathBuf>,
}

/// The sysctls Docker sets in a container's own network namespace.
const NETWORK_SYSCTLS: [(&str, &str); 2] = [
    ("net.ipv4.ip_unprivileged_port_start", "0"),
    ("net.ipv4.ping_group_range", "0 2147483647"),
];

impl HostFacts {
    /// The facts of the host whose /proc and cgroup file systems are
    /// mounted at `proc` and `cgroup`.
    pub fn read(proc: &Path, cgroup: &Path) -> HostFacts {
        HostFacts {
            bounding: host_bounding_set(proc),
            swap_limit: cgroup.join("cgroup.controllers").exists()
                || cgroup.join("memory/memory.memsw.limit_in_bytes").exists(),
            kernel: std::fs::read_to_string(proc.join("sys/kernel/osrelease"))
                .ok()
                .and_then(|v| seccomp::kernel_version(v.trim()).ok())
                .unwrap_or_default(),
            network_sysctls: NETWORK_SYSCTLS
                .into_iter()
                .filter(|(key, _)| proc.join("sys").join(key.replace('.', "/")).exists())
                .collect(),
            init: None,
        }
    }
}

pub use resources::resources;

/// Where, in its directory, a shareable container's /dev/shm is mounted
/// on the host.
pub const SHM_DIR: &str = "mounts/shm";

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

/// What a spec is built from besides the container's record.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub image: &'a Image,
    /// The image's layer directories, bottom first.
    pub layers: &'a [PathBuf],
    /// The directory holding the container's own `hostname`, `hosts` and
    /// `resolv.conf` (see [`crate::etc`]), mounted over the image's; none
    /// when the spec is only being checked (at create), when nothing of
    /// the host is looked at or made and Docker's seccomp profile is left
    /// out.
    pub etc: Option<&'a Path>,
    pub host: &'a HostFacts,
    /// The containers `container:NAME` modes name.
    pub peers: Peers<'a>,
    /// The network namespace the daemon made for the container (its
    /// sandbox), when it is on networks.
    pub sandbox: Option<&'a Path>,
}

impl std::fmt::Debug for Inputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("image", &self.image.id)
            .field("etc", &self.etc)
            .finish_non_exhaustive()
    }
}

/// Builds the spec.
pub fn build(c: &Container, inputs: &Inputs) -> Result<Spec> {
    let hc = &c.host_config;
    let starting = inputs.etc.is_some();
    // A shareable container's /dev/shm is a mount of the daemon's, kept
    // with the container (see `crate::daemon::shm`).
    let own_shm = inputs.etc.map(|dir| dir.join(SHM_DIR));
    let sandbox = inputs.sandbox.map(Path::to_path_buf);
    let modes = namespaces::Modes::of(c, inputs.peers, starting, own_shm, sandbox)?;
    let hostname = hostname(c);
    let opts = security_opts::security_options(hc)?;
    let init = match (hc.init.unwrap_or(false), &inputs.host.init) {
        (false, _) => None,
        (true, Some(path)) => Some(path.as_path()),
        (true, None) => {
            return Err(EngineError::InvalidParameter(
                "HostConfig.Init: true: this daemon has no init to run (see its log)".into(),
            ))
        }
    };
    let process = process::process(
        c,
        inputs.image,
        &hostname,
        inputs.host,
        &opts,
        init.is_some(),
    )?;
    let caps: Vec<Capability> = process
        .capabilities()
        .as_ref()
        .and_then(|c| c.bounding().clone())
        .into_iter()
        .flatten()
        .collect();
    // Built to validate a create, the spec needs a user's profile resolved
    // (that can be refused) but not Docker's, which always resolves: it is
    // some 360 strings, made and freed again for nothing.
    let seccomp = match (&opts.seccomp, starting) {
        (security_opts::Seccomp::Default, false) => None,
        _ => opts.seccomp.resolve(
            privileged(c),
            &caps,
            seccomp::Host {
                kernel: inputs.host.kernel,
            },
        )?,
    };
    let mounts = mounts::all(c, &modes, inputs.etc, init)?;

    // Overlayfs wants the top layer first.
    let lower: Vec<String> = inputs
        .layers
        .iter()
        .rev()
        .map(|p| p.display().to_string())
        .collect();
    let lower = serde_json::to_string(&lower).unwrap_or_default();

    let mut root = Root::default();
    root.set_path(PathBuf::from("rootfs"))
        .set_readonly(Some(hc.readonly_rootfs.unwrap_or(false)));

    let mut annotations = HashMap::from([(LAYERS_ANNOTATION.to_string(), lower)]);
    if let Some(names) = process::group_names(hc.group_add.as_deref().unwrap_or_default())? {
        let names = serde_json::to_string(&names).unwrap_or_default();
        annotations.insert(GROUPS_ANNOTATION.to_string(), names);
    }
    let mut spec = Spec::default();
    spec.set_version("1.0.2".into())
        .set_process(Some(process))
        .set_root(Some(root))
        .set_hostname(modes.uts_own.then_some(hostname))
        .set_domainname(domainname(c, modes.uts_own)?)
        .set_mounts(Some(mounts))
        .set_annotations(Some(annotations))
        .set_linux(Some(linux(
            c,
            &modes,
            starting,
            &opts,
            seccomp,
            inputs.host,
        )?));
    // As Docker's: a shared bind needs the container's root shared, or
    // what is mounted under it would not reach the host. (A slave bind
    // needs a slave root: every container's is.)
    let shared_bind = c
        .mount_points
        .iter()
        .any(|p| matches!(p.propagation.as_str(), "shared" | "rshared"));
    if shared_bind {
        if let Some(linux) = spec.linux_mut() {
            linux.set_rootfs_propagation(Some("shared".into()));
        }
    }
    Ok(spec)
}

/// `Domainname`, in the container's own UTS namespace only.
fn domainname(c: &Container, uts_own: bool) -> Result<Option<String>> {
    match c.config.domainname.as_deref().filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(d) if uts_own => Ok(Some(d.to_string())),
        Some(d) => Err(EngineError::InvalidParameter(format!(
            "Domainname: {d:?} cannot be set in the host's UTS namespace"
        ))),
    }
}

/// Whether nothing is masked or read-only under /proc and /sys for a
/// container: privileged, or `systempaths=unconfined`.
pub fn shows_all_system_paths(hc: &crate::container::HostConfig) -> bool {
    hc.privileged.unwrap_or(false)
        || security_opts::security_options(hc).is_ok_and(|o| o.system_paths_unconfined)
}

/// Whether the container is privileged: every capability of the host,
/// every device, nothing hidden.
fn privileged(c: &Container) -> bool {
    c.host_config.privileged.unwrap_or(false)
}

/// The namespaces, sysctls, cgroup, limits, devices, hidden paths and
/// seccomp filter. The host's devices a privileged container gets are
/// listed only when `starting`.
fn linux(
    c: &Container,
    modes: &namespaces::Modes,
    starting: bool,
    opts: &security_opts::SecurityOptions,
    seccomp: Option<LinuxSeccomp>,
    host: &HostFacts,
) -> Result<Linux> {
    let hc = &c.host_config;
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let privileged = privileged(c);
    let mut resources = resources(&c.host_config)?;
    let mut rules = security::device_rules(privileged)?;
    let (mapped, allowed) = devices::mapped(hc.devices.as_deref().unwrap_or_default())?;
    rules.extend(allowed);
    rules.extend(devices::cgroup_rules(
        hc.device_cgroup_rules.as_deref().unwrap_or_default(),
    )?);
    resources.set_devices(Some(rules));
    let devices = match (privileged && starting, mapped.is_empty()) {
        (true, _) => Some(devices::host_devices(Path::new("/dev"))),
        (false, false) => Some(mapped),
        (false, true) => None,
    };
    let unconfined = opts.system_paths_unconfined;
    let hidden = |paths: &[&str]| (!privileged && !unconfined).then(|| strings(paths));
    let own_ipc = modes.ipc == namespaces::Mode::Own;
    let mut sysctl = security::sysctls(hc, own_ipc, modes.network_own())?;
    if modes.network_own() {
        // Docker's, unless the container sets them itself.
        let set = sysctl.get_or_insert_with(Default::default);
        for (key, value) in &host.network_sysctls {
            set.entry(key.to_string())
                .or_insert_with(|| value.to_string());
        }
    }
    let sysctl = sysctl.filter(|s| !s.is_empty());
    // Every member is set: `Linux::default` has namespaces, devices and
    // paths of its own.
    let mut linux = Linux::default();
    linux
        .set_uid_mappings(None)
        .set_gid_mappings(None)
        .set_sysctl(sysctl)
        .set_resources(Some(resources))
        .set_cgroups_path(Some(PathBuf::from(
            vessel_runtime::bundle::default_cgroups_path(&c.id),
        )))
        .set_namespaces(Some(modes.namespaces()))
        .set_devices(devices)
        .set_seccomp(seccomp)
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

/// Checks that an exec's `args` and `env` are what any process can be
/// given (see `argv`); an error names the request's `Cmd` or `Env`.
pub fn check_argv(args: &[String], env: &[String]) -> Result<()> {
    argv::check(args, env, ["Cmd", "Env"])
}

#[cfg(test)]
mod tests {
    use super::process::user;
    use super::*;
    use crate::image::ImageConfig;
    use oci_spec::runtime::User;

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
            author: String::new(),
            container: String::new(),
            architecture: "amd64".into(),
            variant: String::new(),
            os: "linux".into(),
            history: vec![],
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
            has_been_manually_stopped: false,
            log_path: String::new(),
            config: Default::default(),
            host_config: Default::default(),
            mount_points: Vec::new(),
            network_settings: Default::default(),
        };
        let host = HostFacts {
            bounding: security::bounding_set("CapBnd:\t000001ffffffffff\n"),
            swap_limit: true,
            kernel: (6, 1),
            network_sysctls: NETWORK_SYSCTLS.to_vec(),
            init: Some(PathBuf::from("/run/vessel/vessel-init")),
        };
        let image = image(None, None);
        let inputs = Inputs {
            image: &image,
            layers: &[],
            etc: None,
            host: &host,
            peers: &|_| Ok(Peer::default()),
            sandbox: None,
        };
        let spec = build(&c, &inputs).unwrap();
        let p = spec.process().as_ref().unwrap();
        assert_eq!(p.args().as_deref().unwrap(), ["echo", "hi"]);
        let caps = p.capabilities().as_ref().unwrap();
        assert_eq!(caps.bounding().as_ref().unwrap().len(), 14);
        assert!(p.rlimits().is_none());
        assert_eq!(p.no_new_privileges(), None);
        assert_eq!(spec.hostname().as_deref(), Some("bbbbbbbbbbbb"));
        assert_eq!(spec.root().as_ref().unwrap().readonly(), Some(false));
        assert_eq!(spec.mounts().as_ref().unwrap().len(), 7);
        let linux = spec.linux().as_ref().unwrap();
        assert_eq!(linux.namespaces().as_ref().unwrap().len(), 5);
        assert!(linux.devices().is_none());
        let sysctl = linux.sysctl().as_ref().unwrap();
        assert_eq!(sysctl["net.ipv4.ip_unprivileged_port_start"], "0");
        assert_eq!(sysctl["net.ipv4.ping_group_range"], "0 2147483647");
        // Docker's profile is resolved for a start, not to validate a
        // create.
        assert!(linux.seccomp().is_none());
        assert_eq!(linux.masked_paths().as_ref().unwrap().len(), 10);
        let etc = PathBuf::from("/run/vessel/containers/b");
        let spec = build(
            &c,
            &Inputs {
                etc: Some(&etc),
                ..inputs
            },
        )
        .unwrap();
        let linux = spec.linux().as_ref().unwrap();
        let seccomp = linux.seccomp().as_ref().unwrap();
        assert_eq!(seccomp.syscalls().as_ref().unwrap().len(), 12);
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
