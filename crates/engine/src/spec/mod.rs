//! The OCI runtime spec of a container, from its record and its image (the
//! daemon's `createSpec`).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use vessel_runtime::bundle::LAYERS_ANNOTATION;

use crate::container::{Container, HostConfig};
use crate::error::{EngineError, Result};
use crate::image::Image;

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
    if c.config.hostname.is_empty() {
        c.id[..12].to_string()
    } else {
        c.config.hostname.clone()
    }
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
) -> Result<Value> {
    let hc = &c.host_config;
    let hostname = hostname(c);
    let args: Vec<String> = std::iter::once(c.path.clone())
        .chain(c.args.iter().cloned())
        .collect();
    let user = user_field(if c.config.user.is_empty() {
        &image.config.user
    } else {
        &c.config.user
    });
    let cwd = match (
        c.config.working_dir.as_str(),
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

    let mut namespaces = vec![
        json!({"type": "pid"}),
        json!({"type": "ipc"}),
        json!({"type": "uts"}),
        json!({"type": "mount"}),
    ];
    match hc.network_mode.as_str() {
        "" | "none" | "default" => namespaces.push(json!({"type": "network"})),
        "host" => {}
        other => {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.NetworkMode: {other:?} is not supported yet (none or host)"
            )))
        }
    }

    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"]}),
    ];
    // A missing bind source is made only when the container starts: a
    // create that fails later must leave nothing on the host.
    let starting = etc.is_some();
    let binds = hc
        .binds
        .iter()
        .enumerate()
        .map(|(i, bind)| bind_mount(bind, i, starting))
        .collect::<Result<Vec<Value>>>()?;
    mounts.extend(binds.iter().cloned());
    // The container's own /etc files go over the image's, and over a bind
    // of a directory above them (/etc), as Docker's: mounted after the
    // binds. One the user binds is left to the user's.
    if let Some(dir) = etc {
        for (name, destination) in crate::etc::FILES {
            if binds.iter().any(|b| b["destination"] == destination) {
                continue;
            }
            let source = crate::etc::path(dir, name);
            mounts.push(json!({"destination": destination, "type": "bind", "source": source, "options": ["rbind", "rprivate"]}));
        }
    }

    let resources = resources(hc)?;

    // Overlayfs wants the top layer first.
    let lower: Vec<String> = layers
        .iter()
        .rev()
        .map(|p| p.display().to_string())
        .collect();
    let mut env = environment(image, &c.config.env, &hostname, c.config.tty);
    env.dedup();
    let mut spec = json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": c.config.tty,
            "user": user,
            "args": args,
            "env": env,
            "cwd": cwd,
            "noNewPrivileges": false
        },
        "root": {"path": "rootfs", "readonly": hc.readonly_rootfs},
        "hostname": hostname,
        "mounts": mounts,
        "annotations": {
            LAYERS_ANNOTATION: serde_json::to_string(&lower).unwrap_or_default()
        },
        "linux": {
            "namespaces": namespaces,
            "cgroupsPath": vessel_runtime::bundle::default_cgroups_path(&c.id),
            "resources": resources,
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    });
    let [height, width] = hc.console_size;
    if c.config.tty && height > 0 && width > 0 {
        spec["process"]["consoleSize"] = json!({"height": height, "width": width});
    }
    Ok(spec)
}

/// `uid[:gid]` as numbers, or a name the shim looks up in the container's
/// passwd.
fn user_field(user: &str) -> Value {
    if user.is_empty() {
        return json!({"uid": 0, "gid": 0});
    }
    let (u, g) = user.split_once(':').unwrap_or((user, ""));
    match (u.parse::<u32>(), g.parse::<u32>()) {
        (Ok(uid), Ok(gid)) => json!({"uid": uid, "gid": gid}),
        (Ok(uid), Err(_)) if g.is_empty() => json!({"uid": uid, "gid": 0}),
        _ => json!({"uid": 0, "gid": 0, "username": user}),
    }
}

