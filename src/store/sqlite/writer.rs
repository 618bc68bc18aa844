//! The single writer thread. SQLite allows one writer at a time anyway; owning that writer in one
//! thread turns lock contention into a queue, and lets every write that queued while the previous
//! commit ran share the next commit (group commit). Each request runs in its own savepoint, so one
//! failing request (say, a taken username) rolls back alone without spoiling its batch.

use std::os::unix::fs::MetadataExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::event_log;
use crate::domain::Timestamp;
use crate::store::{gate, ChangeEvent, Publisher, StoreError, StoreResult};

/// Most requests committed together; bounds the latency one commit adds to the first in the batch.
const MAX_BATCH: usize = 256;

/// Most writes waiting for the writer; past this a write is refused at once (503) rather than
/// queued behind more work than any client will wait for.
pub(super) const MAX_QUEUED: u64 = 4096;

/// Told whether the batch committed; publishes the job's change event when it did.
type Reply = Box<dyn FnOnce(StoreResult<()>, &Publisher) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Reply + Send>;

pub(super) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
    /// Jobs sent and not yet taken by the writer thread.
    queued: Arc<AtomicU64>,
    file: Arc<FileIdentity>,
}

/// The database file this store opened. A file deleted or replaced while open keeps working for
/// whoever has it open, so writes would be acknowledged into a file nobody will ever open again:
/// each batch first checks that the configured path still leads to this very file.
#[derive(Debug)]
pub(super) struct FileIdentity {
    path: PathBuf,
    dev: u64,
    ino: u64,
    /// Set once the file is found lost, so that the log says so once, not per request.
    lost: AtomicBool,
}

impl FileIdentity {
    pub(super) fn of(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            dev: meta.dev(),
            ino: meta.ino(),
            lost: AtomicBool::new(false),
        })
    }

    /// `Err` with the reason when the path no longer leads to the open file.
    pub(super) fn check(&self) -> StoreResult<()> {
        let problem = match std::fs::metadata(&self.path) {
            Ok(m) if m.dev() == self.dev && m.ino() == self.ino => return Ok(()),
            Ok(_) => "was replaced by another file",
            Err(_) => "was deleted",
        };
        let message = format!(
            "the database file {} {problem} while open; refusing writes that could never be read \
             back. Restore the file, or restart postbase to start from what is at that path now",
            self.path.display()
        );
        if !self.lost.swap(true, Ordering::Relaxed) {
            tracing::error!("{message}");
        }
        Err(StoreError::Unavailable(message))
    }
}

impl Writer {
    pub(super) fn start(
        conn: Connection,
        file: FileIdentity,
        publisher: Publisher,
    ) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicU64::new(0));
        let taken = queued.clone();
        let file = Arc::new(file);
        let checked = file.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_loop(conn, rx, &taken, &checked, &publisher))?;
        Ok(Self { jobs, queued, file })
    }

    /// Whether the configured path still leads to the open database file.
    pub(super) fn file_ok(&self) -> StoreResult<()> {
        self.file.check()
    }

    /// Writes waiting for the writer thread.
    pub(super) fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// Runs `f` in the next transaction and resolves once that transaction has committed. The
    /// write passes the request's write gate first (see `store::gate`).
    pub(super) async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.submit(gate::current(), f, |_: &T| None).await
    }

    /// As `run`, and once the transaction has committed, publishes the event `event` makes of the
    /// result, in commit order (the batch's replies run in the order its jobs ran).
    pub(super) async fn run_publishing<T, F, E>(&self, f: F, event: E) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
        E: FnOnce(&T) -> Option<ChangeEvent> + Send + 'static,
    {
        self.submit(gate::current(), f, event).await
    }

    /// As `run`, for bookkeeping that is not the request's own write (idempotency records): it
    /// does not hold the request past its timeout.
    pub(super) async fn run_ungated<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.submit(None, f, |_: &T| None).await
    }

    async fn submit<T, F, E>(
        &self,
        gate: Option<Arc<gate::WriteGate>>,
        f: F,
        event: E,
    ) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
        E: FnOnce(&T) -> Option<ChangeEvent> + Send + 'static,
    {
        if self.queued.load(Ordering::Relaxed) >= MAX_QUEUED {
            return Err(StoreError::Overloaded);
        }
        let (reply_tx, reply_rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn| {
            // The request is gone (its client left, or it timed out) before its turn: a write
            // nobody will be told about is not made.
            if reply_tx.is_closed() || gate.is_some_and(|g| !g.begin()) {
                return Box::new(|_, _| {});
            }
            // The change's events go into the log inside the job's savepoint: logged if and only
            // if the change commits.
            let result = in_savepoint(conn, |c| {
                let value = f(c)?;
                let change = event(&value);
                if let Some(change) = &change {
                    event_log::append(c, change, Timestamp::now())?;
                }
                Ok((value, change))
            });
            Box::new(move |committed: StoreResult<()>, publisher: &Publisher| {
                let result = committed.and(result).map(|(value, change)| {
                    if let Some(change) = change {
                        publisher.publish(change);
                        publisher.wake_log();
                    }
                    value
                });
                let _ = reply_tx.send(result);
            })
        });
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        // A job is dropped unrun only when its batch was refused (see `write_loop`).
        reply_rx.await.map_err(|_| {
            StoreError::Unavailable("the write was refused: the database file is not usable".into())
        })?
    }
}

fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> StoreResult<T> {
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    match f(conn) {
        Ok(v) => {
            conn.prepare_cached("RELEASE job")?.execute([])?;
            Ok(v)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO job; RELEASE job")?;
            Err(e.into())
        }
    }
}

fn write_loop(
    conn: Connection,
    mut rx: mpsc::UnboundedReceiver<Job>,
    queued: &AtomicU64,
    file: &FileIdentity,
    publisher: &Publisher,
) {
    while let Some(first) = rx.blocking_recv() {
        queued.fetch_sub(1, Ordering::Relaxed);
        if file.check().is_err() {
            // Dropped unrun: its request is answered 503.
            drop(first);
            continue;
        }
        let mut replies: Vec<Reply> = Vec::with_capacity(8);
        let batch = catch_unwind(AssertUnwindSafe(|| {
            if conn.execute_batch("BEGIN IMMEDIATE").is_err() {
                // The savepoint opens and commits its own transaction: this one runs alone.
                replies.push(first(&conn));
                return Ok(());
            }
            replies.push(first(&conn));
            while replies.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => {
                        queued.fetch_sub(1, Ordering::Relaxed);
                        replies.push(job(&conn));
                    }
                    Err(_) => break,
                }
            }
            conn.execute_batch("COMMIT").map_err(StoreError::from)
        }));
        let committed = match batch {
            Ok(result) => result,
            Err(_) => Err(StoreError::Other("a write panicked".into())),
        };
        if committed.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        if let Err(e) = &committed {
            tracing::error!(error = %e, "commit failed; its batch of writes was rolled back");
        }
        for reply in replies {
            reply(committed.clone(), publisher);
        }
    }
}
