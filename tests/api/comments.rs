//! Comments: the list under a post, writing, editing and deleting them, and who may.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, spawn_app, Backend, TestApp};

async fn comment(app: &TestApp, token: &str, post: &Value, body: &str) -> reqwest::Response {
    app.authed(
        Method::POST,
        &format!("/api/posts/{}/comments", post["id"]),
        token,
    )
    .json(&json!({ "body": body }))
    .send()
    .await
    .unwrap()
}

backends!(a_comment_is_created_with_201_location_etag_and_its_json);
async fn a_comment_is_created_with_201_location_etag_and_its_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app.create_post(&alice.token, "t", "b").await;
    let res = comment(&app, &bob.token, &post, "Nice post!").await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    assert_eq!(location, format!("/api/comments/{}", body["id"]));
    assert_eq!(etag, "\"1\"");
    assert_eq!(body["post_id"], post["id"]);
    assert_eq!(body["author_id"], bob.id);
    assert_eq!(body["body"], "Nice post!");
    assert_eq!(body["created_at"], body["updated_at"]);
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "post_id",
            "author_id",
            "body",
            "created_at",
            "updated_at"
        ]
    );
    // It is what GET shows, and the post counts it.
    let got: Value = app.get_json(&location).await;
    assert_eq!(got, body);
    let post: Value = app.get_json(&format!("/api/posts/{}", post["id"])).await;
    assert_eq!(post["comment_count"], 1);
}

backends!(bad_comments_get_400_with_fields_and_unknown_posts_404);
async fn bad_comments_get_400_with_fields_and_unknown_posts_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let post = app.create_post(&alice.token, "t", "b").await;
    for (body, message) in [
        (json!({}), "Body required"),
        (json!({"body": null}), "Body required"),
        (json!({"body": "  \n"}), "Invalid body: must not be empty"),
        (json!({"body": 5}), "Invalid body: must be a string"),
        (
            json!({"body": "x".repeat(10_001)}),
            "Invalid body: must be at most 10000 characters",
        ),
    ] {
        let res = app
            .authed(
                Method::POST,
                &format!("/api/posts/{}/comments", post["id"]),
                &alice.token,
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        let err = assert_error(res, 400, message).await;
        assert!(err["fields"]["body"].is_string(), "{err}");
    }
    let res = comment(&app, &alice.token, &json!({"id": 999}), "hi").await;
    assert_error(res, 404, "Post not found").await;
    assert_error(
        app.get("/api/posts/999/comments").await,
        404,
        "Post not found",
    )
    .await;
    assert_error(app.get("/api/comments/999").await, 404, "Comment not found").await;
    let res = app
        .request(Method::POST, &format!("/api/posts/{}/comments", post["id"]))
        .json(&json!({"body": "anonymous"}))
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "Invalid token").await;
    // Exactly 10,000 characters is fine.
    let res = comment(&app, &alice.token, &post, &"é".repeat(10_000)).await;
    assert_eq!(res.status(), 201);
}

backends!(comments_list_oldest_first_in_keyset_pages);
async fn comments_list_oldest_first_in_keyset_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let post = app.create_post(&alice.token, "t", "b").await;
    let other = app.create_post(&alice.token, "other", "b").await;
    for i in 0..5 {
        assert_eq!(
            comment(&app, &alice.token, &post, &format!("c{i}"))
                .await
                .status(),
            201
        );
    }
    assert_eq!(
        comment(&app, &alice.token, &other, "elsewhere")
            .await
            .status(),
        201
    );
    let path = format!("/api/posts/{}/comments", post["id"]);
    let res = app.get(&format!("{path}?limit=2")).await;
    assert_eq!(res.status(), 200);
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    let page: Value = res.json().await.unwrap();
    let bodies: Vec<&str> = page["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["c0", "c1"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    assert_eq!(
        link,
        format!("<{path}?limit=2&cursor={cursor}>; rel=\"next\"")
    );
    let mut seen = bodies.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut next = Some(cursor.to_owned());
    while let Some(cursor) = next {
        let page: Value = app
            .get_json(&format!("{path}?limit=2&cursor={cursor}"))
            .await;
        for c in page["comments"].as_array().unwrap() {
            seen.push(c["body"].as_str().unwrap().to_owned());
        }
        next = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ["c0", "c1", "c2", "c3", "c4"]);
    // A post with no comments has an empty page, not a 404.
    let third = app.create_post(&alice.token, "quiet", "").await;
    let page: Value = app
        .get_json(&format!("/api/posts/{}/comments", third["id"]))
        .await;
    assert_eq!(page, json!({"comments": [], "next_cursor": null}));
}

backends!(only_the_author_edits_and_the_author_or_post_author_deletes);
async fn only_the_author_edits_and_the_author_or_post_author_deletes(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let post = app.create_post(&alice.token, "alice's", "").await;
    let made: Value = comment(&app, &bob.token, &post, "bob's")
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/comments/{}", made["id"]);
    // Not bob: 403 for an edit, even by the post's author.
    for token in [&alice.token, &carol.token] {
        let res = app
            .authed(Method::PATCH, &path, token)
            .json(&json!({"body": "hijacked"}))
            .send()
            .await
            .unwrap();
        assert_error(res, 403, "Only the author may change this comment").await;
    }
    // Bob edits, with If-Match: a stale version is 412.
    let res = app
        .authed(Method::PATCH, &path, &bob.token)
        .header("if-match", "\"1\"")
        .json(&json!({"body": "bob's, edited"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["body"], "bob's, edited");
    assert_ne!(edited["updated_at"], edited["created_at"]);
    let res = app
        .authed(Method::PATCH, &path, &bob.token)
        .header("if-match", "\"1\"")
        .json(&json!({"body": "again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 412);
    // Carol may not delete it; alice, the post's author, may.
    let res = app
        .authed(Method::DELETE, &path, &carol.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .authed(Method::DELETE, &path, &alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_error(app.get(&path).await, 404, "Comment not found").await;
    let post: Value = app.get_json(&format!("/api/posts/{}", post["id"])).await;
    assert_eq!(post["comment_count"], 0);
}

backends!(deleting_a_post_or_a_user_deletes_their_comments);
async fn deleting_a_post_or_a_user_deletes_their_comments(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let first = app.create_post(&alice.token, "first", "").await;
    let second = app.create_post(&alice.token, "second", "").await;
    let on_first: Value = comment(&app, &bob.token, &first, "x")
        .await
        .json()
        .await
        .unwrap();
    comment(&app, &alice.token, &second, "mine").await;
    let by_bob: Value = comment(&app, &bob.token, &second, "bob's")
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .authed(
            Method::DELETE,
            &format!("/api/posts/{}", first["id"]),
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let gone = app.get(&format!("/api/comments/{}", on_first["id"])).await;
    assert_eq!(gone.status(), 404);
    // Bob deletes his account: his comment goes, and the post's count follows.
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
    let gone = app.get(&format!("/api/comments/{}", by_bob["id"])).await;
    assert_eq!(gone.status(), 404);
    let post: Value = app.get_json(&format!("/api/posts/{}", second["id"])).await;
    assert_eq!(post["comment_count"], 1);
}
