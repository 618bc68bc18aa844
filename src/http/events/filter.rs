//! Which events a stream asked for: topics, narrowed to one post or one author, and the private
//! topics addressed to the stream's user.

use std::collections::HashSet;

use super::frame::Frame;

pub(super) const POSTS: u8 = 1;
pub(super) const COMMENTS: u8 = 2;
pub(super) const LIKES: u8 = 4;
pub(super) const FEED: u8 = 8;
pub(super) const NOTIFICATIONS: u8 = 16;
/// Not a topic anyone can ask for: follows, which the hub reads to keep feed streams current.
pub(super) const INTERNAL: u8 = 0;

const PUBLIC: u8 = POSTS | COMMENTS | LIKES;
const PRIVATE: u8 = FEED | NOTIFICATIONS;

/// The topic of a logged event's kind.
pub(super) fn topic_of(kind: &str) -> u8 {
    match kind {
        "post.created" | "post.updated" | "post.deleted" => POSTS,
        "comment.created" | "comment.updated" | "comment.deleted" => COMMENTS,
        "post.liked" => LIKES,
        "feed" => FEED,
        "notification" => NOTIFICATIONS,
        _ => INTERNAL,
    }
}

/// Why a `topics` list was refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TopicsError {
    Unknown(String),
    /// `feed` or `notifications` without a token or ticket.
    NeedsUser,
}

/// Reads `topics=posts,comments,...`. Absent: every public topic, and `notifications` too when
/// the stream has a user (they are addressed to them). Empty items are ignored.
pub(super) fn parse_topics(raw: Option<&str>, has_user: bool) -> Result<u8, TopicsError> {
    let Some(raw) = raw else {
        return Ok(if has_user {
            PUBLIC | NOTIFICATIONS
        } else {
            PUBLIC
        });
    };
    let mut topics = 0;
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        topics |= match name {
            "posts" => POSTS,
            "comments" => COMMENTS,
            "likes" => LIKES,
            "feed" => FEED,
            "notifications" => NOTIFICATIONS,
            other => return Err(TopicsError::Unknown(other.chars().take(40).collect())),
        };
    }
    if topics & PRIVATE != 0 && !has_user {
        return Err(TopicsError::NeedsUser);
    }
    if topics == 0 {
        return Ok(if has_user {
            PUBLIC | NOTIFICATIONS
        } else {
            PUBLIC
        });
    }
    Ok(topics)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Filter {
    pub topics: u8,
    pub post: Option<i64>,
    pub author: Option<i64>,
    pub user: Option<i64>,
}

impl Filter {
    /// Whether `frame` goes to this stream; `followees` are whom its user follows.
    pub(super) fn matches(&self, frame: &Frame, followees: &HashSet<i64>) -> bool {
        if frame.topic & self.topics == 0 {
            return false;
        }
        if self.post.is_some_and(|p| frame.post_id != Some(p))
            || self.author.is_some_and(|a| frame.author_id != Some(a))
        {
            return false;
        }
        match frame.topic {
            FEED => frame.author_id.is_some_and(|a| followees.contains(&a)),
            NOTIFICATIONS => self.user.is_some() && frame.author_id == self.user,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_default_to_the_public_ones_and_private_ones_need_a_user() {
        assert_eq!(parse_topics(None, false), Ok(PUBLIC));
        assert_eq!(parse_topics(None, true), Ok(PUBLIC | NOTIFICATIONS));
        assert_eq!(parse_topics(Some("posts, likes"), false), Ok(POSTS | LIKES));
        assert_eq!(
            parse_topics(Some("feed"), false),
            Err(TopicsError::NeedsUser)
        );
        assert_eq!(parse_topics(Some("feed"), true), Ok(FEED));
        assert_eq!(
            parse_topics(Some("posts,users"), true),
            Err(TopicsError::Unknown("users".into()))
        );
        assert_eq!(parse_topics(Some(","), false), Ok(PUBLIC));
    }
}
