//! The rows of a dump, one type per kind, as they are written: the format is these types' serde.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub admin: bool,
    /// Absent before version 4: none.
    #[serde(default)]
    pub bio: String,
    #[serde(default)]
    pub image: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Hashes stay out of `Debug`, so a record can never leak one into a log line.
impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    /// SHA-256 of the token, as lowercase hex.
    #[serde(with = "hex32")]
    pub hash: [u8; 32],
    pub user_id: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

impl fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRecord")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostRecord {
    pub id: i64,
    pub author_id: i64,
    pub title: String,
    pub body: String,
    /// Absent before version 3: none.
    #[serde(default)]
    pub tags: Vec<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Absent before version 5, and left out when empty: none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentRecord {
    pub id: i64,
    pub post_id: i64,
    pub author_id: i64,
    pub body: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LikeRecord {
    pub user_id: i64,
    pub post_id: i64,
    pub created_at: i64,
}

/// A follow (since version 4); the feed and the counts are rebuilt from these by the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowRecord {
    pub id: i64,
    pub follower_id: i64,
    pub followee_id: i64,
    pub created_at: i64,
}

/// The largest ids ever handed out, deleted rows included (0: none yet).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdsRecord {
    pub users: i64,
    pub posts: i64,
    /// Absent before version 3: none.
    #[serde(default)]
    pub comments: i64,
    /// Absent before version 4: none.
    #[serde(default)]
    pub follows: i64,
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

mod hex32 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::hex(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let hex = String::deserialize(d)?;
        let mut out = [0u8; 32];
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(D::Error::custom("a token hash is 64 hex digits"));
        }
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| D::Error::custom("a token hash is 64 hex digits"))?;
        }
        Ok(out)
    }
}
