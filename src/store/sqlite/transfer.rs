//! Raw rows in and out, for `postbase export` / `postbase import`.

use rusqlite::{params, Connection, OptionalExtension, Row, ToSql};
use tokio::sync::mpsc::Receiver;

use crate::store::posts::{join_tags, split_tags};
use crate::store::transfer::{sql, NOT_EMPTY};
use crate::store::{
    CommentRecord, FollowRecord, IdsRecord, ImportStep, LikeRecord, PostRecord, Record, StoreError,
    StoreResult, TokenRecord, TransferStore, UserRecord,
};

/// A page of raw rows: `sql` run with `params`, each row mapped by `row`.
fn page<T>(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    c.prepare_cached(sql)?.query_map(params, row)?.collect()
}

pub(super) fn users(c: &Connection, after: i64, limit: u32) -> rusqlite::Result<Vec<UserRecord>> {
    page(c, sql::USERS, params![after, limit], |r| {
        let (id, username, email, password_hash) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        let (admin, bio, image) = (r.get(4)?, r.get(5)?, r.get(6)?);
        let (version, created_at, updated_at) = (r.get(7)?, r.get(8)?, r.get(9)?);
        Ok(UserRecord {
            id,
            username,
            email,
            password_hash,
            admin,
            bio,
            image,
            version,
            created_at,
            updated_at,
        })
    })
}

pub(super) fn tokens(
    c: &Connection,
    after: &[u8],
    limit: u32,
) -> rusqlite::Result<Vec<TokenRecord>> {
    page(c, sql::TOKENS, params![after, limit], |r| {
        let hash: Vec<u8> = r.get(0)?;
        let hash = <[u8; 32]>::try_from(hash.as_slice()).map_err(|_| {
            let why = "a token hash is 32 bytes".into();
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, why)
        })?;
        let (user_id, created_at, expires_at) = (r.get(1)?, r.get(2)?, r.get(3)?);
        Ok(TokenRecord {
            hash,
            user_id,
            created_at,
            expires_at,
        })
    })
}

pub(super) fn posts(c: &Connection, after: i64, limit: u32) -> rusqlite::Result<Vec<PostRecord>> {
    page(c, sql::POSTS, params![after, limit], |r| {
        let (id, author_id, title, body) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        let tags = split_tags(&r.get::<_, String>(4)?);
        let (version, created_at, updated_at) = (r.get(5)?, r.get(6)?, r.get(7)?);
        Ok(PostRecord {
            id,
            author_id,
            title,
            body,
            tags,
            version,
            created_at,
            updated_at,
            summary: r.get(8)?,
        })
    })
}

pub(super) fn comments(
    c: &Connection,
    after: i64,
    limit: u32,
) -> rusqlite::Result<Vec<CommentRecord>> {
    page(c, sql::COMMENTS, params![after, limit], |r| {
        let (id, post_id, author_id, body) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        let (version, created_at, updated_at) = (r.get(4)?, r.get(5)?, r.get(6)?);
        Ok(CommentRecord {
            id,
            post_id,
            author_id,
            body,
            version,
            created_at,
            updated_at,
        })
    })
}

pub(super) fn likes(
    c: &Connection,
    after: (i64, i64),
    limit: u32,
) -> rusqlite::Result<Vec<LikeRecord>> {
    page(c, sql::LIKES, params![after.0, after.1, limit], |r| {
        let (user_id, post_id, created_at) = (r.get(0)?, r.get(1)?, r.get(2)?);
        Ok(LikeRecord {
            user_id,
            post_id,
            created_at,
        })
    })
}

pub(super) fn follows(
    c: &Connection,
    after: i64,
    limit: u32,
) -> rusqlite::Result<Vec<FollowRecord>> {
    page(c, sql::FOLLOWS, params![after, limit], |r| {
        let (id, follower_id, followee_id, created_at) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        Ok(FollowRecord {
            id,
            follower_id,
            followee_id,
            created_at,
        })
    })
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
        follows: seq("follows")?,
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
        ("follows", ids.follows),
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
        let tags;
        let (statement, values): (&str, Vec<&dyn ToSql>) = match record {
            Record::User(u) => {
                let head: [&dyn ToSql; 5] =
                    [&u.id, &u.username, &u.email, &u.password_hash, &u.admin];
                let tail: [&dyn ToSql; 5] =
                    [&u.bio, &u.image, &u.version, &u.created_at, &u.updated_at];
                (sql::INSERT_USER, head.into_iter().chain(tail).collect())
            }
            Record::Token(t) => {
                let hash: &dyn ToSql = &t.hash;
                (
                    sql::INSERT_TOKEN,
                    vec![hash, &t.user_id, &t.created_at, &t.expires_at],
                )
            }
            Record::Post(p) => {
                tags = join_tags(&p.tags);
                let head: [&dyn ToSql; 4] = [&p.id, &p.author_id, &p.title, &p.body];
                let tail: [&dyn ToSql; 5] =
                    [&tags, &p.version, &p.created_at, &p.updated_at, &p.summary];
                (sql::INSERT_POST, head.into_iter().chain(tail).collect())
            }
            Record::Comment(m) => {
                let head: [&dyn ToSql; 4] = [&m.id, &m.post_id, &m.author_id, &m.body];
                let tail: [&dyn ToSql; 3] = [&m.version, &m.created_at, &m.updated_at];
                (sql::INSERT_COMMENT, head.into_iter().chain(tail).collect())
            }
            Record::Like(l) => (
                sql::INSERT_LIKE,
                vec![&l.user_id, &l.post_id, &l.created_at],
            ),
            Record::Follow(f) => (
                sql::INSERT_FOLLOW,
                vec![&f.id, &f.follower_id, &f.followee_id, &f.created_at],
            ),
        };
        c.prepare_cached(statement)?.execute(&*values)?;
        if let Record::Post(p) = record {
            let mut tag = c.prepare_cached(crate::store::posts::sql::TAG)?;
            for t in &p.tags {
                tag.execute(params![t, p.id])?;
            }
            super::search::add_terms(c, &p.title, &p.body)?;
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

    async fn export_follows(&self, after: i64, limit: u32) -> StoreResult<Vec<FollowRecord>> {
        self.read(move |c| follows(c, after, limit)).await
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
