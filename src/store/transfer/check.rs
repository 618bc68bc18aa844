//! The rules every record of a dump passes before import: each field by the API's own rules, and
//! what only a whole dump can get wrong (ids unique and in bounds, references to users that exist,
//! usernames unique regardless of case). Each problem reads `kind id: field: why`.

use std::collections::HashMap;
use std::fmt::Display;

use super::{
    CommentRecord, FollowRecord, IdsRecord, LikeRecord, PostRecord, TokenRecord, UserRecord,
};
use crate::auth::check_stored_hash;
use crate::domain::{
    Bio, CommentBody, Email, ImageUrl, PostBody, PostTitle, Tags, Timestamp, Username,
};

/// The largest id (and version) import accepts: 2^53, the largest integer a JavaScript client
/// reads exactly, and 2^63 - 2^53 short of what the columns hold, so that no id handed out or
/// version bumped after the import can overflow.
pub const MAX_ID: i64 = 1 << 53;

/// The last microsecond of year 9999: later times cannot be written as RFC 3339, as the API shows them.
const MAX_TIME: i64 = 253_402_300_799_999_999;

/// How far in the future a creation or update time may be: two machines' clocks disagree, but
/// not by a day.
const CLOCK_SKEW: i64 = 24 * 60 * 60 * 1_000_000;

/// What has been seen so far of one dump.
pub(super) struct Checker {
    now: i64,
    /// User id -> the line it was on.
    users: HashMap<i64, u64>,
    /// Lowercased username -> its user's id.
    usernames: HashMap<String, i64>,
    posts: HashMap<i64, u64>,
    tokens: HashMap<[u8; 32], u64>,
    comments: HashMap<i64, u64>,
    likes: std::collections::HashSet<(i64, i64)>,
    follows: HashMap<i64, u64>,
    /// (follower, followee) pairs seen.
    followed: std::collections::HashSet<(i64, i64)>,
}

fn field(what: &str, name: &str, why: impl Display) -> String {
    format!("{what}: {name}: {why}")
}

/// A row's own id: within bounds and not used before in the dump (`seen`: id -> its line).
fn new_id(what: &str, id: i64, seen: &HashMap<i64, u64>) -> Result<(), String> {
    in_bounds(id, 1).map_err(|e| field(what, "id", e))?;
    match seen.get(&id) {
        Some(first) => Err(field(what, "id", format!("already used on line {first}"))),
        None => Ok(()),
    }
}

/// A reference (`name`) to a `kind` row that must come earlier in the dump.
fn earlier(
    what: &str,
    name: &str,
    kind: &str,
    id: i64,
    seen: &HashMap<i64, u64>,
) -> Result<(), String> {
    if seen.contains_key(&id) {
        Ok(())
    } else {
        Err(field(
            what,
            name,
            format!("no {kind} {id} earlier in the dump"),
        ))
    }
}

fn in_bounds(value: i64, min: i64) -> Result<(), String> {
    if (min..=MAX_ID).contains(&value) {
        Ok(())
    } else {
        Err(format!("{value} is not from {min} to {MAX_ID} (2^53)"))
    }
}

impl Checker {
    pub(super) fn new(now: Timestamp) -> Self {
        Self {
            now: now.micros(),
            users: HashMap::new(),
            usernames: HashMap::new(),
            posts: HashMap::new(),
            tokens: HashMap::new(),
            comments: HashMap::new(),
            likes: std::collections::HashSet::new(),
            follows: HashMap::new(),
            followed: std::collections::HashSet::new(),
        }
    }

    fn time(&self, t: i64) -> Result<(), String> {
        if !(0..=MAX_TIME).contains(&t) {
            return Err(format!(
                "{t} is not a time from 1970 to the end of year 9999 (microseconds since the epoch)"
            ));
        }
        Ok(())
    }

    /// A creation or update time: sane, and not in the future.
    fn past(&self, t: i64) -> Result<(), String> {
        self.time(t)?;
        if t > self.now.saturating_add(CLOCK_SKEW) {
            return Err(format!("{} is in the future", Timestamp(t).to_rfc3339()));
        }
        Ok(())
    }

    /// `created_at`, and a time `name` no earlier than it, which may lie ahead only if `ahead`
    /// (an expiry).
    fn times(
        &self,
        what: &str,
        created: i64,
        (name, t): (&str, i64),
        ahead: bool,
    ) -> Result<(), String> {
        self.past(created)
            .map_err(|e| field(what, "created_at", e))?;
        if ahead { self.time(t) } else { self.past(t) }.map_err(|e| field(what, name, e))?;
        if t < created {
            return Err(field(what, name, "is before created_at"));
        }
        Ok(())
    }

