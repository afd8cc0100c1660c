//! Per-container ordered work: jobs queued under one key run one after
//! another in the order they were queued; jobs of different keys run side
//! by side. The runtime client delivers each container's events (exits,
//! above all) through it, so that they reach the engine in the order they
//! happened even when several arrive at once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone, Default)]
pub struct OrderedQueue {
    pending: Arc<Mutex<HashMap<String, VecDeque<Job>>>>,
}

impl std::fmt::Debug for OrderedQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderedQueue").finish_non_exhaustive()
    }
}

impl OrderedQueue {
    /// Runs `job` after the jobs queued before it under `key`. When no
    /// thread is running `key`'s jobs, the calling thread does, this one
    /// and any queued meanwhile; else the job is queued to the thread that
    /// is, and this returns at once. So a caller may run others' jobs
    /// too: call it from a thread that can wait (the runtime client's
    /// watchers, which have nothing else to do). A panicking job is logged
    /// and the next one still runs.
    pub fn append(&self, key: &str, job: impl FnOnce() + Send + 'static) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = pending.get_mut(key) {
            q.push_back(Box::new(job));
            return;
        }
        pending.insert(key.to_string(), VecDeque::from([Box::new(job) as Job]));
        drop(pending);
        self.drain(key);
    }

    fn drain(&self, key: &str) {
        loop {
            let job = {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                let Some(q) = pending.get_mut(key) else {
                    return;
                };
                match q.pop_front() {
                    Some(job) => job,
                    None => {
                        pending.remove(key);
                        return;
                    }
                }
            };
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                tracing::error!(container = key, "processing an event failed (panicked)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn jobs_of_one_key_run_in_order_even_when_the_first_is_slow() {
        let q = OrderedQueue::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (started_tx, started) = std::sync::mpsc::channel();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        // The first job's thread runs it (and, after it, the others).
        let first = {
            let (q, seen) = (q.clone(), seen.clone());
            std::thread::spawn(move || {
                q.append("c1", move || {
                    started_tx.send(()).unwrap();
                    let _ = wait.recv_timeout(Duration::from_secs(5));
                    seen.lock().unwrap().push(0);
                })
            })
        };
        started.recv_timeout(Duration::from_secs(5)).unwrap();
        for i in 1..20 {
            let seen = seen.clone();
            // Queued to the first job's thread: returns at once.
            q.append("c1", move || seen.lock().unwrap().push(i));
        }
        assert!(
            seen.lock().unwrap().is_empty(),
            "a job ran before the first"
        );
        release.send(()).unwrap();
        first.join().unwrap();
        assert_eq!(*seen.lock().unwrap(), (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn jobs_of_other_keys_do_not_wait() {
        let q = OrderedQueue::default();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let slow = {
            let q = q.clone();
            std::thread::spawn(move || {
                q.append("slow", move || {
                    let _ = wait.recv_timeout(Duration::from_secs(5));
                })
            })
        };
        let (tx, rx) = std::sync::mpsc::channel();
        q.append("other", move || tx.send(()).unwrap());
        rx.recv_timeout(Duration::from_secs(1))
            .expect("a job of another key ran while the slow one waited");
        release.send(()).unwrap();
        slow.join().unwrap();
    }

    #[test]
    fn a_panicking_job_does_not_stop_the_next() {
        let q = OrderedQueue::default();
        let (tx, rx) = std::sync::mpsc::channel();
        q.append("c", || panic!("boom"));
        q.append("c", move || tx.send(()).unwrap());
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
    }
}
