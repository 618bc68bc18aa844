//! Comments on SQLite: the statements are `store::comments::sql`.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{missed, SqliteStore};
use crate::domain::Timestamp;
use crate::store::comments::sql;
use crate::store::{posts, Change, ChangeEvent, Comment, CommentStore, PageQuery, StoreResult};

fn comment_row(r: &Row<'_>) -> rusqlite::Result<Comment> {
    Ok(Comment {
        id: r.get(0)?,
        post_id: r.get(1)?,
        author_id: r.get(2)?,
        body: r.get(3)?,
        created_at: Timestamp(r.get(4)?),
        updated_at: Timestamp(r.get(5)?),
        version: r.get(6)?,
    })
}

#[async_trait]
impl CommentStore for SqliteStore {
    async fn create_comment(
        &self,
        post_id: i64,
        author_id: i64,
        body: String,
        now: Timestamp,
    ) -> StoreResult<Option<Comment>> {
        let run = move |c: &Connection| {
            c.prepare_cached(sql::INSERT)?
                .query_row(params![post_id, author_id, body, now.micros()], comment_row)
                .optional()
        };
        let event = |c: &Option<Comment>| c.clone().map(ChangeEvent::CommentCreated);
        self.writer.run_publishing(run, event).await
    }

    async fn comment(&self, id: i64) -> StoreResult<Option<Comment>> {
        self.read(move |c| {
            c.prepare_cached(sql::BY_ID)?
                .query_row([id], comment_row)
                .optional()
        })
        .await
    }

    async fn list_comments(
        &self,
        post_id: i64,
        page: PageQuery,
    ) -> StoreResult<Option<Vec<Comment>>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(sql::LIST)?;
            let rows = stmt
                .query_map(
                    params![post_id, page.after.unwrap_or(0), page.limit],
                    comment_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            // An empty page is either the end of the comments or no post at all.
            if rows.is_empty()
                && c.prepare_cached(posts::sql::EXISTS)?
                    .query_row([post_id], |_| Ok(()))
                    .optional()?
                    .is_none()
            {
                return Ok(None);
            }
            Ok(Some(rows))
        })
        .await
    }

    async fn update_comment(
        &self,
        id: i64,
        body: String,
        expected_version: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<Change<Comment>> {
        let run = move |c: &Connection| {
            let row = c
                .prepare_cached(sql::UPDATE)?
                .query_row(
                    params![id, body, now.micros(), expected_version],
                    comment_row,
                )
                .optional()?;
            match row {
                Some(comment) => Ok(Change::Done(comment)),
                None => missed(c, sql::EXISTS, id),
            }
        };
        let event = |c: &Change<Comment>| c.done().cloned().map(ChangeEvent::CommentUpdated);
        self.writer.run_publishing(run, event).await
    }

    async fn delete_comment(
        &self,
        id: i64,
        expected_version: Option<i64>,
    ) -> StoreResult<Change<()>> {
        let run = move |c: &Connection| {
            let post: Option<i64> = c
                .prepare_cached(sql::DELETE)?
                .query_row(params![id, expected_version], |r| r.get(0))
                .optional()?;
            match post {
                Some(post_id) => Ok(Change::Done(post_id)),
                None => missed(c, sql::EXISTS, id),
            }
        };
        let event = move |c: &Change<i64>| {
            c.done()
                .map(|&post_id| ChangeEvent::CommentDeleted { id, post_id })
        };
        Ok(self.writer.run_publishing(run, event).await?.map(|_| ()))
    }
}
