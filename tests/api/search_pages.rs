//! A search's pages over more posts than the first window PostgreSQL walks before it may turn to
//! the index (256): common, rare, old-only and new-and-old words, paged to the end, each give
//! exactly the matching posts, newest first, once each, on both databases.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backends, spawn_app, Backend, TestApp};

const POSTS: i64 = 700;

/// The words post `i` (1-based, in order of creation) holds.
fn words(i: i64) -> String {
    let mut w = vec!["alpha"];
    if i % 40 == 0 {
        w.push("beta");
    }
    if i <= 12 {
        w.push("gamma");
    }
    if i <= 5 || i > POSTS - 11 {
        w.push("deltas");
    }
    if i == 1 {
        w.push("epsilon");
    }
    w.join(" ")
}

/// Every page of `q`, `limit` at a time: the posts' numbers (their titles), in order.
async fn all_pages(app: &TestApp, q: &str, limit: u32) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("q", q.to_owned()), ("limit", limit.to_string())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let res = app
            .request(Method::GET, "/api/posts")
            .query(&query)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "q={q:?}");
        let page: Value = res.json().await.unwrap();
        let posts = page["posts"].as_array().unwrap();
        assert!(posts.len() <= limit as usize, "{page}");
        for p in posts {
            let n = p["title"].as_str().unwrap().trim_start_matches("post ");
            seen.push(n.parse().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return seen,
        }
        assert!(seen.len() <= POSTS as usize, "pages without end for {q:?}");
    }
}

backends!(search_pages_are_exact_however_rare_or_old_the_words);
async fn search_pages_are_exact_however_rare_or_old_the_words(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    for i in 1..=POSTS {
        let res = app
            .authed(Method::POST, "/api/posts", &alice.token)
            .json(&json!({"title": format!("post {i}"), "body": words(i)}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let expected = |word: &str| -> Vec<i64> {
        (1..=POSTS)
            .rev()
            .filter(|&i| words(i).split(' ').any(|w| w.starts_with(word)))
            .collect()
    };
    for (q, limit) in [
        ("alpha", 50),
        ("beta", 7),
        ("gamma", 5),
        ("delta", 4),
        ("epsilon", 20),
        ("alpha bet", 3),
        ("gamma alp", 20),
        ("zeta", 20),
    ] {
        let last = q.split(' ').next_back().unwrap();
        let mut want = expected(last);
        for earlier in q.split(' ').rev().skip(1) {
            want.retain(|&i| words(i).split(' ').any(|w| w == earlier));
        }
        assert_eq!(
            all_pages(&app, q, limit).await,
            want,
            "q={q:?} limit={limit}"
        );
    }
}
