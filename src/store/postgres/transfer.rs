//! Raw rows in and out, for `postbase export` / `postbase import`.

use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Object, Transaction};
use tokio::sync::mpsc::Receiver;

use super::{pg, text, PgStore};
use crate::store::posts::{join_tags, split_tags};
use crate::store::transfer::{sql, NOT_EMPTY};
use crate::store::{
    CommentRecord, FollowRecord, IdsRecord, ImportStep, LikeRecord, PostRecord, Record, StoreError,
    StoreResult, TokenRecord, TransferStore, UserRecord,
};

pub(super) async fn users(c: &Object, after: i64, limit: u32) -> StoreResult<Vec<UserRecord>> {
    let stmt = c.prepare_cached(&pg(sql::USERS)).await?;
    let rows = c.query(&stmt, &[&after, &i64::from(limit)]).await?;
    Ok(rows
        .iter()
        .map(|r| UserRecord {
            id: r.get(0),
            username: r.get(1),
            email: r.get(2),
            password_hash: r.get(3),
            admin: r.get(4),
            bio: r.get(5),
            image: r.get(6),
            version: r.get(7),
            created_at: r.get(8),
            updated_at: r.get(9),
        })
        .collect())
}

pub(super) async fn tokens(c: &Object, after: &[u8], limit: u32) -> StoreResult<Vec<TokenRecord>> {
    let stmt = c.prepare_cached(&pg(sql::TOKENS)).await?;
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

pub(super) async fn posts(c: &Object, after: i64, limit: u32) -> StoreResult<Vec<PostRecord>> {
    let stmt = c.prepare_cached(&pg(sql::POSTS)).await?;
    let rows = c.query(&stmt, &[&after, &i64::from(limit)]).await?;
    rows.iter()
        .map(|r| {
            Ok(PostRecord {
                id: r.get(0),
                author_id: r.get(1),
                title: text(r, 2)?,
                body: text(r, 3)?,
                tags: split_tags(r.get(4)),
                version: r.get(5),
                created_at: r.get(6),
                updated_at: r.get(7),
                summary: text(r, 8)?,
            })
        })
        .collect()
}

pub(super) async fn comments(
    c: &Object,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<CommentRecord>> {
    let stmt = c.prepare_cached(&pg(sql::COMMENTS)).await?;
    let rows = c.query(&stmt, &[&after, &i64::from(limit)]).await?;
    rows.iter()
        .map(|r| {
            Ok(CommentRecord {
                id: r.get(0),
                post_id: r.get(1),
                author_id: r.get(2),
                body: text(r, 3)?,
                version: r.get(4),
                created_at: r.get(5),
                updated_at: r.get(6),
            })
        })
        .collect()
}

pub(super) async fn likes(
    c: &Object,
    after: (i64, i64),
    limit: u32,
) -> StoreResult<Vec<LikeRecord>> {
    let stmt = c.prepare_cached(&pg(sql::LIKES)).await?;
    let rows = c
        .query(&stmt, &[&after.0, &after.1, &i64::from(limit)])
        .await?;
    Ok(rows
        .iter()
        .map(|r| LikeRecord {
            user_id: r.get(0),
            post_id: r.get(1),
            created_at: r.get(2),
        })
        .collect())
}

pub(super) async fn follows(c: &Object, after: i64, limit: u32) -> StoreResult<Vec<FollowRecord>> {
    let stmt = c.prepare_cached(&pg(sql::FOLLOWS)).await?;
    let rows = c.query(&stmt, &[&after, &i64::from(limit)]).await?;
    Ok(rows
        .iter()
        .map(|r| FollowRecord {
            id: r.get(0),
            follower_id: r.get(1),
            followee_id: r.get(2),
            created_at: r.get(3),
        })
        .collect())
}

pub(super) async fn is_empty(c: &Object) -> StoreResult<bool> {
    Ok(c.query_one(sql::IS_EMPTY, &[]).await?.get(0))
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
pub(super) async fn import(
    mut c: Object,
    mut steps: Receiver<ImportStep>,
    deadline: Duration,
) -> StoreResult<bool> {
    let tx = bounded(deadline, c.transaction()).await?;
    bounded(
        deadline,
        tx.batch_execute(
            "LOCK TABLE users, tokens, posts, comments, likes, follows IN SHARE ROW EXCLUSIVE MODE",
        ),
    )
    .await?;
    let empty: bool = bounded(deadline, tx.query_one(sql::IS_EMPTY, &[]))
        .await?
        .get(0);
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
    let user = tx.prepare_cached(&pg(sql::INSERT_USER)).await?;
    let token = tx.prepare_cached(&pg(sql::INSERT_TOKEN)).await?;
    let post = tx.prepare_cached(&pg(sql::INSERT_POST)).await?;
    let tag = tx
        .prepare_cached(&pg(crate::store::posts::sql::TAG))
        .await?;
    let comment = tx.prepare_cached(&pg(sql::INSERT_COMMENT)).await?;
    let like = tx.prepare_cached(&pg(sql::INSERT_LIKE)).await?;
    let follow = tx.prepare_cached(&pg(sql::INSERT_FOLLOW)).await?;
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
                        &u.bio,
                        &u.image,
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
                        &join_tags(&p.tags),
                        &p.version,
                        &p.created_at,
                        &p.updated_at,
                        &p.summary.as_bytes(),
                    ],
                )
                .await?;
                for t in &p.tags {
                    tx.execute(&tag, &[t, &p.id]).await?;
                }
                0
            }
            Record::Comment(m) => {
                tx.execute(
                    &comment,
                    &[
                        &m.id,
                        &m.post_id,
                        &m.author_id,
                        &m.body.as_bytes(),
                        &m.version,
                        &m.created_at,
                        &m.updated_at,
                    ],
                )
                .await?
            }
            Record::Like(l) => {
                tx.execute(&like, &[&l.user_id, &l.post_id, &l.created_at])
                    .await?
            }
            Record::Follow(f) => {
                let values: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
                    [&f.id, &f.follower_id, &f.followee_id, &f.created_at];
                tx.execute(&follow, &values).await?
            }
        };
    }
    Ok(())
}

