//! What the clients were told: the model the restarted server is checked against.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

/// The outcome of a write, as far as its client knows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PostState {
    /// The post as the last acknowledged write returned it (the full JSON and its ETag).
    Present {
        json: Value,
        etag: String,
    },
    Deleted,
}

#[derive(Debug)]
pub(crate) struct PostModel {
    pub id: i64,
    /// The client that owns it: only that client writes to it.
    pub owner: usize,
    pub acked: PostState,
    /// A write sent whose answer never came: the state it would have produced. `title`/`body` of
    /// `None` keep the acknowledged value (a PATCH of one field).
    pub in_flight: Option<Pending>,
}

#[derive(Debug, Clone)]
pub(crate) enum Pending {
    Edit {
        title: Option<String>,
        body: Option<String>,
    },
    Delete,
}

#[derive(Debug, Clone)]
pub(crate) struct UserModel {
    pub id: i64,
    pub username: String,
    pub password: String,
    pub email: String,
    /// The sign-up response, which `GET /api/users/{id}` must repeat.
    pub json: Value,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TokenState {
    Live,
    Revoked,
    /// `DELETE /api/tokens/current` was sent and never answered.
    RevokeInFlight,
}

#[derive(Debug)]
pub(crate) struct TokenModel {
    pub user_id: i64,
    /// The client that logged in and alone uses it, so that one client's logout never
    /// pulls the token from under another's requests.
    pub owner: usize,
    pub state: TokenState,
}

#[derive(Default)]
pub(crate) struct Model {
    pub users: Vec<UserModel>,
    /// Sign-ups sent and never answered, by username: they may exist.
    pub ambiguous_signups: HashMap<String, (String, String)>,
    /// Every username ever sent.
    pub usernames_sent: HashSet<String>,
    pub tokens: HashMap<String, TokenModel>,
    pub posts: BTreeMap<i64, PostModel>,
    /// Creates sent and never answered, by title (titles are unique): they may exist, with this
    /// owner and body.
    pub ambiguous_creates: HashMap<String, (usize, String)>,
    /// Every title and body ever sent, so that anything else found is a torn or invented write.
    pub titles_sent: HashSet<String>,
    pub bodies_sent: HashSet<String>,
}

#[derive(Default, Clone, Copy)]
pub(crate) struct Tally {
    pub acked_writes: u64,
    pub checked: u64,
    pub ambiguous: u64,
    pub failed_requests: u64,
    /// 5xx answers: a server that answers at all must not fail a valid write.
    pub server_errors: u64,
}
