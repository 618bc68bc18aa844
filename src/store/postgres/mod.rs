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

mod comments;
mod errors;
mod event_log;
mod follows;
mod idempotency;
mod likes;
mod limits;
mod migrations;
mod posts;
mod search;
mod tags;
mod tls;
mod tokens;
mod transfer;
mod users;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime, Transaction,
};
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{oneshot, Mutex, Notify};
use tokio_postgres::NoTls;

use super::{
    gate, Change, ChangeEvent, ConnectOptions, PoolStats, Publisher, Store, StoreError, StoreResult,
};
use migrations::{apply_migrations, MIGRATIONS, MIGRATION_LOCK};

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

pub struct PgStore {
    pool: Pool,
    timeout: Duration,
    /// Whether this process has seen the schema at its version. Cleared when the database or
    /// its tables turn out to be gone, so that they are made again once the database is back.
    migrated: AtomicBool,
    /// Held while migrating, so that one request migrates and the others wait for it.
    migrating: Mutex<()>,
    events: Publisher,
    /// Woken after each logged commit (see `event_log`); its task ends when the store is dropped.
    sequencer: Arc<Notify>,
    _sequencer_stop: oneshot::Sender<()>,
    /// What the event listener connects with, and its task's stop (started on first use).
    listen: (
        tokio_postgres::Config,
        Option<tokio_postgres_rustls::MakeRustlsConnect>,
    ),
    listener_stop: OnceLock<oneshot::Sender<()>>,
}

/// The work of a write inside the transaction `write_logged` opened for it.
type TxFuture<'t, T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 't>>;

/// Shapes a closure as `write_logged` takes it (naming its higher-ranked signature, which a
/// closure bound to a variable would not infer).
fn in_tx<T, F>(f: F) -> F
where
    F: for<'t> FnOnce(&'t Transaction<'t>) -> TxFuture<'t, T>,
{
    f
}

/// A shared statement (`?N` placeholders, see `store::users::sql`) in PostgreSQL's `$N`. The
/// statements hold no other `?`.
fn pg(sql: &str) -> String {
    sql.replace('?', "$")
}

/// Post and comment text is UTF-8 in BYTEA columns (see the migration: TEXT cannot hold U+0000).
fn text(r: &tokio_postgres::Row, i: usize) -> StoreResult<String> {
    String::from_utf8(r.get(i)).map_err(|_| StoreError::Other("stored text is not UTF-8".into()))
}

/// After a conditional write matched no row: was there no such row, or another version?
async fn missed<T>(
    c: &impl deadpool_postgres::GenericClient,
    exists_sql: &str,
    id: i64,
) -> StoreResult<Change<T>> {
    let stmt = c.prepare_cached(&pg(exists_sql)).await?;
    Ok(match c.query_opt(&stmt, &[&id]).await? {
        Some(_) => Change::VersionMismatch,
        None => Change::NotFound,
    })
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
        let connector = tls::connector(&tls)?;
        let listen = (config.clone(), connector.clone());
        let manager = match connector {
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
        let events = Publisher::default();
        let (sequencer, _sequencer_stop) =
            event_log::start_sequencer(pool.clone(), events.clone(), options.timeout);
        let store = Self {
            pool,
            timeout: options.timeout,
            migrated: AtomicBool::new(false),
            migrating: Mutex::new(()),
            events,
            sequencer,
            _sequencer_stop,
            listen,
            listener_stop: OnceLock::new(),
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

    /// As `write`, and once it has committed, publishes the event `event` makes of the result.
    async fn write_publishing<T, F, Fut, E>(&self, f: F, event: E) -> StoreResult<T>
    where
        F: FnOnce(Object) -> Fut,
        Fut: Future<Output = StoreResult<T>>,
        E: FnOnce(&T) -> Option<ChangeEvent>,
    {
        let value = self.write(f).await?;
        if let Some(change) = event(&value) {
            self.events.publish(change);
        }
        Ok(value)
    }

    /// As `write`, in a transaction that also logs the event `event` makes of the result (see
    /// `event_log`); once committed, the event is published and the sequencer woken.
    async fn write_logged<T, F, E>(&self, f: F, event: E) -> StoreResult<T>
    where
        T: Send,
        F: for<'t> FnOnce(&'t Transaction<'t>) -> TxFuture<'t, T> + Send,
        E: FnOnce(&T) -> Option<ChangeEvent> + Send,
    {
        let (value, change) = self
            .write(|mut c: Object| async move {
                let tx = c.transaction().await?;
                let value = f(&tx).await?;
                let change = event(&value);
                if let Some(change) = &change {
                    event_log::append(&tx, change, crate::domain::Timestamp::now()).await?;
                }
                tx.commit().await?;
                Ok((value, change))
            })
            .await?;
        if let Some(change) = change {
            self.events.publish(change);
            self.sequencer.notify_one();
        }
        Ok(value)
    }

    /// Starts the listener for other instances' events, once.
    fn start_listening(&self) {
        self.listener_stop.get_or_init(|| {
            event_log::start_listener(
                self.listen.0.clone(),
                self.listen.1.clone(),
                self.events.log_wakeup(),
            )
        });
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

    fn events(&self) -> &Publisher {
        &self.events
    }

    fn shared_throttle(&self) -> Option<&dyn crate::store::ThrottleStore> {
        Some(self)
    }

    fn shared_budgets(&self) -> Option<&dyn crate::store::BudgetStore> {
        Some(self)
    }
}
