//! The SQL, one function per statement or transaction. Statements are cached per connection.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::domain::Timestamp;
use crate::store::{Change, Credentials, NewUser, PageQuery, Post, PostChanges, User, UserChanges};

const USER_COLUMNS: &str = "id, username, email, admin, version, created_at";
const POST_COLUMNS: &str = "id, title, body, author_id, created_at, updated_at, version";

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
        admin: r.get(3)?,
        version: r.get(4)?,
        created_at: Timestamp(r.get(5)?),
    })
}

fn post_row(r: &Row<'_>) -> rusqlite::Result<Post> {
    Ok(Post {
        id: r.get(0)?,
        title: r.get(1)?,
        body: r.get(2)?,
        author_id: r.get(3)?,
        created_at: Timestamp(r.get(4)?),
        updated_at: Timestamp(r.get(5)?),
        version: r.get(6)?,
    })
}

pub fn insert_user(c: &Connection, new: &NewUser, now: Timestamp) -> rusqlite::Result<User> {
    let sql = format!(
        "INSERT INTO users (username, email, password_hash, admin, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING {USER_COLUMNS}"
    );
    c.prepare_cached(&sql)?.query_row(
        params![
            new.username,
            new.email,
            new.password_hash,
            new.admin,
            now.micros()
        ],
        user_row,
    )
}

pub fn user_by_id(c: &Connection, id: i64) -> rusqlite::Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
    c.prepare_cached(&sql)?.query_row([id], user_row).optional()
}

pub fn credentials(c: &Connection, username: &str) -> rusqlite::Result<Option<Credentials>> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?1");
    c.prepare_cached(&sql)?
        .query_row([username], |r| {
            Ok(Credentials {
                user: user_row(r)?,
                password_hash: r.get(6)?,
            })
        })
        .optional()
}

pub fn list_users(c: &Connection, page: PageQuery) -> rusqlite::Result<Vec<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id > ?1 ORDER BY id LIMIT ?2");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![page.after.unwrap_or(0), page.limit], user_row)?;
    rows.collect()
}

/// Checks the row exists and, when asked, that its version is the one the client saw.
fn check_version<T>(
    c: &Connection,
    table: &str,
    id: i64,
    expected: Option<i64>,
) -> rusqlite::Result<Option<Change<T>>> {
    let sql = format!("SELECT version FROM {table} WHERE id = ?1");
    let current: Option<i64> = c
        .prepare_cached(&sql)?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(match (current, expected) {
        (None, _) => Some(Change::NotFound),
        (Some(v), Some(e)) if v != e => Some(Change::VersionMismatch),
        _ => None,
    })
}

pub fn update_user(
    c: &Connection,
    id: i64,
    changes: &UserChanges,
    expected: Option<i64>,
) -> rusqlite::Result<Change<User>> {
    if let Some(outcome) = check_version(c, "users", id, expected)? {
        return Ok(outcome);
    }
    let now = Timestamp::now();
    if let Some(email) = &changes.email {
        c.prepare_cached("UPDATE users SET email = ?2 WHERE id = ?1")?
            .execute(params![id, email])?;
    }
    if let Some(admin) = changes.admin {
        c.prepare_cached("UPDATE users SET admin = ?2 WHERE id = ?1")?
            .execute(params![id, admin])?;
    }
    if let Some(hash) = &changes.password_hash {
        c.prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
            .execute(params![id, hash])?;
        // A new password ends every other session: whoever knew the old one is logged out.
        c.prepare_cached("DELETE FROM tokens WHERE user_id = ?1 AND hash IS NOT ?2")?
            .execute(params![id, changes.keep_token.as_ref().map(|h| &h[..])])?;
    }
    c.prepare_cached("UPDATE users SET version = version + 1, updated_at = ?2 WHERE id = ?1")?
        .execute(params![id, now.micros()])?;
    Ok(match user_by_id(c, id)? {
        Some(u) => Change::Done(u),
        None => Change::NotFound,
    })
}

pub fn delete_user(c: &Connection, id: i64, expected: Option<i64>) -> rusqlite::Result<Change<()>> {
    if let Some(outcome) = check_version(c, "users", id, expected)? {
        return Ok(outcome);
    }
    // Tokens and posts go with the user through ON DELETE CASCADE.
    c.prepare_cached("DELETE FROM users WHERE id = ?1")?
        .execute([id])?;
    Ok(Change::Done(()))
}

