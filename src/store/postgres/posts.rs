//! Posts on PostgreSQL: the statements are `store::posts::sql`; this binds them and maps rows.

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;

use super::{in_tx, missed, pg, search, text, PgStore};
use crate::domain::Timestamp;
use crate::store::posts::sql::{self, CountBy, Dialect};
use crate::store::posts::{join_tags, split_tags};
use crate::store::{
    Change, ChangeEvent, NewPost, PageQuery, Post, PostChanges, PostFilter, PostStore, StoreResult,
};

/// A row of the posts' columns (see `sql`).
pub(super) fn post_row(r: &Row) -> StoreResult<Post> {
    Ok(Post {
        id: r.get(0),
        title: text(r, 1)?,
        body: text(r, 2)?,
        summary: text(r, 11)?,
        author_id: r.get(3),
        tags: split_tags(r.get(4)),
        like_count: r.get(5),
        comment_count: r.get(6),
        liked: r.get(7),
        created_at: Timestamp(r.get(8)),
        updated_at: Timestamp(r.get(9)),
        version: r.get(10),
    })
}

/// The post as `viewer` sees it.
pub(super) async fn by_id(
    c: &impl GenericClient,
    id: i64,
    viewer: Option<i64>,
) -> StoreResult<Option<Post>> {
    let stmt = c.prepare_cached(&pg(sql::BY_ID)).await?;
    c.query_opt(&stmt, &[&viewer, &id])
        .await?
        .as_ref()
        .map(post_row)
        .transpose()
}

async fn set_tags(c: &impl GenericClient, id: i64, tags: &[String]) -> StoreResult<()> {
    let untag = c.prepare_cached(&pg(sql::UNTAG)).await?;
    c.execute(&untag, &[&id]).await?;
    let tag = c.prepare_cached(&pg(sql::TAG)).await?;
    for t in tags {
        c.execute(&tag, &[t, &id]).await?;
    }
    Ok(())
}

async fn insert(tx: &Transaction<'_>, new: NewPost, now: Timestamp) -> StoreResult<Post> {
    let stmt = tx.prepare_cached(&pg(sql::INSERT)).await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &new.author_id,
                &new.title.as_bytes(),
                &new.body.as_bytes(),
                &join_tags(&new.tags),
                &now.micros(),
                &new.summary.as_bytes(),
            ],
        )
        .await?;
    let id: i64 = row.get(0);
    if !new.tags.is_empty() {
        set_tags(tx, id, &new.tags).await?;
    }
    Ok(Post::inserted(new, id, row.get(1), now))
}

async fn update(
    tx: &Transaction<'_>,
    id: i64,
    changes: PostChanges,
    expected: Option<i64>,
    viewer: Option<i64>,
    now: Timestamp,
) -> StoreResult<Change<Post>> {
    let stmt = tx.prepare_cached(&pg(sql::UPDATE)).await?;
    let tags = changes.tags.as_deref().map(join_tags);
    let updated = tx
        .query_opt(
            &stmt,
            &[
                &id,
                &changes.title.as_deref().map(str::as_bytes),
                &changes.body.as_deref().map(str::as_bytes),
                &tags,
                &now.micros(),
                &expected,
                &changes.summary.as_deref().map(str::as_bytes),
            ],
        )
        .await?;
    if updated.is_none() {
        return missed(tx, sql::EXISTS, id).await;
    }
    if let Some(tags) = &changes.tags {
        set_tags(tx, id, tags).await?;
    }
    let post = by_id(tx, id, viewer).await?;
    Ok(post.map_or(Change::NotFound, Change::Done))
}

/// A list's nine parameters (see `sql::list`).
pub(super) struct ListParams<'a> {
    viewer: Option<i64>,
    after: i64,
    tag: &'a Option<String>,
    author: Option<i64>,
    liked_by: Option<i64>,
    limit: i64,
    feed_of: Option<i64>,
    search: &'a Option<String>,
    offset: i64,
}

impl ListParams<'_> {
    pub(super) fn refs(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 9] {
        [
            &self.viewer,
            &self.after,
            self.tag,
            &self.author,
            &self.liked_by,
            &self.limit,
            &self.feed_of,
            self.search,
            &self.offset,
        ]
    }
}

