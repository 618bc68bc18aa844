//! Users on PostgreSQL: the statements are `store::users::sql`; this binds them and maps rows.

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Object};
use tokio_postgres::Row;

use super::{missed, pg, PgStore};
use crate::domain::Timestamp;
use crate::store::users::sql;
use crate::store::{
    Change, ChangeEvent, Credentials, NewUser, PageQuery, StoreResult, User, UserChanges, UserStore,
};

/// lower() on both sides: the unique index on lower(username) serves this lookup.
const CREDENTIALS: &str = concat!(
    "SELECT ",
    sql::columns!(""),
    ", password_hash FROM users WHERE lower(username) = lower($1)"
);

const CREDENTIALS_BY_EMAIL: &str = concat!(
    "SELECT ",
    sql::columns!(""),
    ", password_hash FROM users WHERE lower(email) = lower($1)"
);
/// Through the unique index on `lower(username)`.
const BY_USERNAME: &str = concat!(
    "SELECT ",
    sql::columns!("u."),
    ", ",
    sql::following_column!("?2"),
    " FROM users u WHERE lower(u.username) = lower(?1)"
);

/// A row of `sql::columns!`, from column 0.
pub(super) fn user_row(r: &Row) -> User {
    user_at(r, 0)
}

/// A row of `sql::columns!` and `following_column!`, for a viewer.
pub(super) fn viewed_user_row(r: &Row) -> User {
    User {
        following: r.get(sql::COLUMN_COUNT),
        ..user_at(r, 0)
    }
}

/// `sql::columns!` from column `at`.
pub(super) fn user_at(r: &Row, at: usize) -> User {
    User {
        id: r.get(at),
        username: r.get(at + 1),
        email: r.get(at + 2),
        admin: r.get(at + 3),
        version: r.get(at + 4),
        created_at: Timestamp(r.get(at + 5)),
        bio: r.get(at + 6),
        image: r.get(at + 7),
        follower_count: r.get(at + 8),
        following_count: r.get(at + 9),
        post_count: r.get(at + 10),
        liked_count: r.get(at + 11),
        following: None,
    }
}

/// The user as `viewer` sees them.
pub(super) async fn by_id(
    c: &impl GenericClient,
    id: i64,
    viewer: Option<i64>,
) -> StoreResult<Option<User>> {
    let stmt = c.prepare_cached(&pg(sql::BY_ID)).await?;
    let row = c.query_opt(&stmt, &[&id, &viewer]).await?;
    Ok(row.as_ref().map(viewed_user_row))
}

async fn update(
    mut c: Object,
    id: i64,
    changes: UserChanges,
    expected: Option<i64>,
) -> StoreResult<Change<User>> {
    let tx = c.transaction().await?;
    let stmt = tx.prepare_cached(&pg(sql::UPDATE)).await?;
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
                &Timestamp::now().micros(),
                &changes.admin,
                &changes.bio,
                &changes.image.is_some(),
                &changes.image.clone().flatten(),
                &changes.username,
            ],
        )
        .await?;
    let Some(row) = row else {
        return missed(&tx, sql::EXISTS, id).await;
    };
    if changes.password_hash.is_some() {
        let stmt = tx.prepare_cached(&pg(sql::REVOKE_OTHER_TOKENS)).await?;
        let keep = changes.keep_token.as_ref().map(|h| &h[..]);
        tx.execute(&stmt, &[&id, &keep]).await?;
    }
    tx.commit().await?;
    Ok(Change::Done(user_row(&row)))
}

impl PgStore {
    /// The user and password hash a one-parameter statement finds.
    async fn credentials_where(
        &self,
        statement: &'static str,
        key: &str,
    ) -> StoreResult<Option<Credentials>> {
        self.with(|c| async move {
            let stmt = c.prepare_cached(statement).await?;
            Ok(c.query_opt(&stmt, &[&key]).await?.map(|r| Credentials {
                user: user_row(&r),
                password_hash: r.get(sql::COLUMN_COUNT),
            }))
        })
        .await
    }
}

#[async_trait]
impl UserStore for PgStore {
    async fn create_user(&self, new: NewUser, now: Timestamp) -> StoreResult<User> {
        let run = |c: Object| async move {
            let stmt = c.prepare_cached(&pg(sql::INSERT)).await?;
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
        };
        let event = |u: &User| Some(ChangeEvent::UserCreated { id: u.id });
        self.write_publishing(run, event).await
    }

    async fn user(&self, id: i64, viewer: Option<i64>) -> StoreResult<Option<User>> {
        self.with(|c| async move { by_id(&c, id, viewer).await })
            .await
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
        self.with(|c| async move {
            let stmt = c.prepare_cached(&pg(BY_USERNAME)).await?;
            let row = c.query_opt(&stmt, &[&username, &viewer]).await?;
            Ok(row.as_ref().map(viewed_user_row))
        })
        .await
    }

    async fn list_users(&self, page: PageQuery, viewer: Option<i64>) -> StoreResult<Vec<User>> {
        self.with(|c| async move {
            let stmt = c.prepare_cached(&pg(sql::LIST)).await?;
            let after = page.after.unwrap_or(0);
            let rows = c
                .query(&stmt, &[&after, &i64::from(page.limit), &viewer])
                .await?;
            Ok(rows.iter().map(viewed_user_row).collect())
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
        self.write_publishing(|c| update(c, id, changes, expected_version), event)
            .await
    }

    async fn delete_user(&self, id: i64, expected_version: Option<i64>) -> StoreResult<Change<()>> {
        let run = |c: Object| async move {
            let stmt = c.prepare_cached(&pg(sql::DELETE)).await?;
            if c.execute(&stmt, &[&id, &expected_version]).await? == 0 {
                return missed(&c, sql::EXISTS, id).await;
            }
            Ok(Change::Done(()))
        };
        let event = move |c: &Change<()>| c.done().map(|()| ChangeEvent::UserDeleted { id });
        self.write_publishing(run, event).await
    }
}
