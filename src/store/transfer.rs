//! `postbase export` / `postbase import`: a whole instance as JSON Lines, the same for every backend,
//! so data moves between SQLite and PostgreSQL in either direction.
//!
//! # Format (version 4)
//!
//! The first line is a header (`{"format":"postbase-export","version":4}`); then every user (with
//! bio and image), token, post, comment, like and follow, each a JSON object tagged with
//! `"kind"`, parents before children and each kind in key order, so that two exports of the same data are byte-identical; then the largest
//! ids ever handed out (`"kind":"ids"`), so that ids of deleted rows are not handed out again; last,
//! a trailer, `{"kind":"end","users":U,"tokens":T,"posts":P,…,"sha256":"…"}`: how many of each kind
//! came before it and the SHA-256 (lowercase hex) of every byte before it, newlines included.
//! Rows go as stored: ids, versions, admin flags, argon2 password hashes, SHA-256 token hashes
//! (hex) and timestamps (integer microseconds since the epoch, UTC), so users keep their passwords
//! and live tokens.
//!
//! The trailer is what tells a whole dump from one cut at a line boundary (`head -n 20`, a full
//! disk, a copy interrupted): the cut one would otherwise load as if complete, and the ids of the
//! rows it lost would be handed out again. Version 1 dumps, made before the trailer, still import,
//! with a warning that their completeness cannot be verified; they must still end with their
//! `ids` record (every version 1 export does), which catches most cuts.
//!
//! # What import checks
//!
//! A dump is input like any other: import loads it in one transaction, all or nothing, and refuses
//! the whole dump, naming the line of the first bad record, if any record breaks a rule
//! (`transfer/check.rs`):
//! - every field by the API's own rules (`Username`, `Email`, `PostTitle`, `PostBody`), and
//!   usernames unique regardless of case;
//! - ids from 1 to 2^53 ([`MAX_ID`]) and unique per kind, versions from 1 to 2^53, the `ids`
//!   record from 0 to 2^53: far enough below `i64::MAX` that no later insert or edit can overflow;
//! - timestamps from 1970 to the end of year 9999, creation and update times not in the future
//!   (a day's clock skew allowed), none before its row's creation;
//! - tokens and posts belong to users that come earlier in the dump; token hashes are unique;
//! - password hashes are argon2 PHC strings within a ceiling of m = 64 MiB, t = 10, p = 4
//!   ([`crate::auth::MAX_STORED_M_KIB`] and beside it): a login runs the stored parameters, so a
//!   hash beyond it would let one dump make every login of its user cost seconds and gigabytes;
//! - nothing but the trailer after the `ids` record, nothing after the trailer, and the trailer's
//!   counts and checksum match.
//!
//! Admin flags are kept (an instance moved must keep its admins); the import reports how many.

mod check;
mod read;
mod records;
pub mod sql;

use std::fmt;
use std::io::{BufRead, Write};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::DynStore;
pub use check::MAX_ID;
use records::hex;
pub use records::{
    CommentRecord, FollowRecord, IdsRecord, LikeRecord, PostRecord, TokenRecord, UserRecord,
};

/// Rows per page when reading and per batch handed to the store when writing.
const BATCH: u32 = 500;

const FORMAT: &str = "postbase-export";

/// Why an import into a database that holds data is refused, checked before reading the dump and
/// again inside the import's transaction.
pub const NOT_EMPTY: &str =
    "the target database already holds users, tokens or posts; import only into an empty one";
/// 5: post summaries. 4 (profiles and follows), 3 (comments, likes and tags), 2 (the trailer,
/// none of those) and 1 (no trailer) are still read.
const VERSION: u32 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

/// The last line of a version 2 dump: what came before it, so that a cut dump is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trailer {
    users: u64,
    tokens: u64,
    posts: u64,
    #[serde(default)]
    comments: u64,
    #[serde(default)]
    likes: u64,
    #[serde(default)]
    follows: u64,
    /// SHA-256 of every byte before this line, as lowercase hex.
    sha256: String,
}

/// One line of a dump after the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Line {
    User(UserRecord),
    Token(TokenRecord),
    Post(PostRecord),
    Comment(CommentRecord),
    Like(LikeRecord),
    Follow(FollowRecord),
    Ids(IdsRecord),
    End(Trailer),
}

/// A row for the store to insert as it is, id included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    User(UserRecord),
    Token(TokenRecord),
    Post(PostRecord),
    Comment(CommentRecord),
    Like(LikeRecord),
    Follow(FollowRecord),
}

/// What the reader of a dump hands the store, in order (see [`super::Store::import`]).
#[derive(Debug)]
pub enum ImportStep {
    /// Checked rows, parents before children.
    Rows(Vec<Record>),
    /// The whole dump was read and checked: move the id generators past `ids` and commit.
    Commit(IdsRecord),
}

/// What was moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub users: u64,
    pub tokens: u64,
    pub posts: u64,
    pub comments: u64,
    pub likes: u64,
    pub follows: u64,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} users, {} tokens, {} posts, {} comments, {} likes, {} follows",
            self.users, self.tokens, self.posts, self.comments, self.likes, self.follows
        )
    }
}

