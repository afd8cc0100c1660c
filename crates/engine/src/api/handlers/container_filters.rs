//! The filters of `docker ps` and `docker container prune`, with the
//! containers and images they name looked up once.

use chrono::{DateTime, Utc};

use crate::api::filters::{timestamp, Filters};
use crate::container::Container;
use crate::daemon::Daemon;
use crate::error::{EngineError, Result};

/// The filters of `GET /containers/json` Vessel knows.
pub(super) const LIST: &[&str] = &[
    "id", "name", "label", "status", "exited", "ancestor", "before", "since", "network", "volume",
    "health",
];

/// The filters of `POST /containers/prune`.
pub(super) const PRUNE: &[&str] = &["label", "label!", "until"];

const STATUSES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];
const HEALTH: &[&str] = &["starting", "healthy", "unhealthy", "none"];

/// Filters ready to test containers with.
pub(super) struct ContainerFilters {
    filters: Filters,
    /// The images `ancestor` names, by id (a name that is no image
    /// matches nothing, as in Docker).
    ancestors: Vec<String>,
    /// Creation times: containers created before `before`'s, after
    /// `since`'s, before `until`.
    before: Option<String>,
    since: Option<String>,
    until: Option<DateTime<Utc>>,
}

impl ContainerFilters {
    /// Looks up what `filters` name: `before` and `since` must name
    /// containers; `status` and `health` values must be Docker's.
    pub(super) fn resolve(d: &Daemon, filters: Filters) -> Result<ContainerFilters> {
        // Docker's words for each.
        let bad_status =
            |v: &str| EngineError::InvalidParameter(format!("Invalid filter 'status={v}'"));
        let bad_health = |v: &str| {
            EngineError::InvalidParameter(format!("Unrecognised filter value for health: {v}"))
        };
        let mut out = ContainerFilters {
            filters: Vec::new(),
            ancestors: Vec::new(),
            before: None,
            since: None,
            until: None,
        };
        for (key, values) in &filters {
            for v in values {
                match key.as_str() {
                    "status" if !STATUSES.contains(&v.as_str()) => return Err(bad_status(v)),
                    "health" if !HEALTH.contains(&v.as_str()) => return Err(bad_health(v)),
                    "ancestor" => out.ancestors.extend(d.images.resolve(v).ok().map(|i| i.id)),
                    "before" => out.before = Some(d.read_one(v, |r| r.container.created.clone())?),
                    "since" => out.since = Some(d.read_one(v, |r| r.container.created.clone())?),
                    "until" => out.until = Some(timestamp(v, Utc::now())?),
                    _ => {}
                }
            }
        }
        out.filters = filters;
        Ok(out)
    }

    /// Whether `c` passes every filter.
    pub(super) fn matches(&self, c: &Container) -> bool {
        self.filters
            .iter()
            .all(|(key, values)| self.passes(c, key, values))
    }

    /// Whether `c` passes the filter `key`: one of its `values` matching
    /// (every one for `label`; none for `label!`).
    fn passes(&self, c: &Container, key: &str, values: &[String]) -> bool {
        let labels = c.config.labels.as_ref();
        let labelled = |v: &String| match v.split_once('=') {
            Some((k, val)) => labels.and_then(|l| l.get(k)).is_some_and(|l| l == val),
            None => labels.is_some_and(|l| l.contains_key(v.as_str())),
        };
        match key {
            "id" => values.iter().any(|v| c.id.starts_with(v.as_str())),
            "name" => values
                .iter()
                .any(|v| c.short_name().contains(v.trim_start_matches('/'))),
            "status" => values.iter().any(|v| v == c.state.status.as_str()),
            "exited" => {
                c.state.status == crate::container::Status::Exited
                    && values.iter().any(|v| v.parse() == Ok(c.state.exit_code))
            }
            "label" => values.iter().all(labelled),
            "label!" => !values.iter().any(labelled),
            "ancestor" => self.ancestors.contains(&c.image),
            "before" => self.before.as_ref().is_some_and(|t| c.created < *t),
            "since" => self.since.as_ref().is_some_and(|t| c.created > *t),
            "until" => {
                let created = DateTime::parse_from_rfc3339(&c.created);
                self.until
                    .zip(created.ok())
                    .is_some_and(|(until, created)| created < until)
            }
            "network" => values.iter().any(|v| on_network(c, v)),
            "volume" => values
                .iter()
                .any(|v| mounts(c).any(|(s, d)| s == v || d == v)),
            "health" => {
                let status = c.state.health.as_ref().and_then(|h| h.status);
                let status = status.map_or("none".to_string(), |s| s.to_string());
                values.contains(&status)
            }
            _ => false,
        }
    }
}

/// Whether `c` is on the network named or identified (in full or by a
/// prefix) by `v`; the `none`, `host` and `container:` modes count as
/// networks of those names.
fn on_network(c: &Container, v: &str) -> bool {
    if c.network_settings.networks.is_empty() {
        return c.network_mode() == v;
    }
    c.network_settings
        .networks
        .iter()
        .any(|(name, ep)| name == v || ep.network_id.as_deref().is_some_and(|id| id.starts_with(v)))
}

/// A container's mounts as (name, or source for one without, and
/// destination), as Docker's `volume` filter matches them.
fn mounts(c: &Container) -> impl Iterator<Item = (&str, &str)> {
    c.mount_points.iter().map(|p| {
        let key = if p.name.is_empty() {
            &p.source
        } else {
            &p.name
        };
        (key.as_str(), p.destination.as_str())
    })
}
