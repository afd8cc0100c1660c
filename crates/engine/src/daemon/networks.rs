//! `docker network`: create, list, inspect, remove, prune, connect and
//! disconnect, with Docker's rules and errors.

use std::collections::BTreeMap;
use std::sync::Arc;

use bollard_stubs::models::{EndpointSettings, NetworkCreateRequest};

use super::{Daemon, Entry};
use crate::error::{EngineError, Result};
use crate::network::{Network, Request};

/// A network with the containers on it: id, name and endpoint.
pub type Members = Vec<(String, String, EndpointSettings)>;

impl Daemon {
    /// `POST /networks/create`.
    pub fn network_create(&self, req: &NetworkCreateRequest) -> Result<Network> {
        if matches!(req.name.as_str(), "host" | "none") {
            return Err(EngineError::Forbidden(format!(
                "{} is a pre-defined network and cannot be created",
                req.name
            )));
        }
        let n = self.networks.create(&Request::of(req)?)?;
        self.network_event(&n, "create", &[("type", "bridge".into())]);
        Ok(n)
    }

    /// Every network with the containers on it.
    pub fn network_list(&self) -> Vec<(Network, Members)> {
        let mut members: BTreeMap<String, Members> = BTreeMap::new();
        // The table's lock is not held while records are locked.
        let entries: Vec<Arc<Entry>> = self.table().values().cloned().collect();
        for entry in entries {
            let c = entry.lock();
            for (name, ep) in &c.network_settings.networks {
                if c.state.running {
                    let row = (c.id.clone(), c.short_name().to_string(), ep.clone());
                    members.entry(name.clone()).or_default().push(row);
                }
            }
        }
        self.networks
            .list()
            .into_iter()
            .map(|n| {
                let m = members.remove(&n.name).unwrap_or_default();
                (n, m)
            })
            .collect()
    }

    /// One network by id, name or id prefix, with its containers.
    pub fn network_inspect(&self, name: &str) -> Result<(Network, Members)> {
        let n = self.networks.find(name)?;
        let found = self.network_list().into_iter().find(|(x, _)| x.id == n.id);
        found.ok_or_else(|| EngineError::NotFound(format!("network {name} not found")))
    }

    /// The containers (running or not) that are on the network.
    fn users_of(&self, n: &Network) -> Vec<String> {
        let entries: Vec<Arc<Entry>> = self.table().values().cloned().collect();
        entries
            .iter()
            .filter_map(|e| {
                let c = e.lock();
                c.network_settings
                    .networks
                    .contains_key(&n.name)
                    .then(|| c.short_name().to_string())
            })
            .collect()
    }

    /// `DELETE /networks/{id}`: refused while any container is on it.
    pub fn network_remove(&self, name: &str) -> Result<()> {
        let n = self.networks.find(name)?;
        let users = self.users_of(&n);
        let n = self.networks.remove(&n.id, &users)?;
        self.network_event(&n, "destroy", &[("type", "bridge".into())]);
        Ok(())
    }

    /// `POST /networks/prune`: the user-defined networks no container is
    /// on; their names. `keep` says which to keep (the filters).
    pub fn network_prune(&self, keep: &dyn Fn(&Network) -> bool) -> Result<Vec<String>> {
        let mut gone = Vec::new();
        for n in self.networks.list() {
            if n.is_default() || keep(&n) || !self.users_of(&n).is_empty() {
                continue;
            }
            if self.network_remove(&n.id).is_ok() {
                gone.push(n.name);
            }
        }
        Ok(gone)
    }

    /// `POST /networks/{id}/connect`: the container is on the network
    /// from now on; one that runs joins it at once.
    pub fn network_connect(
        &self,
        name: &str,
        container: &str,
        ep: Option<&EndpointSettings>,
    ) -> Result<()> {
        let n = self.networks.find(name)?;
        let entry = self.get(container)?;
        let mut c = entry.lock();
        let mode = c.network_mode().to_string();
        if mode == "host" || mode == "none" || mode.starts_with("container:") {
            return Err(EngineError::InvalidParameter(format!(
                "container sharing network namespace with another container or host cannot be connected to any other network (its network mode is {mode})"
            )));
        }
        if c.network_settings.networks.contains_key(&n.name) {
            return Err(EngineError::Forbidden(format!(
                "endpoint with name {} already exists in network {}",
                c.short_name(),
                n.name
            )));
        }
        let asked = super::network::endpoint_config(&n.name, &ep.cloned().unwrap_or_default(), &n)?;
        if c.state.running {
            let (id, name) = (c.id.clone(), c.short_name().to_string());
            let first = super::network::first_network(&c);
            let req = crate::network::JoinRequest {
                id: &id,
                name: &name,
                bindings: &[],
                upstream: self.upstream(&c),
                first: &first,
            };
            self.networks
                .connect(&req, &n, asked, &mut c.network_settings)?;
        } else {
            c.network_settings.networks.insert(n.name.clone(), asked);
        }
        self.save(&c)?;
        let id = c.id.clone();
        drop(c);
        entry.changed.notify_all();
        self.network_event(&n, "connect", &[("container", id)]);
        Ok(())
    }

    /// `POST /networks/{id}/disconnect`.
    pub fn network_disconnect(&self, name: &str, container: &str) -> Result<()> {
        let n = self.networks.find(name)?;
        let entry = self.get(container)?;
        let mut c = entry.lock();
        if !c.network_settings.networks.contains_key(&n.name) {
            return Err(EngineError::Forbidden(format!(
                "container {} is not connected to network {}",
                c.id, n.name
            )));
        }
        let id = c.id.clone();
        if c.state.running {
            self.networks.disconnect(&id, &n, &mut c.network_settings);
        }
        c.network_settings.networks.remove(&n.name);
        self.save(&c)?;
        drop(c);
        entry.changed.notify_all();
        self.network_event(&n, "disconnect", &[("container", id)]);
        Ok(())
    }

    pub(super) fn network_event(&self, n: &Network, action: &str, extra: &[(&str, String)]) {
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_string(), n.name.clone());
        for (k, v) in extra {
            attrs.insert(k.to_string(), v.clone());
        }
        if !attrs.contains_key("type") {
            attrs.insert("type".into(), n.driver.clone());
        }
        self.events.log("network", action, &n.id, attrs);
    }
}
