//! The event log on SQLite: appended in the writer's transaction (see `writer.rs`), read by id.

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::Notify;

use super::SqliteStore;
use crate::domain::Timestamp;
use crate::store::event_log::{entries, sql, EventLogStore, LogBounds, LoggedEvent};
use crate::store::{ChangeEvent, StoreResult};

/// Logs `event` on the writer's connection, inside the job's savepoint: it commits with the
/// change or not at all.
pub(super) fn append(c: &Connection, event: &ChangeEvent, now: Timestamp) -> rusqlite::Result<()> {
    let rows = entries(event);
    if rows.is_empty() {
        return Ok(());
    }
    let data = serde_json::to_string(event)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    for row in rows {
        if row.author_id.is_some() {
            c.prepare_cached(sql::APPEND)?.execute(params![
                row.kind,
                row.post_id,
                row.author_id,
                row.actor_id,
                data,
                now.micros()
            ])?;
        } else {
            c.prepare_cached(sql::APPEND_ON_POST)?.execute(params![
                row.kind,
                row.post_id,
                row.actor_id,
                data,
                now.micros(),
                row.notify
            ])?;
        }
    }
    Ok(())
}

const READ: &str = "SELECT id, kind, post_id, author_id, actor_id, data, created_at
     FROM event_log WHERE id > ?1 ORDER BY id LIMIT ?2";
const BOUNDS: &str = "SELECT trimmed_through,
     coalesce((SELECT max(id) FROM event_log), (SELECT seq FROM sqlite_sequence WHERE name = 'event_log'), trimmed_through)
     FROM event_log_state";
/// The newest position logged before the cutoff; everything up to it goes.
const TRIM_UPTO: &str =
    "SELECT max(id) FROM (SELECT id, created_at FROM event_log ORDER BY id LIMIT 10000)
     WHERE created_at < ?1";

#[async_trait]
impl EventLogStore for SqliteStore {
    async fn events_after(&self, after: i64, limit: u32) -> StoreResult<Vec<LoggedEvent>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(READ)?;
            let rows = stmt.query_map(params![after, limit], |r| {
                Ok(LoggedEvent {
                    position: r.get(0)?,
                    kind: r.get(1)?,
                    post_id: r.get(2)?,
                    author_id: r.get(3)?,
                    actor_id: r.get(4)?,
                    data: r.get(5)?,
                    created_at: Timestamp(r.get(6)?),
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn log_bounds(&self) -> StoreResult<LogBounds> {
        self.read(|c| {
            c.prepare_cached(BOUNDS)?.query_row([], |r| {
                Ok(LogBounds {
                    trimmed_through: r.get(0)?,
                    head: r.get(1)?,
                })
            })
        })
        .await
    }

    async fn trim_log(&self, before: Timestamp) -> StoreResult<u64> {
        self.writer
            .run_ungated(move |c| {
                c.prepare_cached(sql::TICKETS_EXPIRED)?
                    .execute([Timestamp::now().micros()])?;
                let upto: Option<i64> = c
                    .prepare_cached(TRIM_UPTO)?
                    .query_row([before.micros()], |r| r.get(0))?;
                let Some(upto) = upto else { return Ok(0) };
                let gone = c.execute("DELETE FROM event_log WHERE id <= ?1", [upto])?;
                c.execute(
                    "UPDATE event_log_state SET trimmed_through = max(trimmed_through, ?1)",
                    [upto],
                )?;
                Ok(gone as u64)
            })
            .await
    }

    async fn issue_ticket(
        &self,
        hash: [u8; 32],
        user_id: i64,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        self.writer
            .run(move |c| {
                c.prepare_cached(sql::TICKET_INSERT)?.execute(params![
                    hash.as_slice(),
                    user_id,
                    expires_at.micros()
                ])?;
                Ok(())
            })
            .await
    }

    async fn redeem_ticket(&self, hash: [u8; 32], now: Timestamp) -> StoreResult<Option<i64>> {
        self.writer
            .run(move |c| {
                let taken: Option<(i64, i64)> = c
                    .prepare_cached(sql::TICKET_TAKE)?
                    .query_row([hash.as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                Ok(taken
                    .filter(|(_, expires)| *expires >= now.micros())
                    .map(|(user, _)| user))
            })
            .await
    }

    async fn followee_ids(&self, user_id: i64) -> StoreResult<Vec<i64>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(sql::FOLLOWEES)?;
            let ids = stmt.query_map([user_id], |r| r.get(0))?;
            ids.collect()
        })
        .await
    }

    fn log_wakeup(&self) -> Arc<Notify> {
        self.events.log_wakeup()
    }
}
