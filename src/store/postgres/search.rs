//! A search page on PostgreSQL, when the words are the only filter. GIN finds a word's posts but
//! not in order, so a page can be read two ways: walk the newest posts and test each (cheap for a
//! common word: twenty matches come within a few dozen rows), or read every match from the index
//! and keep the newest (cheap for a rare word: a thousand matches cost about what walking a
//! thousand rows does). PostgreSQL's planner chooses between them from the word's estimated
//! frequency and a per-row test it prices at almost nothing; measured over a million posts, it
//! walked 28,000 rows (83 ms) for a word in 0.1 % of them. So postbase decides itself, from what
//! it sees: it walks a first window of the newest posts, and from the share of them that matched
//! it estimates what finishing the walk would cost against what the index would.

use deadpool_postgres::Object;

use super::pg;
use super::posts::{list_params, post_row};
use crate::store::posts::sql::{self, Dialect};
use crate::store::{Post, PostFilter, StoreResult};

/// The first window walked, then four times the last, up to [`LAST_WINDOW`].
const FIRST_WINDOW: u32 = 256;
const LAST_WINDOW: u32 = 65_536;

/// Measured cost of testing one walked row against the words, and of reading one match by way of
/// the index (its heap row, unordered, then sorted), in the same unit (about a microsecond each
/// on the benchmark's machine, warm): walking is cheaper per row, the index per useful row.
const WALK_COST: f64 = 1.0;
const INDEX_COST: f64 = 2.5;

/// Whether [`page`] serves this list: the words alone, a keyset page.
pub(super) fn serves(filter: &PostFilter, offset: i64) -> bool {
    offset == 0
        && filter.search.is_some()
        && filter.author.is_none()
        && filter.tag.is_none()
        && filter.liked_by.is_none()
        && filter.feed_of.is_none()
}

/// The newest `limit` posts below `after` that match the filter's words.
pub(super) async fn page(
    c: &Object,
    filter: &PostFilter,
    viewer: Option<i64>,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<Post>> {
    let words = filter
        .search
        .as_ref()
        .map(|q| Dialect::Postgres.search_text(q));
    let mut found: Vec<Post> = Vec::new();
    let (mut floor, mut walked, mut window) = (after, 0_i64, FIRST_WINDOW);
    let mut total = None;
    let read = Read {
        c,
        filter,
        viewer,
        words: &words,
        limit,
    };
    loop {
        read.fetch(&sql::pg_search_walk(window), floor, &mut found)
            .await?;
        if found.len() as i64 >= limit {
            return Ok(found);
        }
        let stmt = c.prepare_cached(sql::PG_WINDOW).await?;
        let extent = c.query_one(&stmt, &[&floor, &i64::from(window)]).await?;
        let (rows, lowest): (i64, Option<i64>) = (extent.get(0), extent.get(1));
        match lowest {
            Some(lowest) if rows == i64::from(window) => floor = lowest,
            _ => return Ok(found), // the walk reached the oldest post
        }
        walked += rows;
        let posts = match total {
            Some(n) => n,
            None => *total.insert(post_total(c).await?),
        };
        if index_is_cheaper(found.len() as i64, walked, limit, posts) {
            read.fetch(&sql::pg_search_index(), floor, &mut found)
                .await?;
            return Ok(found);
        }
        window = (window * 4).min(LAST_WINDOW);
    }
}

/// What both ways of reading a search page share: the page's filter, viewer and words.
struct Read<'a> {
    c: &'a Object,
    filter: &'a PostFilter,
    viewer: Option<i64>,
    words: &'a Option<String>,
    limit: i64,
}

impl Read<'_> {
    /// Runs `statement` (a walk or the index) below `floor` for what the page still lacks.
    async fn fetch(&self, statement: &str, floor: i64, found: &mut Vec<Post>) -> StoreResult<()> {
        let need = self.limit - found.len() as i64;
        let stmt = self.c.prepare_cached(&pg(statement)).await?;
        let params = list_params(self.filter, self.viewer, floor, need, 0, self.words);
        for row in self.c.query(&stmt, &params.refs()).await? {
            found.push(post_row(&row)?);
        }
        Ok(())
    }
}

/// Having walked `walked` posts of `total` and found `matched` of the `limit` wanted: is reading
/// the rest from the index cheaper than walking on? At the share seen so far, finishing the walk
/// takes `(limit - matched) / share` rows, and the index holds `share × total` matches. No match
/// yet means a share under one in `walked`: the index, with at most `total / walked` of them.
fn index_is_cheaper(matched: i64, walked: i64, limit: i64, total: i64) -> bool {
    if matched == 0 {
        return true;
    }
    let share = matched as f64 / walked as f64;
    let walk = WALK_COST * (limit - matched) as f64 / share;
    let index = INDEX_COST * share * total as f64;
    index < walk
}

/// How many posts there are (the sharded counter the lists' counts read).
async fn post_total(c: &Object) -> StoreResult<i64> {
    let (text, _) = sql::count(&PostFilter::default(), Dialect::Postgres);
    let stmt = c.prepare_cached(&pg(&text)).await?;
    Ok(c.query_one(&stmt, &[]).await?.get(0))
}

#[cfg(test)]
mod tests {
    use super::index_is_cheaper;

    #[test]
    fn a_rare_word_goes_to_the_index_and_a_common_one_walks_on() {
        let million = 1_000_000;
        // Nothing in the first 256: the index.
        assert!(index_is_cheaper(0, 256, 21, million));
        // 1 in 256 (0.4 %): walking on costs ~5,000 rows, the index ~9,800 matches.
        assert!(!index_is_cheaper(1, 256, 21, million));
        // 1 in 1,280 (0.08 %): walking on ~25,600 rows, the index ~2,000 matches.
        assert!(index_is_cheaper(1, 1_280, 21, million));
        // 10 in 256 (4 %): walking on ~280 rows.
        assert!(!index_is_cheaper(10, 256, 21, million));
        // Over few posts the index is cheap whatever the share.
        assert!(index_is_cheaper(2, 256, 21, 2_000));
    }
}
