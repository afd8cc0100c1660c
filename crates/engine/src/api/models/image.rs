//! An image as the API shows it: `docker image inspect` and the rows of
//! `docker images`, in Docker's shapes and order.

use serde_json::{json, Value};

use crate::image::{Image, ImageConfig};

/// What an image is known by, beside itself.
#[derive(Debug, Default)]
pub struct Names {
    pub tags: Vec<String>,
    pub digests: Vec<String>,
}

/// `GET /images/{name}/json`.
pub fn image_inspect(image: &Image, names: &Names, layer_dirs: &[String]) -> Value {
    let mut v = json!({
        "Id": image.id,
        "RepoTags": names.tags,
        "RepoDigests": names.digests,
        "Parent": "",
        "Comment": image.comment,
        "Created": image.created,
        "Container": image.container,
        "ContainerConfig": run_config(&ImageConfig::default()),
        "DockerVersion": "",
        "Author": image.author,
        "Config": run_config(&image.config),
        "Architecture": image.architecture,
    });
    if !image.variant.is_empty() {
        v["Variant"] = json!(image.variant);
    }
    let mut lower: Vec<&str> = layer_dirs.iter().map(String::as_str).collect();
    lower.reverse();
    let rest = json!({
        "Os": image.os,
        "Size": image.size,
        "VirtualSize": image.size,
        "GraphDriver": {"Data": {"LowerDir": lower.join(":")}, "Name": "overlay"},
        "RootFS": {"Type": "layers", "Layers": image.layers},
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
    });
    if let (Some(v), Value::Object(rest)) = (v.as_object_mut(), rest) {
        v.extend(rest);
    }
    v
}

/// A row of `GET /images/json`.
pub fn image_summary(image: &Image, names: &Names, containers: usize) -> Value {
    let created = chrono::DateTime::parse_from_rfc3339(&image.created)
        .map(|t| t.timestamp())
        .unwrap_or(0);
    json!({
        "Containers": containers,
        "Created": created,
        "Id": image.id,
        "Labels": image.config.labels,
        "ParentId": "",
        "RepoDigests": names.digests,
        "RepoTags": names.tags,
        "SharedSize": -1,
        "Size": image.size,
        "VirtualSize": image.size,
    })
}

/// An image's run config as Docker's `container.Config`: every member a
/// container's config has, the optional ones only when set.
fn run_config(c: &ImageConfig) -> Value {
    let list = |l: &Option<Vec<String>>| l.as_ref().map_or(Value::Null, |l| json!(l));
    let mut v = json!({
        "Hostname": "",
        "Domainname": "",
        "User": c.user,
        "AttachStdin": false,
        "AttachStdout": false,
        "AttachStderr": false,
    });
    let o = v.as_object_mut().expect("an object");
    if let Some(p) = &c.exposed_ports {
        o.insert("ExposedPorts".into(), json!(p));
    }
    o.insert("Tty".into(), json!(false));
    o.insert("OpenStdin".into(), json!(false));
    o.insert("StdinOnce".into(), json!(false));
    let env = match c.env.is_empty() {
        true => Value::Null,
        false => json!(c.env),
    };
    o.insert("Env".into(), env);
    o.insert("Cmd".into(), list(&c.cmd));
    if let Some(h) = &c.healthcheck {
        o.insert("Healthcheck".into(), h.clone());
    }
    if c.args_escaped {
        o.insert("ArgsEscaped".into(), json!(true));
    }
    o.insert("Image".into(), json!(""));
    o.insert("Volumes".into(), json!(c.volumes));
    o.insert("WorkingDir".into(), json!(c.working_dir));
    o.insert("Entrypoint".into(), list(&c.entrypoint));
    o.insert("OnBuild".into(), list(&c.on_build));
    o.insert("Labels".into(), json!(c.labels));
    if !c.stop_signal.is_empty() {
        o.insert("StopSignal".into(), json!(c.stop_signal));
    }
    if let Some(s) = &c.shell {
        o.insert("Shell".into(), json!(s));
    }
    v
}
