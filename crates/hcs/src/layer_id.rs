//! Layer IDs: `NameToGuid` of a layer folder's name.
//!
//! HCS identifies a layer by a GUID that `vmcompute.dll!NameToGuid` derives
//! from the folder's name. No public algorithm reproduces it (it is a
//! name-based v5 UUID in a namespace private to Windows), so it sits behind
//! a trait: on Windows it calls the DLL, elsewhere IDs are given by the user.

use std::collections::BTreeMap;
use std::fmt;

use thiserror::Error;

/// Why a layer's ID could not be found.
#[derive(Debug, Error)]
pub enum LayerIdError {
    #[error("no ID known for layer {name:?}: give it with --layer-id {name}=GUID (NameToGuid of the name, as Windows computes it)")]
    Unknown { name: String },
    #[error("layer {name:?}: {value:?} is not a GUID")]
    BadGuid { name: String, value: String },
    #[error("layer {name:?}: NameToGuid failed with HRESULT {hresult:#010x}")]
    Call { name: String, hresult: u32 },
}

/// A GUID, printed in its usual lower-case registry form without braces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Guid {
    pub data1: u32,
    pub data2: u16,
    pub data3: u16,
    pub data4: [u8; 8],
}

impl Guid {
    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, braces optional.
    pub fn parse(text: &str) -> Option<Guid> {
        let t = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(text);
        let parts: Vec<&str> = t.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        if parts.len() != 5
            || parts
                .iter()
                .zip(lens)
                .any(|(p, n)| p.len() != n || !p.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return None;
        }
        let tail = format!("{}{}", parts[3], parts[4]);
        let mut data4 = [0u8; 8];
        for (i, byte) in data4.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&tail[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Guid {
            data1: u32::from_str_radix(parts[0], 16).ok()?,
            data2: u16::from_str_radix(parts[1], 16).ok()?,
            data3: u16::from_str_radix(parts[2], 16).ok()?,
            data4,
        })
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.data4;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            self.data1, self.data2, self.data3, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
        )
    }
}

/// Maps a layer folder's name to the GUID HCS knows it by.
pub trait LayerIdSource {
    /// `NameToGuid(name)`; `name` is the folder's last path element.
    fn layer_id(&self, name: &str) -> Result<Guid, LayerIdError>;
}

/// Layer IDs supplied by the user (`--layer-id NAME=GUID`).
#[derive(Debug, Clone, Default)]
pub struct GivenLayerIds {
    ids: BTreeMap<String, Guid>,
}

impl GivenLayerIds {
    /// Adds `name = guid`, checking the GUID's form.
    pub fn insert(&mut self, name: &str, guid: &str) -> Result<(), LayerIdError> {
        let parsed = Guid::parse(guid).ok_or_else(|| LayerIdError::BadGuid {
            name: name.to_string(),
            value: guid.to_string(),
        })?;
        self.ids.insert(name.to_string(), parsed);
        Ok(())
    }
}

impl LayerIdSource for GivenLayerIds {
    fn layer_id(&self, name: &str) -> Result<Guid, LayerIdError> {
        self.ids
            .get(name)
            .copied()
            .ok_or_else(|| LayerIdError::Unknown {
                name: name.to_string(),
            })
    }
}

/// Given IDs first, then `vmcompute.dll` (on Windows only).
#[derive(Debug, Clone, Default)]
pub struct HostLayerIds {
    pub given: GivenLayerIds,
}

impl LayerIdSource for HostLayerIds {
    fn layer_id(&self, name: &str) -> Result<Guid, LayerIdError> {
        match self.given.layer_id(name) {
            Ok(guid) => Ok(guid),
            #[cfg(windows)]
            Err(LayerIdError::Unknown { .. }) => crate::vmcompute::name_to_guid(name),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_round_trips_through_its_text_form() {
        let text = "18955d65-d45a-557b-bf1c-49d6dfefc526";
        assert_eq!(Guid::parse(text).unwrap().to_string(), text);
        assert_eq!(
            Guid::parse("{BD9C3EF9-F239-59B5-A27E-15C523B1D149}")
                .unwrap()
                .to_string(),
            "bd9c3ef9-f239-59b5-a27e-15c523b1d149"
        );
    }

    #[test]
    fn guid_parse_rejects_malformed_text() {
        for bad in [
            "",
            "18955d65d45a557bbf1c49d6dfefc526",
            "18955d65-d45a-557b-bf1c-49d6dfefc52g",
        ] {
            assert!(Guid::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn unknown_layer_error_says_how_to_supply_it() {
        let err = GivenLayerIds::default().layer_id("abc").unwrap_err();
        assert!(err.to_string().contains("--layer-id abc=GUID"), "{err}");
    }

    #[test]
    fn given_layer_id_must_be_a_guid() {
        let err = GivenLayerIds::default().insert("abc", "nope").unwrap_err();
        assert!(matches!(err, LayerIdError::BadGuid { .. }));
    }
}
