//! Raw rows in and out, for `postbase export` / `postbase import`.

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::mpsc::Receiver;

use crate::store::posts::{join_tags, split_tags};
use crate::store::transfer::{sql, NOT_EMPTY};
use crate::store::{
    CommentRecord, IdsRecord, ImportStep, LikeRecord, PostRecord, Record, StoreError, StoreResult,
    TokenRecord, TransferStore, UserRecord,
};

pub(super) fn users(c: &Connection, after: i64, limit: u32) -> rusqlite::Result<Vec<UserRecord>> {
    let mut stmt = c.prepare_cached(sql::USERS)?;
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

pub(super) fn tokens(
    c: &Connection,
    after: &[u8],
    limit: u32,
) -> rusqlite::Result<Vec<TokenRecord>> {
    let mut stmt = c.prepare_cached(sql::TOKENS)?;
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

pub(super) fn posts(c: &Connection, after: i64, limit: u32) -> rusqlite::Result<Vec<PostRecord>> {
    let mut stmt = c.prepare_cached(sql::POSTS)?;
    let rows = stmt.query_map(params![after, limit], |r| {
        Ok(PostRecord {
            id: r.get(0)?,
            author_id: r.get(1)?,
            title: r.get(2)?,
            body: r.get(3)?,
            tags: split_tags(&r.get::<_, String>(4)?),
            version: r.get(5)?,
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        })
    })?;
    rows.collect()
}

pub(super) fn comments(
    c: &Connection,
    after: i64,
    limit: u32,
) -> rusqlite::Result<Vec<CommentRecord>> {
    let mut stmt = c.prepare_cached(sql::COMMENTS)?;
    let rows = stmt.query_map(params![after, limit], |r| {
        Ok(CommentRecord {
            id: r.get(0)?,
            post_id: r.get(1)?,
            author_id: r.get(2)?,
            body: r.get(3)?,
            version: r.get(4)?,
            created_at: r.get(5)?,
            updated_at: r.get(6)?,
        })
    })?;
    rows.collect()
}

pub(super) fn likes(
    c: &Connection,
    after: (i64, i64),
    limit: u32,
) -> rusqlite::Result<Vec<LikeRecord>> {
    let mut stmt = c.prepare_cached(sql::LIKES)?;
    let rows = stmt.query_map(params![after.0, after.1, limit], |r| {
        Ok(LikeRecord {
            user_id: r.get(0)?,
            post_id: r.get(1)?,
            created_at: r.get(2)?,
        })
    })?;
    rows.collect()
}

pub(super) fn is_empty(c: &Connection) -> rusqlite::Result<bool> {
    c.query_row(sql::IS_EMPTY, [], |r| r.get(0))
}

/// AUTOINCREMENT keeps the largest id ever used in `sqlite_sequence`.
pub(super) fn ids(c: &Connection) -> rusqlite::Result<IdsRecord> {
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
        comments: seq("comments")?,
    })
}

/// Loads a dump (see `Store::import`) as one job of the writer thread, which waits here for each
/// batch: under the writer's `BEGIN IMMEDIATE` nobody else writes meanwhile, so the emptiness
/// checked first still holds at the commit. A savepoint of its own lets a dump abandoned half way
/// roll back without failing the writer's transaction.
pub(super) fn import(
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
    for (table, last) in [
        ("users", ids.users),
        ("posts", ids.posts),
        ("comments", ids.comments),
    ] {
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
                c.prepare_cached(sql::INSERT_USER)?.execute(params![
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
                c.prepare_cached(sql::INSERT_TOKEN)?.execute(params![
                    &t.hash[..],
                    t.user_id,
                    t.created_at,
                    t.expires_at
                ])?;
            }
            Record::Post(p) => {
                c.prepare_cached(sql::INSERT_POST)?.execute(params![
                    p.id,
                    p.author_id,
                    p.title,
                    p.body,
                    join_tags(&p.tags),
                    p.version,
                    p.created_at,
                    p.updated_at
                ])?;
                let mut tag = c.prepare_cached(crate::store::posts::sql::TAG)?;
                for t in &p.tags {
                    tag.execute(params![t, p.id])?;
                }
            }
            Record::Comment(m) => {
                c.prepare_cached(sql::INSERT_COMMENT)?.execute(params![
                    m.id,
                    m.post_id,
                    m.author_id,
                    m.body,
                    m.version,
                    m.created_at,
                    m.updated_at
                ])?;
            }
            Record::Like(l) => {
                c.prepare_cached(sql::INSERT_LIKE)?.execute(params![
                    l.user_id,
                    l.post_id,
                    l.created_at
                ])?;
            }
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl TransferStore for super::SqliteStore {
    async fn export_users(&self, after: i64, limit: u32) -> StoreResult<Vec<UserRecord>> {
        self.read(move |c| users(c, after, limit)).await
    }

    async fn export_tokens(&self, after: Vec<u8>, limit: u32) -> StoreResult<Vec<TokenRecord>> {
        self.read(move |c| tokens(c, &after, limit)).await
    }

    async fn export_posts(&self, after: i64, limit: u32) -> StoreResult<Vec<PostRecord>> {
        self.read(move |c| posts(c, after, limit)).await
    }

    async fn export_comments(&self, after: i64, limit: u32) -> StoreResult<Vec<CommentRecord>> {
        self.read(move |c| comments(c, after, limit)).await
    }

    async fn export_likes(&self, after: (i64, i64), limit: u32) -> StoreResult<Vec<LikeRecord>> {
        self.read(move |c| likes(c, after, limit)).await
    }

    async fn export_ids(&self) -> StoreResult<IdsRecord> {
        self.read(ids).await
    }

    async fn is_empty(&self) -> StoreResult<bool> {
        self.read(is_empty).await
    }

    async fn import(&self, steps: Receiver<ImportStep>) -> StoreResult<bool> {
        self.writer.run(move |c| import(c, steps)).await?
    }
}
