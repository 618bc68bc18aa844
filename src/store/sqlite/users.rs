//! Users on SQLite: the statements are `store::users::sql`; this binds them and maps rows.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{missed, SqliteStore};
use crate::domain::Timestamp;
use crate::store::users::sql;
use crate::store::{
    Change, ChangeEvent, Credentials, NewUser, PageQuery, StoreResult, User, UserChanges, UserStore,
};

/// The column is COLLATE NOCASE, so `=` is the case-insensitive lookup, on its unique index.
const CREDENTIALS: &str = concat!(
    "SELECT ",
    sql::columns!(""),
    ", password_hash FROM users WHERE username = ?1"
);

const CREDENTIALS_BY_EMAIL: &str = concat!(
    "SELECT ",
    sql::columns!(""),
    ", password_hash FROM users WHERE lower(email) = lower(?1)"
);
/// `username` is `COLLATE NOCASE`: the comparison is case-insensitive and uses its index.
const BY_USERNAME: &str = concat!(
    "SELECT ",
    sql::columns!("u."),
    ", ",
    sql::following_column!("?2"),
    " FROM users u WHERE u.username = ?1"
);

/// A row of `sql::columns!` and `following_column!`, for a viewer.
pub(super) fn viewed_user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        following: r.get(sql::COLUMN_COUNT)?,
        ..user_row(r)?
    })
}

/// A row of `sql::columns!`.
pub(super) fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
        admin: r.get(3)?,
        version: r.get(4)?,
        created_at: Timestamp(r.get(5)?),
        bio: r.get(6)?,
        image: r.get(7)?,
        follower_count: r.get(8)?,
        following_count: r.get(9)?,
        post_count: r.get(10)?,
        liked_count: r.get(11)?,
        following: None,
    })
}

pub(super) fn by_id(
    c: &Connection,
    id: i64,
    viewer: Option<i64>,
) -> rusqlite::Result<Option<User>> {
    c.prepare_cached(sql::BY_ID)?
        .query_row(params![id, viewer], viewed_user_row)
        .optional()
}

fn update(
    c: &Connection,
    id: i64,
    changes: &UserChanges,
    expected: Option<i64>,
) -> rusqlite::Result<Change<User>> {
    let email = changes.email.clone().flatten();
    let row = c
        .prepare_cached(sql::UPDATE)?
        .query_row(
            params![
                id,
                expected,
                changes.email.is_some(),
                email,
                changes.password_hash,
                Timestamp::now().micros(),
                changes.admin,
                changes.bio,
                changes.image.is_some(),
                changes.image.clone().flatten(),
                changes.username
            ],
            user_row,
        )
        .optional()?;
    let Some(user) = row else {
        return missed(c, sql::EXISTS, id);
    };
    if changes.password_hash.is_some() {
        c.prepare_cached(sql::REVOKE_OTHER_TOKENS)?
            .execute(params![id, changes.keep_token.as_ref().map(|h| &h[..])])?;
    }
    Ok(Change::Done(user))
}

impl SqliteStore {
    /// The user and password hash a one-parameter statement finds.
    async fn credentials_where(
        &self,
        statement: &'static str,
        key: &str,
    ) -> StoreResult<Option<Credentials>> {
        let key = key.to_owned();
        self.read(move |c| {
            c.prepare_cached(statement)?
                .query_row([key], |r| {
                    Ok(Credentials {
                        user: user_row(r)?,
                        password_hash: r.get(sql::COLUMN_COUNT)?,
                    })
                })
                .optional()
        })
        .await
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, new: NewUser, now: Timestamp) -> StoreResult<User> {
        let run = move |c: &Connection| {
            c.prepare_cached(sql::INSERT)?.query_row(
                params![
                    new.username,
                    new.email,
                    new.password_hash,
                    new.admin,
                    now.micros()
                ],
                user_row,
            )
        };
        let event = |u: &User| Some(ChangeEvent::UserCreated { id: u.id });
        self.writer.run_publishing(run, event).await
    }

    async fn user(&self, id: i64, viewer: Option<i64>) -> StoreResult<Option<User>> {
        self.read(move |c| by_id(c, id, viewer)).await
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
        self.credentials_where(CREDENTIALS, username).await
    }

    async fn credentials_by_email(&self, email: &str) -> StoreResult<Option<Credentials>> {
        self.credentials_where(CREDENTIALS_BY_EMAIL, email).await
    }

    async fn user_by_username(
        &self,
        username: &str,
        viewer: Option<i64>,
    ) -> StoreResult<Option<User>> {
        let username = username.to_owned();
        self.read(move |c| {
            c.prepare_cached(BY_USERNAME)?
                .query_row(params![username, viewer], viewed_user_row)
                .optional()
        })
        .await
    }

    async fn list_users(&self, page: PageQuery, viewer: Option<i64>) -> StoreResult<Vec<User>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(sql::LIST)?;
            let after = page.after.unwrap_or(0);
            let rows = stmt.query_map(params![after, page.limit, viewer], viewed_user_row)?;
            rows.collect()
        })
        .await
    }

    async fn update_user(
        &self,
        id: i64,
        changes: UserChanges,
        expected_version: Option<i64>,
    ) -> StoreResult<Change<User>> {
        let event = |c: &Change<User>| c.done().map(|u| ChangeEvent::UserUpdated { id: u.id });
        self.writer
            .run_publishing(move |c| update(c, id, &changes, expected_version), event)
            .await
    }

    async fn delete_user(&self, id: i64, expected_version: Option<i64>) -> StoreResult<Change<()>> {
        let run = move |c: &Connection| {
            if c.prepare_cached(sql::DELETE)?
                .execute(params![id, expected_version])?
                == 0
            {
                return missed(c, sql::EXISTS, id);
            }
            Ok(Change::Done(()))
        };
        let event = move |c: &Change<()>| c.done().map(|()| ChangeEvent::UserDeleted { id });
        self.writer.run_publishing(run, event).await
    }
}
