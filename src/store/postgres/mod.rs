//! PostgreSQL, for many stateless postbase instances on one database. tokio-postgres (pipelined,
//! binary protocol, no runtime reflection) with a deadpool pool and per-connection statement caches.
//!
//! Every storage call is bounded by one deadline (`--db-timeout`): waiting for a pooled connection,
//! opening one, and running the statements all count against it, so a request that needs a
//! database that has gone away gets a 503 within that bound instead of hanging. Nothing is
//! cached per instance: every token check reads the database, so a token revoked on one instance
//! is refused by every other on its very next request.
//!
//! Migrations run under a session advisory lock, so instances started at the same moment queue
//! for it: the first applies them, the rest find them applied. When the server cannot be reached
//! at start (`start_while_down`), the store comes up anyway, every call answers `Unavailable`, and
//! the first call that reaches the server applies the migrations.

mod queries;
mod transfer;

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio::sync::{mpsc, OnceCell};
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

use super::{
    gate, Change, ConnectOptions, Credentials, IdsRecord, ImportStep, NewUser, PageQuery,
    PoolStats, Post, PostChanges, PostRecord, Store, StoreError, StoreResult, TokenRecord, User,
    UserChanges, UserRecord,
};
use crate::domain::Timestamp;

/// Migrations in order, each applied once and recorded in `postbase_migrations`.
const MIGRATIONS: &[&str] = &[include_str!("../../../migrations/postgres/0001_init.sql")];

/// The advisory lock key under which migrations run (any constant; "postbase" in ASCII).
const MIGRATION_LOCK: i64 = 0x706f_7374_6261_7365;

