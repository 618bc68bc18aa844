//! Follows on PostgreSQL: the statements are `store::follows::sql`; counts and the feed are kept
//! by triggers.

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};

use super::users::{by_id, viewed_user_row};
use super::{in_tx, pg, PgStore};
use crate::domain::Timestamp;
use crate::store::follows::{event, sql, Outcome};
use crate::store::users::sql::COLUMN_COUNT;
use crate::store::{Follow, FollowStore, PageQuery, StoreResult, User};

/// Follows (with the time) or unfollows, and reads the followee back in the same transaction, so
/// that the count shown is the one this change made.
async fn apply(
    tx: &Transaction<'_>,
    follower: i64,
    followee: i64,
    follow: Option<Timestamp>,
) -> StoreResult<Outcome> {
    let changed = match follow {
        Some(now) => {
            let stmt = tx.prepare_cached(&pg(sql::INSERT)).await?;
            tx.execute(&stmt, &[&follower, &followee, &now.micros()])
                .await?
        }
        None => {
            let stmt = tx.prepare_cached(&pg(sql::DELETE)).await?;
            tx.execute(&stmt, &[&follower, &followee]).await?
        }
    };
    let user = by_id(tx, followee, Some(follower)).await?;
    Ok((user, changed > 0))
}

impl PgStore {
    async fn follow_list(
        &self,
        statement: &'static str,
        user: i64,
        viewer: Option<i64>,
        page: PageQuery,
    ) -> StoreResult<Vec<Follow>> {
        self.with(|c| async move {
            let stmt = c.prepare_cached(&pg(statement)).await?;
            let after = page.after.unwrap_or(i64::MAX);
            let rows = c
                .query(&stmt, &[&user, &after, &viewer, &i64::from(page.limit)])
                .await?;
            Ok(rows
                .iter()
                .map(|r| Follow {
                    id: r.get(COLUMN_COUNT + 1),
                    user: viewed_user_row(r),
                })
                .collect())
        })
        .await
    }
}

#[async_trait]
impl FollowStore for PgStore {
    async fn follow(
        &self,
        follower: i64,
        followee: i64,
        now: Timestamp,
    ) -> StoreResult<Option<User>> {
        let run = in_tx(move |tx| Box::pin(apply(tx, follower, followee, Some(now))));
        let (user, _) = self.write_logged(run, event(follower, true)).await?;
        Ok(user)
    }

    async fn unfollow(&self, follower: i64, followee: i64) -> StoreResult<Option<User>> {
        let run = in_tx(move |tx| Box::pin(apply(tx, follower, followee, None)));
        let (user, _) = self.write_logged(run, event(follower, false)).await?;
        Ok(user)
    }

    async fn followers(
        &self,
        user: i64,
        viewer: Option<i64>,
        page: PageQuery,
    ) -> StoreResult<Vec<Follow>> {
        self.follow_list(sql::FOLLOWERS, user, viewer, page).await
    }

    async fn following(
        &self,
        user: i64,
        viewer: Option<i64>,
        page: PageQuery,
    ) -> StoreResult<Vec<Follow>> {
        self.follow_list(sql::FOLLOWING, user, viewer, page).await
    }
}
