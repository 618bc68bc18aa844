//! The single writer thread. SQLite allows one writer at a time anyway; owning that writer in one
//! thread turns lock contention into a queue, and lets every write that queued while the previous
//! commit ran share the next commit (group commit). Each request runs in its own savepoint, so one
//! failing request (say, a taken username) rolls back alone without spoiling its batch.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::store::{StoreError, StoreResult};

/// Most requests committed together; bounds the latency one commit adds to the first in the batch.
const MAX_BATCH: usize = 256;

type Reply = Box<dyn FnOnce(StoreResult<()>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Reply + Send>;

pub struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
    /// Jobs sent and not yet taken by the writer thread.
    queued: Arc<AtomicU64>,
}

impl Writer {
    pub fn start(conn: Connection) -> std::io::Result<Self> {
        let (jobs, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicU64::new(0));
        let taken = queued.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_loop(conn, rx, &taken))?;
        Ok(Self { jobs, queued })
    }

    /// Writes waiting for the writer thread.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// Runs `f` in the next transaction and resolves once that transaction has committed.
    pub async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn| {
            let result = in_savepoint(conn, f);
            Box::new(move |committed: StoreResult<()>| {
                let _ = reply_tx.send(committed.and(result));
            })
        });
        self.queued.fetch_add(1, Ordering::Relaxed);
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        reply_rx
            .await
            .map_err(|_| StoreError::Other("the writer dropped a request".into()))?
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

fn write_loop(conn: Connection, mut rx: mpsc::UnboundedReceiver<Job>, queued: &AtomicU64) {
    while let Some(first) = rx.blocking_recv() {
        queued.fetch_sub(1, Ordering::Relaxed);
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
            reply(committed.clone());
        }
    }
}
