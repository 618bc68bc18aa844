//! Posts on SQLite: the statements are `store::posts::sql`; this binds them and maps rows.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{missed, search, SqliteStore};
use crate::domain::Timestamp;
use crate::store::posts::sql::{self, CountBy, Dialect};
use crate::store::posts::{join_tags, split_tags};
use crate::store::{
    Change, ChangeEvent, NewPost, PageQuery, Post, PostChanges, PostFilter, PostStore, StoreResult,
};

/// A row of the posts' columns (see `sql`).
fn post_row(r: &Row<'_>) -> rusqlite::Result<Post> {
    Ok(Post {
        id: r.get(0)?,
        title: r.get(1)?,
        body: r.get(2)?,
        summary: r.get(11)?,
        author_id: r.get(3)?,
        tags: split_tags(&r.get::<_, String>(4)?),
        like_count: r.get(5)?,
        comment_count: r.get(6)?,
        liked: r.get(7)?,
        created_at: Timestamp(r.get(8)?),
        updated_at: Timestamp(r.get(9)?),
        version: r.get(10)?,
    })
}

/// The post as `viewer` sees it.
pub(super) fn by_id(
    c: &Connection,
    id: i64,
    viewer: Option<i64>,
) -> rusqlite::Result<Option<Post>> {
    c.prepare_cached(sql::BY_ID)?
        .query_row(params![viewer, id], post_row)
        .optional()
}

fn set_tags(c: &Connection, id: i64, tags: &[String]) -> rusqlite::Result<()> {
    c.prepare_cached(sql::UNTAG)?.execute([id])?;
    let mut tag = c.prepare_cached(sql::TAG)?;
    for t in tags {
        tag.execute(params![t, id])?;
    }
    Ok(())
}

