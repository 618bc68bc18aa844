//! The SQL, one function per statement or transaction, mirroring `sqlite/queries.rs`. Statements
//! are prepared once per connection (deadpool's statement cache). Conditional writes check the
//! version in the statement that writes: under READ COMMITTED a second `UPDATE … WHERE version = $2`
//! waits for the first's row lock, then re-reads the row, sees the new version, and matches nothing.

use deadpool_postgres::{GenericClient, Object};
use tokio_postgres::Row;

use crate::domain::Timestamp;
use crate::store::{
    Change, Credentials, NewUser, PageQuery, Post, PostChanges, StoreError, StoreResult, User,
    UserChanges,
};

const USER_COLUMNS: &str = "id, username, email, admin, version, created_at";
const POST_COLUMNS: &str = "id, title, body, author_id, created_at, updated_at, version";

fn user_row(r: &Row) -> User {
    User {
        id: r.get(0),
        username: r.get(1),
        email: r.get(2),
        admin: r.get(3),
        version: r.get(4),
        created_at: Timestamp(r.get(5)),
    }
}

/// Post text is UTF-8 in BYTEA columns (see the migration: TEXT cannot hold U+0000).
pub fn text(r: &Row, i: usize) -> StoreResult<String> {
    String::from_utf8(r.get(i)).map_err(|_| StoreError::Other("post text is not UTF-8".into()))
}

fn post_row(r: &Row) -> StoreResult<Post> {
    Ok(Post {
        id: r.get(0),
        title: text(r, 1)?,
        body: text(r, 2)?,
        author_id: r.get(3),
        created_at: Timestamp(r.get(4)),
        updated_at: Timestamp(r.get(5)),
        version: r.get(6),
    })
}

pub async fn insert_user(c: &Object, new: &NewUser, now: Timestamp) -> StoreResult<User> {
    let sql = format!(
        "INSERT INTO users (username, email, password_hash, admin, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING {USER_COLUMNS}"
    );
    let stmt = c.prepare_cached(&sql).await?;
    let row = c
        .query_one(
            &stmt,
            &[
                &new.username,
                &new.email,
                &new.password_hash,
                &new.admin,
                &now.micros(),
            ],
        )
        .await?;
    Ok(user_row(&row))
}

pub async fn user_by_id(c: &impl GenericClient, id: i64) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let stmt = c.prepare_cached(&sql).await?;
    Ok(c.query_opt(&stmt, &[&id]).await?.as_ref().map(user_row))
}

pub async fn credentials(c: &Object, username: &str) -> StoreResult<Option<Credentials>> {
    // lower() on both sides: the unique index on lower(username) serves this lookup.
    let sql = format!(
        "SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(username) = lower($1)"
    );
    let stmt = c.prepare_cached(&sql).await?;
    Ok(c.query_opt(&stmt, &[&username])
        .await?
        .map(|r| Credentials {
            user: user_row(&r),
            password_hash: r.get(6),
        }))
}

pub async fn list_users(c: &Object, page: PageQuery) -> StoreResult<Vec<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id > $1 ORDER BY id LIMIT $2");
    let stmt = c.prepare_cached(&sql).await?;
    let rows = c
        .query(&stmt, &[&page.after.unwrap_or(0), &i64::from(page.limit)])
        .await?;
    Ok(rows.iter().map(user_row).collect())
}

/// After a conditional write matched no row: was there no such row, or another version?
async fn missed<T>(c: &impl GenericClient, table: &str, id: i64) -> StoreResult<Change<T>> {
    let sql = format!("SELECT 1 FROM {table} WHERE id = $1");
    let stmt = c.prepare_cached(&sql).await?;
    Ok(match c.query_opt(&stmt, &[&id]).await? {
        Some(_) => Change::VersionMismatch,
        None => Change::NotFound,
    })
}

