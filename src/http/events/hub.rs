//! The hub: one per instance. One task reads the event log in order (woken by the store after a
//! local commit or, on PostgreSQL, another instance's `NOTIFY`; and every second regardless) and
//! hands each event, rendered once, to the streams whose filters match. Each stream has a bounded
//! queue: a stream that lets it fill is closed rather than waited for, so one slow client never
//! delays the others or holds memory beyond its queue; it resumes from its last id.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use super::filter::{Filter, INTERNAL};
use super::frame::Frame;
use crate::domain::Timestamp;
use crate::store::DynStore;

/// Events read from the log per query.
pub(super) const PAGE: u32 = 512;
/// How often the log is read without a wake-up.
const POLL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct HubConfig {
    pub(crate) retention: Duration,
    pub(crate) max_subscribers: usize,
    pub(crate) max_per_ip: usize,
    pub(crate) buffer: usize,
}

/// What `/metrics` shows of the hub.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) delivered: AtomicU64,
    pub(crate) closed_slow: AtomicU64,
    /// The last position the hub has dispatched.
    pub(crate) position: AtomicI64,
    /// From commit to dispatch of the last event dispatched, in microseconds.
    pub(crate) lag_micros: AtomicI64,
}

/// A message for one stream: its position and its bytes.
pub(super) type Message = (i64, Bytes);

struct Sub {
    filter: Filter,
    followees: HashSet<i64>,
    tx: mpsc::Sender<Message>,
    ip: Option<IpAddr>,
}

#[derive(Default)]
struct Registry {
    next: u64,
    subs: HashMap<u64, Sub>,
    per_ip: HashMap<IpAddr, usize>,
}

impl Registry {
    fn remove(&mut self, id: u64) {
        if let Some(sub) = self.subs.remove(&id) {
            if let Some(ip) = sub.ip {
                if let Some(n) = self.per_ip.get_mut(&ip) {
                    *n -= 1;
                    if *n == 0 {
                        self.per_ip.remove(&ip);
                    }
                }
            }
        }
    }
}

pub struct Hub {
    store: DynStore,
    config: HubConfig,
    registry: Mutex<Registry>,
    shutdown: watch::Sender<bool>,
    pub(crate) stats: Stats,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Why a stream was not opened.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refused {
    Full,
    AddressFull,
    ShuttingDown,
}

/// A registered stream: its queue, and its place in the registry (freed on drop).
pub(super) struct Subscription {
    id: u64,
    hub: Arc<Hub>,
    pub(super) rx: mpsc::Receiver<Message>,
    pub(super) filter: Filter,
    /// Whom the user followed when the stream opened (for replayed feed events).
    pub(super) followees: HashSet<i64>,
    pub(super) shutdown: watch::Receiver<bool>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.registry().remove(self.id);
    }
}

