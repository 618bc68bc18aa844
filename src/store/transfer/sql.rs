//! The statements both backends run to export and import (see `users::sql` for the placeholders).

pub const USERS: &str =
    "SELECT id, username, email, password_hash, admin, bio, image, version, created_at, updated_at
     FROM users WHERE id > ?1 ORDER BY id LIMIT ?2";
pub const TOKENS: &str = "SELECT hash, user_id, created_at, expires_at FROM tokens
     WHERE hash > ?1 ORDER BY hash LIMIT ?2";
pub const POSTS: &str = "SELECT id, author_id, title, body, tags, version, created_at, updated_at,
     summary FROM posts WHERE id > ?1 ORDER BY id LIMIT ?2";
pub const COMMENTS: &str = "SELECT id, post_id, author_id, body, version, created_at, updated_at
     FROM comments WHERE id > ?1 ORDER BY id LIMIT ?2";
pub const FOLLOWS: &str = "SELECT id, follower_id, followee_id, created_at FROM follows
     WHERE id > ?1 ORDER BY id LIMIT ?2";
pub const LIKES: &str = "SELECT user_id, post_id, created_at FROM likes
     WHERE user_id > ?1 OR (user_id = ?1 AND post_id > ?2) ORDER BY user_id, post_id LIMIT ?3";
/// Holds when the database has no rows an import would clash with.
pub const IS_EMPTY: &str =
    "SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM tokens)
     AND NOT EXISTS (SELECT 1 FROM posts) AND NOT EXISTS (SELECT 1 FROM comments)
     AND NOT EXISTS (SELECT 1 FROM likes) AND NOT EXISTS (SELECT 1 FROM follows)";

pub const INSERT_USER: &str =
    "INSERT INTO users (id, username, email, password_hash, admin, bio, image, version,
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
pub const INSERT_TOKEN: &str =
    "INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)";
/// A post's tags go in its row and, one row each, in `post_tags` (`posts::sql::TAG`).
pub const INSERT_POST: &str =
    "INSERT INTO posts (id, author_id, title, body, tags, version, created_at, updated_at, summary)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
pub const INSERT_COMMENT: &str =
    "INSERT INTO comments (id, post_id, author_id, body, version, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
pub const INSERT_LIKE: &str =
    "INSERT INTO likes (user_id, post_id, created_at) VALUES (?1, ?2, ?3)";
/// After the posts: the database's triggers fill each follower's feed from them.
pub const INSERT_FOLLOW: &str =
    "INSERT INTO follows (id, follower_id, followee_id, created_at) VALUES (?1, ?2, ?3, ?4)";
