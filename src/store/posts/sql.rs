//! The statements both backends run (see `users::sql`). In every statement that reads posts,
//! `?1` is the viewer (NULL for nobody), whose like decides `liked`.

use super::PostFilter;
use crate::domain::SearchQuery;

/// `liked` is NULL without a viewer.
macro_rules! columns {
    () => {
        "p.id, p.title, p.body, p.author_id, p.tags, p.like_count, p.comment_count,
         CASE WHEN CAST(?1 AS BIGINT) IS NULL THEN NULL
              ELSE EXISTS (SELECT 1 FROM likes v WHERE v.user_id = ?1 AND v.post_id = p.id) END,
         p.created_at, p.updated_at, p.version, p.summary"
    };
}

pub const INSERT: &str =
    "INSERT INTO posts (author_id, title, body, tags, created_at, updated_at, summary)
     VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) RETURNING id, version";
pub const BY_ID: &str = concat!("SELECT ", columns!(), " FROM posts p WHERE p.id = ?2");
pub const EXISTS: &str = "SELECT 1 FROM posts WHERE id = ?1";
pub const UPDATE: &str = "UPDATE posts SET title = coalesce(?2, title),
         body = coalesce(?3, body), tags = coalesce(?4, tags),
         summary = coalesce(?7, summary), version = version + 1, updated_at = ?5
     WHERE id = ?1 AND (CAST(?6 AS BIGINT) IS NULL OR version = ?6) RETURNING id";
pub const DELETE: &str =
    "DELETE FROM posts WHERE id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR version = ?2)
     RETURNING author_id";
pub const UNTAG: &str = "DELETE FROM post_tags WHERE post_id = ?1";
pub const TAG: &str = "INSERT INTO post_tags (tag, post_id) VALUES (?1, ?2)";

/// The one place the two databases differ in a list: their full-text engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// FTS5: the `posts_search` table, `MATCH`.
    Sqlite,
    /// `tsvector`: the `posts.search` column, `@@`.
    Postgres,
}

impl Dialect {
    /// The search `?8` as this engine's query: every word quoted or bare, all required, the
    /// last one a prefix. Words are letters and digits only (see [`SearchQuery`]), so the
    /// quoting is belt and braces: nothing typed reaches the engine as an operator.
    pub fn search_text(self, q: &SearchQuery) -> String {
        let words = q.words();
        let last = words.len() - 1;
        let terms = words.iter().enumerate().map(|(i, w)| match self {
            Self::Sqlite => {
                let quoted = format!("\"{}\"", w.replace('"', "\"\""));
                if i == last {
                    quoted + "*"
                } else {
                    quoted
                }
            }
            Self::Postgres => {
                let bare: String = w.chars().filter(|c| c.is_alphanumeric()).collect();
                if i == last {
                    bare + ":*"
                } else {
                    bare
                }
            }
        });
        let sep = match self {
            Self::Sqlite => " ",
            Self::Postgres => " & ",
        };
        terms.collect::<Vec<_>>().join(sep)
    }

    /// SQLite's query for `q` with its last word spelled out as the indexed words it may
    /// begin (`endings`, not empty): `"w1" AND … AND ("e1" OR "e2" …)`. FTS5 reads each
    /// named word's posts lazily, newest first, where a prefix longer than its prefix
    /// indexes would make it merge every matching word's posts in full first (see
    /// `sqlite/search.rs`).
    pub fn fts5_with_endings(q: &SearchQuery, endings: &[String]) -> String {
        let quote = |w: &String| format!("\"{}\"", w.replace('"', "\"\""));
        let words = q.words();
        let any: Vec<String> = endings.iter().map(quote).collect();
        let mut all: Vec<String> = words[..words.len() - 1].iter().map(quote).collect();
        all.push(format!("({})", any.join(" OR ")));
        all.join(" AND ")
    }

    /// The search as the driving scan (`from`, `key`), and as a check of one post `p`.
    fn search(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Sqlite => (
                "posts_search s JOIN posts p ON p.id = s.rowid",
                "s.posts_search MATCH ?8 AND s.rowid",
                "EXISTS (SELECT 1 FROM posts_search WHERE posts_search MATCH ?8 AND rowid = p.id)",
            ),
            Self::Postgres => (
                "posts p",
                "p.search @@ to_tsquery('simple', postbase_fold(?8)) AND p.id",
                "p.search @@ to_tsquery('simple', postbase_fold(?8))",
            ),
        }
    }
}

