//! A budget for the whole deployment: one token bucket per client in the database, leased a few
//! tokens at a time. Each instance spends its lease locally and, once the lease is old, gives back
//! what it did not spend with the next lease it takes (one statement for both). Nothing is
//! admitted without a token taken from the shared bucket, so a client spreading its requests over
//! any number of instances gets at most the budget (and its burst); what a lease holds unspent is
//! at most a quarter of a second's worth of the rate, which is what a client may find briefly
//! unavailable, and what a killed instance takes with it (the bucket refills as always).
//!
//! Per client, one lease is fetched at a time (the others wait for it rather than each asking
//! the database), and a client within its lease costs no database round trip at all.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{Rate, MAX_TRACKED};
use crate::domain::Timestamp;
use crate::store::DynStore;

/// How much of the rate one lease takes, and how long it may be spent before what is left goes
/// back.
const LEASE: Duration = Duration::from_millis(250);

#[derive(Debug, Default)]
struct Held {
    tokens: f64,
    /// When the lease was taken; `None` before the first.
    since: Option<Instant>,
    /// The deployment's bucket was found empty: refused here, without asking again, until then.
    empty_until: Option<Instant>,
}

pub struct LeasedLimiter {
    /// The budget's name in the database (`api`, `signup`).
    name: &'static str,
    capacity: f64,
    per_second: f64,
    store: DynStore,
    held: Mutex<HashMap<IpAddr, Arc<tokio::sync::Mutex<Held>>>>,
    /// For `/metrics`: leases that found tokens, leases that found none, and the bucket's level
    /// after the last lease (as `f64` bits).
    granted: AtomicU64,
    empty: AtomicU64,
    last_level: AtomicU64,
}

impl std::fmt::Debug for LeasedLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeasedLimiter")
            .field("name", &self.name)
            .field("capacity", &self.capacity)
            .field("per_second", &self.per_second)
            .finish_non_exhaustive()
    }
}

impl LeasedLimiter {
    pub fn new(name: &'static str, rate: Rate, store: DynStore) -> Self {
        let capacity = f64::from(rate.per_period);
        Self {
            name,
            capacity,
            per_second: capacity / rate.period.as_secs_f64(),
            store,
            held: Mutex::new(HashMap::new()),
            granted: AtomicU64::new(0),
            empty: AtomicU64::new(0),
            last_level: AtomicU64::new(0),
        }
    }

    /// Leases that found tokens, leases that found none, the level after the last lease.
    pub fn stats(&self) -> (u64, u64, f64) {
        (
            self.granted.load(Ordering::Relaxed),
            self.empty.load(Ordering::Relaxed),
            f64::from_bits(self.last_level.load(Ordering::Relaxed)),
        )
    }

    /// Tokens one lease asks for: a quarter second's worth of the rate, at least one, at most a
    /// quarter of the burst (so that a few instances' leases never hold the whole bucket).
    fn lease_size(&self) -> f64 {
        (self.per_second * LEASE.as_secs_f64())
            .min(self.capacity / 4.0)
            .floor()
            .max(1.0)
    }

    fn entry(&self, client: IpAddr) -> Arc<tokio::sync::Mutex<Held>> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if held.len() >= MAX_TRACKED {
            // Clients not being served right now; what their leases held is simply not given back.
            held.retain(|_, h| Arc::strong_count(h) > 1);
        }
        held.entry(client).or_default().clone()
    }

    /// Takes one token for `client`, leasing more from the deployment's bucket when its lease is
    /// spent or old; or says how long until one is available.
    pub async fn take(&self, client: IpAddr) -> Result<(), Duration> {
        let entry = self.entry(client);
        let mut held = entry.lock().await;
        if let Some(wait) = held
            .empty_until
            .and_then(|u| u.checked_duration_since(Instant::now()))
        {
            return Err(wait.max(Duration::from_millis(1)));
        }
        let fresh = held.since.is_some_and(|t| t.elapsed() < LEASE);
        if fresh && held.tokens >= 1.0 {
            held.tokens -= 1.0;
            return Ok(());
        }
        // A new lease; an old one's unspent tokens go back in the same statement.
        let unspent = if fresh { 0.0 } else { held.tokens.floor() };
        let want = self.lease_size() - unspent;
        let Some(budgets) = self.store.shared_budgets() else {
            return Ok(());
        };
        let key = format!("{}:{client}", self.name);
        let grant = budgets
            .lease(&key, want, self.capacity, self.per_second, Timestamp::now())
            .await;
        match grant {
            Ok(grant) => {
                let counter = if grant.granted >= 1.0 {
                    &self.granted
                } else {
                    &self.empty
                };
                counter.fetch_add(1, Ordering::Relaxed);
                self.last_level
                    .store(grant.level.to_bits(), Ordering::Relaxed);
                held.tokens = if fresh { held.tokens } else { unspent } + grant.granted;
                held.since = Some(Instant::now());
                if held.tokens >= 1.0 {
                    held.tokens -= 1.0;
                    Ok(())
                } else {
                    let missing = 1.0 - grant.level.max(0.0);
                    let wait = Duration::from_secs_f64(missing / self.per_second)
                        .max(Duration::from_millis(1));
                    held.empty_until = Some(Instant::now() + wait);
                    Err(wait)
                }
            }
            // The database is out of reach: what needs it fails on its own; the budget does not
            // refuse on top of that.
            Err(e) => {
                tracing::warn!(error = %e, budget = self.name, "a request budget could not be leased");
                Ok(())
            }
        }
    }
}
