//! `vmcompute.dll!NameToGuid`, the only source of real layer IDs.
#![allow(unsafe_code)]

use crate::layer_id::{Guid, LayerIdError};

#[link(name = "vmcompute")]
extern "system" {
    fn NameToGuid(name: *const u16, guid: *mut Guid) -> i32;
}

/// Calls `NameToGuid(name)`.
pub(crate) fn name_to_guid(name: &str) -> Result<Guid, LayerIdError> {
    let wide: Vec<u16> = name.encode_utf16().chain(std::iter::once(0)).collect();
    let mut guid = Guid {
        data1: 0,
        data2: 0,
        data3: 0,
        data4: [0; 8],
    };
    // SAFETY: `wide` is a NUL-terminated UTF-16 string that outlives the
    // call, and `guid` is a writable value laid out as the Win32 GUID struct
    // (u32, u16, u16, [u8; 8], see the repr(C) on Guid).
    let hr = unsafe { NameToGuid(wide.as_ptr(), &mut guid) };
    if hr < 0 {
        return Err(LayerIdError::Call {
            name: name.to_string(),
            hresult: hr as u32,
        });
    }
    Ok(guid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_to_guid_matches_known_vectors() {
        let layer = "65bf96e5760a09edf1790cb229e2dfb2dbd0fcdc0bf7451bae099106bfbfea0c";
        assert_eq!(
            name_to_guid(layer).unwrap().to_string(),
            "18955d65-d45a-557b-bf1c-49d6dfefc526"
        );
        assert_eq!(
            name_to_guid("4").unwrap().to_string(),
            "bd9c3ef9-f239-59b5-a27e-15c523b1d149"
        );
    }
}
