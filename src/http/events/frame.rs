//! A logged event as a stream sends it: rendered once, shared by every stream it goes to. Its
//! `data` is the resource as the REST API shows it to someone without a token (a post without
//! `liked`), so that no event carries more than a subscriber could read anyway.

use bytes::Bytes;
use serde::Serialize;
use utoipa::ToSchema;

use super::filter::{self, INTERNAL};
use crate::domain::Timestamp;
use crate::http::comments::CommentJson;
use crate::http::PostJson;
use crate::store::{ChangeEvent, LoggedEvent, Post};

#[derive(Debug, Clone)]
pub(super) struct Frame {
    pub(super) position: i64,
    pub(super) topic: u8,
    pub(super) post_id: Option<i64>,
    pub(super) author_id: Option<i64>,
    pub(super) created_at: Timestamp,
    /// `id:`, `event:` and `data:` lines and the blank line; empty for internal events.
    pub(super) bytes: Bytes,
    /// For a follow: (follower, followee, following).
    pub(super) follow: Option<(i64, i64, bool)>,
}

/// A post as an anonymous reader sees it.
fn public_post(p: &Post) -> Post {
    let mut post = p.clone();
    post.liked = None;
    post
}

/// `post.deleted`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PostGone {
    id: i64,
    author_id: i64,
}

/// `comment.deleted`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CommentGone {
    id: i64,
    post_id: i64,
}

/// `post.liked`: the post as shown without a token (so with its new counts), and who
/// (`user_id`) liked (`liked: true`) or unliked it; `post_id` is the post's `id` again.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LikeChange<'a> {
    #[serde(flatten)]
    post: PostJson<'a>,
    post_id: i64,
    user_id: i64,
    liked: bool,
}

/// `notification`: someone (`user_id`) commented on or liked a post of yours.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Notification<'a> {
    /// `comment` or `like`.
    #[serde(rename = "type")]
    kind: &'static str,
    post_id: i64,
    user_id: i64,
    /// The comment, for `type: comment`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<CommentJson>)]
    comment: Option<CommentJson<'a>>,
    /// The post's new like count, for `type: like`.
    #[serde(skip_serializing_if = "Option::is_none")]
    like_count: Option<i64>,
}

/// `reset`: the position asked for is no longer (or not) in the log; refetch what you show,
/// then carry on from this event's id.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Reset {
    pub(super) last_event_id: i64,
    pub(super) reason: &'static str,
}

fn value(v: impl Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// The `data` of an event, or `None` for a kind or a change this build does not show.
fn data(kind: &str, change: &ChangeEvent) -> Option<serde_json::Value> {
    let notification = kind == "notification";
    Some(match change {
        ChangeEvent::PostCreated(p) | ChangeEvent::PostUpdated(p) => {
            value(PostJson::from(&public_post(p)))
        }
        &ChangeEvent::PostDeleted { id, author_id } => value(PostGone { id, author_id }),
        ChangeEvent::CommentCreated(c) if notification => value(Notification {
            kind: "comment",
            post_id: c.post_id,
            user_id: c.author_id,
            comment: Some(CommentJson::from(c)),
            like_count: None,
        }),
        ChangeEvent::CommentCreated(c) | ChangeEvent::CommentUpdated(c) => {
            value(CommentJson::from(c))
        }
        &ChangeEvent::CommentDeleted { id, post_id } => value(CommentGone { id, post_id }),
        ChangeEvent::PostLiked {
            post,
            user_id,
            liked,
        } => {
            if notification {
                value(Notification {
                    kind: "like",
                    post_id: post.id,
                    user_id: *user_id,
                    comment: None,
                    like_count: Some(post.like_count),
                })
            } else {
                value(LikeChange {
                    post: PostJson::from(&public_post(post)),
                    post_id: post.id,
                    user_id: *user_id,
                    liked: *liked,
                })
            }
        }
        _ => return None,
    })
}

/// An SSE message: `id`, `event` and one `data` line (JSON has no raw newlines).
pub(super) fn message(id: i64, event: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("id: {id}\nevent: {event}\ndata: {data}\n\n"))
}

impl Frame {
    pub(super) fn render(e: &LoggedEvent) -> Self {
        let topic = filter::topic_of(&e.kind);
        let change: Option<ChangeEvent> = serde_json::from_str(&e.data).ok();
        let follow = match &change {
            Some(ChangeEvent::UserFollowed {
                follower_id,
                followee_id,
                following,
                ..
            }) => Some((*follower_id, *followee_id, *following)),
            _ => None,
        };
        let bytes = match (&change, topic) {
            (Some(change), t) if t != INTERNAL => data(&e.kind, change)
                .map(|d| message(e.position, &e.kind, &d))
                .unwrap_or_default(),
            _ => Bytes::new(),
        };
        Self {
            position: e.position,
            // Nothing to send is nothing to match.
            topic: if bytes.is_empty() { INTERNAL } else { topic },
            post_id: e.post_id,
            author_id: e.author_id,

            created_at: e.created_at,
            bytes,
            follow,
        }
    }
}
