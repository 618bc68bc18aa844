//! Follows on SQLite: the statements are `store::follows::sql`; counts and the feed are kept by
//! triggers.

use async_trait::async_trait;
use rusqlite::{params, Connection};

use super::users::{by_id, viewed_user_row};
use super::SqliteStore;
use crate::domain::Timestamp;
use crate::store::follows::{event, sql};
use crate::store::users::sql::COLUMN_COUNT;
use crate::store::{Follow, FollowStore, PageQuery, StoreResult, User};

impl SqliteStore {
    async fn follow_list(
        &self,
        statement: &'static str,
        user: i64,
        viewer: Option<i64>,
        page: PageQuery,
    ) -> StoreResult<Vec<Follow>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(statement)?;
            let after = page.after.unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![user, after, viewer, page.limit], |r| {
                Ok(Follow {
                    id: r.get(COLUMN_COUNT + 1)?,
                    user: viewed_user_row(r)?,
                })
            })?;
            rows.collect()
        })
        .await
    }
}

#[async_trait]
impl FollowStore for SqliteStore {
    async fn follow(
        &self,
        follower: i64,
        followee: i64,
        now: Timestamp,
    ) -> StoreResult<Option<User>> {
        let run = move |c: &Connection| {
            let changed = c.prepare_cached(sql::INSERT)?.execute(params![
                follower,
                followee,
                now.micros()
            ])?;
            Ok((by_id(c, followee, Some(follower))?, changed > 0))
        };
        let (user, _) = self
            .writer
            .run_publishing(run, event(follower, true))
            .await?;
        Ok(user)
    }

    async fn unfollow(&self, follower: i64, followee: i64) -> StoreResult<Option<User>> {
        let run = move |c: &Connection| {
            let changed = c
                .prepare_cached(sql::DELETE)?
                .execute(params![follower, followee])?;
            Ok((by_id(c, followee, Some(follower))?, changed > 0))
        };
        let (user, _) = self
            .writer
            .run_publishing(run, event(follower, false))
            .await?;
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
