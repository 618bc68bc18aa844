//! Idempotency records on PostgreSQL; the rules are `store::idempotency`'s. A claim is one
//! transaction: insert if new, otherwise lock the record and decide, so that two instances
//! claiming the same key at once cannot both win.

use deadpool_postgres::Object;

use crate::store::idempotency::{
    decide, Claimed, Decision, IdempotencyClaim, SavedResponse, PURGE_PER_CLAIM,
};
use crate::store::StoreResult;

pub(super) async fn claim(c: &mut Object, claim: &IdempotencyClaim) -> StoreResult<Claimed> {
    let tx = c.transaction().await?;
    tx.execute(
        "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys
           WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        &[&claim.expired_before.micros(), &PURGE_PER_CLAIM],
    )
    .await?;
    let fingerprint = claim.fingerprint.as_slice();
    let inserted = tx
        .execute(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, status, created_at)
             VALUES ($1, $2, $3, 0, $4) ON CONFLICT DO NOTHING",
            &[&claim.scope, &claim.key, &fingerprint, &claim.now.micros()],
        )
        .await?;
    if inserted == 1 {
        tx.commit().await?;
        return Ok(Claimed::New);
    }
    let row = tx
        .query_opt(
            "SELECT fingerprint, status, created_at, headers, body FROM idempotency_keys
             WHERE scope = $1 AND key = $2 FOR UPDATE",
            &[&claim.scope, &claim.key],
        )
        .await?;
    let found = row.as_ref().map(|r| {
        let status: i32 = r.get(1);
        (
            r.get::<_, Vec<u8>>(0),
            u16::try_from(status).unwrap_or(0),
            r.get::<_, i64>(2),
        )
    });
    let answer = match decide(claim, found) {
        Decision::Take => {
            tx.execute(
                "INSERT INTO idempotency_keys (scope, key, fingerprint, status, created_at)
                 VALUES ($1, $2, $3, 0, $4) ON CONFLICT (scope, key) DO UPDATE
                 SET fingerprint = $3, status = 0, headers = '{}', body = '', created_at = $4",
                &[&claim.scope, &claim.key, &fingerprint, &claim.now.micros()],
            )
            .await?;
            Claimed::New
        }
        Decision::Answer(answer) => answer,
        Decision::Replay => {
            let r = row.expect("a record to replay was found");
            let status: i32 = r.get(1);
            Claimed::Done(SavedResponse {
                status: u16::try_from(status).unwrap_or(500),
                headers: r.get(3),
                body: r.get(4),
            })
        }
    };
    tx.commit().await?;
    Ok(answer)
}

pub(super) async fn save(
    c: &Object,
    scope: &str,
    key: &str,
    response: &SavedResponse,
) -> StoreResult<()> {
    c.execute(
        "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5
         WHERE scope = $1 AND key = $2",
        &[
            &scope,
            &key,
            &i32::from(response.status),
            &response.headers,
            &response.body,
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn release(c: &Object, scope: &str, key: &str) -> StoreResult<()> {
    c.execute(
        "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 0",
        &[&scope, &key],
    )
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl crate::store::IdempotencyStore for super::PgStore {
    async fn claim_idempotency_key(&self, claim: IdempotencyClaim) -> StoreResult<Claimed> {
        self.with(|mut c| async move { self::claim(&mut c, &claim).await })
            .await
    }

    async fn save_idempotent_response(
        &self,
        scope: String,
        key: String,
        response: SavedResponse,
    ) -> StoreResult<()> {
        self.with(|c| async move { save(&c, &scope, &key, &response).await })
            .await
    }

    async fn release_idempotency_key(&self, scope: String, key: String) -> StoreResult<()> {
        self.with(|c| async move { release(&c, &scope, &key).await })
            .await
    }
}
