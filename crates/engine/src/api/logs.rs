//! `GET /containers/{id}/logs`: the json-file log, filtered (`since`,
//! `until`, `tail`), optionally timestamped (and detailed), framed unless the container
//! has a terminal, and followed while the container runs.

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use vessel_runtime::frame;
use vessel_runtime::logs::LogEntry;

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

/// Everything the log at `path` holds now, as `o` asks for it (an
/// attach's `logs`).
pub fn existing(path: &Path, o: &LogOptions) -> Vec<Vec<u8>> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut chunks = Vec::new();
    read_entries(&mut BufReader::new(file), &mut 0, |e| {
        chunks.extend(format(o, &e));
        true
    });
    chunks
}

/// Streams the log at `path` to `out`. `running` says whether the
/// container still runs (following stops once it does not and the log
/// is drained).
pub fn stream(path: &Path, o: &LogOptions, running: IsRunning, out: &Sender) {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(_) if o.follow => {
            // The log appears once the container first starts.
            loop {
                if let Ok(f) = std::fs::File::open(path) {
                    break f;
                }
                if !running() || out.is_closed() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Err(_) => return,
    };
    let mut reader = BufReader::new(file);
    let mut existing = Vec::new();
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
    reader: &mut BufReader<std::fs::File>,
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
