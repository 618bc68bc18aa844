//! The event log on PostgreSQL. A write logs its events in its own transaction with no position
//! (`pos IS NULL`): sequence values are not handed out in commit order, so they cannot be
//! positions. After commit, a sequencer numbers the committed, unnumbered events under the lock
//! of the one state row, in one short transaction: positions then grow in the order events
//! become visible, whichever instance wrote them. It runs after each local logged commit, and
//! every second for events an instance left unnumbered when it died. Each numbering ends with
//! `NOTIFY postbase_events`, which every instance's listener turns into a wake-up of its hub;
//! a missed notification only delays delivery until the next periodic look.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Pool, Transaction};
use futures_util::StreamExt;
use tokio::sync::{oneshot, Notify};
use tokio_postgres::AsyncMessage;

use super::{pg, PgStore};
use crate::domain::Timestamp;
use crate::store::event_log::{entries, sql, EventLogStore, LogBounds, LoggedEvent};
use crate::store::{ChangeEvent, Publisher, StoreError, StoreResult};

pub(super) const CHANNEL: &str = "postbase_events";
/// Most events numbered in one pass (the next pass takes the rest).
const BATCH: i64 = 10_000;
/// How often the sequencer and the listener look without being told.
const PERIOD: Duration = Duration::from_secs(1);

/// Logs `event` in the write's transaction, unnumbered.
pub(super) async fn append(
    tx: &Transaction<'_>,
    event: &ChangeEvent,
    now: Timestamp,
) -> StoreResult<()> {
    let rows = entries(event);
    if rows.is_empty() {
        return Ok(());
    }
    let data = serde_json::to_string(event).map_err(|e| StoreError::Other(e.to_string()))?;
    for row in rows {
        let kind = row.kind.to_owned();
        if row.author_id.is_some() {
            let stmt = tx.prepare_cached(&pg(sql::APPEND)).await?;
            tx.execute(
                &stmt,
                &[
                    &kind,
                    &row.post_id,
                    &row.author_id,
                    &row.actor_id,
                    &data,
                    &now.micros(),
                ],
            )
            .await?;
        } else {
            let stmt = tx.prepare_cached(&pg(sql::APPEND_ON_POST)).await?;
            tx.execute(
                &stmt,
                &[
                    &kind,
                    &row.post_id,
                    &row.actor_id,
                    &data,
                    &now.micros(),
                    &row.notify,
                ],
            )
            .await?;
        }
    }
    Ok(())
}

/// Numbers what is committed and unnumbered; answers how many it numbered.
async fn sequence(pool: &Pool) -> StoreResult<u64> {
    let mut c = pool.get().await?;
    let tx = c.transaction().await?;
    // Waits for another instance's pass to commit; the next statement's snapshot then sees it.
    let head: i64 = tx
        .query_one(
            "SELECT head FROM event_log_state WHERE one = 1 FOR UPDATE",
            &[],
        )
        .await?
        .get(0);
    let numbered = tx
        .execute(
            "UPDATE event_log e SET pos = $1 + todo.n
             FROM (SELECT id, row_number() OVER (ORDER BY id) AS n
                   FROM (SELECT id FROM event_log WHERE pos IS NULL ORDER BY id LIMIT $2) s) todo
             WHERE e.id = todo.id",
            &[&head, &BATCH],
        )
        .await?;
    if numbered > 0 {
        let count = i64::try_from(numbered).unwrap_or(i64::MAX);
        tx.execute(
            "UPDATE event_log_state SET head = head + $1 WHERE one = 1",
            &[&count],
        )
        .await?;
        tx.execute("SELECT pg_notify($1, '')", &[&CHANNEL]).await?;
    }
    tx.commit().await?;
    Ok(numbered)
}

/// The sequencer's task: a pass when woken (after a local logged commit) and every second, until
/// the store is dropped.
pub(super) fn start_sequencer(
    pool: Pool,
    publisher: Publisher,
    timeout: Duration,
) -> (Arc<Notify>, oneshot::Sender<()>) {
    let wake = Arc::new(Notify::new());
    let (stop, mut stopped) = oneshot::channel::<()>();
    let woken = wake.clone();
    tokio::spawn(async move {
        // A first pass straight away: an instance that died between commit and numbering left
        // events that nobody sees until they are numbered.
        let mut first = true;
        loop {
            if !first {
                tokio::select! {
                    _ = &mut stopped => return,
                    () = woken.notified() => {}
                    () = tokio::time::sleep(PERIOD) => {}
                }
            }
            first = false;
            loop {
                match tokio::time::timeout(timeout, sequence(&pool)).await {
                    Ok(Ok(n)) if n > 0 => {
                        publisher.wake_log();
                        if n < BATCH as u64 {
                            break;
                        }
                    }
                    Ok(Ok(_)) => break,
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "numbering events failed; retrying");
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
    });
    (wake, stop)
}

/// The listener's task: one connection of its own that `LISTEN`s and wakes the hub on every
/// notification (and on every reconnection, having possibly missed some), until the store is
/// dropped.
pub(super) fn start_listener(
    config: tokio_postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    wake: Arc<Notify>,
) -> oneshot::Sender<()> {
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                result = listen(&config, tls.clone(), &wake) => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "listening for events from other instances failed; retrying");
                    }
                }
            }
            wake.notify_one();
            tokio::select! {
                _ = &mut stopped => return,
                () = tokio::time::sleep(PERIOD) => {}
            }
        }
    });
    stop
}

