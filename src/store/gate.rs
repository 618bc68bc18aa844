//! A request's write gate: the one place that decides between "this request timed out" and "this
//! request's write goes ahead", so that a client is never told 503 for a write that then commits.
//!
//! The request-timeout layer opens a gate around each request. A store calls [`begin_write`]
//! just before it makes a write (on SQLite, when the writer thread takes the job; on PostgreSQL,
//! before the first statement). If the timeout has fired first, the write is not made; if the write
//! has begun, the timeout waits for the request to finish instead of answering 503 (each write is
//! bounded by the database's own timeouts).

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use super::{StoreError, StoreResult};

const OPEN: u8 = 0;
const WRITING: u8 = 1;
const ABANDONED: u8 = 2;

tokio::task_local! {
    static GATE: Arc<WriteGate>;
}

#[derive(Debug, Default)]
pub struct WriteGate(AtomicU8);

impl WriteGate {
    /// A write is about to be made: true if it may (the request has not been abandoned).
    pub fn begin(&self) -> bool {
        match self
            .0
            .compare_exchange(OPEN, WRITING, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(state) => state == WRITING,
        }
    }

    /// The request's time is up: true if it may be abandoned (no write of it has begun).
    pub fn abandon(&self) -> bool {
        match self
            .0
            .compare_exchange(OPEN, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(state) => state == ABANDONED,
        }
    }
}

/// Runs a request's future with `gate` as its write gate.
pub async fn scope<F: Future>(gate: Arc<WriteGate>, f: F) -> F::Output {
    GATE.scope(gate, f).await
}

/// The gate of the request running on this task, if any (the CLI has none).
pub fn current() -> Option<Arc<WriteGate>> {
    GATE.try_with(Arc::clone).ok()
}

/// Passes this task's gate, or refuses the write when its request has been abandoned.
pub fn begin_write() -> StoreResult<()> {
    match current() {
        Some(gate) if !gate.begin() => Err(StoreError::Unavailable(
            "the request timed out before its write began".into(),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_begun_write_cannot_be_abandoned_and_an_abandoned_request_cannot_write() {
        let gate = WriteGate::default();
        assert!(gate.begin());
        assert!(gate.begin(), "a request may make several writes");
        assert!(!gate.abandon());
        let gate = WriteGate::default();
        assert!(gate.abandon());
        assert!(!gate.begin());
    }
}
