//! A container's seccomp profile, as Docker makes it: a profile in
//! Docker's format (its default, [`default::profile`], or one given with
//! `--security-opt seccomp=...`) resolved for the container into the
//! runtime spec's `linux.seccomp`. A rule may apply only on some
//! architectures, only with (or without) some capabilities in the
//! container's bounding set, or only from a kernel version on; the
//! resolved profile keeps the rules that apply, in order.

mod default;

use oci_spec::runtime::{
    Arch, Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompFilterFlag, LinuxSeccompOperator, LinuxSyscall,
};
use serde::Deserialize;

use crate::error::{EngineError, Result};

pub use default::profile as default_profile;

/// A profile in Docker's format.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    #[serde(default)]
    pub default_action: Option<LinuxSeccompAction>,
    #[serde(default)]
    pub default_errno_ret: Option<u32>,
    #[serde(default)]
    pub architectures: Vec<Arch>,
    /// Architectures by native one: the native one's entry is taken.
    #[serde(default)]
    pub arch_map: Vec<ArchMap>,
    #[serde(default)]
    pub flags: Vec<LinuxSeccompFilterFlag>,
    #[serde(default)]
    pub listener_path: Option<String>,
    #[serde(default)]
    pub syscalls: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchMap {
    pub architecture: Arch,
    #[serde(default)]
    pub sub_architectures: Vec<Arch>,
}

/// One rule: the syscalls it names, its action, and when it applies.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// A single name, Docker's older form (not with `names`).
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub names: Vec<String>,
    pub action: LinuxSeccompAction,
    #[serde(default)]
    pub errno_ret: Option<u32>,
    #[serde(default)]
    pub args: Vec<Arg>,
    #[serde(default)]
    pub includes: When,
    #[serde(default)]
    pub excludes: When,
}

/// A comparison of one of the call's arguments.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Arg {
    pub index: usize,
    pub value: u64,
    #[serde(default)]
    pub value_two: Option<u64>,
    pub op: LinuxSeccompOperator,
}

impl Arg {
    fn to_spec(self) -> Result<LinuxSeccompArg> {
        let arg = LinuxSeccompArgBuilder::default()
            .index(self.index)
            .value(self.value)
            .op(self.op);
        match self.value_two {
            Some(two) => arg.value_two(two),
            None => arg,
        }
        .build()
        .map_err(|e| EngineError::Internal(format!("a seccomp argument: {e}")))
    }
}

/// Conditions on a rule: architectures (Go's names: `amd64`, `x86`, ...),
/// capabilities (`CAP_...`), and a kernel version (`4.8`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct When {
    #[serde(default)]
    pub arches: Vec<String>,
    #[serde(default)]
    pub caps: Vec<String>,
    #[serde(default)]
    pub min_kernel: Option<String>,
}

/// The host a profile is resolved on.
#[derive(Debug, Clone, Copy)]
pub struct Host {
    /// The kernel's version, major and minor.
    pub kernel: (u32, u32),
}

/// The native architecture: Go's name for it, as profiles name it in a
/// rule's conditions, and the seccomp one, as `archMap` names it.
#[cfg(target_arch = "x86_64")]
const NATIVE: (&str, Arch) = ("amd64", Arch::ScmpArchX86_64);
#[cfg(target_arch = "aarch64")]
const NATIVE: (&str, Arch) = ("arm64", Arch::ScmpArchAarch64);
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const NATIVE: (&str, Arch) = ("", Arch::ScmpArchNative);

/// Decodes a profile given as JSON (the contents of the file named with
/// `--security-opt seccomp=FILE`, which the client sends). `field` names
/// where it came from in the request.
pub fn parse(field: &str, json: &str) -> Result<Profile> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let at = e.path().to_string();
        EngineError::InvalidParameter(format!(
            "{field}: decoding the seccomp profile failed at {at}: {}",
            e.inner()
        ))
    })
}

