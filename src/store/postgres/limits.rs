//! The shared limits on PostgreSQL: each call is one statement, a function of the migration
//! `0004_shared_limits.sql` that locks the records it decides on.

use std::time::Duration;

use async_trait::async_trait;

use super::users::user_at;
use super::PgStore;
use crate::store::users::sql::COLUMN_COUNT;

use crate::domain::Timestamp;
use crate::store::limits::{begin_params, maxes, settle_params};
use crate::store::{
    BudgetStore, Credentials, Grant, StoreResult, ThrottleKeys, ThrottleRules, ThrottleStore,
};

/// Begins the attempt and reads the account's credentials (as `users.rs` does, on the unique
/// index on lower(username)) in one statement: the function runs once, for the one row.
const BEGIN_AND_READ: &str = concat!(
    "SELECT postbase_throttle_begin($1, $2, $3, $4, $5, $6, $7, $8), ",
    crate::store::users::sql::columns!("u."),
    ", u.password_hash
     FROM (VALUES (1)) AS one LEFT JOIN users u ON lower(u.username) = lower($9)"
);

#[async_trait]
impl ThrottleStore for PgStore {
    async fn throttle_begin(
        &self,
        keys: &ThrottleKeys,
        now: Timestamp,
        rules: &ThrottleRules,
        account: &str,
    ) -> StoreResult<(Option<Duration>, Option<Credentials>)> {
        let [window, flight, busy] = begin_params(rules);
        let [pair_max, account_max] = maxes(rules);
        // Not behind the write gate: the throttle's bookkeeping is not the request's write.
        self.with(|c| async move {
            let stmt = c.prepare_cached(BEGIN_AND_READ).await?;
            let row = c
                .query_one(
                    &stmt,
                    &[
                        &keys.pair,
                        &keys.account,
                        &now.micros(),
                        &window,
                        &flight,
                        &pair_max,
                        &account_max,
                        &busy,
                        &account,
                    ],
                )
                .await?;
            let wait: i64 = row.get(0);
            let credentials = row.get::<_, Option<i64>>(1).map(|_| Credentials {
                user: user_at(&row, 1),
                password_hash: row.get(1 + COLUMN_COUNT),
            });
            Ok((
                (wait > 0).then(|| Duration::from_micros(wait.unsigned_abs())),
                credentials,
            ))
        })
        .await
    }

    async fn throttle_settle(
        &self,
        keys: &ThrottleKeys,
        started: Timestamp,
        failed: bool,
        rules: &ThrottleRules,
    ) -> StoreResult<u32> {
        let [window, flight, lockout] = settle_params(rules);
        let [pair_max, account_max] = maxes(rules);
        let now = Timestamp::now().micros();
        let failures: i32 = self
            .with(|c| async move {
                let stmt = c
                    .prepare_cached(
                        "SELECT postbase_throttle_settle($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .await?;
                let row = c
                    .query_one(
                        &stmt,
                        &[
                            &keys.pair,
                            &keys.account,
                            &started.micros(),
                            &failed,
                            &now,
                            &window,
                            &flight,
                            &pair_max,
                            &account_max,
                            &lockout,
                        ],
                    )
                    .await?;
                Ok(row.get(0))
            })
            .await?;
        Ok(u32::try_from(failures).unwrap_or(0))
    }
}

#[async_trait]
impl BudgetStore for PgStore {
    async fn lease(
        &self,
        key: &str,
        want: f64,
        capacity: f64,
        per_second: f64,
        now: Timestamp,
    ) -> StoreResult<Grant> {
        let per_us = per_second / 1e6;
        self.with(|c| async move {
            let stmt = c
                .prepare_cached(
                    "SELECT granted, level FROM postbase_rate_lease($1, $2, $3, $4, $5)",
                )
                .await?;
            let row = c
                .query_one(&stmt, &[&key, &want, &now.micros(), &capacity, &per_us])
                .await?;
            Ok(Grant {
                granted: row.get(0),
                level: row.get(1),
            })
        })
        .await
    }
}
