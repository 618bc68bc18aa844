//! Records of POST requests made with an `Idempotency-Key`: the storage half of safe retries
//! (the HTTP half is `http::idempotency`). A key is claimed before its request runs, and the
//! answer saved after, so that a retry of the same request gets the same answer without doing it
//! again, a retry while it runs is told so, and the same key with another request is refused.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::Timestamp;

#[async_trait]
pub trait IdempotencyStore {
    /// Claims an idempotency key for a request, purging a few expired ones.
    async fn claim_idempotency_key(&self, claim: IdempotencyClaim) -> StoreResult<Claimed>;
    /// Saves the answer of the request that claimed the key.
    async fn save_idempotent_response(
        &self,
        scope: String,
        key: String,
        response: SavedResponse,
    ) -> StoreResult<()>;
    /// Gives a claimed key up (its request failed or never ran), so that a retry runs again.
    async fn release_idempotency_key(&self, scope: String, key: String) -> StoreResult<()>;
}

/// A request asking to run under a key.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    /// Whose key it is: `user:<id>`, or `ip:<address>` for sign-up; keys of one scope never meet
    /// another's.
    pub scope: String,
    pub key: String,
    /// SHA-256 of the method, path and body: "the same request".
    pub fingerprint: [u8; 32],
    pub now: Timestamp,
    /// A claim still in progress but made before this is taken to have died with its process.
    pub stale_before: Timestamp,
    /// A record made before this is forgotten (and purged).
    pub expired_before: Timestamp,
}

/// A saved answer: status, the headers worth replaying (as a JSON object) and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedResponse {
    pub status: u16,
    pub headers: String,
    pub body: Vec<u8>,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// The key is this request's now: run it, then save or release.
    New,
    /// The same request is running under this key.
    InProgress,
    /// The key was used with a different request.
    Mismatch,
    /// The same request already ran: its answer.
    Done(SavedResponse),
}

/// Decides a claim against the record found for the key (its fingerprint, status and creation
/// time, or none): the rule both backends share.
pub fn decide(claim: &IdempotencyClaim, found: Option<(Vec<u8>, u16, i64)>) -> Decision {
    match found {
        None => Decision::Take,
        Some((_, _, created)) if created < claim.expired_before.micros() => Decision::Take,
        Some((_, 0, created)) if created < claim.stale_before.micros() => Decision::Take,
        Some((fingerprint, _, _)) if fingerprint != claim.fingerprint => {
            Decision::Answer(Claimed::Mismatch)
        }
        Some((_, 0, _)) => Decision::Answer(Claimed::InProgress),
        Some(_) => Decision::Replay,
    }
}

/// What a backend does after [`decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Write the claim (insert, or overwrite the expired or stale record) and answer `New`.
    Take,
    /// Answer this without writing.
    Answer(Claimed),
    /// Read the saved response and answer `Done`.
    Replay,
}

/// Records purged per claim, so that expired keys go without a background task or a long delete.
pub const PURGE_PER_CLAIM: i64 = 100;