impl Hub {
    pub(crate) fn new(store: DynStore, config: HubConfig) -> Arc<Self> {
        Arc::new(Self {
            store,
            config,
            registry: Mutex::default(),
            shutdown: watch::channel(false).0,
            stats: Stats::default(),
        })
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn subscribers(&self) -> usize {
        self.registry().subs.len()
    }

    /// Starts reading the log (from its current end) and trimming it. The tasks end when the
    /// hub is dropped or shut down.
    pub(crate) fn start(self: &Arc<Self>) {
        tokio::spawn(pump(Arc::downgrade(self)));
        tokio::spawn(trim(Arc::downgrade(self)));
    }

    /// Ends every stream (after what it has queued) and refuses new ones.
    pub(crate) fn shutdown(&self) {
        self.shutdown.send_replace(true);
        let mut registry = self.registry();
        registry.subs.clear();
        registry.per_ip.clear();
    }

    pub(super) fn subscribe(
        self: &Arc<Self>,
        filter: Filter,
        followees: HashSet<i64>,
        ip: Option<IpAddr>,
    ) -> Result<Subscription, Refused> {
        let shutdown = self.shutdown.subscribe();
        if *shutdown.borrow() {
            return Err(Refused::ShuttingDown);
        }
        let (tx, rx) = mpsc::channel(self.config.buffer.max(1));
        let mut registry = self.registry();
        if registry.subs.len() >= self.config.max_subscribers {
            return Err(Refused::Full);
        }
        if let Some(ip) = ip {
            let held = registry.per_ip.entry(ip).or_default();
            if *held >= self.config.max_per_ip {
                return Err(Refused::AddressFull);
            }
            *held += 1;
        }
        registry.next += 1;
        let id = registry.next;
        registry.subs.insert(
            id,
            Sub {
                filter,
                followees: followees.clone(),
                tx,
                ip,
            },
        );
        Ok(Subscription {
            id,
            hub: self.clone(),
            rx,
            filter,
            followees,
            shutdown,
        })
    }

    fn dispatch(&self, frame: &Frame) {
        let mut registry = self.registry();
        if let Some((follower, followee, following)) = frame.follow {
            for sub in registry.subs.values_mut() {
                if sub.filter.user == Some(follower) {
                    if following {
                        sub.followees.insert(followee);
                    } else {
                        sub.followees.remove(&followee);
                    }
                }
            }
        }
        if frame.topic == INTERNAL {
            return;
        }
        let mut gone = Vec::new();
        let mut delivered = 0;
        for (id, sub) in &registry.subs {
            if !sub.filter.matches(frame, &sub.followees) {
                continue;
            }
            match sub.tx.try_send((frame.position, frame.bytes.clone())) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.stats.closed_slow.fetch_add(1, Ordering::Relaxed);
                    gone.push(*id);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => gone.push(*id),
            }
        }
        // Dropping a stream's sender ends it once it has sent what is queued.
        for id in gone {
            registry.remove(id);
        }
        self.stats.delivered.fetch_add(delivered, Ordering::Relaxed);
        let lag = Timestamp::now().micros() - frame.created_at.micros();
        self.stats.lag_micros.store(lag.max(0), Ordering::Relaxed);
    }
}

/// Reads the log in order and dispatches each event once.
async fn pump(hub: Weak<Hub>) {
    let Some((store, mut shutdown)) = hub
        .upgrade()
        .map(|h| (h.store.clone(), h.shutdown.subscribe()))
    else {
        return;
    };
    let wake = store.log_wakeup();
    let mut last = loop {
        match store.log_bounds().await {
            Ok(bounds) => break bounds.head,
            Err(e) => tracing::debug!(error = %e, "reading the event log's end; retrying"),
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            () = tokio::time::sleep(POLL) => {}
        }
    };
    loop {
        let Some(hub) = hub.upgrade() else { return };
        hub.stats.position.store(last, Ordering::Relaxed);
        loop {
            match store.events_after(last, PAGE).await {
                Ok(events) => {
                    let full = events.len() == PAGE as usize;
                    for event in &events {
                        hub.dispatch(&Frame::render(event));
                        last = event.position;
                    }
                    hub.stats.position.store(last, Ordering::Relaxed);
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the event log failed; retrying");
                    break;
                }
            }
        }
        drop(hub);
        tokio::select! {
            _ = shutdown.changed() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Trims the log to its retention, at a pace that suits it (at most a minute apart).
async fn trim(hub: Weak<Hub>) {
    let Some((store, retention, mut shutdown)) = hub
        .upgrade()
        .map(|h| (h.store.clone(), h.config.retention, h.shutdown.subscribe()))
    else {
        return;
    };
    let every = (retention / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        if hub.strong_count() == 0 {
            return;
        }
        let before = Timestamp::now().minus(retention);
        loop {
            match store.trim_log(before).await {
                Ok(0) => break,
                Ok(n) => tracing::debug!(events = n, "trimmed the event log"),
                Err(e) => {
                    tracing::warn!(error = %e, "trimming the event log failed; will retry");
                    break;
                }
            }
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;