/// A page of posts: `?1` viewer, `?2` the id to start below, `?3` tag, `?4` author, `?5`
/// liker, `?6` limit, `?7` whose feed, `?8` the search ([`Dialect::search_text`]). The scan
/// is driven by the index of the most selective filter given (a feed, a tag's posts, a
/// liker's likes, an author's posts, the words' matches, or all posts), newest first, and
/// the other filters are checked per row; so a single filter is one range scan of its index
/// whatever the table's size. There are six such statements per database; each is prepared
/// once per connection.
pub fn list(filter: &PostFilter, dialect: Dialect) -> String {
    let (search_from, search_key, search_check) = dialect.search();
    let (from, key) = if filter.feed_of.is_some() {
        (
            "feed d JOIN posts p ON p.id = d.post_id",
            "d.user_id = ?7 AND d.post_id",
        )
    } else if filter.tag.is_some() {
        (
            "post_tags d JOIN posts p ON p.id = d.post_id",
            "d.tag = ?3 AND d.post_id",
        )
    } else if filter.liked_by.is_some() {
        (
            "likes d JOIN posts p ON p.id = d.post_id",
            "d.user_id = ?5 AND d.post_id",
        )
    } else if filter.author.is_some() {
        ("posts p", "p.author_id = ?4 AND p.id")
    } else if filter.search.is_some() {
        (search_from, search_key)
    } else {
        ("posts p", "p.id")
    };
    // When the words drive the scan, their match is its key: not checked a second time. The
    // other driving filters are checked again on purpose: without the feed's own check,
    // PostgreSQL's generic plan for a deep page of a long feed (a reader of 1,000 people, 90 %
    // down) took seconds, where it takes milliseconds with it.
    let search = if key == search_key {
        "CAST(?8 AS TEXT) IS NOT NULL".to_owned()
    } else {
        format!("CAST(?8 AS TEXT) IS NULL OR {search_check}")
    };
    let order = key.rsplit(" AND ").next().unwrap_or(key);
    page(from, key, order, &search)
}

/// PostgreSQL's search as a walk down the newest `window` posts below `?2`, each tested
/// against the words (see `postgres/search.rs`). The query is made once per statement (an
/// InitPlan), so the statement can be prepared once and still test each row cheaply.
pub fn pg_search_walk(window: u32) -> String {
    let from = format!("(SELECT * FROM posts WHERE id < ?2 ORDER BY id DESC LIMIT {window}) p");
    page(&from, "p.id", "p.id", PG_MATCHES)
}

/// PostgreSQL's search read from the GIN index: every match below `?2`, then the newest of
/// them. `p.id + 0` keeps the planner off the primary key, which it would otherwise walk
/// (when it orders by it) or intersect with the index (when it bounds by it).
pub fn pg_search_index() -> String {
    page("posts p", "p.id + 0", "p.id + 0", PG_MATCHES)
}

/// The rows of posts the window below `?1` holds, at most `?2`, and the lowest of their ids.
pub const PG_WINDOW: &str = "SELECT count(*), min(id) FROM
    (SELECT id FROM posts WHERE id < $1 ORDER BY id DESC LIMIT $2) w";

/// A plain condition (not under an `OR`), so that the GIN index can serve it.
const PG_MATCHES: &str = "p.search @@ (SELECT to_tsquery('simple', postbase_fold(?8)))";

/// A page driven by `key` (`… AND column`, the column compared with `?2`), ordered by `order`,
/// every other filter checked per row (`search`: the words' check).
fn page(from: &str, key: &str, order: &str, search: &str) -> String {
    format!(
        "SELECT {} FROM {from} WHERE {key} < ?2
           AND (CAST(?3 AS TEXT) IS NULL
                OR EXISTS (SELECT 1 FROM post_tags t WHERE t.tag = ?3 AND t.post_id = p.id))
           AND (CAST(?4 AS BIGINT) IS NULL OR p.author_id = ?4)
           AND (CAST(?5 AS BIGINT) IS NULL
                OR EXISTS (SELECT 1 FROM likes k WHERE k.user_id = ?5 AND k.post_id = p.id))
           AND (CAST(?7 AS BIGINT) IS NULL
                OR EXISTS (SELECT 1 FROM feed e WHERE e.user_id = ?7 AND e.post_id = p.id))
           AND ({search})
         ORDER BY {order} DESC LIMIT ?6 OFFSET ?9",
        columns!()
    )
}

/// Which value [`count`]'s statement takes as `?1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountBy {
    Nothing,
    Author,
    Tag,
    Liker,
    Feed,
    /// The list's own nine parameters: the rows are counted.
    List,
}

/// The statement that counts what `filter` selects (see `PostStore::count_posts`).
pub fn count(filter: &PostFilter, dialect: Dialect) -> (String, CountBy) {
    let given = [
        filter.author.is_some(),
        filter.tag.is_some(),
        filter.liked_by.is_some(),
        filter.feed_of.is_some(),
        filter.search.is_some(),
    ];
    let statement = match given {
        [false, false, false, false, false] => (
            "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM post_totals",
            CountBy::Nothing,
        ),
        [true, false, false, false, false] => (
            "SELECT coalesce((SELECT post_count FROM users WHERE id = ?1), 0)",
            CountBy::Author,
        ),
        [false, true, false, false, false] => (
            "SELECT coalesce((SELECT count FROM tag_counts WHERE name = ?1), 0)",
            CountBy::Tag,
        ),
        [false, false, true, false, false] => (
            "SELECT coalesce((SELECT liked_count FROM users WHERE id = ?1), 0)",
            CountBy::Liker,
        ),
        // The feed holds the posts of the people followed: the sum of their post counts.
        [false, false, false, true, false] => (
            "SELECT CAST(coalesce(sum(u.post_count), 0) AS BIGINT) FROM follows f
             JOIN users u ON u.id = f.followee_id WHERE f.follower_id = ?1",
            CountBy::Feed,
        ),
        _ => {
            let list = list(filter, dialect);
            return (format!("SELECT count(*) FROM ({list}) c"), CountBy::List);
        }
    };
    (statement.0.to_owned(), statement.1)
}
