//! Full-text search (`GET /api/posts?q=`): all words, the last as a prefix, case and diacritics
//! folded, newest first, paged, combined with the other filters; the limits; and input meant as
//! query syntax, which only ever searches for its words. The two engines' known difference is
//! tested as such.

use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, spawn_app, Backend, TestApp};

fn titles(page: &Value) -> Vec<String> {
    page["posts"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn search(app: &TestApp, query: &str) -> Vec<String> {
    let res = app
        .request(Method::GET, "/api/posts")
        .query(&[("q", query)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "q={query:?}");
    titles(&res.json().await.unwrap())
}

async fn post(app: &TestApp, token: &str, title: &str, body: &str, tags: &[&str]) -> i64 {
    let res = app
        .authed(Method::POST, "/api/posts", token)
        .json(&json!({"title": title, "body": body, "tags": tags}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

backends!(search_matches_all_words_the_last_as_a_prefix_folding_case_and_accents);
async fn search_matches_all_words_the_last_as_a_prefix_folding_case_and_accents(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    post(
        &app,
        &alice.token,
        "Crème brûlée at the Café",
        "A French dessert.",
        &[],
    )
    .await;
    post(
        &app,
        &alice.token,
        "Rust ownership",
        "Borrowing, lifetimes and the café nearby.",
        &[],
    )
    .await;
    post(
        &app,
        &alice.token,
        "Programming notes",
        "rustic bread recipes",
        &[],
    )
    .await;
    post(
        &app,
        &alice.token,
        "ÜBER Straße",
        "Naïve ΕΛΛΗΝΙΚΆ and Привет мир",
        &[],
    )
    .await;
    // Every word must match, in the title or the body; newest first.
    assert_eq!(
        search(&app, "cafe").await,
        ["Rust ownership", "Crème brûlée at the Café"]
    );
    assert_eq!(
        search(&app, "CAFÉ dessert").await,
        ["Crème brûlée at the Café"]
    );
    assert_eq!(
        search(&app, "creme brulee").await,
        ["Crème brûlée at the Café"]
    );
    assert_eq!(search(&app, "cafe nothere").await, Vec::<String>::new());
    // The last word is a prefix (type-ahead); the others are whole words.
    assert_eq!(
        search(&app, "rust").await,
        ["Programming notes", "Rust ownership"]
    );
    assert_eq!(search(&app, "rust own").await, ["Rust ownership"]);
    assert_eq!(search(&app, "rus ownership").await, Vec::<String>::new());
    assert_eq!(search(&app, "uber naive").await, ["ÜBER Straße"]);
    assert_eq!(search(&app, "Привет").await, ["ÜBER Straße"]);
    // Punctuation is not part of a word, on either side.
    assert_eq!(
        search(&app, "borrowing,lifetimes!").await,
        ["Rust ownership"]
    );
    // No words at all is no search.
    assert_eq!(search(&app, " ,;! ").await.len(), 4);
}

backends!(search_pages_newest_first_and_combines_with_the_other_filters);
async fn search_pages_newest_first_and_combines_with_the_other_filters(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    for i in 0..5 {
        post(
            &app,
            &alice.token,
            &format!("alpha {i}"),
            "common words",
            &["odd"][..(i % 2)],
        )
        .await;
        post(&app, &bob.token, &format!("beta {i}"), "common words", &[]).await;
    }
    let first = app.get_json("/api/posts?q=common%20wor&limit=3").await;
    assert_eq!(titles(&first), ["beta 4", "alpha 4", "beta 3"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_json(&format!(
            "/api/posts?q=common%20wor&limit=3&cursor={cursor}"
        ))
        .await;
    assert_eq!(titles(&second), ["alpha 3", "beta 2", "alpha 2"]);
    // The Link carries the search on.
    let res = app.get("/api/posts?q=Common%20wor&limit=3").await;
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.contains("&q=Common+wor>"), "{link}");
    let by_alice = app
        .get_json(&format!("/api/posts?q=common&author={}", alice.id))
        .await;
    assert_eq!(titles(&by_alice).len(), 5);
    assert!(titles(&by_alice).iter().all(|t| t.starts_with("alpha")));
    let tagged = app.get_json("/api/posts?q=words&tag=odd").await;
    assert_eq!(titles(&tagged), ["alpha 3", "alpha 1"]);
    let res = app
        .authed(Method::PUT, "/api/posts/1/like", &bob.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let liked = app
        .get_json(&format!("/api/posts?q=alpha&liked_by={}", bob.id))
        .await;
    assert_eq!(titles(&liked), ["alpha 0"]);
    // An edit is searched by its new words only; a deleted post is not found.
    let res = app
        .authed(Method::PATCH, "/api/posts/1", &alice.token)
        .json(&json!({"body": "renamed entirely"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(search(&app, "entirely").await, ["alpha 0"]);
    assert!(!search(&app, "common").await.contains(&"alpha 0".to_owned()));
    let res = app
        .authed(Method::DELETE, "/api/posts/1", &alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(search(&app, "entirely").await, Vec::<String>::new());
}

backends!(a_search_too_long_or_of_too_many_words_is_400);
async fn a_search_too_long_or_of_too_many_words_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let get = |q: String| {
        app.request(Method::GET, "/api/posts")
            .query(&[("q", q)])
            .send()
    };
    let res = get("é".repeat(201)).await.unwrap();
    let body = assert_error(res, 400, "Invalid q: must be at most 200 characters").await;
    assert_eq!(body["fields"]["q"], "must be at most 200 characters");
    assert_eq!(get("é".repeat(200)).await.unwrap().status(), 200);
    let res = get("a b c d e f g h i j k".into()).await.unwrap();
    assert_error(res, 400, "Invalid q: must have at most 10 words").await;
    let res = get("a-b-c-d-e-f-g-h-i-j-k".into()).await.unwrap();
    assert_error(res, 400, "Invalid q: must have at most 10 words").await;
    assert_eq!(
        get("a b c d e f g h i j".into()).await.unwrap().status(),
        200
    );
}

backends!(query_syntax_is_only_ever_words);
/// Engine syntax typed by a user (FTS5's and tsquery's operators, quotes, NEAR, a `*` inside a
/// word, column filters, SQL) is never an error and never an operator: it finds exactly the
/// posts with those words.
async fn query_syntax_is_only_ever_words(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    post(
        &app,
        &alice.token,
        "near and or not",
        "title body a b c",
        &[],
    )
    .await;
    post(&app, &alice.token, "other", "nothing in common", &[]).await;
    for (q, hits) in [
        ("\"near\"", 1),
        ("NEAR(a b)", 1),
        ("near/2 a", 0),
        ("near/ a", 1),
        ("a OR nothing", 0),
        ("NOT other", 0),
        ("title:near", 1),
        ("body : a", 1),
        ("{title body}: a", 1),
        ("a*b", 1),
        ("*", 2),
        ("^near", 1),
        ("near:*", 1),
        ("a & !b", 1),
        ("a <-> b", 1),
        ("a | nothing", 0),
        ("x' OR '1'='1", 0),
        ("'; DROP TABLE posts; --", 0),
        ("\"unterminated", 0),
        ("(((", 2),
        ("\\", 2),
        ("\0near", 1),
    ] {
        let found = search(&app, q).await;
        assert_eq!(found.len(), hits, "q={q:?}: {found:?}");
    }
    assert_eq!(
        search(&app, "other").await,
        ["other"],
        "the table is still there"
    );
}

backends!(random_queries_never_fail);
/// A seeded fuzz of `q` over the whole API: random strings of operators, quotes, letters of many
/// scripts, combining marks and controls never get a 5xx.
async fn random_queries_never_fail(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    post(
        &app,
        &alice.token,
        "Ünïcödé ΕΛΛΗΝΙΚΆ 東京タワー",
        "x² ① ͅ a\u{301} NEAR",
        &[],
    )
    .await;
    const PIECES: &[&str] = &[
        "\"", "'", "*", "(", ")", "NEAR", "AND", "OR", "NOT", ":", "^", "-", "+", "&", "|", "!",
        "<->", "{", "}", " ", "a", "é", "Ω", "東", "ͅ", "\u{301}", "\u{200b}", "\u{feff}", "²", "①",
        "٣", "😀", "\\", "%", "_", "\u{1}", "\n", "\t", "title", "body", "x",
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    for _ in 0..300 {
        let q: String = (0..rng.gen_range(1..12))
            .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
            .collect();
        let res = app
            .request(Method::GET, "/api/posts")
            .query(&[("q", &q)])
            .send()
            .await
            .unwrap();
        assert!(
            res.status() == 200 || res.status() == 400,
            "q={q:?}: {}",
            res.status()
        );
    }
}

backends!(the_engines_differ_only_where_the_readme_says);
/// The engines agree on letters of every script, on case and on the diacritics of precomposed
/// Latin letters. They differ on text in decomposed form (a letter followed by a combining
/// accent, as macOS writes file names): SQLite drops the accent, PostgreSQL keeps it, so only
/// SQLite finds it by the unaccented word. (And PostgreSQL lower-cases letters beyond ASCII only
/// where the database's ctype knows them: C.UTF-8 and the like do, plain C does not.)
async fn the_engines_differ_only_where_the_readme_says(backend: Backend) {
    let on_sqlite = matches!(backend, Backend::Sqlite);
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    post(
        &app,
        &alice.token,
        "decomposed",
        "cafe\u{301} resume\u{301}",
        &[],
    )
    .await;
    post(&app, &alice.token, "precomposed", "café résumé", &[]).await;
    let found = search(&app, "cafe resume").await;
    if on_sqlite {
        assert_eq!(found, ["precomposed", "decomposed"]);
    } else {
        assert_eq!(found, ["precomposed"]);
    }
    // As a prefix (the last word) the unaccented word finds both on both engines.
    assert_eq!(search(&app, "Café").await.len(), 2);
}
