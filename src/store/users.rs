//! Users: accounts, their credentials and changes to them.

use async_trait::async_trait;

use super::{Change, PageQuery, StoreResult};
use crate::domain::Timestamp;

/// A user as stored, without the password hash (see [`Credentials`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub admin: bool,
    /// Bumped on every change of the user's own fields (not of their counts).
    pub version: i64,
    pub created_at: Timestamp,
    /// Empty when none was given.
    pub bio: String,
    pub image: Option<String>,
    /// Kept by the database in the transaction of each follow and post (triggers).
    pub follower_count: i64,
    pub following_count: i64,
    pub post_count: i64,
    /// How many posts the user likes (kept by triggers, like the counts above).
    pub liked_count: i64,
    /// Whether the viewer the user was read for follows them; `None` when read for nobody.
    pub following: Option<bool>,
}

/// What login needs: the user and the argon2 hash to check the password against.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub admin: bool,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// `Some(None)` clears the email.
    pub email: Option<Option<String>>,
    pub password_hash: Option<String>,
    /// When the password changes, the user's other tokens are revoked; this one (the caller's) is kept.
    pub keep_token: Option<[u8; 32]>,
    /// Only from the shell (`postbase user set-admin`); the API never sets it.
    pub admin: Option<bool>,
    pub bio: Option<String>,
    /// `Some(None)` clears the image.
    pub image: Option<Option<String>>,
    /// A new username (the RealWorld API can rename); taken, whatever its case, is
    /// [`super::StoreError::UsernameTaken`].
    pub username: Option<String>,
}

#[async_trait]
pub trait UserStore {
    /// [`super::StoreError::UsernameTaken`] when the name is taken, whatever its case.
    async fn create_user(&self, new: NewUser, now: Timestamp) -> StoreResult<User>;
    /// The user as `viewer` sees them (`following` set when there is a viewer).
    async fn user(&self, id: i64, viewer: Option<i64>) -> StoreResult<Option<User>>;
    /// Looked up case-insensitively.
    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>>;
    /// As [`UserStore::credentials`], by email (any case): emails are unique case-insensitively.
    async fn credentials_by_email(&self, email: &str) -> StoreResult<Option<Credentials>>;
    /// The user with this username (any case), as `viewer` sees them.
    async fn user_by_username(
        &self,
        username: &str,
        viewer: Option<i64>,
    ) -> StoreResult<Option<User>>;
    /// Oldest first; `page.after` is the id the previous page ended on.
    async fn list_users(&self, page: PageQuery, viewer: Option<i64>) -> StoreResult<Vec<User>>;
    /// Checks the version and writes in one statement; a new password revokes the user's other
    /// tokens in the same transaction.
    async fn update_user(
        &self,
        id: i64,
        changes: UserChanges,
        expected_version: Option<i64>,
    ) -> StoreResult<Change<User>>;
    /// Deletes the user with everything they own: tokens, posts, comments and likes.
    async fn delete_user(&self, id: i64, expected_version: Option<i64>) -> StoreResult<Change<()>>;
}

/// The statements both backends run, with `?N` placeholders (PostgreSQL's `$N` is made from
/// them: see `postgres::sql`). Nullable parameters are `CAST` so that PostgreSQL knows their type.
/// A user row is `columns!` (`u.` in a join), then, in the statements that read for a viewer,
/// whether the viewer follows them (`following_column!`).
pub mod sql {
    /// The user's columns, each name prefixed with `$p` (a table alias and a dot, or nothing).
    macro_rules! columns {
        ($p:literal) => {
            concat!(
                $p,
                "id, ",
                $p,
                "username, ",
                $p,
                "email, ",
                $p,
                "admin, ",
                $p,
                "version, ",
                $p,
                "created_at, ",
                $p,
                "bio, ",
                $p,
                "image, ",
                $p,
                "follower_count, ",
                $p,
                "following_count, ",
                $p,
                "post_count, ",
                $p,
                "liked_count"
            )
        };
    }
    pub(crate) use columns;

    /// `following`: whether the viewer `$v` (a placeholder; NULL for nobody) follows user `u`.
    macro_rules! following_column {
        ($v:literal) => {
            concat!(
                "CASE WHEN CAST(",
                $v,
                " AS BIGINT) IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM
                 follows fv WHERE fv.follower_id = ",
                $v,
                " AND fv.followee_id = u.id) END"
            )
        };
    }
    pub(crate) use following_column;

    /// How many columns `columns!` has: what a statement adds after them starts here.
    pub const COLUMN_COUNT: usize = 12;
    pub const INSERT: &str = concat!(
        "INSERT INTO users (username, email, password_hash, admin, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING ",
        columns!("")
    );
    /// `?2` the viewer.
    pub const BY_ID: &str = concat!(
        "SELECT ",
        columns!("u."),
        ", ",
        following_column!("?2"),
        " FROM users u WHERE u.id = ?1"
    );
    /// `?3` the viewer.
    pub const LIST: &str = concat!(
        "SELECT ",
        columns!("u."),
        ", ",
        following_column!("?3"),
        " FROM users u WHERE u.id > ?1 ORDER BY u.id LIMIT ?2"
    );
    pub const EXISTS: &str = "SELECT 1 FROM users WHERE id = ?1";
    /// The version check is part of the write: racing edits cannot both pass it.
    pub const UPDATE: &str = concat!(
        "UPDATE users SET email = CASE WHEN ?3 THEN ?4 ELSE email END,
             password_hash = coalesce(?5, password_hash), admin = coalesce(?7, admin),
             bio = coalesce(?8, bio), image = CASE WHEN ?9 THEN ?10 ELSE image END,
             username = coalesce(?11, username), version = version + 1, updated_at = ?6
         WHERE id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR version = ?2)
         RETURNING ",
        columns!("")
    );
    /// A new password ends every other session, in the transaction of the change.
    pub const REVOKE_OTHER_TOKENS: &str =
        "DELETE FROM tokens WHERE user_id = ?1 AND hash IS DISTINCT FROM ?2";
    /// Tokens, posts, comments, likes and follows go with the user (ON DELETE CASCADE).
    pub const DELETE: &str =
        "DELETE FROM users WHERE id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR version = ?2)";
}
