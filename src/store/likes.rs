//! Likes: one per user and post; liking twice changes nothing.

use async_trait::async_trait;

use super::{ChangeEvent, Post, StoreResult};
use crate::domain::Timestamp;

/// What a like or unlike did: the post after it, and whether it changed anything.
pub type Outcome = (Option<Post>, bool);

/// The event of a like (`liked`) or an unlike by `user_id`: none when it changed nothing.
pub fn event(user_id: i64, liked: bool) -> impl FnOnce(&Outcome) -> Option<ChangeEvent> {
    move |(post, changed)| {
        let post = post.as_ref().filter(|_| *changed)?;
        Some(ChangeEvent::PostLiked {
            post: post.clone(),
            user_id,
            liked,
        })
    }
}

#[async_trait]
pub trait LikeStore {
    /// Likes the post for `user_id` (a no-op when already liked); the post as that user now sees
    /// it, or `None` when there is no such post.
    async fn like(&self, post_id: i64, user_id: i64, now: Timestamp) -> StoreResult<Option<Post>>;
    /// Takes the like back (a no-op when there was none); as [`LikeStore::like`].
    async fn unlike(&self, post_id: i64, user_id: i64) -> StoreResult<Option<Post>>;
}

/// The statements both backends run (see `users::sql`).
pub mod sql {
    /// Inserts only for an existing post, and nothing when the like is there already.
    pub const INSERT: &str = "INSERT INTO likes (user_id, post_id, created_at)
         SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM posts WHERE id = ?2)
         ON CONFLICT DO NOTHING";
    pub const DELETE: &str = "DELETE FROM likes WHERE user_id = ?1 AND post_id = ?2";
}
