//! Output frames on an attach stream: the Docker multiplexed-stream format,
//! an 8-byte header `[stream, 0, 0, 0, len as u32 big-endian]` then `len`
//! bytes. A terminal's output is sent as stdout. A foreground run's stream
//! (see [`crate::launch::Foreground`]) ends with one frame of Vessel's own,
//! [`EXIT`].

use std::io::{self, Read};

pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
/// The first process's exit status (JSON), last on a foreground run's
/// stream. Outside the stream numbers Docker uses (0 to 3), and never
/// sent on an attach stream of the Docker API.
pub const EXIT: u8 = 0x80;

/// The header and payload of one frame.
pub fn encode(stream: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + data.len());
    out.extend_from_slice(&[stream, 0, 0, 0]);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
    out
}

/// The stream and payload length a frame's header announces.
pub fn decode_header(header: &[u8; 8]) -> (u8, usize) {
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    (header[0], len as usize)
}

/// Reads the next frame; `None` at a clean end of stream.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut header = [0u8; 8];
    let mut got = 0;
    while got < header.len() {
        match r.read(&mut header[got..])? {
            0 if got == 0 => return Ok(None),
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    let (stream, len) = decode_header(&header);
    let mut data = vec![0u8; len];
    r.read_exact(&mut data)?;
    Ok(Some((stream, data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut bytes = encode(STDOUT, b"hello\n");
        bytes.extend(encode(STDERR, b""));
        bytes.extend(encode(STDERR, b"oops"));
        let mut r = &bytes[..];
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Some((STDOUT, b"hello\n".to_vec()))
        );
        assert_eq!(read_frame(&mut r).unwrap(), Some((STDERR, vec![])));
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Some((STDERR, b"oops".to_vec()))
        );
        assert_eq!(read_frame(&mut r).unwrap(), None);
    }

    #[test]
    fn a_truncated_frame_is_an_error() {
        let bytes = encode(STDOUT, b"hello");
        assert!(read_frame(&mut &bytes[..3]).is_err());
        assert!(read_frame(&mut &bytes[..10]).is_err());
    }
}
