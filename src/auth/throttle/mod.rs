//! Login throttling, counted on two keys at once:
//! - (account, client address): after `max_failures` failed logins within `window`, that address's
//!   logins to that account get 429 for a back-off that doubles with each lock (capped at the window);
//! - the account alone, across all addresses, with the higher `account_max_failures` ceiling
//!   against guessing spread over many addresses.
//!
//! An attempt counts from the moment it is let through, before its password is hashed: attempts in
//! flight take budget like failures do, so a thousand guesses arriving at the same instant start at
//! most the budget's number of verifications, and the rest are refused before any hashing. A
//! success clears the (account, address) record; the account-wide count only ages out, so the owner
//! logging in does not hand a distributed guesser a fresh ceiling.
//!
//! Where the counts live: on PostgreSQL, in the database, so that every instance behind a load
//! balancer counts the same attempts (`store::ThrottleStore`: one statement to begin an attempt,
//! one to settle it, each locking the two records it decides on); on SQLite, one process, in
//! memory here. The rules are the same; in the database an attempt whose instance died before
//! settling it counts as a failure once [`FLIGHT`] has passed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

mod local;
#[cfg(test)]
mod tests;

use local::{Entry, Key};

use crate::domain::Timestamp;
use crate::store::{Credentials, DynStore, StoreError, ThrottleKeys, ThrottleRules};

/// How long an attempt may stay in flight in the shared records before it counts as failed: far
/// longer than a password check (tens of milliseconds) or any request may take.
const FLIGHT: Duration = Duration::from_secs(60);

/// Most records kept at once; past this, records with no recent failure and nothing in flight go.
const MAX_TRACKED: usize = 100_000;

/// How long a client is told to wait when the budget is taken by attempts still being checked.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
pub struct ThrottleConfig {
    /// Failed logins on one account from one address within `window` that lock that pair; 0 turns
    /// all throttling off.
    pub max_failures: u32,
    /// Failed logins on one account from all addresses within `window` that lock the account.
    pub account_max_failures: u32,
    pub window: Duration,
    /// The first lock's length; each further lock doubles it, up to `window`.
    pub lockout: Duration,
}

pub struct LoginThrottle {
    config: ThrottleConfig,
    entries: Mutex<HashMap<Key, Entry>>,
    /// The database: it reads the credentials and, when it can, keeps the records for every
    /// instance (`shared`).
    store: Option<DynStore>,
    shared: bool,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("config", &self.config)
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

/// What a let-through attempt holds of the budget.
#[derive(Debug)]
enum Held {
    Local([Key; 2]),
    /// The records and the attempt's start time, which names it among those in flight.
    Shared(ThrottleKeys, Timestamp),
}

/// An attempt let through, and the account's credentials, read with it.
#[derive(Debug)]
pub struct Admitted<'a> {
    pub attempt: Attempt<'a>,
    pub credentials: Option<Credentials>,
}

/// One login attempt let through: it holds its share of the budget until it is settled. Dropped
/// unsettled (the client went away mid-check), it counts as a failure, since its hash may have run.
#[derive(Debug)]
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    held: Option<Held>,
}

impl LoginThrottle {
    /// Counts in memory, or in `store` when it keeps the records for every instance.
    pub fn new(config: ThrottleConfig, store: Option<DynStore>) -> Self {
        let shared = store
            .as_ref()
            .is_some_and(|s| s.shared_throttle().is_some());
        Self {
            config,
            entries: Mutex::new(HashMap::new()),
            store,
            shared,
        }
    }

