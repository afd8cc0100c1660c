//! What readers are given of a container's record, made once per change
//! of it and shared.
//!
//! A listing or an inspect used to copy every record it showed, and then
//! its JSON, for every request: fifty clients listing beside one record
//! of a few MiB held hundreds of MiB at once. Now what a reader is shown
//! is made from the record when it is first asked for after a change
//! ([`Views`]), kept as bytes, and handed to every reader after that by
//! reference; only what is fresh at each read (a status that says how
//! long ago, the execs running now) is made per request and put in the
//! view's hole ([`Spliced`]). A record is marked changed by any mutable
//! borrow of it ([`Record`]), so no change can be missed. A view must
//! therefore be made from the record alone: what it shows from elsewhere
//! (another store, the clock) belongs in its hole.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, MutexGuard};
use std::time::Duration;

use bytes::Bytes;

use super::{Daemon, Entry};
use crate::container::Container;
use crate::error::Result;

/// A container's record, locked. A mutable borrow of it counts as a
/// change (see the module's page).
pub(super) struct Record<'a> {
    guard: MutexGuard<'a, Container>,
    generation: &'a AtomicU64,
}

impl<'a> Record<'a> {
    pub(super) fn new(guard: MutexGuard<'a, Container>, generation: &'a AtomicU64) -> Self {
        Record { guard, generation }
    }

    /// Waits on `changed` (at most `limit`), the lock given up meanwhile.
    pub(super) fn wait(self, changed: &Condvar, limit: Option<Duration>) -> Self {
        let Record { guard, generation } = self;
        let guard = match limit {
            Some(limit) => {
                changed
                    .wait_timeout(guard, limit)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => changed.wait(guard).unwrap_or_else(|e| e.into_inner()),
        };
        Record { guard, generation }
    }
}

impl Deref for Record<'_> {
    type Target = Container;

    fn deref(&self) -> &Container {
        &self.guard
    }
}

impl DerefMut for Record<'_> {
    fn deref_mut(&mut self) -> &mut Container {
        self.generation.fetch_add(1, Ordering::Relaxed);
        &mut self.guard
    }
}

/// Bytes made for readers with one hole for what is fresh at each read:
/// `head`, the fresh part, `tail`.
#[derive(Debug, Clone)]
pub struct Spliced {
    pub head: Bytes,
    pub tail: Bytes,
}

impl Spliced {
    /// Splits `made` around `hole`, found first or (`last`) last; `None`
    /// if it is not there.
    pub fn around(made: Vec<u8>, hole: &[u8], last: bool) -> Option<Spliced> {
        let mut at = made.windows(hole.len()).enumerate().map(|(i, _)| i);
        let found = match last {
            false => at.find(|&i| made[i..].starts_with(hole)),
            true => at.rev().find(|&i| made[i..].starts_with(hole)),
        }?;
        let made = Bytes::from(made);
        Some(Spliced {
            head: made.slice(..found),
            tail: made.slice(found + hole.len()..),
        })
    }

    /// The whole, with `fresh` in the hole: three shared pieces.
    pub fn with(&self, fresh: Bytes) -> [Bytes; 3] {
        [self.head.clone(), fresh, self.tail.clone()]
    }
}

/// The kinds of view readers are given.
#[derive(Debug, Clone, Copy)]
pub enum View {
    /// A row of `GET /containers/json`.
    Summary,
    /// `GET /containers/{id}/json`.
    Inspect,
}

/// A container's views, as made at one generation of its record.
#[derive(Debug, Default)]
pub(super) struct Views {
    generation: u64,
    summary: Option<Spliced>,
    inspect: Option<Spliced>,
}

/// A container as a reader sees it: its record, and its views.
#[derive(Debug)]
pub struct Reading<'a> {
    pub container: &'a Container,
    views: &'a mut Views,
}

impl Reading<'_> {
    /// The view `kind`, made by `make` unless the record is unchanged
    /// since it was last made.
    pub fn view(&mut self, kind: View, make: impl FnOnce(&Container) -> Spliced) -> Spliced {
        let slot = match kind {
            View::Summary => &mut self.views.summary,
            View::Inspect => &mut self.views.inspect,
        };
        slot.get_or_insert_with(|| make(self.container)).clone()
    }
}

impl Entry {
    /// Lets `read` see the record and its views, made afresh if the
    /// record changed since they were made.
    fn read<T>(&self, read: impl FnOnce(Reading<'_>) -> T) -> T {
        let c = self.lock();
        let mut views = self.views.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.generation.load(Ordering::Relaxed);
        if views.generation != now {
            *views = Views {
                generation: now,
                ..Views::default()
            };
        }
        read(Reading {
            container: &c,
            views: &mut views,
        })
    }
}

impl Daemon {
    /// Every container (or only running ones) read by `read`, newest
    /// first; those it gives `None` for are left out. No record is copied.
    pub fn read_all<T>(&self, all: bool, mut read: impl FnMut(Reading<'_>) -> Option<T>) -> Vec<T> {
        let entries: Vec<Arc<Entry>> = self.table().values().cloned().collect();
        let mut out: Vec<(String, T)> = entries
            .iter()
            .filter_map(|e| {
                e.read(|r| {
                    let created = r.container.created.clone();
                    (all || r.container.state.running)
                        .then(|| read(r))
                        .flatten()
                        .map(|t| (created, t))
                })
            })
            .collect();
        out.sort_by(|a, b| b.0.cmp(&a.0));
        out.into_iter().map(|(_, t)| t).collect()
    }

    /// Container `name` read by `read`.
    pub fn read_one<T>(&self, name: &str, read: impl FnOnce(Reading<'_>) -> T) -> Result<T> {
        Ok(self.get(name)?.read(read))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_is_split_around_its_first_or_last_hole() {
        let made = br#"{"a":"?","b":{"a":"?"}}"#.to_vec();
        let first = Spliced::around(made.clone(), br#""?""#, false).unwrap();
        assert_eq!(
            first.with(Bytes::from("1")).concat(),
            br#"{"a":1,"b":{"a":"?"}}"#
        );
        let last = Spliced::around(made.clone(), br#""?""#, true).unwrap();
        assert_eq!(
            last.with(Bytes::from("2")).concat(),
            br#"{"a":"?","b":{"a":2}}"#
        );
        assert!(Spliced::around(made, b"none", false).is_none());
    }
}