/// What an import loaded.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub counts: Counts,
    /// Users with the admin flag: shown, so that an operator notices admins they did not expect.
    pub admins: u64,
    /// False for a version 1 dump: without a trailer, a cut dump cannot be told from a whole one.
    pub verified: bool,
}

fn write_line(out: &mut impl Write, value: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Passes bytes through and hashes them, for the trailer's checksum.
struct Hashing<'a, W> {
    out: &'a mut W,
    sha: Sha256,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Writes the whole database to `out`, page by page; `progress` is told of every row.
pub async fn export(
    store: &DynStore,
    out: &mut impl Write,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Counts> {
    let mut counts = Counts::default();
    let mut hashed = Hashing {
        out: &mut *out,
        sha: Sha256::new(),
    };
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
    };
    write_line(&mut hashed, &header)?;
    let mut rows = |lines: Vec<Line>, count: &mut u64| -> anyhow::Result<()> {
        for line in &lines {
            write_line(&mut hashed, line)?;
        }
        *count += lines.len() as u64;
        progress.inc(lines.len() as u64);
        Ok(())
    };
    let mut after = 0;
    loop {
        let page = store.export_users(after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        rows(
            page.into_iter().map(Line::User).collect(),
            &mut counts.users,
        )?;
    }
    let mut after = Vec::new();
    loop {
        let page = store.export_tokens(after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = last.hash.to_vec();
        rows(
            page.into_iter().map(Line::Token).collect(),
            &mut counts.tokens,
        )?;
    }
    let mut after = 0;
    loop {
        let page = store.export_posts(after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        rows(
            page.into_iter().map(Line::Post).collect(),
            &mut counts.posts,
        )?;
    }
    let mut after = 0;
    loop {
        let page = store.export_comments(after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        rows(
            page.into_iter().map(Line::Comment).collect(),
            &mut counts.comments,
        )?;
    }
    let mut after = (0, 0);
    loop {
        let page = store.export_likes(after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = (last.user_id, last.post_id);
        rows(
            page.into_iter().map(Line::Like).collect(),
            &mut counts.likes,
        )?;
    }
    let mut after = 0;
    loop {
        let page = store.export_follows(after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        rows(
            page.into_iter().map(Line::Follow).collect(),
            &mut counts.follows,
        )?;
    }
    write_line(&mut hashed, &Line::Ids(store.export_ids().await?))?;
    let sha256 = hex(&hashed.sha.finalize());
    let trailer = Trailer {
        users: counts.users,
        tokens: counts.tokens,
        posts: counts.posts,
        comments: counts.comments,
        likes: counts.likes,
        follows: counts.follows,
        sha256,
    };
    write_line(out, &Line::End(trailer))?;
    out.flush()?;
    Ok(counts)
}

/// Loads a dump into an empty database, all or nothing: the records are checked as they are read
/// (on a blocking thread) and handed over in batches to one transaction, which commits only once
/// the whole dump has been read and found sound. Refuses a database that already holds data:
/// merging two instances would clash on ids and usernames. `progress` is told how many bytes of
/// input have been read.
pub async fn import(
    store: &DynStore,
    input: impl BufRead + Send + 'static,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Imported> {
    anyhow::ensure!(store.is_empty().await?, NOT_EMPTY);
    // One batch in the channel while the store inserts another and the reader checks a third.
    let (steps, received) = mpsc::channel(1);
    let progress = progress.clone();
    let reader = tokio::task::spawn_blocking(move || read::read(input, &steps, &progress));
    let loaded = store.import(received).await;
    let read = reader.await.context("the reader of the dump failed")?;
    match loaded {
        Ok(true) => read,
        // The reader stopped (a bad record, a cut dump) before the commit: its error says why.
        Ok(false) => Err(read
            .err()
            .unwrap_or_else(|| anyhow::anyhow!("the dump ended before it was committed"))
            .context("nothing was imported")),
        Err(e) => Err(anyhow::Error::new(e).context("loading the dump; nothing was imported")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_record_round_trips_through_hex() {
        let line = Line::Token(TokenRecord {
            hash: [0xab; 32],
            user_id: 7,
            created_at: 1,
            expires_at: 2,
        });
        let json = serde_json::to_string(&line).unwrap();
        assert!(json.contains(&"ab".repeat(32)), "{json}");
        assert!(json.starts_with(r#"{"kind":"token""#), "{json}");
        assert_eq!(serde_json::from_str::<Line>(&json).unwrap(), line);
        assert!(serde_json::from_str::<Line>(&json.replace("abab", "zz")).is_err());
    }

    #[test]
    fn a_field_the_format_does_not_have_is_refused_not_ignored() {
        let ids = r#"{"kind":"ids","users":1,"posts":2}"#;
        assert!(serde_json::from_str::<Line>(ids).is_ok());
        let extra = r#"{"kind":"ids","users":1,"posts":2,"comments":0,"admins":3}"#;
        let err = serde_json::from_str::<Line>(extra).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}
