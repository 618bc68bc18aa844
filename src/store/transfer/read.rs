//! Reading a dump: line by line, each record checked before it goes to the store, the trailer
//! checked against what came before it, and the commit asked for only at the very end.

use std::io::{BufRead, Read};

use anyhow::Context;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc::Sender;

use super::check::Checker;
use super::{
    hex, Counts, Header, ImportStep, Imported, Line, Record, Trailer, BATCH, FORMAT, VERSION,
};
use crate::domain::Timestamp;

/// The longest line read: a post at its limits (200 characters of title, 64 KiB of body, every
/// byte escaped as `\u0000`) is under 400 KiB. A longer line is refused before it fills memory.
const MAX_LINE: usize = 1 << 20;

/// The input, a numbered line at a time.
struct Lines<'a, R> {
    input: R,
    number: u64,
    progress: &'a indicatif::ProgressBar,
}

impl<R: BufRead> Lines<'_, R> {
    /// The next line (with its newline) into `buf`, and its number; `None` at the end.
    fn next(&mut self, buf: &mut Vec<u8>) -> anyhow::Result<Option<u64>> {
        buf.clear();
        let number = self.number + 1;
        let read = (&mut self.input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', buf)
            .with_context(|| format!("reading line {number}"))?;
        if read == 0 {
            return Ok(None);
        }
        self.number = number;
        self.progress.inc(read as u64);
        anyhow::ensure!(
            buf.len() <= MAX_LINE,
            "line {number}: longer than {MAX_LINE} bytes, more than any record can be"
        );
        Ok(Some(number))
    }
}

fn kind(line: &Line) -> &'static str {
    match line {
        Line::User(_) => "user",
        Line::Token(_) => "token",
        Line::Post(_) => "post",
        Line::Comment(_) => "comment",
        Line::Like(_) => "like",
        Line::Follow(_) => "follow",
        Line::Ids(_) => "ids record",
        Line::End(_) => "trailer",
    }
}

fn send(steps: &Sender<ImportStep>, step: ImportStep) -> anyhow::Result<()> {
    // The store only stops listening when it has failed; its error is the one reported.
    steps
        .blocking_send(step)
        .map_err(|_| anyhow::anyhow!("the database stopped taking rows"))
}

