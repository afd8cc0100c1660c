//! Container logs in Docker's json-file format: one JSON object per line,
//! `{"log": "...\n", "stream": "stdout", "time": "<RFC 3339 nanos>"}`.
//!
//! Output is cut into lines; a line is written once its newline arrives,
//! and what is left when the stream ends (or past 16 KiB) is written as a
//! partial line without one.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::record::now_rfc3339;

/// Longest line kept whole; longer output is split, as Docker does.
const MAX_LINE: usize = 16 * 1024;

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub log: String,
    pub stream: String,
    pub time: String,
}

/// Appends a process's output to a json-file log (or, made with
/// [`LogWriter::none`], keeps nothing).
#[derive(Debug)]
pub struct LogWriter {
    file: Option<File>,
    pending: [Vec<u8>; 2],
}

/// Which output stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl LogWriter {
    /// Opens (or creates) the log for appending.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(LogWriter {
            file: Some(file),
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// A log that keeps nothing (Docker's `none` driver).
    pub fn none() -> Self {
        LogWriter {
            file: None,
            pending: [Vec::new(), Vec::new()],
        }
    }

    /// Takes a chunk of output; writes every line it completes.
    pub fn write(&mut self, stream: Stream, mut data: &[u8]) -> io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let mut out = Vec::new();
        while !data.is_empty() {
            let pending = &mut self.pending[stream as usize];
            match data.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    pending.extend_from_slice(&data[..=i]);
                    data = &data[i + 1..];
                    entry(&mut out, stream, pending)?;
                    pending.clear();
                }
                None => {
                    pending.extend_from_slice(data);
                    data = &[];
                    if pending.len() >= MAX_LINE {
                        entry(&mut out, stream, pending)?;
                        pending.clear();
                    }
                }
            }
        }
        file.write_all(&out)
    }

    /// Writes what is left of a stream that has ended.
    pub fn flush_stream(&mut self, stream: Stream) -> io::Result<()> {
        let pending = std::mem::take(&mut self.pending[stream as usize]);
        if pending.is_empty() {
            return Ok(());
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let mut out = Vec::new();
        entry(&mut out, stream, &pending)?;
        file.write_all(&out)
    }
}

fn entry(out: &mut Vec<u8>, stream: Stream, line: &[u8]) -> io::Result<()> {
    let e = LogEntry {
        log: String::from_utf8_lossy(line).into_owned(),
        stream: stream.name().to_string(),
        time: now_rfc3339(),
    };
    serde_json::to_writer(&mut *out, &e).map_err(io::Error::other)?;
    out.push(b'\n');
    Ok(())
}

/// Reads every entry of a log; a torn last line (a crash mid-write) is
/// skipped.
pub fn read_log(path: &Path) -> io::Result<Vec<LogEntry>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut entries = Vec::new();
    for line in BufReader::new(file).lines() {
        if let Ok(entry) = serde_json::from_str(&line?) {
            entries.push(entry);
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_logged_whole_and_partials_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut w = LogWriter::open(&path).unwrap();
        w.write(Stream::Stdout, b"hel").unwrap();
        w.write(Stream::Stderr, b"err\n").unwrap();
        w.write(Stream::Stdout, b"lo\nwor").unwrap();
        w.flush_stream(Stream::Stdout).unwrap();
        let got: Vec<(String, String)> = read_log(&path)
            .unwrap()
            .into_iter()
            .map(|e| (e.stream, e.log))
            .collect();
        assert_eq!(
            got,
            [
                ("stderr".to_string(), "err\n".to_string()),
                ("stdout".into(), "hello\n".into()),
                ("stdout".into(), "wor".into())
            ]
        );
    }

    #[test]
    fn very_long_lines_are_split() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut w = LogWriter::open(&path).unwrap();
        w.write(Stream::Stdout, &vec![b'x'; MAX_LINE + 10]).unwrap();
        w.write(Stream::Stdout, b"\n").unwrap();
        let entries = read_log(&path).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].log.len(), MAX_LINE + 10);
    }
}