    /// Whether the counts are the deployment's (in the database) rather than this process's.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    fn shared_store(&self) -> Option<&DynStore> {
        self.store.as_ref().filter(|_| self.shared)
    }

    fn rules(&self) -> ThrottleRules {
        ThrottleRules {
            window: self.config.window,
            flight: FLIGHT,
            pair_max: self.config.max_failures,
            account_max: self.config.account_max_failures.max(1),
            lockout: self.config.lockout,
            busy_wait: IN_FLIGHT_WAIT,
        }
    }

    /// Lets an attempt on `account` (its canonical, lower-case name) from `client` start, with
    /// the account's credentials, or says how long to wait (`Ok(Err(wait))`). Nothing is hashed
    /// for a refused attempt. With shared records, the attempt begins and the credentials are read
    /// in one statement; a database that cannot be reached refuses the attempt (the error).
    pub async fn begin(
        &self,
        account: &str,
        client: IpAddr,
    ) -> Result<Result<Admitted<'_>, Duration>, StoreError> {
        let Some(store) = self.shared_store().filter(|_| self.enabled()) else {
            let attempt = match self.begin_local(account, client) {
                Ok(attempt) => attempt,
                Err(wait) => return Ok(Err(wait)),
            };
            let credentials = match &self.store {
                Some(store) => store.credentials(account).await?,
                None => None,
            };
            return Ok(Ok(Admitted {
                attempt,
                credentials,
            }));
        };
        let keys = ThrottleKeys {
            pair: format!("p:{account} {client}"),
            account: format!("a:{account}"),
        };
        let now = Timestamp::now();
        let shared = store.shared_throttle().ok_or(StoreError::Unavailable(
            "the database no longer keeps the throttle".into(),
        ))?;
        let (wait, credentials) = shared
            .throttle_begin(&keys, now, &self.rules(), account)
            .await?;
        Ok(match wait {
            Some(wait) => Err(wait),
            None => Ok(Admitted {
                attempt: Attempt {
                    throttle: self,
                    held: Some(Held::Shared(keys, now)),
                },
                credentials,
            }),
        })
    }

    fn enabled(&self) -> bool {
        self.config.max_failures > 0
    }

    /// A panic elsewhere while holding the lock leaves the counters as they were: still usable.
    fn entries(&self) -> MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn max(&self, key: &Key) -> u32 {
        match key {
            Key::Pair(..) => self.config.max_failures,
            Key::Account(_) => self.config.account_max_failures.max(1),
        }
    }

    fn begin_local(&self, account: &str, client: IpAddr) -> Result<Attempt<'_>, Duration> {
        if !self.enabled() {
            return Ok(Attempt {
                throttle: self,
                held: None,
            });
        }
        let now = Instant::now();
        let keys = [
            Key::Pair(account.to_owned(), client),
            Key::Account(account.to_owned()),
        ];
        let mut entries = self.entries();
        if entries.len() >= MAX_TRACKED {
            let window = self.config.window;
            entries.retain(|_, e| {
                e.in_flight > 0 || e.failures.back().is_some_and(|t| now - *t < window)
            });
        }
        let mut wait = Duration::ZERO;
        for key in &keys {
            if let Some(entry) = entries.get_mut(key) {
                entry.forget_old(now, self.config.window);
                if let Err(w) = entry.admit(now, self.max(key)) {
                    wait = wait.max(w);
                }
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for key in &keys {
            entries.entry(key.clone()).or_default().in_flight += 1;
        }
        Ok(Attempt {
            throttle: self,
            held: Some(Held::Local(keys)),
        })
    }

    /// Settles a shared attempt; a database that cannot be reached is logged (its record then
    /// ages out as an abandoned attempt, counted as a failure).
    async fn settle_shared(&self, keys: &ThrottleKeys, started: Timestamp, failed: bool) -> usize {
        let Some(shared) = self.shared_store().and_then(|s| s.shared_throttle()) else {
            return 0;
        };
        match shared
            .throttle_settle(keys, started, failed, &self.rules())
            .await
        {
            Ok(failures) => failures as usize,
            Err(e) => {
                tracing::warn!(error = %e, "the login throttle's record could not be settled");
                0
            }
        }
    }

    fn settle(&self, keys: &[Key; 2], failed: bool) -> usize {
        let now = Instant::now();
        let mut entries = self.entries();
        let mut pair_failures = 0;
        for key in keys {
            let max = self.max(key);
            let Some(entry) = entries.get_mut(key) else {
                continue;
            };
            entry.in_flight = entry.in_flight.saturating_sub(1);
            if failed {
                entry.fail(now, max, &self.config);
                if matches!(key, Key::Pair(..)) {
                    pair_failures = entry.failures.len();
                }
            }
        }
        if !failed {
            if let Some(entry) = entries.get(&keys[0]) {
                if entry.in_flight == 0 {
                    entries.remove(&keys[0]);
                }
            }
        }
        pair_failures
    }
}

impl Attempt<'_> {
    /// The password was wrong: records the failure; returns the failures now in the window for
    /// this account and address.
    pub async fn failed(mut self) -> usize {
        match self.held.take() {
            Some(Held::Local(keys)) => self.throttle.settle(&keys, true),
            Some(Held::Shared(keys, started)) => {
                self.throttle.settle_shared(&keys, started, true).await
            }
            None => 0,
        }
    }

    /// The password was right: clears this address's record for the account.
    pub async fn succeeded(mut self) {
        match self.held.take() {
            Some(Held::Local(keys)) => {
                self.throttle.settle(&keys, false);
            }
            Some(Held::Shared(keys, started)) => {
                self.throttle.settle_shared(&keys, started, false).await;
            }
            None => {}
        }
    }
}

impl Attempt<'_> {
    /// Settles an attempt counted in memory, at once.
    #[cfg(test)]
    fn settle_local(mut self, failed: bool) -> usize {
        match self.held.take() {
            Some(Held::Local(keys)) => self.throttle.settle(&keys, failed),
            _ => 0,
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        match self.held.take() {
            Some(Held::Local(keys)) => {
                self.throttle.settle(&keys, true);
            }
            // Settled as a failure off this (cancelled) request; should that not run, the record
            // counts it as one anyway once `FLIGHT` has passed.
            Some(Held::Shared(keys, started)) => {
                let (Some(store), Ok(runtime)) = (
                    self.throttle.shared_store().cloned(),
                    tokio::runtime::Handle::try_current(),
                ) else {
                    return;
                };
                let rules = self.throttle.rules();
                runtime.spawn(async move {
                    if let Some(shared) = store.shared_throttle() {
                        let _ = shared.throttle_settle(&keys, started, true, &rules).await;
                    }
                });
            }
            None => {}
        }
    }
}