/// Reads, checks and hands over a whole dump; the store commits only on the final
/// [`ImportStep::Commit`], sent once everything has been read and found sound.
pub(super) fn read(
    input: impl BufRead,
    steps: &Sender<ImportStep>,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Imported> {
    let mut lines = Lines {
        input,
        number: 0,
        progress,
    };
    let mut buf = Vec::new();
    let mut sha = Sha256::new();
    if lines.next(&mut buf)?.is_none() {
        anyhow::bail!("the input is empty: not a postbase export");
    }
    sha.update(&buf);
    let header: Header = serde_json::from_slice(&buf).context("line 1: not a postbase export")?;
    anyhow::ensure!(
        header.format == FORMAT && (1..=VERSION).contains(&header.version),
        "line 1: expected a {FORMAT} version 1 to {VERSION}, found {} version {}",
        header.format,
        header.version
    );
    let version = header.version;
    let mut check = Checker::new(Timestamp::now());
    let mut imported = Imported {
        verified: version >= 2,
        ..Imported::default()
    };
    let mut batch = Vec::with_capacity(BATCH as usize);
    let mut ids = None;
    let mut ended = false;
    while let Some(n) = lines.next(&mut buf)? {
        anyhow::ensure!(!ended, "line {n}: nothing may follow the trailer");
        if buf.trim_ascii().is_empty() {
            sha.update(&buf);
            continue;
        }
        let line: Line = serde_json::from_slice(&buf)
            .with_context(|| format!("line {n}: not a valid record"))?;
        if ids.is_some() && !matches!(line, Line::End(_)) {
            anyhow::bail!(
                "line {n}: a {} after the ids record, which comes last",
                kind(&line)
            );
        }
        let at = |problem: String| anyhow::anyhow!("line {n}: {problem}");
        match line {
            Line::User(user) => {
                check.user(n, &user).map_err(at)?;
                imported.counts.users += 1;
                imported.admins += u64::from(user.admin);
                batch.push(Record::User(user));
            }
            Line::Token(token) => {
                check.token(n, &token).map_err(at)?;
                imported.counts.tokens += 1;
                batch.push(Record::Token(token));
            }
            Line::Post(post) => {
                check.post(n, &post).map_err(at)?;
                imported.counts.posts += 1;
                batch.push(Record::Post(post));
            }
            Line::Comment(comment) => {
                check.comment(n, &comment).map_err(at)?;
                imported.counts.comments += 1;
                batch.push(Record::Comment(comment));
            }
            Line::Like(like) => {
                check.like(&like).map_err(at)?;
                imported.counts.likes += 1;
                batch.push(Record::Like(like));
            }
            Line::Follow(follow) => {
                check.follow(n, &follow).map_err(at)?;
                imported.counts.follows += 1;
                batch.push(Record::Follow(follow));
            }
            Line::Ids(seen) => {
                check.ids(&seen).map_err(at)?;
                ids = Some(seen);
            }
            Line::End(trailer) => {
                anyhow::ensure!(
                    version >= 2,
                    "line {n}: a trailer in a version 1 dump, which has none"
                );
                anyhow::ensure!(
                    ids.is_some(),
                    "line {n}: the trailer comes before the ids record: the dump is incomplete"
                );
                verify(&trailer, imported.counts, &sha).map_err(at)?;
                ended = true;
                continue;
            }
        }
        sha.update(&buf);
        if batch.len() >= BATCH as usize {
            send(steps, ImportStep::Rows(std::mem::take(&mut batch)))?;
        }
    }
    let last = lines.number;
    anyhow::ensure!(
        ended || version < 2,
        "the dump is incomplete: no trailer (it ends at line {last})"
    );
    let Some(ids) = ids else {
        anyhow::bail!("the dump is incomplete: no ids record (it ends at line {last})");
    };
    if !batch.is_empty() {
        send(steps, ImportStep::Rows(batch))?;
    }
    send(steps, ImportStep::Commit(ids))?;
    Ok(imported)
}

/// Does the trailer describe exactly what came before it?
fn verify(trailer: &Trailer, counts: Counts, sha: &Sha256) -> Result<(), String> {
    let said = Counts {
        users: trailer.users,
        tokens: trailer.tokens,
        posts: trailer.posts,
        comments: trailer.comments,
        likes: trailer.likes,
        follows: trailer.follows,
    };
    if said != counts {
        return Err(format!(
            "the trailer counts {said}, the dump holds {counts}: it is incomplete or altered"
        ));
    }
    if hex(&sha.clone().finalize()) != trailer.sha256 {
        return Err("checksum mismatch: the dump is incomplete or altered".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                        Kx9d1wZeTUdbeN8w9t2z1DY2nCHPl0t16K1+e9R3hoE";

    /// Reads `dump`; the error, or whether the store was asked to commit.
    fn read_all(dump: &[u8]) -> Result<bool, String> {
        let (steps, mut received) = mpsc::channel(16);
        let read = read(dump, &steps, &indicatif::ProgressBar::hidden());
        drop(steps);
        let mut committed = false;
        while let Ok(step) = received.try_recv() {
            committed = matches!(step, ImportStep::Commit(_));
        }
        match read {
            Ok(_) => Ok(committed),
            Err(e) => {
                assert!(!committed, "a failed read asked for a commit: {e:#}");
                Err(format!("{e:#}"))
            }
        }
    }

    #[test]
    fn a_dump_cut_anywhere_never_reaches_the_commit() {
        let user = format!(
            r#"{{"kind":"user","id":1,"username":"alice","email":null,"password_hash":"{HASH}","admin":true,"version":1,"created_at":1,"updated_at":2}}"#
        );
        let post = r#"{"kind":"post","id":1,"author_id":1,"title":"t","body":"","version":1,"created_at":1,"updated_at":1}"#;
        let ids = r#"{"kind":"ids","users":1,"posts":1}"#;
        let body = format!("{{\"format\":\"{FORMAT}\",\"version\":2}}\n{user}\n{post}\n{ids}\n");
        let sha = hex(&Sha256::digest(body.as_bytes()));
        let dump = format!(
            "{body}{{\"kind\":\"end\",\"users\":1,\"tokens\":0,\"posts\":1,\"sha256\":\"{sha}\"}}\n"
        );
        assert_eq!(read_all(dump.as_bytes()), Ok(true));
        for cut in 0..dump.len() - 1 {
            let read = read_all(&dump.as_bytes()[..cut]);
            assert!(
                read.is_err(),
                "cut at byte {cut} of {}: {read:?}",
                dump.len()
            );
        }
        // As version 1 (no trailer), only a dump that keeps its final ids record is whole.
        let v1 = body.replacen("\"version\":2", "\"version\":1", 1);
        assert_eq!(read_all(v1.as_bytes()), Ok(true));
        let without_ids = &v1[..v1.len() - ids.len() - 1];
        assert!(read_all(without_ids.as_bytes())
            .unwrap_err()
            .contains("no ids record"));
    }
}
