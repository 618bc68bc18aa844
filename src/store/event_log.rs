//! The event log behind `/api/events`: an outbox written in the same transaction as each change
//! (so a change is logged if and only if it committed), read back by position. On SQLite the
//! position is the row id (one writer commits in id order); on PostgreSQL a sequencer assigns it
//! after commit (see `postgres/event_log.rs`). Either way a reader that has seen position N never
//! later finds a new event below N, which is what makes resuming from `Last-Event-ID` exact.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{ChangeEvent, StoreResult};
use crate::domain::Timestamp;

/// One logged event. `data` is the change as the store serialized it (a [`ChangeEvent`]); how a
/// subscriber sees it is the HTTP layer's business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    pub position: i64,
    pub kind: String,
    /// The post the event is about, if any.
    pub post_id: Option<i64>,
    /// The author of that post (or the followee of a follow): `author=` filters match it, and a
    /// `notification` goes to this user.
    pub author_id: Option<i64>,
    /// Who acted (the writer of a post or comment, the liker, the follower).
    pub actor_id: Option<i64>,
    pub data: String,
    pub created_at: Timestamp,
}

/// What the log holds: positions `trimmed_through + 1 ..= head` (fewer once retention trims).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogBounds {
    /// The last position removed by retention (0 when nothing was).
    pub trimmed_through: i64,
    /// The last position handed out.
    pub head: i64,
}

#[async_trait]
pub trait EventLogStore {
    /// Events with a position above `after`, in order, at most `limit`.
    async fn events_after(&self, after: i64, limit: u32) -> StoreResult<Vec<LoggedEvent>>;
    async fn log_bounds(&self) -> StoreResult<LogBounds>;
    /// Removes the events logged before `before`; answers how many.
    async fn trim_log(&self, before: Timestamp) -> StoreResult<u64>;
    /// Stores a stream ticket (its SHA-256) for `user_id`, valid until `expires_at`.
    async fn issue_ticket(
        &self,
        hash: [u8; 32],
        user_id: i64,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Uses a ticket up: its user when it existed and had not expired; it is gone either way.
    async fn redeem_ticket(&self, hash: [u8; 32], now: Timestamp) -> StoreResult<Option<i64>>;
    /// Everyone `user_id` follows (for the `feed` topic).
    async fn followee_ids(&self, user_id: i64) -> StoreResult<Vec<i64>>;
    /// Notified whenever events may have become readable: after this process's logged commits
    /// and, on PostgreSQL, when another instance's are sequenced. A reader should still look
    /// now and then: a wake-up can be missed, the log cannot.
    fn log_wakeup(&self) -> Arc<Notify>;
}

/// One row to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: &'static str,
    pub post_id: Option<i64>,
    /// `None`: the post's author, looked up in the same transaction (and, for a notification,
    /// not logged at all when the author is the actor: nobody is notified of their own doing).
    pub author_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub notify: bool,
}

/// The rows a change logs, in order. A new post is also a `feed` event for its author's
/// followers; a comment or a like is also a `notification` for the post's author. Those are rows
/// of their own so that each event a subscriber receives has its own position.
pub fn entries(event: &ChangeEvent) -> Vec<Entry> {
    let on_post = |kind, post_id, actor_id| Entry {
        kind,
        post_id: Some(post_id),
        author_id: None,
        actor_id,
        notify: false,
    };
    let with_author = |kind, post_id, author_id: i64| Entry {
        kind,
        post_id: Some(post_id),
        author_id: Some(author_id),
        actor_id: Some(author_id),
        notify: false,
    };
    let notification = |post_id, actor_id| Entry {
        notify: true,
        ..on_post("notification", post_id, Some(actor_id))
    };
    match event {
        ChangeEvent::UserCreated { .. }
        | ChangeEvent::UserUpdated { .. }
        | ChangeEvent::UserDeleted { .. } => vec![],
        ChangeEvent::PostCreated(p) => vec![
            with_author("post.created", p.id, p.author_id),
            with_author("feed", p.id, p.author_id),
        ],
        ChangeEvent::PostUpdated(p) => vec![with_author("post.updated", p.id, p.author_id)],
        ChangeEvent::PostDeleted { id, author_id } => {
            vec![with_author("post.deleted", *id, *author_id)]
        }
        ChangeEvent::CommentCreated(c) => vec![
            on_post("comment.created", c.post_id, Some(c.author_id)),
            notification(c.post_id, c.author_id),
        ],
        ChangeEvent::CommentUpdated(c) => {
            vec![on_post("comment.updated", c.post_id, Some(c.author_id))]
        }
        ChangeEvent::CommentDeleted { post_id, .. } => {
            vec![on_post("comment.deleted", *post_id, None)]
        }
        ChangeEvent::PostLiked {
            post,
            user_id,
            liked,
        } => {
            let mut rows = vec![on_post("post.liked", post.id, Some(*user_id))];
            if *liked {
                rows.push(notification(post.id, *user_id));
            }
            rows
        }
        ChangeEvent::UserFollowed {
            follower_id,
            followee_id,
            ..
        } => vec![Entry {
            kind: "follow",
            post_id: None,
            author_id: Some(*followee_id),
            actor_id: Some(*follower_id),
            notify: false,
        }],
    }
}

/// The statements both backends run (see `users::sql`).
pub mod sql {
    /// `?1` kind, `?2` post, `?3` author, `?4` actor, `?5` data, `?6` time.
    pub const APPEND: &str =
        "INSERT INTO event_log (kind, post_id, author_id, actor_id, data, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    /// As `APPEND` with the post's author looked up, and nothing logged when there is no such
    /// post, or when `?7` and the author is the actor.
    pub const APPEND_ON_POST: &str = "INSERT INTO event_log (kind, post_id, author_id, actor_id, data, created_at)
         SELECT CAST(?1 AS TEXT), id, author_id, CAST(?3 AS BIGINT), CAST(?4 AS TEXT), CAST(?5 AS BIGINT)
         FROM posts WHERE id = ?2 AND NOT (CAST(?6 AS BOOLEAN) AND author_id = CAST(?3 AS BIGINT))";
    pub const TICKET_INSERT: &str =
        "INSERT INTO event_tickets (hash, user_id, expires_at) VALUES (?1, ?2, ?3)";
    pub const TICKET_TAKE: &str =
        "DELETE FROM event_tickets WHERE hash = ?1 RETURNING user_id, expires_at";
    pub const TICKETS_EXPIRED: &str = "DELETE FROM event_tickets WHERE expires_at < ?1";
    pub const FOLLOWEES: &str = "SELECT followee_id FROM follows WHERE follower_id = ?1";
}