pub(super) fn list_params<'a>(
    filter: &'a PostFilter,
    viewer: Option<i64>,
    after: i64,
    limit: i64,
    offset: i64,
    search: &'a Option<String>,
) -> ListParams<'a> {
    ListParams {
        viewer,
        after,
        tag: &filter.tag,
        author: filter.author,
        liked_by: filter.liked_by,
        limit,
        feed_of: filter.feed_of,
        search,
        offset,
    }
}

impl PgStore {
    async fn list_rows(
        &self,
        filter: PostFilter,
        viewer: Option<i64>,
        after: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<Post>> {
        self.with(|c| async move {
            if search::serves(&filter, offset) {
                return search::page(&c, &filter, viewer, after, limit).await;
            }
            let text = pg(&sql::list(&filter, Dialect::Postgres));
            // Words beside another filter (or at an offset) are planned for their own text each
            // time: a generic plan would fold and parse them again for every row it tests.
            let stmt = if filter.search.is_some() {
                c.prepare(&text).await?
            } else {
                c.prepare_cached(&text).await?
            };
            let search = filter
                .search
                .as_ref()
                .map(|q| Dialect::Postgres.search_text(q));
            let params = list_params(&filter, viewer, after, limit, offset, &search);
            let rows = c.query(&stmt, &params.refs()).await?;
            rows.iter().map(post_row).collect()
        })
        .await
    }
}

#[async_trait]
impl PostStore for PgStore {
    async fn create_post(&self, new: NewPost, now: Timestamp) -> StoreResult<Post> {
        let event = |p: &Post| Some(ChangeEvent::PostCreated(p.clone()));
        self.write_logged(in_tx(|tx| Box::pin(insert(tx, new, now))), event)
            .await
    }

    async fn post(&self, id: i64, viewer: Option<i64>) -> StoreResult<Option<Post>> {
        self.with(|c| async move { by_id(&c, id, viewer).await })
            .await
    }

    async fn list_posts(
        &self,
        filter: PostFilter,
        viewer: Option<i64>,
        page: PageQuery,
    ) -> StoreResult<Vec<Post>> {
        let after = page.after.unwrap_or(i64::MAX);
        self.list_rows(filter, viewer, after, page.limit.into(), 0)
            .await
    }

    async fn list_posts_at(
        &self,
        filter: PostFilter,
        viewer: Option<i64>,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Post>> {
        self.list_rows(filter, viewer, i64::MAX, limit.into(), offset.into())
            .await
    }

    async fn count_posts(&self, filter: PostFilter) -> StoreResult<i64> {
        self.with(|c| async move {
            let (text, by) = sql::count(&filter, Dialect::Postgres);
            let stmt = c.prepare_cached(&pg(&text)).await?;
            let row = match by {
                CountBy::Nothing => c.query_one(&stmt, &[]).await?,
                CountBy::Author => c.query_one(&stmt, &[&filter.author]).await?,
                CountBy::Tag => c.query_one(&stmt, &[&filter.tag]).await?,
                CountBy::Liker => c.query_one(&stmt, &[&filter.liked_by]).await?,
                CountBy::Feed => c.query_one(&stmt, &[&filter.feed_of]).await?,
                CountBy::List => {
                    let search = filter
                        .search
                        .as_ref()
                        .map(|q| Dialect::Postgres.search_text(q));
                    let params = list_params(&filter, None, i64::MAX, i64::MAX, 0, &search);
                    c.query_one(&stmt, &params.refs()).await?
                }
            };
            Ok(row.get(0))
        })
        .await
    }

    async fn update_post(
        &self,
        id: i64,
        changes: PostChanges,
        expected_version: Option<i64>,
        viewer: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<Change<Post>> {
        let run = in_tx(|tx| Box::pin(update(tx, id, changes, expected_version, viewer, now)));
        let event = |c: &Change<Post>| c.done().map(|p| ChangeEvent::PostUpdated(p.clone()));
        self.write_logged(run, event).await
    }

    async fn delete_post(&self, id: i64, expected_version: Option<i64>) -> StoreResult<Change<()>> {
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
                .map(|&author_id| ChangeEvent::PostDeleted { id, author_id })
        };
        Ok(self.write_logged(run, event).await?.map(|_| ()))
    }
}
