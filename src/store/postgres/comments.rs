//! Comments on PostgreSQL: the statements are `store::comments::sql`.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::{in_tx, missed, pg, text, PgStore};
use crate::domain::Timestamp;
use crate::store::comments::sql;
use crate::store::{posts, Change, ChangeEvent, Comment, CommentStore, PageQuery, StoreResult};

fn comment_row(r: &Row) -> StoreResult<Comment> {
    Ok(Comment {
        id: r.get(0),
        post_id: r.get(1),
        author_id: r.get(2),
        body: text(r, 3)?,
        created_at: Timestamp(r.get(4)),
        updated_at: Timestamp(r.get(5)),
        version: r.get(6),
    })
}

#[async_trait]
impl CommentStore for PgStore {
    async fn create_comment(
        &self,
        post_id: i64,
        author_id: i64,
        body: String,
        now: Timestamp,
    ) -> StoreResult<Option<Comment>> {
        let run = in_tx(move |tx| {
            Box::pin(async move {
                let stmt = tx.prepare_cached(&pg(sql::INSERT)).await?;
                tx.query_opt(
                    &stmt,
                    &[&post_id, &author_id, &body.as_bytes(), &now.micros()],
                )
                .await?
                .as_ref()
                .map(comment_row)
                .transpose()
            })
        });
        let event = |c: &Option<Comment>| c.clone().map(ChangeEvent::CommentCreated);
        self.write_logged(run, event).await
    }

    async fn comment(&self, id: i64) -> StoreResult<Option<Comment>> {
        self.with(|c| async move {
            let stmt = c.prepare_cached(&pg(sql::BY_ID)).await?;
            c.query_opt(&stmt, &[&id])
                .await?
                .as_ref()
                .map(comment_row)
                .transpose()
        })
        .await
    }

    async fn list_comments(
        &self,
        post_id: i64,
        page: PageQuery,
    ) -> StoreResult<Option<Vec<Comment>>> {
        self.with(|c| async move {
            let stmt = c.prepare_cached(&pg(sql::LIST)).await?;
            let rows = c
                .query(
                    &stmt,
                    &[&post_id, &page.after.unwrap_or(0), &i64::from(page.limit)],
                )
                .await?;
            // An empty page is either the end of the comments or no post at all.
            if rows.is_empty() {
                let exists = c.prepare_cached(&pg(posts::sql::EXISTS)).await?;
                if c.query_opt(&exists, &[&post_id]).await?.is_none() {
                    return Ok(None);
                }
            }
            rows.iter()
                .map(comment_row)
                .collect::<StoreResult<_>>()
                .map(Some)
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
        let run = in_tx(move |tx| {
            Box::pin(async move {
                let stmt = tx.prepare_cached(&pg(sql::UPDATE)).await?;
                let row = tx
                    .query_opt(
                        &stmt,
                        &[&id, &body.as_bytes(), &now.micros(), &expected_version],
                    )
                    .await?;
                match row {
                    Some(row) => Ok(Change::Done(comment_row(&row)?)),
                    None => missed(tx, sql::EXISTS, id).await,
                }
            })
        });
        let event = |c: &Change<Comment>| c.done().cloned().map(ChangeEvent::CommentUpdated);
        self.write_logged(run, event).await
    }

    async fn delete_comment(
        &self,
        id: i64,
        expected_version: Option<i64>,
    ) -> StoreResult<Change<()>> {
        let run = in_tx(move |tx| {
            Box::pin(async move {
                let stmt = tx.prepare_cached(&pg(sql::DELETE)).await?;
                match tx.query_opt(&stmt, &[&id, &expected_version]).await? {
                    Some(row) => Ok(Change::Done(row.get::<_, i64>(0))),
                    None => missed(tx, sql::EXISTS, id).await,
                }
            })
        });
        let event = move |c: &Change<i64>| {
            c.done()
                .map(|&post_id| ChangeEvent::CommentDeleted { id, post_id })
        };
        Ok(self.write_logged(run, event).await?.map(|_| ()))
    }
}
