//! Image endpoints: import, list, inspect.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::{json, Value};

use super::blocking;
use crate::api::body::BodyReader;
use crate::api::filters::parse_filters;
use crate::api::models::{image_inspect as image_inspect_view, image_summary, Names};
use crate::api::{empty, error, full, json, Call, Reply};
use crate::daemon::Daemon;
use crate::error::EngineError;
use crate::image::{apply_changes, ImageConfig};

/// `POST /images/create`: a pull (`fromImage`) or an import
/// (`fromSrc=-`, the request body).
pub(super) async fn create(d: Arc<Daemon>, call: &Call, req: Request<Incoming>) -> Reply {
    match (call.q("fromImage"), call.q("fromSrc")) {
        (Some(image), _) if !image.is_empty() => super::registry::pull(d, call, image, &req).await,
        (_, Some("-")) => import(d, call, req).await,
        (_, Some(src)) => error(&EngineError::NotSupported(format!(
            "fromSrc: importing from {src:?} is not supported: send the tarball as the body (fromSrc=-)"
        ))),
        _ => error(&EngineError::InvalidParameter(
            "fromImage or fromSrc is required".into(),
        )),
    }
}

/// `POST /images/create?fromSrc=-`: import the request body.
async fn import(d: Arc<Daemon>, call: &Call, req: Request<Incoming>) -> Reply {
    let reference = match (call.q("repo").filter(|r| !r.is_empty()), call.q("tag")) {
        (Some(r), Some(t)) if !t.is_empty() => Some(format!("{r}:{t}")),
        (Some(r), _) => Some(r.to_string()),
        _ => None,
    };
    let comment = call.q("message").unwrap_or_default().to_string();
    let changes = call.all("changes");
    let mut config = ImageConfig::default();
    if let Err(e) = apply_changes(&mut config, &changes) {
        return error(&e);
    }
    let reader = BodyReader::new(req.into_body());
    blocking(move || {
        let id = d.import(reader, reference.as_deref(), config, &comment)?;
        Ok(full(
            StatusCode::OK,
            "application/json",
            format!("{}\r\n", json!({"status": id})),
        ))
    })
    .await
}

/// `GET /images/json?filters=`: `dangling`, `reference` (a glob over
/// `name` and `name:tag`), `label` (`key` or `key=value`), `before` and
/// `since` (an image).
pub(super) async fn images(d: Arc<Daemon>, call: &Call) -> Reply {
    const KNOWN: &[&str] = &["dangling", "reference", "label", "before", "since"];
    let filters = match call
        .q("filters")
        .map(|f| parse_filters(f, KNOWN))
        .transpose()
    {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return error(&e),
    };
    blocking(move || {
        let used = d.read_all(true, |r| Some(r.container.image.clone()));
        let time = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.timestamp_nanos_opt().unwrap_or(0))
                .unwrap_or(0)
        };
        let created_of = |name: &str| d.images.resolve(name).map(|i| time(&i.created));
        let mut bounds = Vec::new();
        for (key, values) in filters
            .iter()
            .filter(|(k, _)| k == "before" || k == "since")
        {
            for v in values {
                bounds.push((key.clone(), created_of(v)?));
            }
        }
        let mut list = Vec::new();
        for (image, tags) in d.images.list()? {
            let kept = filters.iter().all(|(key, values)| match key.as_str() {
                "dangling" => values.iter().any(|v| (v == "true") == tags.is_empty()),
                "reference" => values.iter().any(|p| {
                    tags.iter().any(|t| {
                        let name = t.rsplit_once(':').map_or(t.as_str(), |(n, _)| n);
                        glob(p, t) || glob(p, name)
                    })
                }),
                "label" => values.iter().all(|l| {
                    let labels = image.config.labels.as_ref();
                    match l.split_once('=') {
                        Some((k, v)) => labels.and_then(|m| m.get(k)).is_some_and(|x| x == v),
                        None => labels.is_some_and(|m| m.contains_key(l)),
                    }
                }),
                _ => true,
            }) && bounds.iter().all(|(key, at)| match key.as_str() {
                "before" => time(&image.created) < *at,
                _ => time(&image.created) > *at,
            });
            if !kept {
                continue;
            }
            let names = Names {
                tags,
                digests: d.images.digests_of(&image.id)?,
            };
            let containers = used.iter().filter(|i| **i == image.id).count();
            list.push(image_summary(&image, &names, containers));
        }
        Ok(json(StatusCode::OK, &list))
    })
    .await
}

/// A shell-style pattern (`*` any run, `?` one character) matching all
/// of `text`, as Go's `path.Match` reads Docker's reference filter.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' && t[ti] != '/' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star.filter(|_| t[mark] != '/') {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

pub(super) async fn image_inspect(d: Arc<Daemon>, name: String) -> Reply {
    blocking(move || {
        let image = d.images.resolve(&name)?;
        let names = Names {
            tags: d.images.tags_of(&image.id)?,
            digests: d.images.digests_of(&image.id)?,
        };
        let dirs: Vec<String> = image
            .layers
            .iter()
            .map(|l| d.images.layer_dir(l).display().to_string())
            .collect();
        Ok(json(
            StatusCode::OK,
            &image_inspect_view(&image, &names, &dirs),
        ))
    })
    .await
}