impl Profile {
    /// The spec's `linux.seccomp` for a container whose bounding set is
    /// `caps`; none for a profile with neither a default action nor a
    /// rule (Docker's reading of it: no filter).
    pub fn resolve(
        &self,
        field: &str,
        caps: &[Capability],
        host: Host,
    ) -> Result<Option<LinuxSeccomp>> {
        let invalid = |why: String| EngineError::InvalidParameter(format!("{field}: {why}"));
        let Some(default_action) = self.default_action else {
            if self.syscalls.is_empty() {
                return Ok(None);
            }
            return Err(invalid("the seccomp profile has no defaultAction".into()));
        };
        if self.listener_path.is_some() || is_notify(default_action) {
            return Err(invalid("seccomp notify is not supported".into()));
        }
        if !self.architectures.is_empty() && !self.arch_map.is_empty() {
            return Err(invalid(
                "the seccomp profile has both 'architectures' and 'archMap': use one".into(),
            ));
        }
        let mut arches = self.architectures.clone();
        if let Some(native) = self.arch_map.iter().find(|m| m.architecture == NATIVE.1) {
            arches.push(native.architecture);
            arches.extend(&native.sub_architectures);
        }
        let caps: Vec<String> = caps.iter().map(|c| format!("CAP_{c}")).collect();
        let mut syscalls = Vec::new();
        for (i, rule) in self.syscalls.iter().enumerate() {
            let at = |why: String| invalid(format!("the seccomp profile's syscalls[{i}]: {why}"));
            if is_notify(rule.action) {
                return Err(at("seccomp notify is not supported".into()));
            }
            if !rule.applies(&caps, host).map_err(|e| at(e.to_string()))? {
                continue;
            }
            let names = match (rule.name.as_str(), rule.names.is_empty()) {
                ("", _) => rule.names.clone(),
                (name, true) => vec![name.to_string()],
                (_, false) => return Err(at("both 'name' and 'names': use one".into())),
            };
            let args: Vec<LinuxSeccompArg> = rule
                .args
                .iter()
                .map(|a| a.to_spec())
                .collect::<Result<_>>()?;
            let mut syscall = LinuxSyscall::default();
            syscall
                .set_names(names)
                .set_action(rule.action)
                .set_errno_ret(rule.errno_ret)
                .set_args((!args.is_empty()).then_some(args));
            syscalls.push(syscall);
        }
        let mut seccomp = LinuxSeccomp::default();
        seccomp
            .set_default_action(default_action)
            .set_default_errno_ret(self.default_errno_ret)
            .set_architectures((!arches.is_empty()).then_some(arches))
            .set_flags((!self.flags.is_empty()).then(|| self.flags.clone()))
            .set_listener_path(None)
            .set_listener_metadata(None)
            .set_syscalls(Some(syscalls));
        Ok(Some(seccomp))
    }
}

fn is_notify(action: LinuxSeccompAction) -> bool {
    action == LinuxSeccompAction::ScmpActNotify
}

impl Rule {
    /// Whether the rule applies to a container with `caps` on `host`:
    /// none of its exclusions holds, and all of its inclusions do.
    fn applies(
        &self,
        caps: &[String],
        host: Host,
    ) -> std::result::Result<bool, InvalidKernelVersion> {
        let (native, ex, inc) = (NATIVE.0, &self.excludes, &self.includes);
        if ex.arches.iter().any(|a| a == native) || ex.caps.iter().any(|c| caps.contains(c)) {
            return Ok(false);
        }
        if let Some(v) = &ex.min_kernel {
            if host.kernel >= kernel_version(v)? {
                return Ok(false);
            }
        }
        if !inc.arches.is_empty() && !inc.arches.iter().any(|a| a == native) {
            return Ok(false);
        }
        if !inc.caps.iter().all(|c| caps.contains(c)) {
            return Ok(false);
        }
        if let Some(v) = &inc.min_kernel {
            if host.kernel < kernel_version(v)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// A kernel version that is not `MAJOR.MINOR[...]`.
#[derive(Debug, thiserror::Error)]
#[error("invalid kernel version {0:?}")]
pub struct InvalidKernelVersion(String);

/// `4.8` (or `4.8.0-...`): major and minor.
pub fn kernel_version(v: &str) -> std::result::Result<(u32, u32), InvalidKernelVersion> {
    let mut parts = v.split(['.', '-']);
    let mut number = || parts.next().and_then(|p| p.parse::<u32>().ok());
    match (number(), number()) {
        (Some(major), Some(minor)) => Ok((major, minor)),
        _ => Err(InvalidKernelVersion(v.to_string())),
    }
}

#[cfg(test)]
mod tests;
