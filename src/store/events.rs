//! Changes, published after they commit. Every committed write of a resource yields one
//! [`ChangeEvent`], handed to the store's [`Publisher`] once its transaction has committed, in
//! commit order: on SQLite the writer thread publishes each batch's events in the order the batch
//! ran, right after its commit; on PostgreSQL each write publishes after its own commit returns
//! (writes on different connections that commit at the same moment may be seen in either order).
//! A write that rolls back publishes nothing.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, Notify};

use super::{Comment, Post};

/// What changed. Users appear by id only: nothing here may carry an email or a hash to whoever
/// subscribes. Serialized (serde) into the event log, from which it is read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ChangeEvent {
    UserCreated {
        id: i64,
    },
    UserUpdated {
        id: i64,
    },
    UserDeleted {
        id: i64,
    },
    PostCreated(Post),
    PostUpdated(Post),
    PostDeleted {
        id: i64,
        author_id: i64,
    },
    CommentCreated(Comment),
    CommentUpdated(Comment),
    CommentDeleted {
        id: i64,
        post_id: i64,
    },
    /// A follow or an unfollow, with the followee's new follower count.
    UserFollowed {
        follower_id: i64,
        followee_id: i64,
        following: bool,
        follower_count: i64,
    },
    /// A like or an unlike by `user_id`, with the post after it (its new count).
    PostLiked {
        post: Post,
        user_id: i64,
        liked: bool,
    },
}

/// Events published while nobody reads them are dropped; a subscriber that falls this far behind
/// is told it lagged (tokio's broadcast) rather than holding memory without bound.
const CAPACITY: usize = 1024;

/// The in-process fan-out of committed changes.
#[derive(Debug, Clone)]
pub struct Publisher {
    tx: broadcast::Sender<ChangeEvent>,
    /// Rung when new events may be readable in the event log (see `event_log`).
    wake: Arc<Notify>,
}

impl Default for Publisher {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
            wake: Arc::new(Notify::new()),
        }
    }
}

impl Publisher {
    /// Publishes a committed change.
    pub fn publish(&self, event: ChangeEvent) {
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(event);
        }
    }

    /// Says that new events may be readable in the log (one waiter: the realtime hub).
    pub fn wake_log(&self) {
        self.wake.notify_one();
    }

    pub fn log_wakeup(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ChangeEvent> {
        self.tx.subscribe()
    }
}
