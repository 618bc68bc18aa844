use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, spawn_app, Backend};

backends!(creating_a_post_needs_a_token_and_returns_201_location_and_the_post);
async fn creating_a_post_needs_a_token_and_returns_201_location_and_the_post(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let res = app.post_json("/api/posts", json!({"title": "hi"})).await;
    assert_error(res, 401, "Invalid token").await;

    let res = app
        .authed(Method::POST, "/api/posts", &alice.token)
        .json(&json!({"title": "Hello", "body": "First!", "author_id": 999, "id": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(res.headers().contains_key("etag"));
    let post: Value = res.json().await.unwrap();
    assert_eq!(location, format!("/api/posts/{}", post["id"]));
    assert_eq!(post["title"], "Hello");
    assert_eq!(post["body"], "First!");
    assert_eq!(
        post["author_id"], alice.id,
        "the author is the token's user"
    );
    assert_eq!(post["created_at"], post["updated_at"]);
    let fetched: Value = app.get(&location).await.json().await.unwrap();
    assert_eq!(fetched, post);
}

backends!(a_post_without_a_title_is_title_required_and_bad_fields_are_named);
async fn a_post_without_a_title_is_title_required_and_bad_fields_are_named(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let send = |body: Value| {
        app.authed(Method::POST, "/api/posts", &alice.token)
            .json(&body)
            .send()
    };
    assert_error(
        send(json!({"body": "x"})).await.unwrap(),
        400,
        "Title required",
    )
    .await;
    assert_error(
        send(json!({"title": null})).await.unwrap(),
        400,
        "Title required",
    )
    .await;
    for (body, field) in [
        (json!({"title": "   "}), "title"),
        (json!({"title": "t".repeat(201)}), "title"),
        (json!({"title": 5}), "title"),
        (
            json!({"title": "ok", "body": "b".repeat(64 * 1024 + 1)}),
            "body",
        ),
        (json!({"title": "ok", "body": {"nested": true}}), "body"),
    ] {
        let res = send(body.clone()).await.unwrap();
        assert_eq!(res.status(), 400, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(err["fields"][field].is_string(), "{err}");
    }
    let list: Value = app.get("/api/posts").await.json().await.unwrap();
    assert_eq!(list["posts"], json!([]));
}

backends!(unicode_is_stored_and_returned_exactly);
async fn unicode_is_stored_and_returned_exactly(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let title = "Grüße, 世界 🌍 — \u{200d}é\u{301}";
    let body = "line\nbreak\ttab \"quotes\" \\ \u{0}nul";
    let post = app.create_post(&alice.token, title, body).await;
    let fetched: Value = app
        .get(&format!("/api/posts/{}", post["id"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["title"], title);
    assert_eq!(fetched["body"], body);
}

backends!(put_replaces_patch_changes_only_the_given_fields);
async fn put_replaces_patch_changes_only_the_given_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let post = app.create_post(&alice.token, "one", "body one").await;
    let path = format!("/api/posts/{}", post["id"]);

    let res = app
        .authed(Method::PATCH, &path, &alice.token)
        .json(&json!({"body": "patched"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["title"], "one");
    assert_eq!(patched["body"], "patched");
    assert_ne!(patched["updated_at"], post["updated_at"]);
    assert_eq!(patched["created_at"], post["created_at"]);

    let res = app
        .authed(Method::PUT, &path, &alice.token)
        .json(&json!({"title": "two"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let replaced: Value = res.json().await.unwrap();
    assert_eq!(replaced["title"], "two");
    assert_eq!(replaced["body"], "", "PUT replaces the whole post");

    let res = app
        .authed(Method::PUT, &path, &alice.token)
        .json(&json!({"body": "x"}))
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "Title required").await;
    let now: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(now, replaced);
}

backends!(another_user_gets_403_and_nothing_changes_no_token_gets_401);
async fn another_user_gets_403_and_nothing_changes_no_token_gets_401(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app.create_post(&alice.token, "alice's", "").await;
    let path = format!("/api/posts/{}", post["id"]);
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let res = app
            .authed(method.clone(), &path, &bob.token)
            .json(&json!({"title": "bob was here"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{method}");
        let res = app
            .request(method.clone(), &path)
            .json(&json!({"title": "anon"}))
            .send()
            .await
            .unwrap();
        assert_error(res, 401, "Invalid token").await;
    }
    let now: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(now, post);
}

backends!(an_admin_may_edit_and_delete_any_post);
async fn an_admin_may_edit_and_delete_any_post(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let root = app.admin("root").await;
    let post = app.create_post(&alice.token, "alice's", "").await;
    let path = format!("/api/posts/{}", post["id"]);
    let res = app
        .authed(Method::PATCH, &path, &root.token)
        .json(&json!({"title": "moderated"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["author_id"], alice.id, "the author stays");
    let res = app
        .authed(Method::DELETE, &path, &root.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
}

backends!(the_author_deletes_a_post_and_it_is_gone);
async fn the_author_deletes_a_post_and_it_is_gone(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let post = app.create_post(&alice.token, "bye", "").await;
    let path = format!("/api/posts/{}", post["id"]);
    let res = app
        .authed(Method::DELETE, &path, &alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_error(app.get(&path).await, 404, "Post not found").await;
    let res = app
        .authed(Method::DELETE, &path, &alice.token)
        .send()
        .await
        .unwrap();
    assert_error(res, 404, "Post not found").await;
}

backends!(unknown_and_non_integer_post_ids_are_404_post_not_found);
async fn unknown_and_non_integer_post_ids_are_404_post_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/api/posts/1",
        "/api/posts/abc",
        "/api/posts/1.5",
        "/api/posts/92233720368547758070",
        "/api/posts/0",
    ] {
        assert_error(app.get(path).await, 404, "Post not found").await;
    }
}

backends!(the_post_list_is_newest_first_and_filters_by_author);
async fn the_post_list_is_newest_first_and_filters_by_author(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.create_post(&alice.token, "a1", "").await;
    app.create_post(&bob.token, "b1", "").await;
    app.create_post(&alice.token, "a2", "").await;
    let all: Value = app.get("/api/posts").await.json().await.unwrap();
    let titles: Vec<_> = all["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["a2", "b1", "a1"]);
    let mine: Value = app
        .get(&format!("/api/posts?author={}", alice.id))
        .await
        .json()
        .await
        .unwrap();
    let titles: Vec<_> = mine["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["a2", "a1"]);
    let body = assert_error(
        app.get("/api/posts?author=abc").await,
        400,
        "Invalid author: must be a user id",
    )
    .await;
    assert_eq!(body["fields"]["author"], "must be a user id");
}

backends!(many_concurrent_writers_lose_nothing);
async fn many_concurrent_writers_lose_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut tokens = Vec::new();
    for i in 0..4 {
        tokens.push(app.user(&format!("writer{i}")).await.token);
    }
    let mut tasks = Vec::new();
    for (w, token) in tokens.iter().enumerate() {
        for n in 0..50 {
            let client = app.client.clone();
            let url = app.url("/api/posts");
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let res = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"title": format!("w{w} n{n}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
            }));
        }
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200, "every id unique");
    let mut seen = 0;
    let mut next = Some(String::new());
    while let Some(cursor) = next {
        let path = if cursor.is_empty() {
            "/api/posts?limit=100".to_string()
        } else {
            format!("/api/posts?limit=100&cursor={cursor}")
        };
        let page: Value = app.get(&path).await.json().await.unwrap();
        seen += page["posts"].as_array().unwrap().len();
        next = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, 200, "every acknowledged post is listed");
}
