//! Follows: one per (follower, followee); following twice changes nothing. Following someone puts
//! their posts in one's feed (`feed` rows, kept by triggers: see the migration).

use async_trait::async_trait;

use super::{ChangeEvent, PageQuery, StoreResult, User};
use crate::domain::Timestamp;

/// A user in a follower or following list, with the follow's id (the list's order and cursor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    pub id: i64,
    pub user: User,
}

/// What a follow or unfollow did: the followee after it, and whether it changed anything.
pub type Outcome = (Option<User>, bool);

/// The event of a follow (`following`) or an unfollow: none when it changed nothing.
pub fn event(follower_id: i64, following: bool) -> impl FnOnce(&Outcome) -> Option<ChangeEvent> {
    move |(followee, changed)| {
        let followee = followee.as_ref().filter(|_| *changed)?;
        Some(ChangeEvent::UserFollowed {
            follower_id,
            followee_id: followee.id,
            following,
            follower_count: followee.follower_count,
        })
    }
}

#[async_trait]
pub trait FollowStore {
    /// `follower` follows `followee` (a no-op when already); the followee as the follower now
    /// sees them, or `None` when there is no such user. Never called with the two the same.
    async fn follow(
        &self,
        follower: i64,
        followee: i64,
        now: Timestamp,
    ) -> StoreResult<Option<User>>;
    /// Ends the follow (a no-op when there was none); as [`FollowStore::follow`].
    async fn unfollow(&self, follower: i64, followee: i64) -> StoreResult<Option<User>>;
    /// Who follows `user`, newest follow first, as `viewer` sees them; `page.after` is the follow
    /// id the previous page ended on.
    async fn followers(
        &self,
        user: i64,
        viewer: Option<i64>,
        page: PageQuery,
    ) -> StoreResult<Vec<Follow>>;
    /// Whom `user` follows, newest follow first; as [`FollowStore::followers`].
    async fn following(
        &self,
        user: i64,
        viewer: Option<i64>,
        page: PageQuery,
    ) -> StoreResult<Vec<Follow>>;
}

/// The statements both backends run (see `users::sql`).
pub mod sql {
    use crate::store::users::sql::{columns, following_column};

    /// Inserts only for an existing followee, and nothing when the follow is there already.
    pub const INSERT: &str = "INSERT INTO follows (follower_id, followee_id, created_at)
         SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?2)
         ON CONFLICT DO NOTHING";
    pub const DELETE: &str = "DELETE FROM follows WHERE follower_id = ?1 AND followee_id = ?2";

    /// A page of a list: `?1` whose list, `?2` the follow id to start below, `?3` the viewer,
    /// `?4` the limit. The user's columns, `following`, then the follow's id.
    macro_rules! list {
        ($user:literal, $owner:literal) => {
            concat!(
                "SELECT ",
                columns!("u."),
                ", ",
                following_column!("?3"),
                ", f.id FROM follows f JOIN users u ON u.id = f.",
                $user,
                " WHERE f.",
                $owner,
                " = ?1 AND f.id < ?2 ORDER BY f.id DESC LIMIT ?4"
            )
        };
    }
    pub const FOLLOWERS: &str = list!("follower_id", "followee_id");
    pub const FOLLOWING: &str = list!("followee_id", "follower_id");
}