pub fn insert_token(
    c: &Connection,
    user_id: i64,
    hash: &[u8; 32],
    now: Timestamp,
    expires_at: Timestamp,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        &hash[..],
        user_id,
        now.micros(),
        expires_at.micros()
    ])?;
    Ok(())
}

pub fn token_user(
    c: &Connection,
    hash: &[u8; 32],
    now: Timestamp,
) -> rusqlite::Result<Option<User>> {
    c.prepare_cached(
        "SELECT u.id, u.username, u.email, u.admin, u.version, u.created_at
         FROM tokens t JOIN users u ON u.id = t.user_id
         WHERE t.hash = ?1 AND t.expires_at > ?2",
    )?
    .query_row(params![&hash[..], now.micros()], user_row)
    .optional()
}

pub fn delete_token(c: &Connection, hash: &[u8; 32]) -> rusqlite::Result<bool> {
    let n = c
        .prepare_cached("DELETE FROM tokens WHERE hash = ?1")?
        .execute([&hash[..]])?;
    Ok(n > 0)
}

pub fn delete_user_tokens(c: &Connection, user_id: i64) -> rusqlite::Result<u64> {
    let n = c
        .prepare_cached("DELETE FROM tokens WHERE user_id = ?1")?
        .execute([user_id])?;
    Ok(n as u64)
}

pub fn insert_post(
    c: &Connection,
    author_id: i64,
    title: &str,
    body: &str,
    now: Timestamp,
) -> rusqlite::Result<Post> {
    let sql = format!(
        "INSERT INTO posts (author_id, title, body, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4) RETURNING {POST_COLUMNS}"
    );
    c.prepare_cached(&sql)?
        .query_row(params![author_id, title, body, now.micros()], post_row)
}

pub fn post_by_id(c: &Connection, id: i64) -> rusqlite::Result<Option<Post>> {
    let sql = format!("SELECT {POST_COLUMNS} FROM posts WHERE id = ?1");
    c.prepare_cached(&sql)?.query_row([id], post_row).optional()
}

pub fn list_posts(
    c: &Connection,
    author: Option<i64>,
    page: PageQuery,
) -> rusqlite::Result<Vec<Post>> {
    let before = page.after.unwrap_or(i64::MAX);
    match author {
        Some(author) => {
            let sql = format!(
                "SELECT {POST_COLUMNS} FROM posts WHERE author_id = ?1 AND id < ?2
                 ORDER BY id DESC LIMIT ?3"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![author, before, page.limit], post_row)?;
            rows.collect()
        }
        None => {
            let sql =
                format!("SELECT {POST_COLUMNS} FROM posts WHERE id < ?1 ORDER BY id DESC LIMIT ?2");
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![before, page.limit], post_row)?;
            rows.collect()
        }
    }
}

pub fn update_post(
    c: &Connection,
    id: i64,
    changes: &PostChanges,
    expected: Option<i64>,
    now: Timestamp,
) -> rusqlite::Result<Change<Post>> {
    // The version check is part of the write; only when nothing was written do we ask why.
    let sql = format!(
        "UPDATE posts SET title = coalesce(?2, title), body = coalesce(?3, body),
             version = version + 1, updated_at = ?4
         WHERE id = ?1 AND (?5 IS NULL OR version = ?5) RETURNING {POST_COLUMNS}"
    );
    let post = c
        .prepare_cached(&sql)?
        .query_row(
            params![id, changes.title, changes.body, now.micros(), expected],
            post_row,
        )
        .optional()?;
    match post {
        Some(post) => Ok(Change::Done(post)),
        None => Ok(check_version(c, "posts", id, expected)?.unwrap_or(Change::NotFound)),
    }
}

pub fn delete_post(c: &Connection, id: i64, expected: Option<i64>) -> rusqlite::Result<Change<()>> {
    let deleted = c
        .prepare_cached("DELETE FROM posts WHERE id = ?1 AND (?2 IS NULL OR version = ?2)")?
        .execute(params![id, expected])?;
    if deleted == 0 {
        return Ok(check_version(c, "posts", id, expected)?.unwrap_or(Change::NotFound));
    }
    Ok(Change::Done(()))
}