pub async fn update_user(
    c: &mut Object,
    id: i64,
    changes: &UserChanges,
    expected: Option<i64>,
) -> StoreResult<Change<User>> {
    let now = Timestamp::now();
    let tx = c.transaction().await?;
    let sql = format!(
        "UPDATE users SET email = CASE WHEN $3 THEN $4 ELSE email END,
             password_hash = coalesce($5, password_hash),
             admin = coalesce($7, admin),
             version = version + 1, updated_at = $6
         WHERE id = $1 AND ($2::bigint IS NULL OR version = $2) RETURNING {USER_COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let email = changes.email.clone().flatten();
    let row = tx
        .query_opt(
            &stmt,
            &[
                &id,
                &expected,
                &changes.email.is_some(),
                &email,
                &changes.password_hash,
                &now.micros(),
                &changes.admin,
            ],
        )
        .await?;
    let Some(row) = row else {
        return missed(&tx, "users", id).await;
    };
    if changes.password_hash.is_some() {
        // A new password ends every other session, in the same transaction as the change.
        let stmt = tx
            .prepare_cached("DELETE FROM tokens WHERE user_id = $1 AND hash IS DISTINCT FROM $2")
            .await?;
        let keep = changes.keep_token.as_ref().map(|h| &h[..]);
        tx.execute(&stmt, &[&id, &keep]).await?;
    }
    tx.commit().await?;
    Ok(Change::Done(user_row(&row)))
}

pub async fn delete_user(c: &Object, id: i64, expected: Option<i64>) -> StoreResult<Change<()>> {
    // Tokens and posts go with the user through ON DELETE CASCADE.
    let stmt = c
        .prepare_cached("DELETE FROM users WHERE id = $1 AND ($2::bigint IS NULL OR version = $2)")
        .await?;
    if c.execute(&stmt, &[&id, &expected]).await? == 0 {
        return missed(c, "users", id).await;
    }
    Ok(Change::Done(()))
}

pub async fn insert_token(
    c: &Object,
    user_id: i64,
    hash: &[u8; 32],
    now: Timestamp,
    expires_at: Timestamp,
) -> StoreResult<()> {
    let stmt = c
        .prepare_cached(
            "INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .await?;
    c.execute(
        &stmt,
        &[&&hash[..], &user_id, &now.micros(), &expires_at.micros()],
    )
    .await?;
    Ok(())
}

pub async fn token_user(c: &Object, hash: &[u8; 32], now: Timestamp) -> StoreResult<Option<User>> {
    let stmt = c
        .prepare_cached(
            "SELECT u.id, u.username, u.email, u.admin, u.version, u.created_at
             FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE t.hash = $1 AND t.expires_at > $2",
        )
        .await?;
    Ok(c.query_opt(&stmt, &[&&hash[..], &now.micros()])
        .await?
        .as_ref()
        .map(user_row))
}

pub async fn delete_token(c: &Object, hash: &[u8; 32]) -> StoreResult<bool> {
    let stmt = c
        .prepare_cached("DELETE FROM tokens WHERE hash = $1")
        .await?;
    Ok(c.execute(&stmt, &[&&hash[..]]).await? > 0)
}

pub async fn delete_user_tokens(c: &Object, user_id: i64) -> StoreResult<u64> {
    let stmt = c
        .prepare_cached("DELETE FROM tokens WHERE user_id = $1")
        .await?;
    Ok(c.execute(&stmt, &[&user_id]).await?)
}

pub async fn insert_post(
    c: &Object,
    author_id: i64,
    title: &str,
    body: &str,
    now: Timestamp,
) -> StoreResult<Post> {
    let sql = format!(
        "INSERT INTO posts (author_id, title, body, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) RETURNING {POST_COLUMNS}"
    );
    let stmt = c.prepare_cached(&sql).await?;
    let row = c
        .query_one(
            &stmt,
            &[
                &author_id,
                &title.as_bytes(),
                &body.as_bytes(),
                &now.micros(),
            ],
        )
        .await?;
    post_row(&row)
}

pub async fn post_by_id(c: &Object, id: i64) -> StoreResult<Option<Post>> {
    let sql = format!("SELECT {POST_COLUMNS} FROM posts WHERE id = $1");
    let stmt = c.prepare_cached(&sql).await?;
    c.query_opt(&stmt, &[&id])
        .await?
        .as_ref()
        .map(post_row)
        .transpose()
}

pub async fn list_posts(
    c: &Object,
    author: Option<i64>,
    page: PageQuery,
) -> StoreResult<Vec<Post>> {
    let before = page.after.unwrap_or(i64::MAX);
    let limit = i64::from(page.limit);
    let rows = match author {
        Some(author) => {
            let sql = format!(
                "SELECT {POST_COLUMNS} FROM posts WHERE author_id = $1 AND id < $2
                 ORDER BY id DESC LIMIT $3"
            );
            let stmt = c.prepare_cached(&sql).await?;
            c.query(&stmt, &[&author, &before, &limit]).await?
        }
        None => {
            let sql =
                format!("SELECT {POST_COLUMNS} FROM posts WHERE id < $1 ORDER BY id DESC LIMIT $2");
            let stmt = c.prepare_cached(&sql).await?;
            c.query(&stmt, &[&before, &limit]).await?
        }
    };
    rows.iter().map(post_row).collect()
}

pub async fn update_post(
    c: &Object,
    id: i64,
    changes: &PostChanges,
    expected: Option<i64>,
    now: Timestamp,
) -> StoreResult<Change<Post>> {
    let sql = format!(
        "UPDATE posts SET title = coalesce($3, title), body = coalesce($4, body),
             version = version + 1, updated_at = $5
         WHERE id = $1 AND ($2::bigint IS NULL OR version = $2) RETURNING {POST_COLUMNS}"
    );
    let stmt = c.prepare_cached(&sql).await?;
    let row = c
        .query_opt(
            &stmt,
            &[
                &id,
                &expected,
                &changes.title.as_deref().map(str::as_bytes),
                &changes.body.as_deref().map(str::as_bytes),
                &now.micros(),
            ],
        )
        .await?;
    match row {
        Some(row) => Ok(Change::Done(post_row(&row)?)),
        None => missed(c, "posts", id).await,
    }
}

pub async fn delete_post(c: &Object, id: i64, expected: Option<i64>) -> StoreResult<Change<()>> {
    let stmt = c
        .prepare_cached("DELETE FROM posts WHERE id = $1 AND ($2::bigint IS NULL OR version = $2)")
        .await?;
    if c.execute(&stmt, &[&id, &expected]).await? == 0 {
        return missed(c, "posts", id).await;
    }
    Ok(Change::Done(()))
}
