//! Per-account login throttling: after `max_failures` failed logins within `window`, further
//! attempts on that account get 429 for a back-off that doubles with each lock (capped at the
//! window), whether or not the password is right. It counts failures only, so honest traffic never
//! meets it, and a lock always ends, so the real user is never locked out for good.
//!
//! Counters live in this process: behind a load balancer each instance counts on its own, so an
//! attacker spread over N instances gets at most N times the attempts.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most accounts tracked at once; past this, entries with no recent failure are dropped first.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy)]
pub struct ThrottleConfig {
    /// Failed logins within `window` that lock the account; 0 turns throttling off.
    pub max_failures: u32,
    pub window: Duration,
    /// The first lock's length; each further lock doubles it, up to `window`.
    pub lockout: Duration,
}

#[derive(Default)]
struct Entry {
    failures: VecDeque<Instant>,
    locked_until: Option<Instant>,
    locks: u32,
}

pub struct LoginThrottle {
    config: ThrottleConfig,
    entries: Mutex<HashMap<String, Entry>>,
}

impl LoginThrottle {
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(username: &str) -> String {
        username.to_ascii_lowercase()
    }

    /// `Some(wait)` when the account is locked now.
    pub fn locked(&self, username: &str) -> Option<Duration> {
        if self.config.max_failures == 0 {
            return None;
        }
        let now = Instant::now();
        let entries = self.entries.lock().expect("throttle lock poisoned");
        let until = entries.get(&Self::key(username))?.locked_until?;
        (until > now).then(|| until - now)
    }

    /// Records a failed login; returns how many failures are now in the window.
    pub fn failed(&self, username: &str) -> usize {
        if self.config.max_failures == 0 {
            return 0;
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().expect("throttle lock poisoned");
        if entries.len() >= MAX_TRACKED {
            let window = self.config.window;
            entries.retain(|_, e| e.failures.back().is_some_and(|t| now - *t < window));
        }
        let entry = entries.entry(Self::key(username)).or_default();
        entry.failures.push_back(now);
        while entry
            .failures
            .front()
            .is_some_and(|t| now - *t > self.config.window)
        {
            entry.failures.pop_front();
        }
        if entry.failures.len() >= self.config.max_failures as usize {
            let factor = 1u32.checked_shl(entry.locks).unwrap_or(u32::MAX);
            let lock = self
                .config
                .lockout
                .saturating_mul(factor)
                .min(self.config.window.max(self.config.lockout));
            entry.locked_until = Some(now + lock);
            entry.locks = entry.locks.saturating_add(1);
        }
        entry.failures.len()
    }

    /// A successful login clears the account's record.
    pub fn succeeded(&self, username: &str) {
        if self.config.max_failures == 0 {
            return;
        }
        self.entries
            .lock()
            .expect("throttle lock poisoned")
            .remove(&Self::key(username));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(lockout_ms: u64) -> LoginThrottle {
        LoginThrottle::new(ThrottleConfig {
            max_failures: 3,
            window: Duration::from_secs(60),
            lockout: Duration::from_millis(lockout_ms),
        })
    }

    #[test]
    fn the_account_locks_after_the_maximum_failures_and_only_that_account() {
        let t = throttle(10_000);
        assert!(t.locked("alice").is_none());
        t.failed("alice");
        t.failed("ALICE");
        assert!(t.locked("alice").is_none());
        t.failed("Alice");
        assert!(
            t.locked("alice").is_some(),
            "names are compared case-insensitively"
        );
        assert!(t.locked("bob").is_none());
    }

    #[test]
    fn locks_end_and_grow_with_each_further_failure() {
        let t = throttle(30);
        for _ in 0..3 {
            t.failed("alice");
        }
        let first = t.locked("alice").unwrap();
        std::thread::sleep(Duration::from_millis(40));
        assert!(t.locked("alice").is_none(), "a lock ends");
        t.failed("alice");
        let second = t.locked("alice").unwrap();
        assert!(second > first, "{second:?} should exceed {first:?}");
    }

    #[test]
    fn success_clears_the_record() {
        let t = throttle(10_000);
        t.failed("alice");
        t.failed("alice");
        t.succeeded("alice");
        t.failed("alice");
        t.failed("alice");
        assert!(t.locked("alice").is_none());
    }

    #[test]
    fn zero_maximum_turns_it_off() {
        let t = LoginThrottle::new(ThrottleConfig {
            max_failures: 0,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(60),
        });
        for _ in 0..100 {
            t.failed("alice");
        }
        assert!(t.locked("alice").is_none());
    }
}
