//! SQLite, embedded. Reads run on a small pool of connections in `spawn_blocking`; all writes go to
//! one writer thread that commits whatever has queued up in a single transaction (group commit) and
//! answers each request only after that commit, so a 2xx is never sent for a write that is not on disk.
//! WAL mode with `synchronous=NORMAL` survives a killed process; `FULL` also survives power loss.

mod comments;
mod event_log;
mod file;
pub use file::backup;
mod follows;
mod idempotency;
mod likes;
mod posts;
mod search;
mod tags;
mod tokens;
mod transfer;
mod users;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::{Change, PoolStats, Publisher, SqliteSynchronous, Store, StoreError, StoreResult};
use writer::{FileIdentity, Writer};

/// Migrations in order; `PRAGMA user_version` records how many have been applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/sqlite/0001_init.sql"),
    include_str!("../../../migrations/sqlite/0002_idempotency.sql"),
    include_str!("../../../migrations/sqlite/0003_comments_likes_tags.sql"),
    include_str!("../../../migrations/sqlite/0004_follows_profiles_search.sql"),
    include_str!("../../../migrations/sqlite/0005_search_terms.sql"),
    include_str!("../../../migrations/sqlite/0006_event_log.sql"),
    include_str!("../../../migrations/sqlite/0007_unique_emails.sql"),
    include_str!("../../../migrations/sqlite/0008_summaries_and_totals.sql"),
];

/// Most read connections kept open; more are opened under load and closed when returned.
const MAX_IDLE_READERS: usize = 16;

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

pub struct SqliteStore {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    /// Read connections currently lent out.
    reading: AtomicU64,
    synchronous: SqliteSynchronous,
    writer: Writer,
    events: Publisher,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, message) = &e {
            if f.code == rusqlite::ErrorCode::ConstraintViolation {
                // SQLite names a UNIQUE violation by its columns ("UNIQUE constraint failed:
                // users.username") and a foreign key not at all.
                let detail = e.to_string();
                let name = match f.extended_code {
                    rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => "FOREIGN KEY",
                    _ => message
                        .as_deref()
                        .and_then(|m| m.rsplit(": ").next())
                        .unwrap_or(""),
                };
                return StoreError::violated(name, detail);
            }
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::CannotOpen
                    | rusqlite::ErrorCode::DiskFull
            ) {
                return StoreError::Unavailable(e.to_string());
            }
        }
        StoreError::Other(e.to_string())
    }
}

fn configure(conn: &Connection, synchronous: SqliteSynchronous) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Every statement the store runs stays prepared (lists alone have six shapes).
    conn.set_prepared_statement_cache_capacity(64);
    conn.execute_batch(match synchronous {
        SqliteSynchronous::Normal => "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
        SqliteSynchronous::Full => "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
    })
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database file at `path`.
    pub fn open(path: impl AsRef<Path>, synchronous: SqliteSynchronous) -> anyhow::Result<Self> {
        let path = path.as_ref().to_path_buf();
        file::create_private(&path)?;
        let mut conn = Connection::open(&path)?;
        configure(&conn, synchronous)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        anyhow::ensure!(
            mode.eq_ignore_ascii_case("wal"),
            "could not put {} in WAL mode",
            path.display()
        );
        migrate(&mut conn)?;
        let events = Publisher::default();
        let writer = Writer::start(conn, FileIdentity::of(&path)?, events.clone())?;
        Ok(Self {
            path,
            readers: Mutex::new(Vec::new()),
            reading: AtomicU64::new(0),
            synchronous,
            writer,
            events,
        })
    }

    fn take_reader(&self) -> StoreResult<Connection> {
        self.reading.fetch_add(1, Ordering::Relaxed);
        if let Some(conn) = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
        {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn, self.synchronous)?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        self.reading.fetch_sub(1, Ordering::Relaxed);
        // The pool is a plain list: a panic elsewhere cannot leave it half changed.
        let mut pool = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
    }

    /// Runs a read on a pooled connection, right here on the async worker. Every read postbase
    /// makes is one indexed lookup or one bounded range scan over a WAL database in the page
    /// cache: tens of microseconds, less than the two thread hand-offs of `spawn_blocking`, which
    /// cost about a quarter of the throughput of a point read (wrk, 2 cores). Writes, which can
    /// wait on the disk, stay on the writer thread.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.take_reader().inspect_err(|_| {
            self.reading.fetch_sub(1, Ordering::Relaxed);
        })?;
        let result = f(&conn);
        self.give_back(conn);
        Ok(result?)
    }
}

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let applied: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    anyhow::ensure!(
        applied <= MIGRATIONS.len(),
        "the database is at schema version {applied}, newer than this postbase ({}); upgrade postbase",
        MIGRATIONS.len()
    );
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.execute_batch(sql)?;
        if i + 1 == search::TERMS_MIGRATION {
            search::backfill(&tx)?;
        }
        tx.pragma_update(None, "user_version", i + 1)?;
    }
    tx.commit()?;
    Ok(())
}

/// After a conditional write matched no row: was there no such row, or another version?
fn missed<T>(c: &Connection, exists_sql: &str, id: i64) -> rusqlite::Result<Change<T>> {
    let found = c
        .prepare_cached(exists_sql)?
        .query_row([id], |_| Ok(()))
        .optional()?;
    Ok(match found {
        Some(()) => Change::VersionMismatch,
        None => Change::NotFound,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn ready(&self) -> StoreResult<()> {
        self.writer.file_ok()?;
        self.read(|c| c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())))
            .await
    }

    fn pool_stats(&self) -> PoolStats {
        let idle = self.readers.lock().map_or(0, |r| r.len() as u64);
        let in_use = self.reading.load(Ordering::Relaxed);
        PoolStats {
            size: idle + in_use + 1,
            in_use,
            waiting: self.writer.queued(),
        }
    }

    fn events(&self) -> &Publisher {
        &self.events
    }

    /// Checkpoints the WAL into the main file and empties it, from a connection of its own (the
    /// writer's is inside its batch transaction; readers hold none between requests).
    async fn close(&self) -> StoreResult<()> {
        let path = self.path.clone();
        let synchronous = self.synchronous;
        tokio::task::spawn_blocking(move || {
            let conn = Connection::open(&path)?;
            configure(&conn, synchronous)?;
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Other(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Readers and the writer alike: the writer's is the one that decides durability.
    #[tokio::test]
    async fn the_synchronous_setting_and_foreign_keys_reach_readers_and_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        for (setting, expected) in [(SqliteSynchronous::Normal, 1), (SqliteSynchronous::Full, 2)] {
            let store = SqliteStore::open(dir.path().join("s.db"), setting).unwrap();
            let conn = store.take_reader().unwrap();
            let level: i64 = conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap();
            assert_eq!(level, expected, "reader, {setting:?}");
            store.give_back(conn);
            let (level, foreign_keys, journal): (i64, i64, String) = store
                .writer
                .run(|c| {
                    Ok((
                        c.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
                        c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?,
                        c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    ))
                })
                .await
                .unwrap();
            assert_eq!(level, expected, "writer, {setting:?}");
            assert_eq!(foreign_keys, 1, "writer");
            assert_eq!(journal, "wal", "writer");
        }
    }
}
