//! Tokens on PostgreSQL: the statements are `store::tokens::sql`.

use async_trait::async_trait;

use super::users::user_row;
use super::{pg, PgStore};
use crate::domain::Timestamp;
use crate::store::tokens::sql;
use crate::store::{StoreResult, TokenStore, User};

#[async_trait]
impl TokenStore for PgStore {
    async fn create_token(
        &self,
        user_id: i64,
        hash: [u8; 32],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        self.write(|c| async move {
            let stmt = c.prepare_cached(&pg(sql::INSERT)).await?;
            c.execute(
                &stmt,
                &[&&hash[..], &user_id, &now.micros(), &expires_at.micros()],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn token_user(&self, hash: [u8; 32], now: Timestamp) -> StoreResult<Option<User>> {
        self.with(|c| async move {
            let stmt = c.prepare_cached(&pg(sql::USER)).await?;
            Ok(c.query_opt(&stmt, &[&&hash[..], &now.micros()])
                .await?
                .as_ref()
                .map(user_row))
        })
        .await
    }

    async fn revoke_token(&self, hash: [u8; 32]) -> StoreResult<bool> {
        self.write(|c| async move {
            let stmt = c.prepare_cached(&pg(sql::DELETE)).await?;
            Ok(c.execute(&stmt, &[&&hash[..]]).await? > 0)
        })
        .await
    }

    async fn revoke_user_tokens(&self, user_id: i64) -> StoreResult<u64> {
        self.write(|c| async move {
            let stmt = c.prepare_cached(&pg(sql::DELETE_FOR_USER)).await?;
            Ok(c.execute(&stmt, &[&user_id]).await?)
        })
        .await
    }
}
