//! Login throttling: after `max_failures` failed logins from one address or for one account within
//! the lockout window, further attempts are refused (429) until the window has passed.
//! In-memory, per process: with several replicas each one counts on its own (see docs/OPERATIONS.md).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Clone, Copy)]
struct Entry {
    failures: u32,
    first_failure: Instant,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> LoginThrottle {
        LoginThrottle { max_failures, window, entries: Mutex::new(HashMap::new()) }
    }

    /// `Some(seconds to wait)` when any of `keys` is locked out.
    pub fn check(&self, keys: &[String], now: Instant) -> Option<u64> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|k| entries.get(k))
            .filter(|e| e.failures >= self.max_failures)
            .filter_map(|e| (e.first_failure + self.window).checked_duration_since(now))
            .map(|left| left.as_secs().max(1))
            .max()
    }

    pub fn record_failure(&self, keys: &[String], now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 100_000 {
            let window = self.window;
            entries.retain(|_, e| now.duration_since(e.first_failure) < window);
        }
        for key in keys {
            let entry = entries.entry(key.clone()).or_insert(Entry { failures: 0, first_failure: now });
            if now.duration_since(entry.first_failure) >= self.window {
                *entry = Entry { failures: 0, first_failure: now };
            }
            entry.failures += 1;
        }
    }

    pub fn record_success(&self, keys: &[String]) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            entries.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_and_unlocks_after_the_window() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let keys = vec!["acct:a@b.c".to_string(), "ip:1.2.3.4".to_string()];
        let start = Instant::now();
        for _ in 0..2 {
            t.record_failure(&keys, start);
        }
        assert_eq!(t.check(&keys, start), None);
        t.record_failure(&keys, start);
        assert_eq!(t.check(&keys, start), Some(60));
        // the same address trying another account is refused too
        assert!(t.check(&["acct:other@b.c".into(), "ip:1.2.3.4".into()], start).is_some());
        assert_eq!(t.check(&keys, start + Duration::from_secs(61)), None);
    }

    #[test]
    fn success_clears_the_account() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        let keys = vec!["acct:a@b.c".to_string()];
        let now = Instant::now();
        t.record_failure(&keys, now);
        t.record_success(&keys);
        t.record_failure(&keys, now);
        assert_eq!(t.check(&keys, now), None);
    }
}
