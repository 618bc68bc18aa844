//! The storage boundary. Handlers see only the store traits and the row types here, one module per
//! resource; every line of SQL lives in one file per resource per database (`sqlite/posts.rs`,
//! `postgres/posts.rs`), so a resource is one file per layer and a database is one implementation.

pub mod comments;
pub mod event_log;
pub mod events;
pub mod follows;
pub mod gate;
pub mod idempotency;
pub mod likes;
pub mod limits;
pub mod postgres;
pub mod posts;
pub mod sqlite;
pub mod tags;
pub mod tokens;
pub mod transfer;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use tokio::sync::mpsc;

pub use comments::{Comment, CommentStore};
pub use event_log::{EventLogStore, LogBounds, LoggedEvent};
pub use events::{ChangeEvent, Publisher};
pub use follows::{Follow, FollowStore};
pub use idempotency::IdempotencyStore;
pub use likes::LikeStore;
pub use limits::{BudgetStore, Grant, ThrottleKeys, ThrottleRules, ThrottleStore};
pub use posts::{NewPost, Post, PostChanges, PostFilter, PostStore};
pub use tags::{TagCount, TagStore};
pub use tokens::TokenStore;
pub use transfer::{
    CommentRecord, FollowRecord, IdsRecord, ImportStep, LikeRecord, PostRecord, Record,
    TokenRecord, UserRecord,
};
pub use users::{Credentials, NewUser, User, UserChanges, UserStore};

/// A page request: rows strictly after `after` in the list's order, at most `limit` of them.
#[derive(Debug, Clone, Copy)]
pub struct PageQuery {
    pub after: Option<i64>,
    pub limit: u32,
}

/// The result of a conditional change: `expected_version` is the version the client last saw
/// (from `If-Match`), checked in the same statement that writes, so two racing edits cannot both win.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<T> {
    Done(T),
    NotFound,
    VersionMismatch,
}

impl<T> Change<T> {
    pub fn done(&self) -> Option<&T> {
        match self {
            Self::Done(v) => Some(v),
            _ => None,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Change<U> {
        match self {
            Self::Done(v) => Change::Done(f(v)),
            Self::NotFound => Change::NotFound,
            Self::VersionMismatch => Change::VersionMismatch,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("username already taken")]
    UsernameTaken,
    #[error("email already taken")]
    EmailTaken,
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database or its tables are gone (dropped while serving): unusable until they are back,
    /// and the schema must then be applied again.
    #[error("{0}")]
    SchemaGone(String),
    /// A row the write refers to (the caller's own account) was deleted meanwhile.
    #[error("a referenced row is gone")]
    ReferenceGone,
    /// The post a comment or like refers to was deleted meanwhile.
    #[error("the post is gone")]
    PostGone,
    /// The write queue is full: refused at once rather than queued without bound.
    #[error("too many writes queued")]
    Overloaded,
    #[error("database error: {0}")]
    Other(String),
}

impl StoreError {
    /// A constraint violation as its error, by the constraint's name (PostgreSQL's constraint or
    /// index name; SQLite names the columns, `table.column`). Both backends map through here, so
    /// they agree on what each violation means.
    pub fn violated(constraint: &str, detail: String) -> Self {
        match constraint {
            "users_username_lower" | "users.username" => Self::UsernameTaken,
            // SQLite names an expression index as `index 'name'`.
            "users_email_lower" | "index 'users_email_lower'" => Self::EmailTaken,
            "comments_post_id_fkey" | "likes_post_id_fkey" | "post_tags_post_id_fkey" => {
                Self::PostGone
            }
            c if c.ends_with("_fkey") || c == "FOREIGN KEY" => Self::ReferenceGone,
            _ => Self::Other(detail),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How busy the database connections are, for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub size: u64,
    pub in_use: u64,
    pub waiting: u64,
}

/// Moving a whole instance (`postbase export` / `postbase import`): keyset pages of raw rows,
/// including the password and token hashes the API never shows.
#[async_trait]
pub trait TransferStore {
    /// Users with `id > after`, by id.
    async fn export_users(&self, after: i64, limit: u32) -> StoreResult<Vec<UserRecord>>;
    /// Tokens whose hash sorts after `after` (bytewise; empty for the first page), by hash.
    async fn export_tokens(&self, after: Vec<u8>, limit: u32) -> StoreResult<Vec<TokenRecord>>;
    /// Posts with `id > after`, by id.
    async fn export_posts(&self, after: i64, limit: u32) -> StoreResult<Vec<PostRecord>>;
    /// Comments with `id > after`, by id.
    async fn export_comments(&self, after: i64, limit: u32) -> StoreResult<Vec<CommentRecord>>;
    /// Likes after `(user_id, post_id)` = `after`, in that order.
    async fn export_likes(&self, after: (i64, i64), limit: u32) -> StoreResult<Vec<LikeRecord>>;
    /// Follows with `id > after`, by id.
    async fn export_follows(&self, after: i64, limit: u32) -> StoreResult<Vec<FollowRecord>>;
    /// The largest ids ever handed out, deleted rows included.
    async fn export_ids(&self) -> StoreResult<IdsRecord>;
    /// Does the database hold no users, tokens, posts, comments, likes or follows?
    async fn is_empty(&self) -> StoreResult<bool>;
    /// Loads a dump in one transaction, all or nothing: checks that the database is still empty,
    /// inserts each batch of rows as it arrives (ids included, parents before children), and on
    /// [`ImportStep::Commit`] moves the id generators past the largest imported ids and past the
    /// ids the source handed out, so that no id is handed out twice (not even one of a row
    /// deleted before the export), then commits. When the steps end without a commit (the reader
    /// found a bad record or a cut dump), rolls everything back and answers `false`. Counts (likes,
    /// comments, tag uses, follows, posts per user) and the feed are not in the dump: the database's own
    /// triggers make them as rows load.
    async fn import(&self, steps: mpsc::Receiver<ImportStep>) -> StoreResult<bool>;
}

/// A whole database: one trait per resource, each implemented by each backend in one file of its
/// own (`sqlite/posts.rs`, `postgres/posts.rs`, ...), plus what concerns the database as a whole.
#[async_trait]
pub trait Store:
    UserStore
    + TokenStore
    + PostStore
    + CommentStore
    + LikeStore
    + FollowStore
    + EventLogStore
    + TagStore
    + IdempotencyStore
    + TransferStore
    + Send
    + Sync
    + 'static
{
    /// Is the database reachable and migrated?
    async fn ready(&self) -> StoreResult<()>;

    /// Connections open, busy and waited for.
    fn pool_stats(&self) -> PoolStats;

    /// Where committed changes are published (see [`events`]).
    fn events(&self) -> &Publisher;

    /// The login throttle's records, when this database keeps them for every instance on it
    /// (PostgreSQL); `None` leaves them to the process (SQLite: one process).
    fn shared_throttle(&self) -> Option<&dyn ThrottleStore> {
        None
    }

    /// The per-client request budgets, when this database keeps them for every instance on it
    /// (PostgreSQL); `None` leaves them to the process.
    fn shared_budgets(&self) -> Option<&dyn BudgetStore> {
        None
    }

    /// Called once at a clean shutdown, after the last request: leaves the database tidy
    /// (on SQLite, the WAL checkpointed into the main file, so that the file alone is a copy).
    async fn close(&self) -> StoreResult<()> {
        Ok(())
    }
}

pub type DynStore = Arc<dyn Store>;

/// How to reach a database server; SQLite ignores all but the URL.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Most connections held open to a database server.
    pub pool_size: usize,
    /// Bound on one storage call: waiting for a connection, connecting, and running it.
    pub timeout: Duration,
    /// Start even when the server cannot be reached, answering 503 until it can (for `serve`);
    /// otherwise an unreachable server is an error straight away (for the one-shot subcommands).
    pub start_while_down: bool,
    pub sqlite_synchronous: SqliteSynchronous,
    /// Create a missing SQLite file (everything but `export`, which only reads).
    pub create: bool,
}

/// SQLite's `synchronous` setting in WAL mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SqliteSynchronous {
    /// Commits reach the OS before the 2xx: safe against the process being killed.
    #[default]
    Normal,
    /// Commits reach the disk (fsync) before the 2xx: safe against power loss too.
    Full,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            pool_size: 16,
            timeout: Duration::from_secs(5),
            start_while_down: false,
            sqlite_synchronous: SqliteSynchronous::Normal,
            create: true,
        }
    }
}

/// Opens the store a database URL names, migrating it first, with the default options.
pub async fn connect(url: &str) -> anyhow::Result<DynStore> {
    connect_with(url, &ConnectOptions::default()).await
}

/// The SQLite file a `sqlite://` URL names, or `None` for another database.
pub fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
}

