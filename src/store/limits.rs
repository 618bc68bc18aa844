//! The abuse limits a database keeps for every instance on it, so that they hold for the
//! deployment rather than per process: the login throttle (see `auth::throttle`) and the
//! per-client request budgets (see `http::rate_limit`). A database that cannot share them
//! (SQLite: one process) leaves them to the process.

use std::time::Duration;

use async_trait::async_trait;

use super::{Credentials, StoreResult};
use crate::domain::Timestamp;

/// The two records an attempt counts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleKeys {
    /// The account from one address.
    pub pair: String,
    /// The account from every address.
    pub account: String,
}

/// The throttle's rules, as `auth::ThrottleConfig` sets them.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleRules {
    pub window: Duration,
    /// An attempt in flight for longer than this (its instance died mid-check) counts as failed.
    pub flight: Duration,
    pub pair_max: u32,
    pub account_max: u32,
    pub lockout: Duration,
    /// The wait told to a client while the budget is taken by attempts still being checked.
    pub busy_wait: Duration,
}

#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Lets an attempt on `account` started `now` through (`None`) or says how long to wait, and
    /// reads the account's credentials in the same statement: a login costs one round trip more
    /// than without the throttle (its settling), not two.
    async fn throttle_begin(
        &self,
        keys: &ThrottleKeys,
        now: Timestamp,
        rules: &ThrottleRules,
        account: &str,
    ) -> StoreResult<(Option<Duration>, Option<Credentials>)>;
    /// Settles the attempt that began at `started`; returns the pair's failures in the window.
    async fn throttle_settle(
        &self,
        keys: &ThrottleKeys,
        started: Timestamp,
        failed: bool,
        rules: &ThrottleRules,
    ) -> StoreResult<u32>;
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// The parameters of the statements, in their order after the keys.
pub(crate) fn begin_params(rules: &ThrottleRules) -> [i64; 3] {
    [
        micros(rules.window),
        micros(rules.flight),
        micros(rules.busy_wait),
    ]
}

pub(crate) fn settle_params(rules: &ThrottleRules) -> [i64; 3] {
    [
        micros(rules.window),
        micros(rules.flight),
        micros(rules.lockout),
    ]
}

pub(crate) fn maxes(rules: &ThrottleRules) -> [i32; 2] {
    let max = |m: u32| i32::try_from(m).unwrap_or(i32::MAX);
    [max(rules.pair_max), max(rules.account_max)]
}

/// What a lease from a deployment-wide budget got.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grant {
    /// Tokens taken (negative: given back).
    pub granted: f64,
    /// Tokens left in the bucket after it.
    pub level: f64,
}

#[async_trait]
pub trait BudgetStore: Send + Sync {
    /// Takes up to `want` tokens (a negative `want` gives tokens back) from the bucket `key`,
    /// which holds at most `capacity` and refills at `per_second`; one statement.
    async fn lease(
        &self,
        key: &str,
        want: f64,
        capacity: f64,
        per_second: f64,
        now: Timestamp,
    ) -> StoreResult<Grant>;
}
