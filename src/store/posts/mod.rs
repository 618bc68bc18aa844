//! Posts, with their tags and the like and comment counts kept beside them.

use async_trait::async_trait;

use super::{Change, PageQuery, StoreResult};
use crate::domain::{SearchQuery, Timestamp};

/// A post as stored. `like_count` and `comment_count` are kept by the database in the same
/// transaction as each like and comment (triggers), so reading them costs nothing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Post {
    pub id: i64,
    pub title: String,
    pub body: String,
    /// 0-300 characters; empty when none was given.
    #[serde(default)]
    pub summary: String,
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
            summary: new.summary,
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
    pub summary: String,
    pub tags: Vec<String>,
}

/// Changes to a post; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PostChanges {
    pub title: Option<String>,
    pub body: Option<String>,
    pub summary: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// Which posts a list shows; the filters combine. A list is driven by the index of its most
/// selective filter (a feed, a tag, a liker, an author, then the words), so each single filter is
/// one range scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostFilter {
    pub author: Option<i64>,
    /// Lower case.
    pub tag: Option<String>,
    pub liked_by: Option<i64>,
    /// Posts by the people this user follows (their feed).
    pub feed_of: Option<i64>,
    /// Posts whose title or body has all these words (the last as a prefix).
    pub search: Option<SearchQuery>,
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
    /// Newest first, skipping `offset` posts (offset paging, as the RealWorld API has it: each
    /// page walks past the posts before it, so a deep page costs in proportion to its offset).
    async fn list_posts_at(
        &self,
        filter: PostFilter,
        viewer: Option<i64>,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Post>>;
    /// How many posts `filter` selects: with no filter or one of author, tag, liker or feed, read
    /// from the counts kept in each write's transaction (no rows are counted); otherwise counted
    /// along the most selective filter's index.
    async fn count_posts(&self, filter: PostFilter) -> StoreResult<i64>;
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

pub mod sql;
