//! Likes and tags: idempotent likes with counts and `liked`, ETags and `Vary` that follow what a
//! viewer sees, tags on posts, and the filters that combine.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, spawn_app, Backend, TestApp};

async fn like(app: &TestApp, method: Method, token: &str, post: i64) -> Value {
    let res = app
        .authed(method, &format!("/api/posts/{post}/like"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["vary"], "Authorization");
    res.json().await.unwrap()
}

async fn post_with_tags(app: &TestApp, token: &str, title: &str, tags: Value) -> Value {
    let res = app
        .authed(Method::POST, "/api/posts", token)
        .json(&json!({"title": title, "tags": tags}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

fn titles(page: &Value) -> Vec<String> {
    page["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .collect()
}

backends!(likes_are_idempotent_and_counted_and_liked_shows_for_the_viewer);
async fn likes_are_idempotent_and_counted_and_liked_shows_for_the_viewer(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app.create_post(&alice.token, "t", "").await;
    let id = post["id"].as_i64().unwrap();
    assert_eq!(post["like_count"], 0);
    assert!(post.get("liked").is_none(), "{post}");
    for _ in 0..2 {
        let liked = like(&app, Method::PUT, &bob.token, id).await;
        assert_eq!(
            (liked["like_count"].clone(), liked["liked"].clone()),
            (json!(1), json!(true))
        );
    }
    let liked = like(&app, Method::PUT, &alice.token, id).await;
    assert_eq!(liked["like_count"], 2);
    // Anonymous: the count, no `liked`; with a token, that viewer's own.
    let res = app.get(&format!("/api/posts/{id}")).await;
    assert_eq!(res.headers()["vary"], "Authorization");
    let anonymous_tag = res.headers()["etag"].to_str().unwrap().to_owned();
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen["like_count"], 2);
    assert!(seen.get("liked").is_none());
    let carol = app.user("carol").await;
    let res = app
        .authed(Method::GET, &format!("/api/posts/{id}"), &carol.token)
        .send()
        .await
        .unwrap();
    let carol_tag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(res.json::<Value>().await.unwrap()["liked"], false);
    assert_ne!(carol_tag, anonymous_tag);
    // A like changes the ETag: a 304 never hides the new count.
    let unliked = like(&app, Method::DELETE, &bob.token, id).await;
    assert_eq!(
        (unliked["like_count"].clone(), unliked["liked"].clone()),
        (json!(1), json!(false))
    );
    let again = like(&app, Method::DELETE, &bob.token, id).await;
    assert_eq!(again["like_count"], 1);
    let res = app
        .request(Method::GET, &format!("/api/posts/{id}"))
        .header("if-none-match", &anonymous_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the count changed since that ETag");
    // If-Match compares the version only: a like meanwhile does not fail an edit.
    let res = app
        .authed(Method::PATCH, &format!("/api/posts/{id}"), &alice.token)
        .header("if-match", &anonymous_tag)
        .json(&json!({"title": "edited"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Unknown posts and missing tokens.
    let res = app
        .authed(Method::PUT, "/api/posts/999/like", &bob.token)
        .send()
        .await
        .unwrap();
    assert_error(res, 404, "Post not found").await;
    let res = app
        .request(Method::PUT, &format!("/api/posts/{id}/like"))
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "Invalid token").await;
}

backends!(liked_by_lists_a_users_likes_newest_post_first_and_follows_deletes);
async fn liked_by_lists_a_users_likes_newest_post_first_and_follows_deletes(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(
            app.create_post(&alice.token, &format!("p{i}"), "").await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    for id in [ids[0], ids[2], ids[3]] {
        like(&app, Method::PUT, &bob.token, id).await;
    }
    let page: Value = app
        .get_json(&format!("/api/posts?liked_by={}&limit=2", bob.id))
        .await;
    assert_eq!(titles(&page), ["p3", "p2"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get_json(&format!(
            "/api/posts?liked_by={}&limit=2&cursor={cursor}",
            bob.id
        ))
        .await;
    assert_eq!(titles(&rest), ["p0"]);
    assert_error(
        app.get("/api/posts?liked_by=abc").await,
        400,
        "Invalid liked_by: must be a user id",
    )
    .await;
    // Bob's account goes: his likes go, and the counts follow.
    let res = app
        .authed(
            Method::DELETE,
            &format!("/api/users/{}", bob.id),
            &bob.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let post: Value = app.get_json(&format!("/api/posts/{}", ids[2])).await;
    assert_eq!(post["like_count"], 0);
}

backends!(tags_are_lower_cased_deduplicated_filtered_and_counted);
async fn tags_are_lower_cased_deduplicated_filtered_and_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let first = post_with_tags(&app, &alice.token, "first", json!(["Rust", "web", "RUST"])).await;
    assert_eq!(first["tags"], json!(["rust", "web"]));
    post_with_tags(&app, &bob.token, "second", json!(["rust"])).await;
    post_with_tags(&app, &alice.token, "third", json!([])).await;
    let page: Value = app.get_json("/api/posts?tag=RUST").await;
    assert_eq!(titles(&page), ["second", "first"]);
    let page: Value = app
        .get_json(&format!("/api/posts?tag=rust&author={}", alice.id))
        .await;
    assert_eq!(titles(&page), ["first"]);
    let tags: Value = app.get_json("/api/tags").await;
    assert_eq!(
        tags,
        json!([{"name": "rust", "count": 2}, {"name": "web", "count": 1}])
    );
    // PATCH without tags keeps them, with tags replaces them; PUT without tags clears them.
    let path = format!("/api/posts/{}", first["id"]);
    let res = app
        .authed(Method::PATCH, &path, &alice.token)
        .json(&json!({"title": "first!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap()["tags"],
        json!(["rust", "web"])
    );
    let res = app
        .authed(Method::PATCH, &path, &alice.token)
        .json(&json!({"tags": ["go"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["tags"], json!(["go"]));
    let tags: Value = app.get_json("/api/tags").await;
    assert_eq!(
        tags,
        json!([{"name": "go", "count": 1}, {"name": "rust", "count": 1}])
    );
    let res = app
        .authed(Method::PUT, &path, &alice.token)
        .json(&json!({"title": "first"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["tags"], json!([]));
    let tags: Value = app.get_json("/api/tags").await;
    assert_eq!(tags, json!([{"name": "rust", "count": 1}]));
    // Bad tags and bad filters are 400 with the field named.
    for (tags, problem) in [
        (
            json!(["has space"]),
            "each tag must be 1-32 letters, digits, '-' or '_'",
        ),
        (
            json!([""]),
            "each tag must be 1-32 letters, digits, '-' or '_'",
        ),
        (json!(vec!["x"; 11]), "must be at most 10 tags"),
        (json!("rust"), "must be an array"),
        (json!([1]), "must be a string"),
    ] {
        let res = app
            .authed(Method::POST, "/api/posts", &alice.token)
            .json(&json!({"title": "t", "tags": tags}))
            .send()
            .await
            .unwrap();
        let err = assert_error(res, 400, &format!("Invalid tags: {problem}")).await;
        assert_eq!(err["fields"]["tags"], problem);
    }
    let err = assert_error(
        app.get("/api/posts?tag=a%20b").await,
        400,
        "Invalid tag: each tag must be 1-32 letters, digits, '-' or '_'",
    )
    .await;
    assert_eq!(err["code"], "validation_failed");
}