async fn listen(
    config: &tokio_postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    wake: &Arc<Notify>,
) -> Result<(), tokio_postgres::Error> {
    macro_rules! run {
        ($connected:expr) => {{
            let (client, mut connection) = $connected;
            let (ended_tx, ended) = oneshot::channel();
            let woken = wake.clone();
            tokio::spawn(async move {
                let mut messages =
                    futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                let mut result = Ok(());
                while let Some(message) = messages.next().await {
                    match message {
                        Ok(AsyncMessage::Notification(_)) => woken.notify_one(),
                        Ok(_) => {}
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                let _ = ended_tx.send(result);
            });
            client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
            wake.notify_one();
            let result = ended.await.unwrap_or(Ok(()));
            drop(client);
            result
        }};
    }
    match tls {
        Some(tls) => run!(config.connect(tls).await?),
        None => run!(config.connect(tokio_postgres::NoTls).await?),
    }
}

const READ: &str = "SELECT pos, kind, post_id, author_id, actor_id, data, created_at
     FROM event_log WHERE pos > $1 ORDER BY pos LIMIT $2";
const TRIM_UPTO: &str = "SELECT max(pos) FROM (SELECT pos, created_at FROM event_log
     WHERE pos IS NOT NULL ORDER BY pos LIMIT 10000) s WHERE created_at < $1";

#[async_trait]
impl EventLogStore for PgStore {
    async fn events_after(&self, after: i64, limit: u32) -> StoreResult<Vec<LoggedEvent>> {
        self.with(|c| async move {
            let stmt = c.prepare_cached(READ).await?;
            let rows = c.query(&stmt, &[&after, &i64::from(limit)]).await?;
            Ok(rows
                .iter()
                .map(|r| LoggedEvent {
                    position: r.get(0),
                    kind: r.get(1),
                    post_id: r.get(2),
                    author_id: r.get(3),
                    actor_id: r.get(4),
                    data: r.get(5),
                    created_at: Timestamp(r.get(6)),
                })
                .collect())
        })
        .await
    }

    async fn log_bounds(&self) -> StoreResult<LogBounds> {
        self.with(|c| async move {
            let row = c
                .query_one(
                    "SELECT trimmed_through, head FROM event_log_state WHERE one = 1",
                    &[],
                )
                .await?;
            Ok(LogBounds {
                trimmed_through: row.get(0),
                head: row.get(1),
            })
        })
        .await
    }

    async fn trim_log(&self, before: Timestamp) -> StoreResult<u64> {
        self.write(|mut c| async move {
            let expired = c.prepare_cached(&pg(sql::TICKETS_EXPIRED)).await?;
            c.execute(&expired, &[&Timestamp::now().micros()]).await?;
            let tx = c.transaction().await?;
            let upto: Option<i64> = tx.query_one(TRIM_UPTO, &[&before.micros()]).await?.get(0);
            let Some(upto) = upto else { return Ok(0) };
            let gone = tx
                .execute("DELETE FROM event_log WHERE pos <= $1", &[&upto])
                .await?;
            tx.execute(
                "UPDATE event_log_state SET trimmed_through = GREATEST(trimmed_through, $1)
                 WHERE one = 1",
                &[&upto],
            )
            .await?;
            tx.commit().await?;
            Ok(gone)
        })
        .await
    }

    async fn issue_ticket(
        &self,
        hash: [u8; 32],
        user_id: i64,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        self.write(|c| async move {
            let stmt = c.prepare_cached(&pg(sql::TICKET_INSERT)).await?;
            c.execute(&stmt, &[&hash.as_slice(), &user_id, &expires_at.micros()])
                .await?;
            Ok(())
        })
        .await
    }

    async fn redeem_ticket(&self, hash: [u8; 32], now: Timestamp) -> StoreResult<Option<i64>> {
        self.write(|c| async move {
            let stmt = c.prepare_cached(&pg(sql::TICKET_TAKE)).await?;
            let taken = c.query_opt(&stmt, &[&hash.as_slice()]).await?;
            Ok(taken
                .filter(|r| r.get::<_, i64>(1) >= now.micros())
                .map(|r| r.get(0)))
        })
        .await
    }

    async fn followee_ids(&self, user_id: i64) -> StoreResult<Vec<i64>> {
        self.with(|c| async move {
            let stmt = c.prepare_cached(&pg(sql::FOLLOWEES)).await?;
            let rows = c.query(&stmt, &[&user_id]).await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
        .await
    }

    fn log_wakeup(&self) -> Arc<Notify> {
        self.start_listening();
        self.events.log_wakeup()
    }
}