pub struct PgStore {
    pool: Pool,
    timeout: Duration,
    migrated: OnceCell<()>,
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        let Some(db) = e.as_db_error() else {
            // No server error: the connection failed or closed, or a row did not decode.
            if e.is_closed()
                || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>())
            {
                return StoreError::Unavailable(e.to_string());
            }
            return StoreError::Other(e.to_string());
        };
        let code = db.code();
        // PostgreSQL's own words and SQLSTATE, not tokio-postgres's bare "db error".
        let detail = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            code.code()
        );
        if *code == SqlState::UNIQUE_VIOLATION && db.constraint() == Some("users_username_lower") {
            StoreError::UsernameTaken
        } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
            StoreError::ReferenceGone
        } else if code.code().starts_with("08") // connection exception
            || code.code().starts_with("57") // operator intervention: shutdown, statement timeout
            || code.code().starts_with("53") // insufficient resources: too many connections
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            // The database or its schema is gone (dropped under us): unusable, not a bug.
            || *code == SqlState::INVALID_CATALOG_NAME
            || *code == SqlState::UNDEFINED_TABLE
        {
            StoreError::Unavailable(detail)
        } else {
            StoreError::Other(detail)
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

impl PgStore {
    /// Builds the pool and applies the migrations (see the module docs for a server that is down).
    pub async fn connect(url: &str, options: &ConnectOptions) -> anyhow::Result<Self> {
        let mut config: tokio_postgres::Config = url.parse()?;
        config.connect_timeout(options.timeout);
        // A server that stops answering without closing the connection is noticed within the bound.
        config.tcp_user_timeout(options.timeout);
        if config.get_options().is_none() {
            // Statements the client has given up on stop on the server too, releasing their locks.
            config.options(format!(
                "-c statement_timeout={}",
                options.timeout.as_millis()
            ));
        }
        if config.get_application_name().is_none() {
            config.application_name("postbase");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .wait_timeout(Some(options.timeout))
            .create_timeout(Some(options.timeout))
            .recycle_timeout(Some(options.timeout))
            .runtime(Runtime::Tokio1)
            .build()?;
        let store = Self {
            pool,
            timeout: options.timeout,
            migrated: OnceCell::new(),
        };
        match store.ensure_migrated().await {
            Ok(()) => {}
            Err(StoreError::Unavailable(e)) if options.start_while_down => {
                tracing::warn!(
                    error = %e,
                    "PostgreSQL is unreachable; serving 503 until it is, then migrating"
                );
            }
            Err(e) => return Err(anyhow::anyhow!(e).context("migrating the PostgreSQL database")),
        }
        Ok(store)
    }

    /// Applies the migrations once per process (again after a failure, never after a success).
    async fn ensure_migrated(&self) -> StoreResult<()> {
        self.migrated
            .get_or_try_init(|| async {
                tokio::time::timeout(self.timeout * 4, self.migrate())
                    .await
                    .map_err(|_| StoreError::Unavailable("migrating timed out".into()))?
            })
            .await
            .map(|_| ())
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        // A session lock, held across the per-migration transactions and released on unlock or,
        // should this process die, when its connection closes.
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        let result = apply_migrations(&mut client).await;
        let unlocked = client
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .await;
        result?;
        unlocked?;
        Ok(())
    }

    /// Runs `f` on a pooled connection, the whole of it (waiting included) within the deadline.
    async fn with<T, F, Fut>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(Object) -> Fut,
        Fut: Future<Output = StoreResult<T>>,
    {
        self.within(self.timeout, f).await
    }

    /// Runs a write: it passes the request's write gate first, and its client-side deadline is
    /// twice the server's `statement_timeout`, so a slow statement is cancelled by the server
    /// (and not committed) before this side would give up on it and answer 503.
    async fn write<T, F, Fut>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(Object) -> Fut,
        Fut: Future<Output = StoreResult<T>>,
    {
        gate::begin_write()?;
        self.within(self.timeout * 2, f).await
    }

    async fn within<T, F, Fut>(&self, deadline: Duration, f: F) -> StoreResult<T>
    where
        F: FnOnce(Object) -> Fut,
        Fut: Future<Output = StoreResult<T>>,
    {
        tokio::time::timeout(deadline, async {
            self.ensure_migrated().await?;
            let client = self.pool.get().await?;
            f(client).await
        })
        .await
        .map_err(|_| {
            StoreError::Unavailable(format!("no answer from PostgreSQL within {deadline:?}"))
        })?
    }
}

async fn apply_migrations(client: &mut Object) -> StoreResult<()> {
    // Checked rather than `IF NOT EXISTS`, which would log a notice on every start.
    let exists: bool = client
        .query_one("SELECT to_regclass('postbase_migrations') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        client
            .batch_execute(
                "CREATE TABLE postbase_migrations (
                     version INTEGER PRIMARY KEY,
                     applied_at BIGINT NOT NULL
                 )",
            )
            .await?;
    }
    let applied: i32 = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM postbase_migrations",
            &[],
        )
        .await?
        .get(0);
    let applied = usize::try_from(applied).unwrap_or(0);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Other(format!(
            "the database is at schema version {applied}, newer than this postbase ({}); upgrade postbase",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO postbase_migrations (version, applied_at) VALUES ($1, $2)",
            &[&version, &Timestamp::now().micros()],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    Ok(())
}

#[async_trait]
impl Store for PgStore {
    async fn ready(&self) -> StoreResult<()> {
        self.with(|c| async move {
            c.query_one("SELECT 1", &[]).await?;
            Ok(())
        })
        .await
    }

    fn pool_stats(&self) -> PoolStats {
        let status = self.pool.status();
        PoolStats {
            size: status.size as u64,
            in_use: status.size.saturating_sub(status.available) as u64,
            waiting: status.waiting as u64,
        }
    }

    async fn create_user(&self, new: NewUser, now: Timestamp) -> StoreResult<User> {
        self.write(|c| async move { queries::insert_user(&c, &new, now).await })
            .await
    }

    async fn user(&self, id: i64) -> StoreResult<Option<User>> {
        self.with(|c| async move { queries::user_by_id(&c, id).await })
            .await
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
        self.with(|c| async move { queries::credentials(&c, username).await })
            .await
    }

    async fn list_users(&self, page: PageQuery) -> StoreResult<Vec<User>> {
        self.with(|c| async move { queries::list_users(&c, page).await })
            .await
    }

    async fn update_user(
        &self,
        id: i64,
        changes: UserChanges,
        expected_version: Option<i64>,
    ) -> StoreResult<Change<User>> {
        self.write(|mut c| async move {
            queries::update_user(&mut c, id, &changes, expected_version).await
        })
        .await
    }

    async fn delete_user(&self, id: i64, expected_version: Option<i64>) -> StoreResult<Change<()>> {
        self.write(|c| async move { queries::delete_user(&c, id, expected_version).await })
            .await
    }

    async fn create_token(
        &self,
        user_id: i64,
        hash: [u8; 32],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        self.write(
            |c| async move { queries::insert_token(&c, user_id, &hash, now, expires_at).await },
        )
        .await
    }

    async fn token_user(&self, hash: [u8; 32], now: Timestamp) -> StoreResult<Option<User>> {
        self.with(|c| async move { queries::token_user(&c, &hash, now).await })
            .await
    }

    async fn revoke_token(&self, hash: [u8; 32]) -> StoreResult<bool> {
        self.write(|c| async move { queries::delete_token(&c, &hash).await })
            .await
    }

    async fn create_post(
        &self,
        author_id: i64,
        title: String,
        body: String,
        now: Timestamp,
    ) -> StoreResult<Post> {
        self.write(|c| async move { queries::insert_post(&c, author_id, &title, &body, now).await })
            .await
    }

    async fn post(&self, id: i64) -> StoreResult<Option<Post>> {
        self.with(|c| async move { queries::post_by_id(&c, id).await })
            .await
    }

    async fn list_posts(&self, author: Option<i64>, page: PageQuery) -> StoreResult<Vec<Post>> {
        self.with(|c| async move { queries::list_posts(&c, author, page).await })
            .await
    }

    async fn update_post(
        &self,
        id: i64,
        changes: PostChanges,
        expected_version: Option<i64>,
        now: Timestamp,
    ) -> StoreResult<Change<Post>> {
        self.write(|c| async move {
            queries::update_post(&c, id, &changes, expected_version, now).await
        })
        .await
    }

    async fn delete_post(&self, id: i64, expected_version: Option<i64>) -> StoreResult<Change<()>> {
        self.write(|c| async move { queries::delete_post(&c, id, expected_version).await })
            .await
    }

    async fn export_users(&self, after: i64, limit: u32) -> StoreResult<Vec<UserRecord>> {
        self.with(|c| async move { transfer::users(&c, after, limit).await })
            .await
    }

    async fn export_tokens(&self, after: Vec<u8>, limit: u32) -> StoreResult<Vec<TokenRecord>> {
        self.with(|c| async move { transfer::tokens(&c, &after, limit).await })
            .await
    }

    async fn export_posts(&self, after: i64, limit: u32) -> StoreResult<Vec<PostRecord>> {
        self.with(|c| async move { transfer::posts(&c, after, limit).await })
            .await
    }

    async fn export_ids(&self) -> StoreResult<IdsRecord> {
        self.with(|c| async move { transfer::ids(&c).await }).await
    }

    async fn is_empty(&self) -> StoreResult<bool> {
        self.with(|c| async move { transfer::is_empty(&c).await })
            .await
    }

    async fn import(&self, steps: mpsc::Receiver<ImportStep>) -> StoreResult<bool> {
        let client = self.with(|c| async move { Ok(c) }).await?;
        transfer::import(client, steps, self.timeout).await
    }
}
