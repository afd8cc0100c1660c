//! The parts of an OCI runtime spec the HCS document is built from.
//!
//! The Windows section comes in two shapes: runtime-spec 1.0 (what Docker
//! sent from 2017 on) and the interim Windows spec Docker used in 2016.
//! oci-spec 0.10 drops `hyperv.utilityVMPath`, so both shapes have their own
//! types here. Unknown fields are ignored, as Go's decoder does.

pub mod legacy;
pub mod oci;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::error::HcsConfigError;

/// A runtime spec, parsed; `raw` keeps the document as given (LCOW hands the
/// whole spec on to the guest).
#[derive(Debug, Clone)]
pub struct Spec {
    pub process: Option<Process>,
    pub root: Root,
    pub hostname: String,
    pub platform: Platform,
    pub windows: Option<WindowsSection>,
    /// Present for a Linux container on Windows (LCOW).
    pub has_linux: bool,
    pub raw: Value,
}

/// The Windows section in whichever shape the spec uses.
#[derive(Debug, Clone)]
pub enum WindowsSection {
    Oci(oci::Windows, Vec<oci::Mount>),
    Legacy(legacy::Windows, Vec<legacy::Mount>),
}

/// The container's first process (or, for an exec, the process to add).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Process {
    pub terminal: bool,
    #[serde(rename = "consoleSize")]
    pub console_size: Option<ConsoleSize>,
    pub user: User,
    pub args: Vec<String>,
    /// Windows: the arguments are already escaped for a command line.
    #[serde(rename = "argsEscaped", alias = "args_escaped")]
    pub args_escaped: bool,
    pub env: Vec<String>,
    pub cwd: String,
}

/// Console height and width.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct ConsoleSize {
    pub height: u32,
    pub width: u32,
}

/// The process user; `username` is what Windows and LCOW look at.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct User {
    pub username: String,
}

/// The container's root filesystem.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Root {
    pub path: String,
    pub readonly: bool,
}

/// The platform the image was built for (2016 specs only).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Platform {
    #[serde(rename = "os.version")]
    pub os_version: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Common {
    process: Option<Process>,
    root: Root,
    hostname: String,
    platform: Platform,
}

/// Keys only the 2016 Windows section has.
const LEGACY_KEYS: &[&str] = &[
    "layer_folder",
    "layer_paths",
    "hv_runtime",
    "networking",
    "first_start",
];

/// Keys only the runtime-spec 1.0 Windows section has.
const OCI_KEYS: &[&str] = &[
    "layerFolders",
    "hyperv",
    "network",
    "credentialSpec",
    "servicing",
    "ignoreFlushesDuringBoot",
];

impl Spec {
    /// Parses a spec document; errors name the field that does not fit.
    pub fn from_json(text: &str) -> Result<Self, HcsConfigError> {
        let raw: Value = serde_json::from_str(text).map_err(|e| HcsConfigError::SpecSyntax {
            reason: e.to_string(),
        })?;
        Self::from_value(raw)
    }

    /// Parses an already decoded spec document.
    pub fn from_value(raw: Value) -> Result<Self, HcsConfigError> {
        if !raw.is_object() {
            return Err(HcsConfigError::SpecSyntax {
                reason: "the spec is not a JSON object".into(),
            });
        }
        let common: Common = typed("", &raw)?;
        let has_linux = raw.get("linux").is_some_and(|v| !v.is_null());
        let mounts = raw.get("mounts").cloned().unwrap_or(Value::Null);
        let windows = match raw.get("windows") {
            None | Some(Value::Null) => None,
            Some(section) => Some(windows_section(section, &mounts)?),
        };
        Ok(Spec {
            process: common.process,
            root: common.root,
            hostname: common.hostname,
            platform: common.platform,
            windows,
            has_linux,
            raw,
        })
    }
}

fn windows_section(section: &Value, mounts: &Value) -> Result<WindowsSection, HcsConfigError> {
    let Some(keys) = section.as_object() else {
        return Err(HcsConfigError::SpecField {
            field: "windows".into(),
            reason: format!("expected an object, found {section}"),
        });
    };
    let legacy = LEGACY_KEYS.iter().find(|k| keys.contains_key(**k));
    let oci = OCI_KEYS.iter().find(|k| keys.contains_key(**k));
    let mounts = if mounts.is_null() {
        &Value::Array(Vec::new())
    } else {
        mounts
    };
    match (legacy, oci) {
        (Some(l), Some(o)) => Err(HcsConfigError::MixedWindowsShapes {
            legacy: (*l).to_string(),
            oci: (*o).to_string(),
        }),
        (Some(_), None) => Ok(WindowsSection::Legacy(
            typed("windows", section)?,
            typed("mounts", mounts)?,
        )),
        (None, _) => Ok(WindowsSection::Oci(
            typed("windows", section)?,
            typed("mounts", mounts)?,
        )),
    }
}

/// Decodes `value` into `T`, naming the offending field on failure.
pub(crate) fn typed<T: DeserializeOwned>(prefix: &str, value: &Value) -> Result<T, HcsConfigError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let field = match (prefix.is_empty(), inner == ".") {
            (true, _) => inner,
            (false, true) => prefix.to_string(),
            (false, false) if inner.starts_with('[') => format!("{prefix}{inner}"),
            (false, false) => format!("{prefix}.{inner}"),
        };
        HcsConfigError::SpecField {
            field,
            reason: e.into_inner().to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_2016_shape_by_its_keys() {
        let spec = Spec::from_json(r#"{"windows":{"layer_folder":"C:\\a"}}"#).unwrap();
        assert!(matches!(spec.windows, Some(WindowsSection::Legacy(..))));
    }

    #[test]
    fn detects_the_runtime_spec_shape_by_its_keys() {
        let spec = Spec::from_json(r#"{"windows":{"layerFolders":["C:\\a"]}}"#).unwrap();
        assert!(matches!(spec.windows, Some(WindowsSection::Oci(..))));
    }

    #[test]
    fn rejects_a_windows_section_mixing_both_shapes() {
        let err =
            Spec::from_json(r#"{"windows":{"layerFolders":[],"layer_paths":[]}}"#).unwrap_err();
        assert!(err.to_string().contains("layer_paths"), "{err}");
        assert!(err.to_string().contains("layerFolders"), "{err}");
    }

    #[test]
    fn a_wrong_type_names_the_field_path() {
        let err =
            Spec::from_json(r#"{"windows":{"resources":{"cpu":{"count":"two"}}}}"#).unwrap_err();
        assert!(
            err.to_string().starts_with("windows.resources.cpu.count:"),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_mount_field_names_its_index() {
        let err = Spec::from_json(
            r#"{"windows":{"layerFolders":[]},"mounts":[{"destination":"C:\\d","options":"ro"}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("mounts[0].options:"), "{err}");
    }

    #[test]
    fn rejects_a_document_that_is_not_json() {
        let err = Spec::from_json("{").unwrap_err();
        assert!(matches!(err, HcsConfigError::SpecSyntax { .. }));
    }
}
