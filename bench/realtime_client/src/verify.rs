//! Every stream must have received exactly the posts its filter asked for: each written post
//! once (no gap, no duplicate), nothing else, in increasing event ids.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::subscriber::{Filter, Stream};

/// Examples of failures kept for the report.
const EXAMPLES: usize = 10;

/// Ids in `want` missing from `got`, and ids in `got` not in `want` (both sorted, no repeats).
fn differences(want: &[i64], got: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let (mut missing, mut extra) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < want.len() || j < got.len() {
        match (want.get(i), got.get(j)) {
            (Some(w), Some(g)) if w == g => {
                i += 1;
                j += 1;
            }
            (Some(w), Some(g)) if w > g => {
                extra.push(*g);
                j += 1;
            }
            (Some(w), _) => {
                missing.push(*w);
                i += 1;
            }
            (None, Some(g)) => {
                extra.push(*g);
                j += 1;
            }
            (None, None) => unreachable!(),
        }
    }
    (missing, extra)
}

/// `posts` are the (id, author) of every post answered 201. Returns whether all is well, and
/// the counts.
pub fn verify(streams: &[Stream], posts: &[(i64, i64)], write_errors: u64) -> (bool, Value) {
    let mut all: Vec<i64> = posts.iter().map(|p| p.0).collect();
    all.sort_unstable();
    let mut by_author: HashMap<i64, Vec<i64>> = HashMap::new();
    for &(id, author) in posts {
        by_author.entry(author).or_default().push(id);
    }
    by_author.values_mut().for_each(|v| v.sort_unstable());
    let none = Vec::new();
    let (mut not_opened, mut ended_early, mut bad) = (0u64, 0u64, 0u64);
    let (mut missing, mut duplicate, mut out_of_order, mut unexpected) = (0, 0, 0, 0);
    let mut examples = Vec::new();
    for (i, st) in streams.iter().enumerate() {
        let mut note = |s: String| {
            if examples.len() < EXAMPLES {
                examples.push(format!("stream {i} ({:?}): {s}", st.filter));
            }
        };
        if !st.opened {
            not_opened += 1;
            note(format!(
                "not opened: {}",
                st.error.as_deref().unwrap_or("?")
            ));
            continue;
        }
        let ooo = st.events.windows(2).filter(|w| w[1].id <= w[0].id).count();
        let mut got: Vec<i64> = st.events.iter().map(|e| e.post).collect();
        got.sort_unstable();
        let n = got.len();
        got.dedup();
        let dup = n - got.len();
        let want = match st.filter {
            Filter::All => &all,
            Filter::Author(a) => by_author.get(&a).unwrap_or(&none),
        };
        let (miss, extra) = differences(want, &got);
        let odd = st.unexpected + extra.len() as u64;
        if st.ended_early {
            ended_early += 1;
            note(format!(
                "ended early: {}",
                st.error.as_deref().unwrap_or("?")
            ));
        }
        if ooo + dup + miss.len() > 0 || odd > 0 {
            let first = |v: &[i64]| v.iter().take(5).copied().collect::<Vec<_>>();
            note(format!(
                "{} missing (first {:?}), {dup} duplicate, {ooo} out of order, {odd} unexpected \
                 (posts not written here, first {:?}; other messages {:?})",
                miss.len(),
                first(&miss),
                first(&extra),
                st.unexpected_examples
            ));
        }
        if st.ended_early || ooo + dup + miss.len() > 0 || odd > 0 {
            bad += 1;
        }
        missing += miss.len() as u64;
        duplicate += dup as u64;
        out_of_order += ooo as u64;
        unexpected += odd;
    }
    let ok = bad == 0 && not_opened == 0 && write_errors == 0 && !streams.is_empty();
    let checked = streams.len() as u64 - not_opened;
    (
        ok,
        json!({
            "ok": ok,
            "streams": streams.len(),
            "streams_ok": checked - bad,
            "not_opened": not_opened,
            "ended_early": ended_early,
            "missing": missing,
            "duplicate": duplicate,
            "out_of_order": out_of_order,
            "unexpected": unexpected,
            "write_errors": write_errors,
            "examples": examples,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::differences;

    #[test]
    fn differences_are_both_ways() {
        assert_eq!(
            differences(&[1, 2, 4, 6], &[2, 3, 4]),
            (vec![1, 6], vec![3])
        );
        assert_eq!(differences(&[], &[5]), (vec![], vec![5]));
        assert_eq!(differences(&[1, 2], &[1, 2]), (vec![], vec![]));
    }
}
