//! A container's mounts as docker's flags give them: `-v`, `--mount`,
//! `--volumes-from`, `--volume-driver` and `--tmpfs`.

use anyhow::{bail, Context};
use clap::Args;
use serde_json::{json, Map, Value};

#[derive(Debug, Args, Default)]
pub struct MountFlags {
    /// A bind or a volume: [HOST-PATH|NAME:]CONTAINER-PATH[:OPTIONS]
    /// (`ro`, `rw`, `nocopy`, `z`, `Z`, a propagation); a path alone is an
    /// anonymous volume.
    #[arg(long = "volume", short = 'v')]
    volumes: Vec<String>,
    /// A mount: `type=bind|volume|tmpfs,source=...,target=...` with
    /// `readonly`, `volume-nocopy`, `volume-opt=`, `volume-label=`,
    /// `tmpfs-size=`, `tmpfs-mode=`, `bind-propagation=`.
    #[arg(long)]
    mount: Vec<String>,
    /// Mount the volumes of another container: NAME[:ro|rw].
    #[arg(long = "volumes-from")]
    volumes_from: Vec<String>,
    /// The driver of the container's new volumes (only `local`).
    #[arg(long = "volume-driver")]
    volume_driver: Option<String>,
    /// A tmpfs mount: /container[:OPTIONS].
    #[arg(long)]
    tmpfs: Vec<String>,
}

impl MountFlags {
    /// Sets the create request's members: `HostConfig.Binds`, `Mounts`,
    /// `VolumesFrom`, `VolumeDriver`, `Tmpfs`, and `Volumes` for the
    /// anonymous ones.
    pub fn apply(&self, config: &mut Value) -> anyhow::Result<()> {
        let (binds, anonymous): (Vec<&String>, Vec<&String>) =
            self.volumes.iter().partition(|v| v.contains(':'));
        let host = &mut config["HostConfig"];
        host["Binds"] = json!(binds);
        if !self.mount.is_empty() {
            let mounts = self
                .mount
                .iter()
                .map(|m| mount(m))
                .collect::<anyhow::Result<Vec<_>>>()?;
            host["Mounts"] = json!(mounts);
        }
        if !self.volumes_from.is_empty() {
            host["VolumesFrom"] = json!(self.volumes_from);
        }
        if let Some(d) = &self.volume_driver {
            host["VolumeDriver"] = json!(d);
        }
        if !self.tmpfs.is_empty() {
            let mounts: Map<String, Value> = self
                .tmpfs
                .iter()
                .map(|t| {
                    let (dest, opts) = t.split_once(':').unwrap_or((t, ""));
                    (dest.to_string(), json!(opts))
                })
                .collect();
            host["Tmpfs"] = Value::Object(mounts);
        }
        if !anonymous.is_empty() {
            let volumes: Map<String, Value> = anonymous
                .iter()
                .map(|v| (v.to_string(), json!({})))
                .collect();
            config["Volumes"] = Value::Object(volumes);
        }
        Ok(())
    }
}

