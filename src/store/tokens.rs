//! Tokens: only the SHA-256 of each is stored.

use async_trait::async_trait;

use super::{StoreResult, User};
use crate::domain::Timestamp;

#[async_trait]
pub trait TokenStore {
    async fn create_token(
        &self,
        user_id: i64,
        hash: [u8; 32],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// The user owning an unexpired token with this hash.
    async fn token_user(&self, hash: [u8; 32], now: Timestamp) -> StoreResult<Option<User>>;
    async fn revoke_token(&self, hash: [u8; 32]) -> StoreResult<bool>;
    /// Revokes every token of a user; returns how many there were.
    async fn revoke_user_tokens(&self, user_id: i64) -> StoreResult<u64>;
}

/// The statements both backends run (see `users::sql`).
pub mod sql {
    pub const INSERT: &str =
        "INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)";
    pub const USER: &str = concat!(
        "SELECT ",
        crate::store::users::sql::columns!("u."),
        " FROM tokens t JOIN users u ON u.id = t.user_id
         WHERE t.hash = ?1 AND t.expires_at > ?2"
    );
    pub const DELETE: &str = "DELETE FROM tokens WHERE hash = ?1";
    pub const DELETE_FOR_USER: &str = "DELETE FROM tokens WHERE user_id = ?1";
}
