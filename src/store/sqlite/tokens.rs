//! Tokens on SQLite: the statements are `store::tokens::sql`.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::users::user_row;
use super::SqliteStore;
use crate::domain::Timestamp;
use crate::store::tokens::sql;
use crate::store::{StoreResult, TokenStore, User};

#[async_trait]
impl TokenStore for SqliteStore {
    async fn create_token(
        &self,
        user_id: i64,
        hash: [u8; 32],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        self.writer
            .run(move |c| {
                c.prepare_cached(sql::INSERT)?.execute(params![
                    &hash[..],
                    user_id,
                    now.micros(),
                    expires_at.micros()
                ])?;
                Ok(())
            })
            .await
    }

    async fn token_user(&self, hash: [u8; 32], now: Timestamp) -> StoreResult<Option<User>> {
        self.read(move |c| {
            c.prepare_cached(sql::USER)?
                .query_row(params![&hash[..], now.micros()], user_row)
                .optional()
        })
        .await
    }

    async fn revoke_token(&self, hash: [u8; 32]) -> StoreResult<bool> {
        self.writer
            .run(move |c| Ok(c.prepare_cached(sql::DELETE)?.execute([&hash[..]])? > 0))
            .await
    }

    async fn revoke_user_tokens(&self, user_id: i64) -> StoreResult<u64> {
        self.writer
            .run(move |c| Ok(c.prepare_cached(sql::DELETE_FOR_USER)?.execute([user_id])? as u64))
            .await
    }
}
