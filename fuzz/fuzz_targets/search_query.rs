//! `?q=`, which comes straight from a URL: whatever is typed, the parser yields only words (or
//! refuses with a 400's message), each engine's query made from them is nothing but those words
//! in that engine's quoting, and SQLite's FTS5 runs it without an error (an error would be a 500).
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use postbase::domain::{fold, SearchQuery};
use postbase::store::posts::sql::Dialect;
use rusqlite::Connection;

thread_local! {
    /// An FTS5 table tokenized as `posts_search` is (migrations/sqlite/0004), with one row.
    static FTS: RefCell<Connection> = RefCell::new({
        let c = Connection::open_in_memory().expect("an in-memory database");
        c.execute_batch(
            "CREATE VIRTUAL TABLE s USING fts5(title, body,
                 tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3');
             INSERT INTO s (title, body) VALUES ('Crème brûlée', 'near and or not ünïcödé');",
        )
        .expect("the FTS5 table");
        c
    });
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(Some(query)) = SearchQuery::parse(&text) else {
        return;
    };
    let words = query.words();
    assert!(!words.is_empty() && words.len() <= SearchQuery::MAX_WORDS);
    assert!(text.chars().count() <= SearchQuery::MAX_CHARS);
    for w in words {
        assert!(!w.is_empty() && w.chars().all(char::is_alphanumeric), "{w:?}");
    }

    // SQLite: `"w1" "w2" … "wn"*`: quoted words only.
    let fts = Dialect::Sqlite.search_text(&query);
    let expected: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    assert_eq!(fts, format!("{}*", expected.join(" ")));
    // PostgreSQL: `w1 & w2 & … & wn:*`: bare words and our operators only.
    let ts = Dialect::Postgres.search_text(&query);
    assert_eq!(ts, format!("{}:*", words.join(" & ")));

    // And with the last word spelled out as dictionary words it begins (SQLite's type-ahead).
    let last = fold(words.last().expect("not empty"));
    let spelled = Dialect::fts5_with_endings(&query, &[last.clone(), format!("{last}x")]);

    FTS.with(|c| {
        let c = c.borrow();
        let mut stmt = c
            .prepare_cached("SELECT rowid FROM s WHERE s MATCH ?1 ORDER BY rowid DESC LIMIT 20")
            .expect("the statement");
        for q in [&fts, &spelled] {
            let rows: Result<Vec<i64>, _> = stmt
                .query_map([q], |r| r.get(0))
                .and_then(|rows| rows.collect());
            if let Err(e) = rows {
                panic!("FTS5 refused {q:?} (from {text:?}): {e}");
            }
        }
    });
});
