//! Detach keys (`detachKeys`, Docker's `ctrl-p,ctrl-q` by default): a
//! sequence in what an attached client types that ends its attach and
//! leaves the container running. Bytes that begin the sequence are held
//! until it is whole (then dropped) or broken (then passed on).

use crate::error::{EngineError, Result};

/// Docker's default sequence: ctrl-p, ctrl-q.
pub const DEFAULT: &[u8] = &[0x10, 0x11];

/// The sequence `keys` names: comma-separated `ctrl-<key>` or single
/// characters, as Docker takes them.
pub fn parse(keys: &str) -> Result<Vec<u8>> {
    let invalid = || {
        EngineError::InvalidParameter(format!(
            "Invalid detach keys (detachKeys) provided: {keys:?}"
        ))
    };
    keys.split(',')
        .map(|key| {
            let bytes = key.as_bytes();
            match key.strip_prefix("ctrl-").map(str::as_bytes) {
                Some([c @ b'a'..=b'z']) => Ok(c - b'a' + 1),
                Some([b'@']) => Ok(0),
                Some([c @ (b'[' | b'\\' | b']' | b'^' | b'_')]) => Ok(c - b'[' + 27),
                Some(_) => Err(invalid()),
                None if bytes.len() == 1 => Ok(bytes[0]),
                None => Err(invalid()),
            }
        })
        .collect()
}

/// The sequence `keys` names when given, else Docker's default.
pub fn parse_or_default(keys: Option<&str>) -> Result<Vec<u8>> {
    keys.map_or_else(|| Ok(DEFAULT.to_vec()), parse)
}

/// Watches a client's input for the sequence.
#[derive(Debug)]
pub struct Watch {
    keys: Vec<u8>,
    /// How much of the sequence the input has matched so far.
    matched: usize,
}

impl Watch {
    pub fn new(keys: Vec<u8>) -> Watch {
        Watch { keys, matched: 0 }
    }

    /// What of `input` passes on to the process, and whether the
    /// sequence is now whole (what follows it is not passed on).
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if self.keys.is_empty() {
                out.push(b);
                continue;
            }
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return (out, true);
                }
                continue;
            }
            // Broken: what was held goes on, and this byte may start it
            // again.
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
            } else {
                out.push(b);
            }
        }
        (out, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_as_dockers() {
        assert_eq!(parse("ctrl-p,ctrl-q").unwrap(), DEFAULT);
        assert_eq!(parse("a,ctrl-@,ctrl-[,ctrl-_").unwrap(), [b'a', 0, 27, 31]);
        for bad in ["ctrl-pp", "ab", "", "ctrl-1"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains("detachKeys"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_sequence_is_held_then_dropped_or_passed_on() {
        let mut w = Watch::new(DEFAULT.to_vec());
        assert_eq!(w.feed(b"ls\n"), (b"ls\n".to_vec(), false));
        // Split across reads, and broken: held, then passed on.
        assert_eq!(w.feed(&[0x10]), (vec![], false));
        assert_eq!(w.feed(b"x"), (vec![0x10, b'x'], false));
        assert_eq!(w.feed(&[0x10, 0x10]), (vec![0x10], false));
        assert_eq!(w.feed(&[0x11, b'y']), (vec![], true));
        let mut w = Watch::new(DEFAULT.to_vec());
        assert_eq!(w.feed(b"ab\x10\x11cd"), (b"ab".to_vec(), true));
    }
}