    pub(super) fn user(&mut self, line: u64, u: &UserRecord) -> Result<(), String> {
        let what = format!("user {}", u.id);
        new_id(&what, u.id, &self.users)?;
        let username = Username::parse(&u.username).map_err(|e| field(&what, "username", e))?;
        let key = username.as_str().to_ascii_lowercase();
        if let Some(other) = self.usernames.get(&key) {
            return Err(field(
                &what,
                "username",
                format!(
                    "{:?} is taken by user {other} (usernames are unique regardless of case)",
                    u.username
                ),
            ));
        }
        if let Some(email) = &u.email {
            Email::parse(email).map_err(|e| field(&what, "email", e))?;
        }
        check_stored_hash(&u.password_hash).map_err(|e| field(&what, "password_hash", e))?;
        Bio::parse(&u.bio).map_err(|e| field(&what, "bio", e))?;
        if let Some(image) = &u.image {
            ImageUrl::parse(image).map_err(|e| field(&what, "image", e))?;
        }
        in_bounds(u.version, 1).map_err(|e| field(&what, "version", e))?;
        self.times(&what, u.created_at, ("updated_at", u.updated_at), false)?;
        self.users.insert(u.id, line);
        self.usernames.insert(key, u.id);
        Ok(())
    }

    pub(super) fn token(&mut self, line: u64, t: &TokenRecord) -> Result<(), String> {
        let what = format!("token of user {}", t.user_id);
        if !self.users.contains_key(&t.user_id) {
            return Err(field(&what, "user_id", "no such user earlier in the dump"));
        }
        if let Some(first) = self.tokens.get(&t.hash) {
            return Err(field(
                &what,
                "hash",
                format!("already used on line {first}"),
            ));
        }
        self.times(&what, t.created_at, ("expires_at", t.expires_at), true)?;
        self.tokens.insert(t.hash, line);
        Ok(())
    }

    pub(super) fn post(&mut self, line: u64, p: &PostRecord) -> Result<(), String> {
        let what = format!("post {}", p.id);
        new_id(&what, p.id, &self.posts)?;
        earlier(&what, "author_id", "user", p.author_id, &self.users)?;
        PostTitle::parse(&p.title).map_err(|e| field(&what, "title", e))?;
        PostBody::parse(&p.body).map_err(|e| field(&what, "body", e))?;
        // Stored tags are already in their one form: lower case, no duplicates.
        let tags = Tags::parse(&p.tags).map_err(|e| field(&what, "tags", e))?;
        if tags.into_inner() != p.tags {
            return Err(field(
                &what,
                "tags",
                "must be lower case without duplicates",
            ));
        }
        in_bounds(p.version, 1).map_err(|e| field(&what, "version", e))?;
        self.times(&what, p.created_at, ("updated_at", p.updated_at), false)?;
        self.posts.insert(p.id, line);
        Ok(())
    }

    pub(super) fn comment(&mut self, line: u64, c: &CommentRecord) -> Result<(), String> {
        let what = format!("comment {}", c.id);
        new_id(&what, c.id, &self.comments)?;
        earlier(&what, "post_id", "post", c.post_id, &self.posts)?;
        earlier(&what, "author_id", "user", c.author_id, &self.users)?;
        CommentBody::parse(&c.body).map_err(|e| field(&what, "body", e))?;
        in_bounds(c.version, 1).map_err(|e| field(&what, "version", e))?;
        self.times(&what, c.created_at, ("updated_at", c.updated_at), false)?;
        self.comments.insert(c.id, line);
        Ok(())
    }

    pub(super) fn like(&mut self, l: &LikeRecord) -> Result<(), String> {
        let what = format!("like of post {} by user {}", l.post_id, l.user_id);
        if !self.users.contains_key(&l.user_id) {
            return Err(field(&what, "user_id", "no such user earlier in the dump"));
        }
        if !self.posts.contains_key(&l.post_id) {
            return Err(field(&what, "post_id", "no such post earlier in the dump"));
        }
        self.past(l.created_at)
            .map_err(|e| field(&what, "created_at", e))?;
        if !self.likes.insert((l.user_id, l.post_id)) {
            return Err(field(&what, "user_id", "the same like twice"));
        }
        Ok(())
    }

    pub(super) fn follow(&mut self, line: u64, f: &FollowRecord) -> Result<(), String> {
        let what = format!("follow {}", f.id);
        new_id(&what, f.id, &self.follows)?;
        earlier(&what, "follower_id", "user", f.follower_id, &self.users)?;
        earlier(&what, "followee_id", "user", f.followee_id, &self.users)?;
        if f.follower_id == f.followee_id {
            return Err(field(&what, "followee_id", "a user cannot follow themself"));
        }
        self.past(f.created_at)
            .map_err(|e| field(&what, "created_at", e))?;
        if !self.followed.insert((f.follower_id, f.followee_id)) {
            return Err(field(&what, "followee_id", "the same follow twice"));
        }
        self.follows.insert(f.id, line);
        Ok(())
    }

    pub(super) fn ids(&self, ids: &IdsRecord) -> Result<(), String> {
        in_bounds(ids.users, 0).map_err(|e| field("ids", "users", e))?;
        in_bounds(ids.posts, 0).map_err(|e| field("ids", "posts", e))?;
        in_bounds(ids.comments, 0).map_err(|e| field("ids", "comments", e))?;
        in_bounds(ids.follows, 0).map_err(|e| field("ids", "follows", e))
    }
}

#[cfg(test)]
mod tests;
