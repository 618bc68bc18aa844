//! Likes on SQLite: the statements are `store::likes::sql`; counts are kept by triggers.

use async_trait::async_trait;
use rusqlite::{params, Connection};

use super::posts::by_id;
use super::SqliteStore;
use crate::domain::Timestamp;
use crate::store::likes::{event, sql};
use crate::store::{LikeStore, Post, StoreResult};

#[async_trait]
impl LikeStore for SqliteStore {
    async fn like(&self, post_id: i64, user_id: i64, now: Timestamp) -> StoreResult<Option<Post>> {
        let run = move |c: &Connection| {
            let changed =
                c.prepare_cached(sql::INSERT)?
                    .execute(params![user_id, post_id, now.micros()])?;
            Ok((by_id(c, post_id, Some(user_id))?, changed > 0))
        };
        let (post, _) = self
            .writer
            .run_publishing(run, event(user_id, true))
            .await?;
        Ok(post)
    }

    async fn unlike(&self, post_id: i64, user_id: i64) -> StoreResult<Option<Post>> {
        let run = move |c: &Connection| {
            let changed = c
                .prepare_cached(sql::DELETE)?
                .execute(params![user_id, post_id])?;
            Ok((by_id(c, post_id, Some(user_id))?, changed > 0))
        };
        let (post, _) = self
            .writer
            .run_publishing(run, event(user_id, false))
            .await?;
        Ok(post)
    }
}