/// Opens the store a database URL names, migrating it first.
pub async fn connect_with(url: &str, options: &ConnectOptions) -> anyhow::Result<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PgStore::connect(url, options)
            .await
            .with_context(|| format!("PostgreSQL at {}", redact_url(url)))?;
        return Ok(Arc::new(store));
    }
    if let Some(path) = sqlite_path(url) {
        if !options.create && !std::path::Path::new(path).is_file() {
            anyhow::bail!(
                "there is no SQLite database at {path:?}: this command reads an existing one \
                 (check --database-url)"
            );
        }
        let store = sqlite::SqliteStore::open(path, options.sqlite_synchronous)?;
        return Ok(Arc::new(store));
    }
    anyhow::bail!(
        "unsupported database URL {:?}: expected sqlite://PATH or postgres://USER@HOST:PORT/DB",
        redact_url(url)
    )
}

/// A database URL with its password masked (in the user info or a `password=` parameter), for
/// messages and logs.
pub fn redact_url(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    // The user info ends at the first `@`, as tokio-postgres reads it.
    let (head, rest) = match url[after_scheme..].find('@') {
        Some(at) => {
            let userinfo = &url[after_scheme..after_scheme + at];
            let masked = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => userinfo.to_owned(),
            };
            (
                format!("{}{masked}@", &url[..after_scheme]),
                &url[after_scheme + at + 1..],
            )
        }
        None => (url[..after_scheme].to_owned(), &url[after_scheme..]),
    };
    let rest = match rest.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some(("password", _)) => "password=***".to_owned(),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => rest.to_owned(),
    };
    format!("{head}{rest}")
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redact_url_masks_the_password_wherever_it_is() {
        assert_eq!(
            redact_url("postgres://u:s3cret@h:5432/db?sslmode=require"),
            "postgres://u:***@h:5432/db?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://u@h/db?password=s3cret&sslmode=disable"),
            "postgres://u@h/db?password=***&sslmode=disable"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            redact_url("sqlite://./postbase.db"),
            "sqlite://./postbase.db"
        );
    }
}
