//! Comments on posts.

use async_trait::async_trait;

use super::{Change, PageQuery, StoreResult};
use crate::domain::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Comment {
    pub id: i64,
    pub post_id: i64,
    pub author_id: i64,
    pub body: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Bumped on every change; the comment's ETag.
    pub version: i64,
}

#[async_trait]
pub trait CommentStore {
    /// `None` when the post does not exist.
    async fn create_comment(
        &self,
        post_id: i64,
        author_id: i64,
        body: String,
        now: Timestamp,
    ) -> StoreResult<Option<Comment>>;
    async fn comment(&self, id: i64) -> StoreResult<Option<Comment>>;
    /// Oldest first, after `page.after`; `None` when the post does not exist.
    async fn list_comments(
        &self,
        post_id: i64,
        page: PageQuery,
    ) -> StoreResult<Option<Vec<Comment>>>;
    async fn update_comment(
        &self,
        id: i64,
        body: String,
        expected_version: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<Change<Comment>>;
    async fn delete_comment(
        &self,
        id: i64,
        expected_version: Option<i64>,
    ) -> StoreResult<Change<()>>;
}

/// The statements both backends run (see `users::sql`).
pub mod sql {
    macro_rules! columns {
        () => {
            "id, post_id, author_id, body, created_at, updated_at, version"
        };
    }
    /// Inserts only under an existing post: no row back means no post.
    pub const INSERT: &str = concat!(
        "INSERT INTO comments (post_id, author_id, body, created_at, updated_at)
         SELECT ?1, ?2, ?3, ?4, ?4 WHERE EXISTS (SELECT 1 FROM posts WHERE id = ?1) RETURNING ",
        columns!()
    );
    pub const BY_ID: &str = concat!("SELECT ", columns!(), " FROM comments WHERE id = ?1");
    pub const EXISTS: &str = "SELECT 1 FROM comments WHERE id = ?1";
    pub const LIST: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM comments WHERE post_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
    );
    pub const UPDATE: &str = concat!(
        "UPDATE comments SET body = ?2, version = version + 1, updated_at = ?3
         WHERE id = ?1 AND (CAST(?4 AS BIGINT) IS NULL OR version = ?4) RETURNING ",
        columns!()
    );
    pub const DELETE: &str =
        "DELETE FROM comments WHERE id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR version = ?2)
         RETURNING post_id";
}
