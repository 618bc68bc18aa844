//! Raw rows in and out, for `postbase export` / `postbase import`.

use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Object, Transaction};
use tokio::sync::mpsc::Receiver;

use super::queries::text;

use crate::store::transfer::NOT_EMPTY;
use crate::store::{
    IdsRecord, ImportStep, PostRecord, Record, StoreError, StoreResult, TokenRecord, UserRecord,
};

pub async fn users(c: &Object, after: i64, limit: u32) -> StoreResult<Vec<UserRecord>> {
    let stmt = c
        .prepare_cached(
            "SELECT id, username, email, password_hash, admin, version, created_at, updated_at
             FROM users WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .await?;
    let rows = c.query(&stmt, &[&after, &i64::from(limit)]).await?;
    Ok(rows
        .iter()
        .map(|r| UserRecord {
            id: r.get(0),
            username: r.get(1),
            email: r.get(2),
            password_hash: r.get(3),
            admin: r.get(4),
            version: r.get(5),
            created_at: r.get(6),
            updated_at: r.get(7),
        })
        .collect())
}

pub async fn tokens(c: &Object, after: &[u8], limit: u32) -> StoreResult<Vec<TokenRecord>> {
    let stmt = c
        .prepare_cached(
            "SELECT hash, user_id, created_at, expires_at FROM tokens WHERE hash > $1
             ORDER BY hash LIMIT $2",
        )
        .await?;
    let rows = c.query(&stmt, &[&after, &i64::from(limit)]).await?;
    rows.iter()
        .map(|r| {
            let hash: &[u8] = r.get(0);
            Ok(TokenRecord {
                hash: hash
                    .try_into()
                    .map_err(|_| StoreError::Other("a token hash is not 32 bytes".into()))?,
                user_id: r.get(1),
                created_at: r.get(2),
                expires_at: r.get(3),
            })
        })
        .collect()
}

pub async fn posts(c: &Object, after: i64, limit: u32) -> StoreResult<Vec<PostRecord>> {
    let stmt = c
        .prepare_cached(
            "SELECT id, author_id, title, body, version, created_at, updated_at
             FROM posts WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .await?;
    let rows = c.query(&stmt, &[&after, &i64::from(limit)]).await?;
    rows.iter()
        .map(|r| {
            Ok(PostRecord {
                id: r.get(0),
                author_id: r.get(1),
                title: text(r, 2)?,
                body: text(r, 3)?,
                version: r.get(4),
                created_at: r.get(5),
                updated_at: r.get(6),
            })
        })
        .collect()
}

/// Holds when the database has no users, tokens or posts.
const IS_EMPTY: &str =
    "SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM tokens)
     AND NOT EXISTS (SELECT 1 FROM posts)";

pub async fn is_empty(c: &Object) -> StoreResult<bool> {
    Ok(c.query_one(IS_EMPTY, &[]).await?.get(0))
}

/// `f`, or `Unavailable` once `deadline` has passed.
async fn bounded<T, E: Into<StoreError>>(
    deadline: Duration,
    f: impl Future<Output = Result<T, E>>,
) -> StoreResult<T> {
    match tokio::time::timeout(deadline, f).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(StoreError::Unavailable(format!(
            "no answer from PostgreSQL within {deadline:?}"
        ))),
    }
}

/// Loads a dump in one transaction (see `Store::import`). The tables are locked against writers
/// first, so that the emptiness checked next still holds at the commit and no instance running
/// on this database hands out an id the dump is about to use. Each step (a batch, the commit)
/// is bounded by `deadline`, as any one storage call is; the time spent waiting for the reader
/// is not. Dropping the transaction unfinished rolls it back.
pub async fn import(
    mut c: Object,
    mut steps: Receiver<ImportStep>,
    deadline: Duration,
) -> StoreResult<bool> {
    let tx = bounded(deadline, c.transaction()).await?;
    bounded(
        deadline,
        tx.batch_execute("LOCK TABLE users, tokens, posts IN SHARE ROW EXCLUSIVE MODE"),
    )
    .await?;
    let empty: bool = bounded(deadline, tx.query_one(IS_EMPTY, &[])).await?.get(0);
    if !empty {
        return Err(StoreError::Other(NOT_EMPTY.into()));
    }
    while let Some(step) = steps.recv().await {
        match step {
            ImportStep::Rows(rows) => bounded(deadline, insert(&tx, &rows)).await?,
            ImportStep::Commit(ids) => {
                bounded(deadline, advance_sequences(&tx, ids)).await?;
                bounded(deadline, tx.commit()).await?;
                return Ok(true);
            }
        }
    }
    Ok(false)
}

async fn insert(tx: &Transaction<'_>, records: &[Record]) -> StoreResult<()> {
    let user = tx
        .prepare_cached(
            "INSERT INTO users (id, username, email, password_hash, admin, version, created_at,
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .await?;
    let token = tx
        .prepare_cached(
            "INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .await?;
    let post = tx
        .prepare_cached(
            "INSERT INTO posts (id, author_id, title, body, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .await?;
    for record in records {
        match record {
            Record::User(u) => {
                tx.execute(
                    &user,
                    &[
                        &u.id,
                        &u.username,
                        &u.email,
                        &u.password_hash,
                        &u.admin,
                        &u.version,
                        &u.created_at,
                        &u.updated_at,
                    ],
                )
                .await?
            }
            Record::Token(t) => {
                tx.execute(
                    &token,
                    &[&&t.hash[..], &t.user_id, &t.created_at, &t.expires_at],
                )
                .await?
            }
            Record::Post(p) => {
                tx.execute(
                    &post,
                    &[
                        &p.id,
                        &p.author_id,
                        &p.title.as_bytes(),
                        &p.body.as_bytes(),
                        &p.version,
                        &p.created_at,
                        &p.updated_at,
                    ],
                )
                .await?
            }
        };
    }
    Ok(())
}

/// The identity sequences' last values (NULL, so 0, before their first use).
pub async fn ids(c: &Object) -> StoreResult<IdsRecord> {
    let row = c
        .query_one(
            "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('users', 'id')::regclass), 0),
                    coalesce(pg_sequence_last_value(pg_get_serial_sequence('posts', 'id')::regclass), 0)",
            &[],
        )
        .await?;
    Ok(IdsRecord {
        users: row.get(0),
        posts: row.get(1),
    })
}

/// Imported rows carry their ids, which identity sequences do not count: move each sequence past
/// the largest id in its table and the largest the source ever handed out, so the next sign-up
/// or post gets an id never seen before.
/// (`setval` is not undone by a rollback: a failed import may leave a sequence advanced, which
/// costs unused ids, never a reused one.)
async fn advance_sequences(tx: &Transaction<'_>, ids: IdsRecord) -> StoreResult<()> {
    for (table, last) in [("users", ids.users), ("posts", ids.posts)] {
        // is_called = true, so the sequence reports this value as its last (see `ids`); a table
        // that never had a row keeps its fresh sequence.
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                 greatest(coalesce(max(id), 0), $1::bigint))
             FROM {table} HAVING greatest(coalesce(max(id), 0), $1::bigint) > 0"
        );
        tx.query(&sql, &[&last]).await?;
    }
    Ok(())
}
