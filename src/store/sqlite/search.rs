//! Type-ahead on SQLite. FTS5 answers a prefix from an index only for the lengths it was built
//! with (`prefix = '1 2 3'`); a longer one, such as a whole common word typed last, it answers by
//! merging every matching word's list of posts in full before it returns the first row: 30 ms
//! for a word in a third of a million posts, however few are shown. So postbase keeps the
//! dictionary of the words indexed (`search_terms`, written in each post's transaction) and asks
//! FTS5 for the words such a prefix may end as, by name, `… AND ("vora" OR "voralu")`, which
//! FTS5 reads lazily, newest first, stopping at the page's end (0.15 ms for the same word).

use std::collections::HashSet;

use rusqlite::{params, Connection};

use crate::domain::{fold, terms, SearchQuery};
use crate::store::posts::sql::Dialect;

/// The migration that made `search_terms` (1-based, as `PRAGMA user_version` counts).
pub(super) const TERMS_MIGRATION: usize = 5;

/// The longest prefix FTS5 has an index for (`prefix = '1 2 3'` in migration 0004).
const INDEXED_PREFIX: usize = 3;

/// More endings than this, and the plain prefix is asked for: a long OR costs a seek per word.
const MAX_ENDINGS: usize = 128;

/// Records the words of a post's title and body that the dictionary lacks.
pub(super) fn add_terms(c: &Connection, title: &str, body: &str) -> rusqlite::Result<()> {
    let mut insert = c.prepare_cached("INSERT OR IGNORE INTO search_terms (term) VALUES (?1)")?;
    let mut seen = HashSet::new();
    for term in terms(title).chain(terms(body)) {
        if term.chars().count() > INDEXED_PREFIX && seen.insert(term.clone()) {
            insert.execute([&term])?;
        }
    }
    Ok(())
}

/// Fills the dictionary from every post (once, when its migration runs).
pub(super) fn backfill(c: &Connection) -> rusqlite::Result<()> {
    let mut posts = c.prepare("SELECT title, body FROM posts")?;
    let mut rows = posts.query([])?;
    while let Some(row) = rows.next()? {
        add_terms(c, &row.get::<_, String>(0)?, &row.get::<_, String>(1)?)?;
    }
    Ok(())
}

/// The FTS5 query for `q`: its last word spelled out as the indexed words it begins, when that
/// word is longer than the prefix indexes and begins a manageable number of them; otherwise
/// the plain prefix (which FTS5 serves from an index, or which matches nothing much).
pub(super) fn fts5_query(c: &Connection, q: &SearchQuery) -> rusqlite::Result<String> {
    let plain = Dialect::Sqlite.search_text(q);
    let last = q.words().last().map(|w| fold(w)).unwrap_or_default();
    // Only ASCII: what Rust and unicode61 fold alike, exactly.
    if last.chars().count() <= INDEXED_PREFIX || !last.is_ascii() {
        return Ok(plain);
    }
    let mut bound = last.clone().into_bytes();
    if let Some(b) = bound.last_mut() {
        *b += 1;
    }
    let bound = String::from_utf8(bound).unwrap_or_default();
    let endings: Vec<String> = c
        .prepare_cached(
            "SELECT term FROM search_terms WHERE term >= ?1 AND term < ?2 ORDER BY term LIMIT ?3",
        )?
        .query_map(params![last, bound, MAX_ENDINGS + 1], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if endings.is_empty() || endings.len() > MAX_ENDINGS {
        return Ok(plain);
    }
    Ok(Dialect::fts5_with_endings(q, &endings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{NewPost, NewUser, PostStore, SqliteSynchronous, UserStore};

    async fn store_with(titles: &[&str]) -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("s.db"), SqliteSynchronous::Normal).unwrap();
        let user = NewUser {
            username: "alice".into(),
            email: None,
            password_hash: "x".into(),
            admin: false,
        };
        let author_id = store.create_user(user, Timestamp::now()).await.unwrap().id;
        for title in titles {
            let new = NewPost {
                author_id,
                title: (*title).into(),
                body: "body".into(),
                summary: String::new(),
                tags: Vec::new(),
            };
            store.create_post(new, Timestamp::now()).await.unwrap();
        }
        (dir, store)
    }

    async fn query(store: &SqliteStore, q: &str) -> (String, Vec<i64>) {
        let q = SearchQuery::parse(q).unwrap().unwrap();
        store
            .read(move |c| {
                let text = fts5_query(c, &q)?;
                let ids = c
                    .prepare("SELECT rowid FROM posts_search WHERE posts_search MATCH ?1 ORDER BY rowid DESC")?
                    .query_map([&text], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                Ok((text, ids))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_long_last_word_is_spelled_out_as_the_words_it_begins_and_finds_the_same() {
        let (_dir, store) = store_with(&["Vorabe kit", "vora", "VORALU x", "Vórtex", "voz"]).await;
        let (text, ids) = query(&store, "vora").await;
        assert_eq!(text, r#"("vora" OR "vorabe" OR "voralu")"#);
        assert_eq!(ids, [3, 2, 1]);
        let (text, ids) = query(&store, "kit Vóra").await;
        assert_eq!(text, r#""kit" AND ("vora" OR "vorabe" OR "voralu")"#);
        assert_eq!(ids, [1]);
        // Short prefixes have FTS5's own index; unknown words and non-ASCII stay plain.
        assert_eq!(
            query(&store, "vor").await,
            (r#""vor"*"#.into(), vec![4, 3, 2, 1])
        );
        assert_eq!(
            query(&store, "vortexes").await,
            (r#""vortexes"*"#.into(), vec![])
        );
        assert_eq!(query(&store, "vortё").await.0, r#""vortё"*"#);
    }

    #[tokio::test]
    async fn the_migration_fills_the_dictionary_from_the_posts_already_there() {
        let (_dir, store) = store_with(&["Crème brûlée"]).await;
        let terms: Vec<String> = store
            .writer
            .run(|c| {
                c.execute("DELETE FROM search_terms", [])?;
                backfill(c)?;
                c.prepare("SELECT term FROM search_terms ORDER BY term")?
                    .query_map([], |r| r.get(0))?
                    .collect()
            })
            .await
            .unwrap();
        assert_eq!(terms, ["body", "brulee", "creme"]);
    }
}
