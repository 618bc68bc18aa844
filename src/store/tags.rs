//! Tags: set on posts (see [`super::PostStore`]); counted per tag by the database as posts gain
//! and lose them.

use async_trait::async_trait;

use super::StoreResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    pub name: String,
    /// Posts carrying the tag.
    pub count: i64,
}

#[async_trait]
pub trait TagStore {
    /// The `limit` most used tags, most used first, ties by name.
    async fn popular_tags(&self, limit: u32) -> StoreResult<Vec<TagCount>>;
}

/// The statements both backends run (see `users::sql`).
pub mod sql {
    pub const POPULAR: &str =
        "SELECT name, count FROM tag_counts ORDER BY count DESC, name LIMIT ?1";
}