/// `POST /images/{name}/tag?repo=&tag=`: 201 once tagged.
pub(super) async fn image_tag(d: Arc<Daemon>, name: String, call: &Call) -> Reply {
    let repo = call.q("repo").unwrap_or_default().to_string();
    let tag = call.q("tag").map(String::from);
    blocking(move || {
        d.tag_image(&name, &repo, tag.as_deref())?;
        Ok(empty(StatusCode::CREATED))
    })
    .await
}

/// `GET /images/{name}/history`: the image's history, newest first, as
/// Docker gives it: each step with the size of the layer it made (none
/// for a step that made no layer), the image's id and tags on the top
/// step only.
pub(super) async fn image_history(d: Arc<Daemon>, name: String) -> Reply {
    blocking(move || {
        let image = d.images.resolve(&name)?;
        let tags = d.images.tags_of(&image.id)?;
        let steps = match image.history.is_empty() {
            // Kept before Vessel kept the history: the image as one step.
            true => vec![crate::image::History {
                created: Some(image.created.clone()),
                comment: image.comment.clone(),
                ..Default::default()
            }],
            false => image.history.clone(),
        };
        let mut layers = image.layers.iter();
        let mut rows: Vec<Value> = steps
            .iter()
            .map(|step| {
                let size = match step.empty_layer {
                    true => 0,
                    false => layers.next().map_or(0, |l| d.images.layer_size(l)),
                };
                let created = step.created.as_deref().unwrap_or_default();
                json!({
                    "Id": "<missing>",
                    "Created": chrono::DateTime::parse_from_rfc3339(created).map_or(0, |t| t.timestamp()),
                    "CreatedBy": step.created_by,
                    "Tags": null,
                    "Size": size,
                    "Comment": step.comment,
                })
            })
            .collect();
        rows.reverse();
        if let Some(top) = rows.first_mut() {
            top["Id"] = json!(image.id);
            top["Tags"] = json!(tags);
        }
        Ok(json(StatusCode::OK, &rows))
    })
    .await
}

/// `DELETE /images/{name}`: what was untagged and deleted.
pub(super) async fn image_remove(d: Arc<Daemon>, name: String, call: &Call) -> Reply {
    let force = call.flag("force");
    blocking(move || {
        let done = d.remove_image(&name, force)?;
        let out: Vec<Value> = done.into_iter().map(|(k, v)| json!({ k: v })).collect();
        Ok(json(StatusCode::OK, &out))
    })
    .await
}

/// `POST /images/prune?filters=`: untagged images no container uses, or
/// (`dangling=false`, the CLI's `-a`) every image no container uses.
pub(super) async fn image_prune(d: Arc<Daemon>, call: &Call) -> Reply {
    let filters = match call
        .q("filters")
        .map(|f| parse_filters(f, &["dangling", "label", "until"]))
        .transpose()
    {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return error(&e),
    };
    let mut all = false;
    for (key, values) in &filters {
        match key.as_str() {
            "dangling" => {
                let mut said = std::collections::BTreeSet::new();
                for v in values {
                    said.insert(match v.to_ascii_lowercase().as_str() {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => {
                            return error(&EngineError::InvalidParameter(format!(
                                "invalid filter 'dangling={v}'"
                            )))
                        }
                    });
                }
                if said.len() > 1 {
                    return error(&EngineError::InvalidParameter(
                        "invalid filter 'dangling': both true and false".into(),
                    ));
                }
                all = said.contains(&false);
            }
            other => {
                return error(&EngineError::InvalidParameter(format!(
                    "filter '{other}' is not supported by Vessel's image prune yet (only dangling)"
                )))
            }
        }
    }
    blocking(move || {
        let pruned = d.prune_images(all)?;
        let deleted: Vec<Value> = pruned
            .removed
            .iter()
            .map(|(what, which)| json!({ what: which }))
            .collect();
        let deleted = match deleted.is_empty() {
            true => Value::Null,
            false => json!(deleted),
        };
        Ok(json(
            StatusCode::OK,
            &json!({"ImagesDeleted": deleted, "SpaceReclaimed": pruned.reclaimed}),
        ))
    })
    .await
}

/// `GET /system/df`: the images' and containers' disk use.
pub(super) async fn system_df(d: Arc<Daemon>) -> Reply {
    blocking(move || {
        let (images, layers_size) = d.image_usage()?;
        let images: Vec<Value> = images
            .iter()
            .map(|u| {
                let names = Names {
                    tags: u.tags.clone(),
                    digests: u.digests.clone(),
                };
                let mut row = image_summary(&u.image, &names, u.containers);
                row["SharedSize"] = json!(u.shared);
                row
            })
            .collect();
        let containers = d.container_usage();
        // Docker counts only the volumes of the disk (none with a
        // filesystem of their own).
        let volumes: Vec<Value> = d
            .volumes
            .list()
            .iter()
            .filter(|v| v.options.is_empty())
            .map(|v| super::volumes::volume_json(&d, v, true))
            .collect();
        Ok(json(
            StatusCode::OK,
            &json!({
                "LayersSize": layers_size,
                "Images": images,
                "Containers": containers,
                "Volumes": volumes,
                "BuildCache": [],
            }),
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn references_match_as_gos_path_match() {
        assert!(glob("busy*", "busybox"));
        assert!(glob("busybox:*", "busybox:latest"));
        assert!(glob("*/app", "127.0.0.1:5000/app"));
        assert!(!glob("*", "a/b"), "a star stops at a slash");
        assert!(glob("b?sybox", "busybox"));
        assert!(!glob("box", "busybox"));
    }
}
