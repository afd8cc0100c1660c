//! `--security-opt`: each one understood, or refused by name.

use oci_spec::runtime::{Capability, LinuxSeccomp};

use crate::container::HostConfig;
use crate::error::{EngineError, Result};

use super::seccomp::{self, Profile};

/// A container's `SecurityOpt`, understood.
#[derive(Debug, Clone, Default)]
pub struct SecurityOptions {
    /// `no-new-privileges[=true|false]`.
    pub no_new_privileges: bool,
    pub seccomp: Seccomp,
    /// `systempaths=unconfined`: nothing masked or read-only under /proc
    /// and /sys.
    pub system_paths_unconfined: bool,
}

/// Which seccomp profile a container runs under.
#[derive(Debug, Clone, Default)]
pub enum Seccomp {
    /// Docker's default profile (`seccomp=builtin`, or nothing said).
    #[default]
    Default,
    /// `seccomp=unconfined`: no filter.
    Unconfined,
    /// A profile of the user's: the client sends the file's contents.
    Profile {
        /// Where it was given in the request.
        field: String,
        profile: Box<Profile>,
    },
}

/// The container's `SecurityOpt`, each understood or refused by name
/// (`apparmor=unconfined` and `label=disable` ask for what this host does
/// not do anyway).
pub fn security_options(hc: &HostConfig) -> Result<SecurityOptions> {
    let given = hc.security_opt.as_deref().unwrap_or_default();
    let mut out = SecurityOptions::default();
    for (i, opt) in given.iter().enumerate() {
        let field = format!("HostConfig.SecurityOpt[{i}]");
        // Docker takes `key=value`, and `key:value` of old.
        let (key, value) = opt
            .split_once('=')
            .or_else(|| opt.split_once(':'))
            .unwrap_or((opt.as_str(), ""));
        let refuse = |why: &str| {
            Err(EngineError::InvalidParameter(format!(
                "{field}: {opt:?}: {why}"
            )))
        };
        match (key, value) {
            ("no-new-privileges", "" | "true") => out.no_new_privileges = true,
            ("no-new-privileges", "false") => out.no_new_privileges = false,
            ("seccomp", "unconfined") => out.seccomp = Seccomp::Unconfined,
            ("seccomp", "" | "builtin") => out.seccomp = Seccomp::Default,
            ("seccomp", json) => {
                let profile = Box::new(seccomp::parse(&field, json)?);
                out.seccomp = Seccomp::Profile { field, profile };
            }
            ("systempaths", "unconfined") => out.system_paths_unconfined = true,
            ("apparmor", "unconfined") | ("label", "disable") => {}
            ("apparmor" | "label", _) => {
                return refuse("this host confines with neither AppArmor nor SELinux")
            }
            _ => return refuse("invalid --security-opt"),
        }
    }
    Ok(out)
}

impl Seccomp {
    /// The container's `linux.seccomp`, for its bounding set `caps`: none
    /// when privileged (Docker's: even with a profile given) or
    /// unconfined.
    pub fn resolve(
        &self,
        privileged: bool,
        caps: &[Capability],
        host: seccomp::Host,
    ) -> Result<Option<LinuxSeccomp>> {
        match self {
            _ if privileged => Ok(None),
            Seccomp::Unconfined => Ok(None),
            Seccomp::Default => {
                seccomp::default_profile().resolve("the default seccomp profile", caps, host)
            }
            Seccomp::Profile { field, profile } => profile.resolve(field, caps, host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc(opts: &[&str]) -> HostConfig {
        HostConfig {
            security_opt: Some(opts.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn security_opts_are_understood_or_refused_by_name() {
        let got = security_options(&hc(&[
            "no-new-privileges",
            "seccomp=unconfined",
            "label:disable",
            "systempaths=unconfined",
        ]))
        .unwrap();
        assert!(got.no_new_privileges && got.system_paths_unconfined);
        assert!(matches!(got.seccomp, Seccomp::Unconfined));
        let got = security_options(&hc(&["no-new-privileges=false", "seccomp=builtin"])).unwrap();
        assert!(!got.no_new_privileges && matches!(got.seccomp, Seccomp::Default));
        let e = security_options(&hc(&["no-new-privileges", "bogus"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("SecurityOpt[1]") && e.contains("bogus"), "{e}");
    }

    #[test]
    fn a_profile_is_decoded_when_given_and_its_errors_name_where() {
        let got = security_options(&hc(&[
            r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
        ]))
        .unwrap();
        let Seccomp::Profile { field, profile } = got.seccomp else {
            panic!("not a profile");
        };
        assert_eq!(field, "HostConfig.SecurityOpt[0]");
        assert_eq!(profile.syscalls[0].names, ["mkdir"]);
        let e = security_options(&hc(&[
            "label=disable",
            r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOPE"}]}"#,
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("SecurityOpt[1]") && e.contains("syscalls[0].action"),
            "{e}"
        );
        assert!(security_options(&hc(&["seccomp=/not/json"])).is_err());
    }
}
