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
    /// Queues `job` under `key`. A panicking job is logged and the next
    /// one still runs.
    pub fn append(&self, key: &str, job: impl FnOnce() + Send + 'static) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = pending.get_mut(key) {
            // A worker is draining this key; it will get to the job.
            q.push_back(Box::new(job));
            return;
        }
        pending.insert(key.to_string(), VecDeque::from([Box::new(job) as Job]));
        drop(pending);
        let this = self.clone();
        let key = key.to_string();
        std::thread::spawn(move || this.drain(&key));
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
        for i in 0..20 {
            let seen = seen.clone();
            q.append("c1", move || {
                if i == 0 {
                    std::thread::sleep(Duration::from_millis(50));
                }
                seen.lock().unwrap().push(i);
            });
        }
        for _ in 0..100 {
            if seen.lock().unwrap().len() == 20 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(*seen.lock().unwrap(), (0..20).collect::<Vec<_>>());
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