/// A `--mount`'s CSV as the API's `Mount`.
fn mount(spec: &str) -> anyhow::Result<Value> {
    let mut m = Map::new();
    let mut typ = "volume".to_string();
    let (mut bind, mut volume, mut tmpfs) = (Map::new(), Map::new(), Map::new());
    let mut driver = Map::new();
    let mut opts = Map::new();
    let mut labels = Map::new();
    for field in spec.split(',').filter(|f| !f.is_empty()) {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_lowercase(), Some(v)),
            None => (field.to_lowercase(), None),
        };
        let need =
            || value.with_context(|| format!("invalid field '{field}' must be a key=value pair"));
        let flag = || match value {
            None | Some("1" | "true") => Ok(true),
            Some("0" | "false") => Ok(false),
            Some(v) => bail!("invalid value for {key}: {v}"),
        };
        match key.as_str() {
            "type" => typ = need()?.to_string(),
            "source" | "src" => _ = m.insert("Source".into(), json!(need()?)),
            "target" | "dst" | "destination" => _ = m.insert("Target".into(), json!(need()?)),
            "readonly" | "ro" => _ = m.insert("ReadOnly".into(), json!(flag()?)),
            "consistency" => _ = m.insert("Consistency".into(), json!(need()?)),
            "bind-propagation" => _ = bind.insert("Propagation".into(), json!(need()?)),
            "bind-nonrecursive" => _ = bind.insert("NonRecursive".into(), json!(flag()?)),
            "volume-nocopy" => _ = volume.insert("NoCopy".into(), json!(flag()?)),
            "volume-subpath" => _ = volume.insert("Subpath".into(), json!(need()?)),
            "volume-driver" => _ = driver.insert("Name".into(), json!(need()?)),
            "volume-opt" | "volume-label" => {
                let (k, v) = need()?.split_once('=').unwrap_or((need()?, ""));
                let into = if key == "volume-opt" {
                    &mut opts
                } else {
                    &mut labels
                };
                into.insert(k.to_string(), json!(v));
            }
            "tmpfs-size" => _ = tmpfs.insert("SizeBytes".into(), json!(bytes(need()?)?)),
            "tmpfs-mode" => {
                let mode = i64::from_str_radix(need()?, 8).with_context(|| {
                    format!("invalid value for {key}: {}", need().unwrap_or_default())
                })?;
                tmpfs.insert("Mode".into(), json!(mode));
            }
            _ => bail!("unexpected key '{key}' in '{field}'"),
        }
    }
    if !opts.is_empty() {
        driver.insert("Options".into(), Value::Object(opts));
    }
    if !driver.is_empty() {
        volume.insert("DriverConfig".into(), Value::Object(driver));
    }
    if !labels.is_empty() {
        volume.insert("Labels".into(), Value::Object(labels));
    }
    for (member, options) in [
        ("BindOptions", bind),
        ("VolumeOptions", volume),
        ("TmpfsOptions", tmpfs),
    ] {
        if !options.is_empty() {
            m.insert(member.into(), Value::Object(options));
        }
    }
    m.insert("Type".into(), json!(typ));
    Ok(Value::Object(m))
}

/// A size as docker's `tmpfs-size` reads it: bytes, or with a binary
/// unit (`k`, `m`, `g`, `t`, optionally followed by `b` or `ib`).
fn bytes(s: &str) -> anyhow::Result<i64> {
    let lower = s.to_lowercase();
    let digits: String = lower
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let unit = lower[digits.len()..]
        .trim_end_matches("ib")
        .trim_end_matches('b');
    let scale: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => bail!("invalid size: '{s}'"),
    };
    let n: f64 = digits
        .parse()
        .with_context(|| format!("invalid size: '{s}'"))?;
    Ok((n * scale) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_read_as_docker_reads_them() {
        let v = mount("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770").unwrap();
        assert_eq!(
            v["TmpfsOptions"],
            json!({"SizeBytes": 64 << 20, "Mode": 0o1770})
        );
        let v =
            mount("source=data,target=/d,readonly,volume-nocopy,volume-opt=type=tmpfs").unwrap();
        assert_eq!(v["Type"], "volume");
        assert_eq!(v["ReadOnly"], true);
        assert_eq!(v["VolumeOptions"]["NoCopy"], true);
        assert_eq!(
            v["VolumeOptions"]["DriverConfig"]["Options"]["type"],
            "tmpfs"
        );
        let v = mount("type=bind,src=/a,dst=/b,bind-propagation=rslave").unwrap();
        assert_eq!(v["BindOptions"]["Propagation"], "rslave");
        assert!(mount("type=bind,bogus=1")
            .unwrap_err()
            .to_string()
            .contains("unexpected key"));
        assert!(mount("type").is_err());
        assert_eq!(bytes("1k").unwrap(), 1024);
        assert_eq!(bytes("2MiB").unwrap(), 2 << 20);
        assert!(bytes("3x").is_err());
    }
}
