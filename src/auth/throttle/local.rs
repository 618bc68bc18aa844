//! One record of the in-memory throttle (SQLite: one process): its failures in the window, the
//! attempts in flight, and its lock.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::{ThrottleConfig, IN_FLIGHT_WAIT};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    Pair(String, IpAddr),
    Account(String),
}

#[derive(Debug, Default)]
pub(super) struct Entry {
    pub(super) failures: VecDeque<Instant>,
    pub(super) in_flight: u32,
    locked_until: Option<Instant>,
    locks: u32,
}

impl Entry {
    pub(super) fn forget_old(&mut self, now: Instant, window: Duration) {
        while self.failures.front().is_some_and(|t| now - *t > window) {
            self.failures.pop_front();
        }
    }

    /// `Err(wait)` when no further attempt may start now under a budget of `max`.
    pub(super) fn admit(&self, now: Instant, max: u32) -> Result<(), Duration> {
        if let Some(until) = self.locked_until.filter(|u| *u > now) {
            return Err(until - now);
        }
        // After a lock has run out the budget is spent, but one attempt at a time may still try
        // (its failure locks again, for twice as long).
        let failures = u32::try_from(self.failures.len()).unwrap_or(u32::MAX);
        let remaining = max.saturating_sub(failures).max(1);
        if self.in_flight >= remaining {
            return Err(IN_FLIGHT_WAIT);
        }
        Ok(())
    }

    pub(super) fn fail(&mut self, now: Instant, max: u32, config: &ThrottleConfig) {
        self.failures.push_back(now);
        self.forget_old(now, config.window);
        if self.failures.len() >= max as usize {
            let factor = 1u32.checked_shl(self.locks).unwrap_or(u32::MAX);
            let lock = config
                .lockout
                .saturating_mul(factor)
                .min(config.window.max(config.lockout));
            self.locked_until = Some(now + lock);
            self.locks = self.locks.saturating_add(1);
        }
    }
}
