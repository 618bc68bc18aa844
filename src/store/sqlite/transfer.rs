//! Raw rows in and out, for `postbase export` / `postbase import`.

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::mpsc::Receiver;

use crate::store::transfer::NOT_EMPTY;
use crate::store::{
    IdsRecord, ImportStep, PostRecord, Record, StoreError, StoreResult, TokenRecord, UserRecord,
};

pub fn users(c: &Connection, after: i64, limit: u32) -> rusqlite::Result<Vec<UserRecord>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, username, email, password_hash, admin, version, created_at, updated_at
         FROM users WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], |r| {
        Ok(UserRecord {
            id: r.get(0)?,
            username: r.get(1)?,
            email: r.get(2)?,
            password_hash: r.get(3)?,
            admin: r.get(4)?,
            version: r.get(5)?,
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        })
    })?;
    rows.collect()
}

pub fn tokens(c: &Connection, after: &[u8], limit: u32) -> rusqlite::Result<Vec<TokenRecord>> {
    let mut stmt = c.prepare_cached(
        "SELECT hash, user_id, created_at, expires_at FROM tokens WHERE hash > ?1
         ORDER BY hash LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], |r| {
        let hash: Vec<u8> = r.get(0)?;
        let hash = <[u8; 32]>::try_from(hash.as_slice()).map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Blob,
                "a token hash is 32 bytes".into(),
            )
        })?;
        Ok(TokenRecord {
            hash,
            user_id: r.get(1)?,
            created_at: r.get(2)?,
            expires_at: r.get(3)?,
        })
    })?;
    rows.collect()
}

pub fn posts(c: &Connection, after: i64, limit: u32) -> rusqlite::Result<Vec<PostRecord>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, author_id, title, body, version, created_at, updated_at
         FROM posts WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], |r| {
        Ok(PostRecord {
            id: r.get(0)?,
            author_id: r.get(1)?,
            title: r.get(2)?,
            body: r.get(3)?,
            version: r.get(4)?,
            created_at: r.get(5)?,
            updated_at: r.get(6)?,
        })
    })?;
    rows.collect()
}

pub fn is_empty(c: &Connection) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM tokens)
             AND NOT EXISTS (SELECT 1 FROM posts)",
        [],
        |r| r.get(0),
    )
}

/// AUTOINCREMENT keeps the largest id ever used in `sqlite_sequence`.
pub fn ids(c: &Connection) -> rusqlite::Result<IdsRecord> {
    let seq = |table: &str| -> rusqlite::Result<i64> {
        Ok(
            c.prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = ?1")?
                .query_row([table], |r| r.get(0))
                .optional()?
                .unwrap_or(0),
        )
    };
    Ok(IdsRecord {
        users: seq("users")?,
        posts: seq("posts")?,
    })
}

/// Loads a dump (see `Store::import`) as one job of the writer thread, which waits here for each
/// batch: under the writer's `BEGIN IMMEDIATE` nobody else writes meanwhile, so the emptiness
/// checked first still holds at the commit. A savepoint of its own lets a dump abandoned half way
/// roll back without failing the writer's transaction.
pub fn import(
    c: &Connection,
    mut steps: Receiver<ImportStep>,
) -> rusqlite::Result<StoreResult<bool>> {
    if !is_empty(c)? {
        return Ok(Err(StoreError::Other(NOT_EMPTY.into())));
    }
    c.execute_batch("SAVEPOINT import")?;
    while let Some(step) = steps.blocking_recv() {
        match step {
            ImportStep::Rows(rows) => insert(c, &rows)?,
            ImportStep::Commit(ids) => {
                advance_ids(c, ids)?;
                c.execute_batch("RELEASE import")?;
                return Ok(Ok(true));
            }
        }
    }
    c.execute_batch("ROLLBACK TO import; RELEASE import")?;
    Ok(Ok(false))
}

/// AUTOINCREMENT moves `sqlite_sequence` past an explicit id by itself; this moves it past the ids
/// of rows deleted before the export too.
fn advance_ids(c: &Connection, ids: IdsRecord) -> rusqlite::Result<()> {
    for (table, last) in [("users", ids.users), ("posts", ids.posts)] {
        let updated = c
            .prepare_cached("UPDATE sqlite_sequence SET seq = max(seq, ?2) WHERE name = ?1")?
            .execute(params![table, last])?;
        if updated == 0 && last > 0 {
            c.prepare_cached("INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)")?
                .execute(params![table, last])?;
        }
    }
    Ok(())
}

/// Inserts rows with their ids.
fn insert(c: &Connection, records: &[Record]) -> rusqlite::Result<()> {
    for record in records {
        match record {
            Record::User(u) => {
                c.prepare_cached(
                    "INSERT INTO users (id, username, email, password_hash, admin, version,
                         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    u.id,
                    u.username,
                    u.email,
                    u.password_hash,
                    u.admin,
                    u.version,
                    u.created_at,
                    u.updated_at
                ])?;
            }
            Record::Token(t) => {
                c.prepare_cached(
                    "INSERT INTO tokens (hash, user_id, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    &t.hash[..],
                    t.user_id,
                    t.created_at,
                    t.expires_at
                ])?;
            }
            Record::Post(p) => {
                c.prepare_cached(
                    "INSERT INTO posts (id, author_id, title, body, version, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    p.id,
                    p.author_id,
                    p.title,
                    p.body,
                    p.version,
                    p.created_at,
                    p.updated_at
                ])?;
            }
        }
    }
    Ok(())
}
