//! Posts, with their tags and the like and comment counts kept beside them.

use async_trait::async_trait;

use super::{Change, PageQuery, StoreResult};
use crate::domain::Timestamp;

/// A post as stored. `like_count` and `comment_count` are kept by the database in the same
/// transaction as each like and comment (triggers), so reading them costs nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub author_id: i64,
    /// Lower case, in the order given, no duplicates.
    pub tags: Vec<String>,
    pub like_count: i64,
    pub comment_count: i64,
    /// Whether the viewer the post was read for likes it; `None` when read for nobody.
    pub liked: Option<bool>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Bumped on every change of the post's own fields (not of its counts).
    pub version: i64,
}

impl Post {
    /// A post as its insert wrote it: no likes or comments yet, read for nobody.
    pub(crate) fn inserted(new: NewPost, id: i64, version: i64, now: Timestamp) -> Self {
        Self {
            id,
            title: new.title,
            body: new.body,
            author_id: new.author_id,
            tags: new.tags,
            like_count: 0,
            comment_count: 0,
            liked: None,
            created_at: now,
            updated_at: now,
            version,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewPost {
    pub author_id: i64,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
}

/// Changes to a post; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PostChanges {
    pub title: Option<String>,
    pub body: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// Which posts a list shows; the filters combine. A list is driven by the index of its most
/// selective filter (tag, then liker, then author), so each single filter is one range scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostFilter {
    pub author: Option<i64>,
    /// Lower case.
    pub tag: Option<String>,
    pub liked_by: Option<i64>,
}

/// Tags as stored in a post's row: space-separated (a tag has no spaces).
pub fn join_tags(tags: &[String]) -> String {
    tags.join(" ")
}

pub fn split_tags(stored: &str) -> Vec<String> {
    stored.split_whitespace().map(str::to_owned).collect()
}

#[async_trait]
pub trait PostStore {
    async fn create_post(&self, new: NewPost, now: Timestamp) -> StoreResult<Post>;
    /// The post as `viewer` sees it (`liked` set when there is a viewer).
    async fn post(&self, id: i64, viewer: Option<i64>) -> StoreResult<Option<Post>>;
    /// Newest first; `page.after` is the id the previous page ended on.
    async fn list_posts(
        &self,
        filter: PostFilter,
        viewer: Option<i64>,
        page: PageQuery,
    ) -> StoreResult<Vec<Post>>;
    async fn update_post(
        &self,
        id: i64,
        changes: PostChanges,
        expected_version: Option<i64>,
        viewer: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<Change<Post>>;
    /// Deletes the post with its comments, likes and tags.
    async fn delete_post(&self, id: i64, expected_version: Option<i64>) -> StoreResult<Change<()>>;
}

/// The statements both backends run (see `users::sql`). In every statement that reads posts,
/// `?1` is the viewer (NULL for nobody), whose like decides `liked`.
pub mod sql {
    use super::PostFilter;

    /// `liked` is NULL without a viewer.
    macro_rules! columns {
        () => {
            "p.id, p.title, p.body, p.author_id, p.tags, p.like_count, p.comment_count,
             CASE WHEN CAST(?1 AS BIGINT) IS NULL THEN NULL
                  ELSE EXISTS (SELECT 1 FROM likes v WHERE v.user_id = ?1 AND v.post_id = p.id) END,
             p.created_at, p.updated_at, p.version"
        };
    }

    pub const INSERT: &str =
        "INSERT INTO posts (author_id, title, body, tags, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING id, version";
    pub const BY_ID: &str = concat!("SELECT ", columns!(), " FROM posts p WHERE p.id = ?2");
    pub const EXISTS: &str = "SELECT 1 FROM posts WHERE id = ?1";
    pub const UPDATE: &str = "UPDATE posts SET title = coalesce(?2, title),
             body = coalesce(?3, body), tags = coalesce(?4, tags),
             version = version + 1, updated_at = ?5
         WHERE id = ?1 AND (CAST(?6 AS BIGINT) IS NULL OR version = ?6) RETURNING id";
    pub const DELETE: &str =
        "DELETE FROM posts WHERE id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR version = ?2)";
    pub const UNTAG: &str = "DELETE FROM post_tags WHERE post_id = ?1";
    pub const TAG: &str = "INSERT INTO post_tags (tag, post_id) VALUES (?1, ?2)";

    /// A page of posts: `?1` viewer, `?2` the id to start below, `?3` tag, `?4` author, `?5`
    /// liker, `?6` limit. The scan is driven by the index of the most selective filter given (a
    /// tag's posts, a liker's likes, an author's posts, or all posts), newest first, and the other
    /// filters are checked per row; so a single filter is one range scan of its index whatever the
    /// table's size. There are four such statements; each is prepared once per connection.
    pub fn list(filter: &PostFilter) -> String {
        let (from, key) = if filter.tag.is_some() {
            (
                "post_tags d JOIN posts p ON p.id = d.post_id",
                "d.tag = ?3 AND d.post_id",
            )
        } else if filter.liked_by.is_some() {
            (
                "likes d JOIN posts p ON p.id = d.post_id",
                "d.user_id = ?5 AND d.post_id",
            )
        } else if filter.author.is_some() {
            ("posts p", "p.author_id = ?4 AND p.id")
        } else {
            ("posts p", "p.id")
        };
        let order = key.rsplit(" AND ").next().unwrap_or(key);
        format!(
            "SELECT {} FROM {from} WHERE {key} < ?2
               AND (CAST(?3 AS TEXT) IS NULL
                    OR EXISTS (SELECT 1 FROM post_tags t WHERE t.tag = ?3 AND t.post_id = p.id))
               AND (CAST(?4 AS BIGINT) IS NULL OR p.author_id = ?4)
               AND (CAST(?5 AS BIGINT) IS NULL
                    OR EXISTS (SELECT 1 FROM likes k WHERE k.user_id = ?5 AND k.post_id = p.id))
             ORDER BY {order} DESC LIMIT ?6",
            columns!()
        )
    }
}
