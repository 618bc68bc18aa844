//! Changes, published after they commit. Every committed write of a resource yields one
//! [`ChangeEvent`], handed to the store's [`Publisher`] once its transaction has committed, in
//! commit order: on SQLite the writer thread publishes each batch's events in the order the batch
//! ran, right after its commit; on PostgreSQL each write publishes after its own commit returns
//! (writes on different connections that commit at the same moment may be seen in either order).
//! A write that rolls back publishes nothing.

use tokio::sync::broadcast;

use super::{Comment, Post};

/// What changed. Users appear by id only: nothing here may carry an email or a hash to whoever
/// subscribes.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    },
    CommentCreated(Comment),
    CommentUpdated(Comment),
    CommentDeleted {
        id: i64,
    },
    /// A follow or an unfollow, with the followee's new follower count.
    UserFollowed {
        follower_id: i64,
        followee_id: i64,
        following: bool,
        follower_count: i64,
    },
    /// A like or an unlike, with the post's new count.
    PostLiked {
        post_id: i64,
        user_id: i64,
        liked: bool,
        like_count: i64,
    },
}

/// Events published while nobody reads them are dropped; a subscriber that falls this far behind
/// is told it lagged (tokio's broadcast) rather than holding memory without bound.
const CAPACITY: usize = 1024;

/// The in-process fan-out of committed changes.
#[derive(Debug, Clone)]
pub struct Publisher {
    tx: broadcast::Sender<ChangeEvent>,
}

impl Default for Publisher {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
        }
    }
}

impl Publisher {
    /// Publishes the event `make` builds, building it only when someone listens.
    pub fn publish_with(&self, make: impl FnOnce() -> Option<ChangeEvent>) {
        if self.tx.receiver_count() > 0 {
            if let Some(event) = make() {
                // Nobody listening between the check and the send is not an error.
                let _ = self.tx.send(event);
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ChangeEvent> {
        self.tx.subscribe()
    }
}
