//! Likes on PostgreSQL: the statements are `store::likes::sql`; counts are kept by triggers.

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};

use super::posts::by_id;
use super::{in_tx, pg, PgStore};
use crate::domain::Timestamp;
use crate::store::likes::{event, sql, Outcome};
use crate::store::{LikeStore, Post, StoreResult};

/// Likes (with the time) or unlikes, and reads the post back in the same transaction, so that
/// the count shown is the one this change made.
async fn apply(
    tx: &Transaction<'_>,
    user_id: i64,
    post_id: i64,
    like: Option<Timestamp>,
) -> StoreResult<Outcome> {
    let changed = match like {
        Some(now) => {
            let stmt = tx.prepare_cached(&pg(sql::INSERT)).await?;
            tx.execute(&stmt, &[&user_id, &post_id, &now.micros()])
                .await?
        }
        None => {
            let stmt = tx.prepare_cached(&pg(sql::DELETE)).await?;
            tx.execute(&stmt, &[&user_id, &post_id]).await?
        }
    };
    let post = by_id(tx, post_id, Some(user_id)).await?;
    Ok((post, changed > 0))
}

#[async_trait]
impl LikeStore for PgStore {
    async fn like(&self, post_id: i64, user_id: i64, now: Timestamp) -> StoreResult<Option<Post>> {
        let run = in_tx(move |tx| Box::pin(apply(tx, user_id, post_id, Some(now))));
        let (post, _) = self.write_logged(run, event(user_id, true)).await?;
        Ok(post)
    }

    async fn unlike(&self, post_id: i64, user_id: i64) -> StoreResult<Option<Post>> {
        let run = in_tx(move |tx| Box::pin(apply(tx, user_id, post_id, None)));
        let (post, _) = self.write_logged(run, event(user_id, false)).await?;
        Ok(post)
    }
}