/// The identity sequences' last values (NULL, so 0, before their first use).
pub(super) async fn ids(c: &Object) -> StoreResult<IdsRecord> {
    let row = c
        .query_one(
            "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('users', 'id')::regclass), 0),
                    coalesce(pg_sequence_last_value(pg_get_serial_sequence('posts', 'id')::regclass), 0),
                    coalesce(pg_sequence_last_value(pg_get_serial_sequence('comments', 'id')::regclass), 0),
                    coalesce(pg_sequence_last_value(pg_get_serial_sequence('follows', 'id')::regclass), 0)",
            &[],
        )
        .await?;
    Ok(IdsRecord {
        users: row.get(0),
        posts: row.get(1),
        comments: row.get(2),
        follows: row.get(3),
    })
}

/// Imported rows carry their ids, which identity sequences do not count: move each sequence past
/// the largest id in its table and the largest the source ever handed out, so the next sign-up
/// or post gets an id never seen before.
/// (`setval` is not undone by a rollback: a failed import may leave a sequence advanced, which
/// costs unused ids, never a reused one.)
async fn advance_sequences(tx: &Transaction<'_>, ids: IdsRecord) -> StoreResult<()> {
    for (table, last) in [
        ("users", ids.users),
        ("posts", ids.posts),
        ("comments", ids.comments),
        ("follows", ids.follows),
    ] {
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

#[async_trait::async_trait]
impl TransferStore for PgStore {
    async fn export_users(&self, after: i64, limit: u32) -> StoreResult<Vec<UserRecord>> {
        self.with(|c| async move { users(&c, after, limit).await })
            .await
    }

    async fn export_tokens(&self, after: Vec<u8>, limit: u32) -> StoreResult<Vec<TokenRecord>> {
        self.with(|c| async move { tokens(&c, &after, limit).await })
            .await
    }

    async fn export_posts(&self, after: i64, limit: u32) -> StoreResult<Vec<PostRecord>> {
        self.with(|c| async move { posts(&c, after, limit).await })
            .await
    }

    async fn export_comments(&self, after: i64, limit: u32) -> StoreResult<Vec<CommentRecord>> {
        self.with(|c| async move { comments(&c, after, limit).await })
            .await
    }

    async fn export_likes(&self, after: (i64, i64), limit: u32) -> StoreResult<Vec<LikeRecord>> {
        self.with(|c| async move { likes(&c, after, limit).await })
            .await
    }

    async fn export_follows(&self, after: i64, limit: u32) -> StoreResult<Vec<FollowRecord>> {
        self.with(|c| async move { follows(&c, after, limit).await })
            .await
    }

    async fn export_ids(&self) -> StoreResult<IdsRecord> {
        self.with(|c| async move { ids(&c).await }).await
    }

    async fn is_empty(&self) -> StoreResult<bool> {
        self.with(|c| async move { is_empty(&c).await }).await
    }

    async fn import(&self, steps: Receiver<ImportStep>) -> StoreResult<bool> {
        let client = self.with(|c| async move { Ok(c) }).await?;
        import(client, steps, self.timeout).await
    }
}
