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

mod errors;
mod idempotency;
mod migrations;
mod queries;
mod tls;
mod transfer;

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{mpsc, Mutex};
use tokio_postgres::NoTls;

use super::{
    gate, Change, ConnectOptions, Credentials, IdsRecord, ImportStep, NewUser, PageQuery,
    PoolStats, Post, PostChanges, PostRecord, Store, StoreError, StoreResult, TokenRecord, User,
    UserChanges, UserRecord,
};
use crate::domain::Timestamp;
use migrations::{apply_migrations, MIGRATIONS, MIGRATION_LOCK};

pub struct PgStore {
    pool: Pool,
    timeout: Duration,
    /// Whether this process has seen the schema at its version. Cleared when the database or
    /// its tables turn out to be gone, so that they are made again once the database is back.
    migrated: AtomicBool,
    /// Held while migrating, so that one request migrates and the others wait for it.
    migrating: Mutex<()>,
}

impl PgStore {
    /// Builds the pool and applies the migrations (see the module docs for a server that is down,
    /// and [`tls`] for `sslmode` and `sslrootcert`).
    pub async fn connect(url: &str, options: &ConnectOptions) -> anyhow::Result<Self> {
        let (tls, url) = tls::TlsSettings::split(url)?;
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| anyhow::anyhow!("the database URL: {}", errors::with_causes(&e)))?;
        config.ssl_mode(tls.negotiation());
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
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match tls::connector(&tls)? {
            Some(rustls) => Manager::from_config(config, rustls, manager_config),
            None => Manager::from_config(config, NoTls, manager_config),
        };
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
            migrated: AtomicBool::new(false),
            migrating: Mutex::new(()),
        };
        // A certificate the settings refuse, or a server without TLS where it is required, is a
        // mistake in the configuration and not an outage: stop with the reason instead of serving
        // 503s. The connection made to find out is pooled and migrates.
        let migrated = match store.pool.get().await {
            // `connect_with` names the (redacted) URL around this.
            Err(PoolError::Backend(e)) if tls::refused(&e) => {
                anyhow::bail!("over TLS ({tls}): {}", errors::with_causes(&e))
            }
            Err(e) => Err(StoreError::from(e)),
            Ok(first) => {
                drop(first);
                store.ensure_migrated().await
            }
        };
        match migrated {
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

    /// Applies the migrations unless this process has already seen the schema at its version
    /// (again after a failure, and again after the schema was found gone).
    async fn ensure_migrated(&self) -> StoreResult<()> {
        if self.migrated.load(Ordering::Acquire) {
            return Ok(());
        }
        let _migrating = self.migrating.lock().await;
        if self.migrated.load(Ordering::Acquire) {
            return Ok(());
        }
        tokio::time::timeout(self.timeout * 4, self.migrate())
            .await
            .map_err(|_| StoreError::Unavailable("migrating timed out".into()))??;
        self.migrated.store(true, Ordering::Release);
        Ok(())
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
        let result = tokio::time::timeout(deadline, async {
            self.ensure_migrated().await?;
            let client = self.pool.get().await?;
            f(client).await
        })
        .await
        .map_err(|_| {
            StoreError::Unavailable(format!("no answer from PostgreSQL within {deadline:?}"))
        })?;
        if let Err(StoreError::SchemaGone(detail)) = &result {
            if self.migrated.swap(false, Ordering::AcqRel) {
                tracing::error!(error = %detail, "the PostgreSQL database or its tables are gone; \
                    answering 503 until it is back, then applying the migrations again");
            }
        }
        result
    }
}

#[async_trait]
impl Store for PgStore {
    /// Ready when the database answers and its schema is at this binary's version.
    async fn ready(&self) -> StoreResult<()> {
        self.with(|c| async move {
            let version: i32 = c
                .query_one(
                    "SELECT coalesce(max(version), 0) FROM postbase_migrations",
                    &[],
                )
                .await?
                .get(0);
            if usize::try_from(version).ok() != Some(MIGRATIONS.len()) {
                return Err(StoreError::SchemaGone(format!(
                    "the schema is at version {version}, this postbase needs {}",
                    MIGRATIONS.len()
                )));
            }
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

    async fn revoke_user_tokens(&self, user_id: i64) -> StoreResult<u64> {
        self.write(|c| async move { queries::delete_user_tokens(&c, user_id).await })
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

    async fn claim_idempotency_key(
        &self,
        claim: crate::store::idempotency::IdempotencyClaim,
    ) -> StoreResult<crate::store::idempotency::Claimed> {
        self.with(|mut c| async move { idempotency::claim(&mut c, &claim).await })
            .await
    }

    async fn save_idempotent_response(
        &self,
        scope: String,
        key: String,
        response: crate::store::idempotency::SavedResponse,
    ) -> StoreResult<()> {
        self.with(|c| async move { idempotency::save(&c, &scope, &key, &response).await })
            .await
    }

    async fn release_idempotency_key(&self, scope: String, key: String) -> StoreResult<()> {
        self.with(|c| async move { idempotency::release(&c, &scope, &key).await })
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
