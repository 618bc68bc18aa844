//! The schema, applied in order under an advisory lock and recorded in `postbase_migrations`.

use deadpool_postgres::Object;

use crate::domain::Timestamp;
use crate::store::{StoreError, StoreResult};

/// Migrations in order, each applied once and recorded in `postbase_migrations`.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/postgres/0001_init.sql"),
    include_str!("../../../migrations/postgres/0002_idempotency.sql"),
    include_str!("../../../migrations/postgres/0003_comments_likes_tags.sql"),
    include_str!("../../../migrations/postgres/0004_shared_limits.sql"),
    include_str!("../../../migrations/postgres/0005_follows_profiles_search.sql"),
    include_str!("../../../migrations/postgres/0006_event_log.sql"),
    include_str!("../../../migrations/postgres/0007_unique_emails.sql"),
    include_str!("../../../migrations/postgres/0008_summaries_and_totals.sql"),
];

/// The advisory lock key under which migrations run (any constant; "postbase" in ASCII).
pub(super) const MIGRATION_LOCK: i64 = 0x706f_7374_6261_7365;

pub(super) async fn apply_migrations(client: &mut Object) -> StoreResult<()> {
    // Checked rather than `IF NOT EXISTS`, which would log a notice on every start.
    let exists: bool = client
        .query_one("SELECT to_regclass('postbase_migrations') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        client
            .batch_execute(
                "CREATE TABLE postbase_migrations (
                     version INTEGER PRIMARY KEY,
                     applied_at BIGINT NOT NULL
                 )",
            )
            .await?;
    }
    let applied: i32 = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM postbase_migrations",
            &[],
        )
        .await?
        .get(0);
    let applied = usize::try_from(applied).unwrap_or(0);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Other(format!(
            "the database is at schema version {applied}, newer than this postbase ({}); upgrade postbase",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO postbase_migrations (version, applied_at) VALUES ($1, $2)",
            &[&version, &Timestamp::now().micros()],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    Ok(())
}
