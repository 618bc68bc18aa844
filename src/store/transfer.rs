//! `postbase export` / `postbase import`: a whole instance as JSON Lines, the same for every backend,
//! so data moves between SQLite and PostgreSQL in either direction.
//!
//! The first line is a header (`{"format":"postbase-export","version":1}`); then every user, every
//! token and every post, each a JSON object tagged with `"kind"`, parents before children and each
//! kind in key order, so that two exports of the same data are byte-identical; last, the largest
//! ids ever handed out (`"kind":"ids"`), so that ids of deleted rows are not handed out again. Rows go as stored:
//! ids, versions, admin flags, argon2 password hashes, SHA-256 token hashes (hex) and timestamps
//! (integer microseconds since the epoch, UTC), so users keep their passwords and live tokens.

use std::fmt;
use std::io::{BufRead, Write};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::DynStore;

/// Rows per page when reading and per transaction when writing.
const BATCH: u32 = 500;

const FORMAT: &str = "postbase-export";
const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub admin: bool,
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
pub struct PostRecord {
    pub id: i64,
    pub author_id: i64,
    pub title: String,
    pub body: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The largest ids ever handed out, deleted rows included (0: none yet).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdsRecord {
    pub users: i64,
    pub posts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    User(UserRecord),
    Token(TokenRecord),
    Post(PostRecord),
    Ids(IdsRecord),
}

mod hex32 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        s.serialize_str(&hex)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
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

/// What was moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub users: u64,
    pub tokens: u64,
    pub posts: u64,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} users, {} tokens, {} posts",
            self.users, self.tokens, self.posts
        )
    }
}

fn write_line(out: &mut impl Write, value: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes the whole database to `out`, page by page; `progress` is told of every row.
pub async fn export(
    store: &DynStore,
    out: &mut impl Write,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Counts> {
    let mut counts = Counts::default();
    write_line(
        out,
        &Header {
            format: FORMAT.into(),
            version: VERSION,
        },
    )?;
    let mut after = 0;
    loop {
        let page = store.export_users(after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in page {
            write_line(out, &Record::User(row))?;
            counts.users += 1;
            progress.inc(1);
        }
    }
    let mut after = Vec::new();
    loop {
        let page = store.export_tokens(after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = last.hash.to_vec();
        for row in page {
            write_line(out, &Record::Token(row))?;
            counts.tokens += 1;
            progress.inc(1);
        }
    }
    let mut after = 0;
    loop {
        let page = store.export_posts(after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in page {
            write_line(out, &Record::Post(row))?;
            counts.posts += 1;
            progress.inc(1);
        }
    }
    write_line(out, &Record::Ids(store.export_ids().await?))?;
    out.flush()?;
    Ok(counts)
}

/// Loads an export into an empty database. Refuses a database that already holds data: merging
/// two instances would clash on ids and usernames, and a half-merged database is worse than none.
/// `progress` is told how many bytes of input have been read.
pub async fn import(
    store: &DynStore,
    input: impl BufRead,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Counts> {
    anyhow::ensure!(
        store.is_empty().await?,
        "the target database already holds users, tokens or posts; import only into an empty one"
    );
    let mut lines = input.lines().enumerate();
    let header: Header = match lines.next() {
        Some((_, line)) => serde_json::from_str(&line?).context("line 1: not a postbase export")?,
        None => anyhow::bail!("the input is empty: not a postbase export"),
    };
    anyhow::ensure!(
        header.format == FORMAT && header.version == VERSION,
        "line 1: expected a {FORMAT} version {VERSION}, found {} version {}",
        header.format,
        header.version
    );
    let mut counts = Counts::default();
    let mut ids = IdsRecord::default();
    let mut batch = Vec::with_capacity(BATCH as usize);
    for (i, line) in lines {
        let line = line?;
        progress.inc(line.len() as u64 + 1);
        if line.is_empty() {
            continue;
        }
        let record: Record =
            serde_json::from_str(&line).with_context(|| format!("line {}", i + 1))?;
        match &record {
            Record::User(_) => counts.users += 1,
            Record::Token(_) => counts.tokens += 1,
            Record::Post(_) => counts.posts += 1,
            Record::Ids(seen) => {
                ids = *seen;
                continue;
            }
        }
        batch.push(record);
        if batch.len() >= BATCH as usize {
            store.import(std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        store.import(batch).await?;
    }
    store.finish_import(ids).await?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_record_round_trips_through_hex() {
        let record = Record::Token(TokenRecord {
            hash: [0xab; 32],
            user_id: 7,
            created_at: 1,
            expires_at: 2,
        });
        let json = serde_json::to_string(&record).unwrap();
        assert!(json.contains(&"ab".repeat(32)), "{json}");
        assert!(json.starts_with(r#"{"kind":"token""#), "{json}");
        assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record);
        assert!(serde_json::from_str::<Record>(&json.replace("abab", "zz")).is_err());
    }
}
