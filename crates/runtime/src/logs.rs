//! Container logs in Docker's json-file format: one JSON object per line,
//! `{"log": "...\n", "stream": "stdout", "time": "<RFC 3339 nanos>"}`.
//!
//! Output is cut into lines; a line is written once its newline arrives,
//! and what is left when the stream ends (or past 16 KiB) is written as a
//! partial line without one.
//!
//! With a [`Rotation`] (Docker's `max-size` and `max-file`), a log that
//! has reached its size is renamed `<log>.1` (the older ones one further,
//! the oldest dropped) before the next line, and a new one begun: lines
//! are never cut by a rotation.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

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

/// When a log is rotated, and how many files are kept (the log itself
/// and `max_files - 1` rotated ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub max_size: u64,
    pub max_files: u32,
}

/// `<log>.<n>`: the log rotated `n` times ago.
pub fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// A hold on a log's rotation: the writer takes it alone while it renames
/// the files, readers together while they list and open them, so that a
/// reader never sees the files half renamed. (A `flock` on the log's
/// directory; it is not inherited across `exec`.)
#[derive(Debug)]
pub struct RotationLock(#[allow(dead_code)] File);

/// Takes the rotation lock of the log at `path`.
pub fn lock_rotation(path: &Path, exclusive: bool) -> io::Result<RotationLock> {
    let dir = File::open(path.parent().unwrap_or(Path::new(".")))?;
    let how = match exclusive {
        true => rustix::fs::FlockOperation::LockExclusive,
        false => rustix::fs::FlockOperation::LockShared,
    };
    rustix::fs::flock(&dir, how)?;
    Ok(RotationLock(dir))
}

/// The files of a log open at one moment, oldest first: its rotated ones,
/// then itself (`None` when there is no log yet).
pub fn open_files(path: &Path) -> io::Result<(Vec<File>, Option<File>)> {
    let _lock = lock_rotation(path, false)?;
    let all = files(path);
    let mut older = Vec::new();
    for p in &all[..all.len() - 1] {
        older.push(File::open(p)?);
    }
    let current = match File::open(path) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    Ok((older, current))
}

/// The files of a log, oldest first: its rotated ones, then itself.
pub fn files(path: &Path) -> Vec<PathBuf> {
    let mut older: Vec<PathBuf> = (1..)
        .map(|n| rotated(path, n))
        .take_while(|p| p.exists())
        .collect();
    older.reverse();
    older.push(path.to_path_buf());
    older
}

/// Appends a process's output to a json-file log (or, made with
/// [`LogWriter::none`], keeps nothing).
#[derive(Debug)]
pub struct LogWriter {
    file: Option<File>,
    pending: [Vec<u8>; 2],
    path: PathBuf,
    rotation: Option<Rotation>,
    /// The current file's size.
    size: u64,
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
        Self::open_rotating(path, None)
    }

    /// Opens (or creates) the log for appending, rotated as `rotation`
    /// says.
    pub fn open_rotating(path: &Path, rotation: Option<Rotation>) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter {
            file: Some(file),
            pending: [Vec::new(), Vec::new()],
            path: path.to_path_buf(),
            rotation,
            size,
        })
    }

    /// A log that keeps nothing (Docker's `none` driver).
    pub fn none() -> Self {
        LogWriter {
            file: None,
            pending: [Vec::new(), Vec::new()],
            path: PathBuf::new(),
            rotation: None,
            size: 0,
        }
    }

    /// Writes whole entries (JSON lines), rotating the log first whenever
    /// it has reached its size.
    fn append(&mut self, out: &[u8]) -> io::Result<()> {
        let Some(rotation) = self.rotation else {
            self.size += out.len() as u64;
            return match self.file.as_mut() {
                Some(file) => file.write_all(out),
                None => Ok(()),
            };
        };
        for line in out.split_inclusive(|&b| b == b'\n') {
            if self.size >= rotation.max_size {
                self.rotate(rotation)?;
            }
            if let Some(file) = self.file.as_mut() {
                file.write_all(line)?;
            }
            self.size += line.len() as u64;
        }
        Ok(())
    }

    /// `<log>.N-1` to `<log>.N`, ..., the log to `<log>.1`, a new log.
    fn rotate(&mut self, rotation: Rotation) -> io::Result<()> {
        let _lock = lock_rotation(&self.path, true)?;
        let keep = rotation.max_files.max(1);
        if keep == 1 {
            if let Some(file) = self.file.as_mut() {
                file.set_len(0)?;
            }
            self.size = 0;
            return Ok(());
        }
        for n in (1..keep - 1).rev() {
            match std::fs::rename(rotated(&self.path, n), rotated(&self.path, n + 1)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        std::fs::rename(&self.path, rotated(&self.path, 1))?;
        self.file = Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?,
        );
        self.size = 0;
        Ok(())
    }

    /// Takes a chunk of output; writes every line it completes.
    pub fn write(&mut self, stream: Stream, mut data: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            return Ok(());
        }
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
        self.append(&out)
    }

    /// Writes what is left of a stream that has ended.
    pub fn flush_stream(&mut self, stream: Stream) -> io::Result<()> {
        let pending = std::mem::take(&mut self.pending[stream as usize]);
        if pending.is_empty() || self.file.is_none() {
            return Ok(());
        }
        let mut out = Vec::new();
        entry(&mut out, stream, &pending)?;
        self.append(&out)
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

/// Reads every entry of a log, its rotated files first; a torn last line
/// (a crash mid-write) is skipped.
pub fn read_log(path: &Path) -> io::Result<Vec<LogEntry>> {
    let mut entries = Vec::new();
    let (older, current) = match open_files(path) {
        Ok(files) => files,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(entries),
        Err(e) => return Err(e),
    };
    for file in older.into_iter().chain(current) {
        for line in BufReader::new(file).lines() {
            if let Ok(entry) = serde_json::from_str(&line?) {
                entries.push(entry);
            }
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
    fn a_rotated_log_keeps_whole_lines_in_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let rotation = Rotation {
            max_size: 300,
            max_files: 3,
        };
        let mut w = LogWriter::open_rotating(&path, Some(rotation)).unwrap();
        for i in 0..40 {
            w.write(Stream::Stdout, format!("line {i}\n").as_bytes())
                .unwrap();
        }
        let names = files(&path);
        assert_eq!(names, [rotated(&path, 2), rotated(&path, 1), path.clone()]);
        for f in &names[..2] {
            let size = std::fs::metadata(f).unwrap().len();
            assert!((300..400).contains(&size), "{size}");
        }
        // The newest lines, in order, none cut; the oldest dropped.
        let lines: Vec<String> = read_log(&path)
            .unwrap()
            .into_iter()
            .map(|e| e.log)
            .collect();
        let first: usize = lines[0]
            .trim_end()
            .strip_prefix("line ")
            .unwrap()
            .parse()
            .unwrap();
        assert!(first > 0);
        let want: Vec<String> = (first..40).map(|i| format!("line {i}\n")).collect();
        assert_eq!(lines, want);
        // One file: the log starts over.
        let single = dir.path().join("one.log");
        let one = Rotation {
            max_size: 100,
            max_files: 1,
        };
        let mut w = LogWriter::open_rotating(&single, Some(one)).unwrap();
        for i in 0..10 {
            w.write(Stream::Stdout, format!("x {i}\n").as_bytes())
                .unwrap();
        }
        assert_eq!(files(&single), std::slice::from_ref(&single));
        assert!(std::fs::metadata(&single).unwrap().len() < 200);
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
