//! Idempotency records on SQLite; the rules are `store::idempotency`'s, run on the writer thread.

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::idempotency::{
    decide, Claimed, Decision, IdempotencyClaim, SavedResponse, PURGE_PER_CLAIM,
};

pub(super) fn claim(c: &Connection, claim: &IdempotencyClaim) -> rusqlite::Result<Claimed> {
    c.prepare_cached(
        "DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key
           FROM idempotency_keys WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)",
    )?
    .execute(params![claim.expired_before.micros(), PURGE_PER_CLAIM])?;
    let found = c
        .prepare_cached(
            "SELECT fingerprint, status, created_at FROM idempotency_keys
             WHERE scope = ?1 AND key = ?2",
        )?
        .query_row(params![claim.scope, claim.key], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, u16>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()?;
    match decide(claim, found) {
        Decision::Take => {
            c.prepare_cached(
                "INSERT OR REPLACE INTO idempotency_keys
                   (scope, key, fingerprint, status, created_at) VALUES (?1, ?2, ?3, 0, ?4)",
            )?
            .execute(params![
                claim.scope,
                claim.key,
                claim.fingerprint.as_slice(),
                claim.now.micros()
            ])?;
            Ok(Claimed::New)
        }
        Decision::Answer(answer) => Ok(answer),
        Decision::Replay => c
            .prepare_cached(
                "SELECT status, headers, body FROM idempotency_keys WHERE scope = ?1 AND key = ?2",
            )?
            .query_row(params![claim.scope, claim.key], |r| {
                Ok(Claimed::Done(SavedResponse {
                    status: r.get(0)?,
                    headers: r.get(1)?,
                    body: r.get(2)?,
                }))
            }),
    }
}

pub(super) fn save(
    c: &Connection,
    scope: &str,
    key: &str,
    response: &SavedResponse,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "UPDATE idempotency_keys SET status = ?3, headers = ?4, body = ?5
         WHERE scope = ?1 AND key = ?2",
    )?
    .execute(params![
        scope,
        key,
        response.status,
        response.headers,
        response.body
    ])?;
    Ok(())
}

pub(super) fn release(c: &Connection, scope: &str, key: &str) -> rusqlite::Result<()> {
    c.prepare_cached("DELETE FROM idempotency_keys WHERE scope = ?1 AND key = ?2 AND status = 0")?
        .execute(params![scope, key])?;
    Ok(())
}

#[async_trait::async_trait]
impl crate::store::IdempotencyStore for super::SqliteStore {
    async fn claim_idempotency_key(
        &self,
        claim: IdempotencyClaim,
    ) -> crate::store::StoreResult<Claimed> {
        self.writer
            .run_ungated(move |c| self::claim(c, &claim))
            .await
    }

    async fn save_idempotent_response(
        &self,
        scope: String,
        key: String,
        response: SavedResponse,
    ) -> crate::store::StoreResult<()> {
        self.writer
            .run_ungated(move |c| save(c, &scope, &key, &response))
            .await
    }

    async fn release_idempotency_key(
        &self,
        scope: String,
        key: String,
    ) -> crate::store::StoreResult<()> {
        self.writer
            .run_ungated(move |c| release(c, &scope, &key))
            .await
    }
}