/// `-v /host:/ctr[:ro|rw]`.
fn bind_mount(bind: &str, index: usize, make_missing: bool) -> Result<Value> {
    let field = || format!("HostConfig.Binds[{index}]");
    let parts: Vec<&str> = bind.split(':').collect();
    let (src, dst, mode) = match parts.as_slice() {
        [s, d] => (*s, *d, "rw"),
        [s, d, m] => (*s, *d, *m),
        _ => {
            return Err(EngineError::InvalidParameter(format!(
                "{}: {bind:?} is not SOURCE:DESTINATION[:ro|rw]",
                field()
            )))
        }
    };
    if !src.starts_with('/') {
        return Err(EngineError::InvalidParameter(format!(
            "{}: {src:?} is not an absolute host path (named volumes come later)",
            field()
        )));
    }
    if !dst.starts_with('/') {
        return Err(EngineError::InvalidParameter(format!(
            "{}: {dst:?} is not an absolute path in the container",
            field()
        )));
    }
    let ro = match mode {
        "ro" => true,
        "rw" | "" => false,
        other => {
            return Err(EngineError::InvalidParameter(format!(
                "{}: mode {other:?} is not ro or rw",
                field()
            )))
        }
    };
    // As Docker's -v: a missing host path is made, as a directory.
    if make_missing && !Path::new(src).exists() {
        std::fs::create_dir_all(src).map_err(|e| {
            EngineError::InvalidParameter(format!(
                "{}: making the missing bind source {src}: {e}",
                field()
            ))
        })?;
    }
    let mut options = vec!["rbind", "rprivate"];
    options.push(if ro { "ro" } else { "rw" });
    Ok(json!({"destination": dst, "type": "bind", "source": src, "options": options}))
}

/// The OCI `linux.resources` of a host config, each limit checked.
pub fn resources(hc: &HostConfig) -> Result<Value> {
    let mut resources = json!({});
    if hc.memory != 0 {
        if hc.memory < 6 * 1024 * 1024 {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.Memory: {} is below the minimum of 6MB",
                hc.memory
            )));
        }
        resources["memory"] = json!({"limit": hc.memory});
    }
    let mut cpu = serde_json::Map::new();
    if hc.cpu_shares != 0 {
        if hc.cpu_shares < 2 {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.CpuShares: {} is below the minimum of 2",
                hc.cpu_shares
            )));
        }
        cpu.insert("shares".into(), json!(hc.cpu_shares));
    }
    if hc.nano_cpus != 0 {
        if hc.cpu_quota != 0 || hc.cpu_period != 0 {
            return Err(EngineError::InvalidParameter(
                "HostConfig.NanoCpus: cannot be combined with CpuQuota or CpuPeriod".into(),
            ));
        }
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
        if hc.nano_cpus < 0 || hc.nano_cpus > cpus * 1_000_000_000 {
            return Err(EngineError::InvalidParameter(format!(
                "HostConfig.NanoCpus: {} is outside 0.01 to {cpus} CPUs (this host has {cpus})",
                hc.nano_cpus
            )));
        }
        cpu.insert("period".into(), json!(100_000));
        cpu.insert(
            "quota".into(),
            json!(hc.nano_cpus * 100_000 / 1_000_000_000),
        );
    } else {
        if hc.cpu_period != 0 {
            cpu.insert("period".into(), json!(hc.cpu_period));
        }
        if hc.cpu_quota != 0 {
            cpu.insert("quota".into(), json!(hc.cpu_quota));
        }
    }
    if !cpu.is_empty() {
        resources["cpu"] = Value::Object(cpu);
    }
    if let Some(limit) = hc.pids_limit.filter(|l| *l != 0) {
        resources["pids"] = json!({"limit": limit});
    }
    Ok(resources)
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

    #[test]
    fn binds_are_checked_and_name_the_field() {
        assert!(bind_mount("/tmp:/data:ro", 0, true).unwrap()["options"]
            .as_array()
            .unwrap()
            .contains(&json!("ro")));
        let e = bind_mount("rel:/data", 2, true).unwrap_err().to_string();
        assert!(
            e.contains("HostConfig.Binds[2]") && e.contains("rel"),
            "{e}"
        );
        let e = bind_mount("/tmp:/data:zz", 0, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("zz"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("made/by/the/bind");
        // Checked at create, made at start.
        bind_mount(&format!("{}:/d", missing.display()), 0, false).unwrap();
        assert!(!missing.exists());
        bind_mount(&format!("{}:/d", missing.display()), 0, true).unwrap();
        assert!(missing.is_dir());
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let e = bind_mount(&format!("{}/under:/d", file.display()), 1, true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("HostConfig.Binds[1]") && e.contains("under"),
            "{e}"
        );
    }

    #[test]
    fn users_are_numbers_or_names() {
        assert_eq!(user_field("1000:100"), json!({"uid": 1000, "gid": 100}));
        assert_eq!(user_field("7"), json!({"uid": 7, "gid": 0}));
        assert_eq!(user_field("nobody")["username"], "nobody");
    }
}