fn insert(c: &Connection, new: NewPost, now: Timestamp) -> rusqlite::Result<Post> {
    let (id, version) = c.prepare_cached(sql::INSERT)?.query_row(
        params![
            new.author_id,
            new.title,
            new.body,
            join_tags(&new.tags),
            now.micros(),
            new.summary
        ],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    set_tags(c, id, &new.tags)?;
    search::add_terms(c, &new.title, &new.body)?;
    Ok(Post::inserted(new, id, version, now))
}

fn update(
    c: &Connection,
    id: i64,
    changes: &PostChanges,
    expected: Option<i64>,
    viewer: Option<i64>,
    now: Timestamp,
) -> rusqlite::Result<Change<Post>> {
    let tags = changes.tags.as_deref().map(join_tags);
    let updated = c
        .prepare_cached(sql::UPDATE)?
        .query_row(
            params![
                id,
                changes.title,
                changes.body,
                tags,
                now.micros(),
                expected,
                changes.summary
            ],
            |_| Ok(()),
        )
        .optional()?;
    if updated.is_none() {
        return missed(c, sql::EXISTS, id);
    }
    if let Some(tags) = &changes.tags {
        set_tags(c, id, tags)?;
    }
    let post = by_id(c, id, viewer)?;
    if let Some(p) = post
        .as_ref()
        .filter(|_| changes.title.is_some() || changes.body.is_some())
    {
        search::add_terms(c, &p.title, &p.body)?;
    }
    Ok(post.map_or(Change::NotFound, Change::Done))
}

impl SqliteStore {
    /// A page of `sql::list`: below `after`, `offset` posts skipped, at most `limit`.
    async fn list_rows(
        &self,
        filter: PostFilter,
        viewer: Option<i64>,
        after: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<Post>> {
        self.read(move |c| {
            let search = match &filter.search {
                Some(q) => Some(search::fts5_query(c, q)?),
                None => None,
            };
            let mut stmt = c.prepare_cached(&sql::list(&filter, Dialect::Sqlite))?;
            let rows = stmt.query_map(
                params![
                    viewer,
                    after,
                    filter.tag,
                    filter.author,
                    filter.liked_by,
                    limit,
                    filter.feed_of,
                    search,
                    offset
                ],
                post_row,
            )?;
            rows.collect()
        })
        .await
    }
}

#[async_trait]
impl PostStore for SqliteStore {
    async fn create_post(&self, new: NewPost, now: Timestamp) -> StoreResult<Post> {
        let event = |p: &Post| Some(ChangeEvent::PostCreated(p.clone()));
        self.writer
            .run_publishing(move |c| insert(c, new, now), event)
            .await
    }

    async fn post(&self, id: i64, viewer: Option<i64>) -> StoreResult<Option<Post>> {
        self.read(move |c| by_id(c, id, viewer)).await
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
        self.read(move |c| {
            let (text, by) = sql::count(&filter, Dialect::Sqlite);
            let mut stmt = c.prepare_cached(&text)?;
            let get = |r: &Row<'_>| r.get::<_, i64>(0);
            match by {
                CountBy::Nothing => stmt.query_row([], get),
                CountBy::Author => stmt.query_row([filter.author], get),
                CountBy::Tag => stmt.query_row([&filter.tag], get),
                CountBy::Liker => stmt.query_row([filter.liked_by], get),
                CountBy::Feed => stmt.query_row([filter.feed_of], get),
                CountBy::List => {
                    let search = match &filter.search {
                        Some(q) => Some(search::fts5_query(c, q)?),
                        None => None,
                    };
                    let p = &filter;
                    stmt.query_row(
                        params![
                            None::<i64>,
                            i64::MAX,
                            p.tag,
                            p.author,
                            p.liked_by,
                            -1,
                            p.feed_of,
                            search,
                            0
                        ],
                        get,
                    )
                }
            }
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
        let run = move |c: &Connection| update(c, id, &changes, expected_version, viewer, now);
        let event = |c: &Change<Post>| c.done().map(|p| ChangeEvent::PostUpdated(p.clone()));
        self.writer.run_publishing(run, event).await
    }

    async fn delete_post(&self, id: i64, expected_version: Option<i64>) -> StoreResult<Change<()>> {
        let run = move |c: &Connection| {
            let author: Option<i64> = c
                .prepare_cached(sql::DELETE)?
                .query_row(params![id, expected_version], |r| r.get(0))
                .optional()?;
            match author {
                Some(author_id) => Ok(Change::Done(author_id)),
                None => missed(c, sql::EXISTS, id),
            }
        };
        let event = move |c: &Change<i64>| {
            c.done()
                .map(|&author_id| ChangeEvent::PostDeleted { id, author_id })
        };
        Ok(self.writer.run_publishing(run, event).await?.map(|_| ()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteSynchronous;

    /// Each filter's page is one range scan of its own index: no full scan, no sort, whatever the
    /// table's size (what keeps a page's cost flat from a thousand posts to a million).
    #[tokio::test]
    async fn every_list_is_a_range_scan_of_an_index_without_a_sort() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("p.db"), SqliteSynchronous::Normal).unwrap();
        let filters = [
            PostFilter::default(),
            PostFilter {
                author: Some(1),
                ..PostFilter::default()
            },
            PostFilter {
                tag: Some("x".into()),
                ..PostFilter::default()
            },
            PostFilter {
                liked_by: Some(1),
                ..PostFilter::default()
            },
            PostFilter {
                feed_of: Some(1),
                ..PostFilter::default()
            },
            PostFilter {
                search: crate::domain::SearchQuery::parse("hello wor").unwrap(),
                ..PostFilter::default()
            },
        ];
        for filter in filters {
            let plan: Vec<String> = store
                .read(move |c| {
                    let sql = format!("EXPLAIN QUERY PLAN {}", sql::list(&filter, Dialect::Sqlite));
                    let search = filter
                        .search
                        .as_ref()
                        .map(|q| Dialect::Sqlite.search_text(q));
                    let mut stmt = c.prepare(&sql)?;
                    let rows = stmt.query_map(
                        params![
                            1,
                            100,
                            filter.tag,
                            filter.author,
                            filter.liked_by,
                            20,
                            filter.feed_of,
                            search,
                            0
                        ],
                        |r| r.get::<_, String>(3),
                    )?;
                    rows.collect()
                })
                .await
                .unwrap();
            // FTS5 is a virtual table: its "SCAN" is a lookup of the words' index.
            let indexed =
                |step: &String| step.starts_with("SEARCH") || step.contains("VIRTUAL TABLE");
            assert!(indexed(&plan[0]), "{plan:?}");
            assert!(
                plan.iter().all(|step| !step.contains("TEMP B-TREE")
                    && (!step.starts_with("SCAN") || indexed(step))),
                "{plan:?}"
            );
        }
    }
}
