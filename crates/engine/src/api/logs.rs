//! `GET /containers/{id}/logs`: the json-file log (with its rotated
//! files), filtered (`since`, `until`, `tail`), optionally timestamped
//! (and detailed), framed unless the container has a terminal, and
//! followed while the container runs.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use vessel_runtime::frame;
use vessel_runtime::logs::{open_files, LogEntry};

use super::body::Sender;
use crate::daemon::IsRunning;

/// What the client asked for.
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub stdout: bool,
    pub stderr: bool,
    pub follow: bool,
    pub timestamps: bool,
    /// Each line's details (the attributes a log driver keeps with it,
    /// from `--log-opt labels=` and `env=`), after its time. Vessel takes
    /// no such options: the details are empty.
    pub details: bool,
    /// Entries at or after this time (Unix nanoseconds).
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Only the last N entries of what is already there.
    pub tail: Option<usize>,
    pub tty: bool,
}

/// The query parameter `name` (`since`, `until`) as a time: none when it is
/// absent or empty, an error naming it and its value when it is no time.
pub fn time_param(call: &crate::api::Call, name: &str) -> crate::error::Result<Option<i64>> {
    match call.q(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse_time(v).map(Some).ok_or_else(|| {
            crate::error::EngineError::InvalidParameter(format!(
                "{name}: failed to parse value as time or duration: {v:?}"
            ))
        }),
    }
}

/// Parses Docker's `since`/`until`: Unix seconds with optional fraction.
pub fn parse_time(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return t.timestamp_nanos_opt();
    }
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = secs.parse().ok()?;
    let mut nanos = 0i64;
    if !frac.is_empty() {
        let digits: String = frac.chars().take(9).collect();
        nanos = format!("{digits:0<9}").parse().ok()?;
    }
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

fn entry_nanos(e: &LogEntry) -> i64 {
    chrono::DateTime::parse_from_rfc3339(&e.time)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .unwrap_or(0)
}

/// One entry as the client gets it (framed unless `o.tty`); none when
/// `o` leaves it out.
fn format(o: &LogOptions, e: &LogEntry) -> Option<Vec<u8>> {
    let stderr = e.stream == "stderr";
    if (stderr && !o.stderr) || (!stderr && !o.stdout) {
        return None;
    }
    let t = entry_nanos(e);
    if o.since.is_some_and(|s| t < s) || o.until.is_some_and(|u| t > u) {
        return None;
    }
    let mut line = Vec::new();
    if o.timestamps {
        line.extend_from_slice(e.time.as_bytes());
        line.push(b' ');
    }
    if o.details {
        line.push(b' ');
    }
    line.extend_from_slice(e.log.as_bytes());
    if o.tty {
        return Some(line);
    }
    let stream = if stderr { frame::STDERR } else { frame::STDOUT };
    Some(frame::encode(stream, &line))
}

/// Sends one entry; false once the client is gone.
fn send(out: &Sender, o: &LogOptions, e: &LogEntry) -> bool {
    format(o, e).is_none_or(|chunk| out.send(chunk))
}

/// Everything the log at `path` (its rotated files first) holds now, as
/// `o` asks for it (an attach's `logs`).
pub fn existing(path: &Path, o: &LogOptions) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let Ok((older, current)) = open_files(path) else {
        return chunks;
    };
    whole_files(older.into_iter().chain(current), |e| {
        chunks.extend(format(o, &e));
        true
    });
    chunks
}

/// The inode of a file (0 when it cannot be read).
fn inode(f: &File) -> u64 {
    f.metadata().map_or(0, |m| m.ino())
}

/// Every entry of the whole `files`, in order.
fn whole_files(
    files: impl IntoIterator<Item = File>,
    mut each: impl FnMut(LogEntry) -> bool,
) -> bool {
    files
        .into_iter()
        .all(|f| read_entries(&mut BufReader::new(f), &mut 0, &mut each))
}

/// Streams the log at `path` (its rotated files first) to `out`.
/// `running` says whether the container still runs (following stops once
/// it does not and the log is drained). A rotation while it follows is
/// followed: the rest of the file it read, the files rotated since, then
/// the new log.
pub fn stream(path: &Path, o: &LogOptions, running: IsRunning, out: &Sender) {
    let (older, file) = loop {
        match open_files(path) {
            Ok((older, Some(current))) => break (older, current),
            // The log appears once the container first starts.
            Ok(_) | Err(_) if o.follow => {
                if !running() || out.is_closed() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(_) | Err(_) => return,
        }
    };
    let mut existing = Vec::new();
    whole_files(older, |e| {
        existing.push(e);
        true
    });
    let mut reader = BufReader::new(file);
    let mut pos = 0u64;
    read_entries(&mut reader, &mut pos, |e| {
        existing.push(e);
        true
    });
    let skip = o.tail.map_or(0, |t| existing.len().saturating_sub(t));
    for e in &existing[skip..] {
        if !send(out, o, e) {
            return;
        }
    }
    if !o.follow {
        return;
    }
    // Follow: poll for lines past `pos` until the container has stopped
    // and everything it wrote has been sent.
    loop {
        let was_running = running();
        if reader.seek(SeekFrom::Start(pos)).is_err() {
            return;
        }
        if !read_entries(&mut reader, &mut pos, |e| send(out, o, &e)) {
            return;
        }
        let mine = inode(reader.get_ref());
        let rotated = std::fs::metadata(path).map_or(0, |m| m.ino()) != mine;
        if rotated {
            // What was written to this file before is read, then the
            // files rotated after it, then the new log.
            let Ok((older, Some(current))) = open_files(path) else {
                return;
            };
            let _ = reader.seek(SeekFrom::Start(pos));
            if !read_entries(&mut reader, &mut pos, |e| send(out, o, &e)) {
                return;
            }
            let at = older.iter().position(|f| inode(f) == mine);
            let newer = older.into_iter().skip(at.map_or(0, |i| i + 1));
            if !whole_files(newer, |e| send(out, o, &e)) {
                return;
            }
            (reader, pos) = (BufReader::new(current), 0);
            continue;
        }
        if !was_running || out.is_closed() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads the complete lines from where `reader` stands, advancing `pos`
/// past each, and hands the entries to `each` until it returns false
/// (then returns false). A line still being written is left for later.
fn read_entries(
    reader: &mut BufReader<File>,
    pos: &mut u64,
    mut each: impl FnMut(LogEntry) -> bool,
) -> bool {
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return true,
            Ok(_) if !line.ends_with('\n') => return true,
            Ok(n) => {
                *pos += n as u64;
                if let Ok(e) = serde_json::from_str::<LogEntry>(&line) {
                    if !each(e) {
                        return false;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_docker_sends_them() {
        assert_eq!(parse_time("10"), Some(10_000_000_000));
        assert_eq!(parse_time("10.5"), Some(10_500_000_000));
        assert_eq!(parse_time("10.000000001"), Some(10_000_000_001));
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), Some(1_000_000_000));
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("x"), None);
        assert_eq!(parse_time("99999999999999999"), None);
    }
}
