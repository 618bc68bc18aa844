//! `Idempotency-Key` on POST: a retry gets the first answer and does nothing twice, per user (per
//! client for sign-up), on both databases and across instances.

use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, postgres_only, spawn_app, Backend, TestApp};
use crate::instance::Instance;
use crate::test_db::TestDb;

async fn create(app: &TestApp, token: &str, key: &str, title: &str) -> Response {
    app.authed(Method::POST, "/api/posts", token)
        .header("idempotency-key", key)
        .json(&json!({"title": title, "body": "once"}))
        .send()
        .await
        .unwrap()
}

async fn count_posts(app: &TestApp) -> usize {
    let page: Value = app.get("/api/posts").await.json().await.unwrap();
    page["posts"].as_array().unwrap().len()
}

async fn a_retried_post_is_answered_again_and_made_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let first = create(&app, &alice.token, "k-1", "Hello").await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers()["location"].clone();
    let etag = first.headers()["etag"].clone();
    let body: Value = first.json().await.unwrap();
    let again = create(&app, &alice.token, "k-1", "Hello").await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    assert_eq!(again.headers()["etag"], etag);
    assert_eq!(again.headers()["content-type"], "application/json");
    assert_eq!(again.json::<Value>().await.unwrap(), body);
    assert_eq!(count_posts(&app).await, 1);

    // Another key is another request.
    assert_eq!(
        create(&app, &alice.token, "k-2", "Hello").await.status(),
        201
    );
    assert_eq!(count_posts(&app).await, 2);
}
backends!(a_retried_post_is_answered_again_and_made_once);

async fn a_key_reused_for_another_request_is_422_and_keys_are_per_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    assert_eq!(
        create(&app, &alice.token, "shared", "A").await.status(),
        201
    );
    let res = create(&app, &alice.token, "shared", "B").await;
    assert_error(
        res,
        422,
        "This Idempotency-Key was used with a different request",
    )
    .await;
    // Bob's keys are his own: the same key makes his own post.
    assert_eq!(create(&app, &bob.token, "shared", "A").await.status(), 201);
    assert_eq!(count_posts(&app).await, 2);
    for bad in ["", &"k".repeat(256), "has space"] {
        let res = create(&app, &alice.token, bad, "C").await;
        assert_error(
            res,
            400,
            "Idempotency-Key must be 1-255 visible ASCII characters",
        )
        .await;
    }
}
backends!(a_key_reused_for_another_request_is_422_and_keys_are_per_user);

async fn a_retried_sign_up_gets_its_account_not_a_conflict(backend: Backend) {
    let app = spawn_app(backend).await;
    let sign_up = || {
        app.request(Method::POST, "/api/users")
            .header("idempotency-key", "signup-1")
            .json(&json!({"username": "carol", "password": crate::helpers::PASSWORD}))
            .send()
    };
    let first = sign_up().await.unwrap();
    assert_eq!(first.status(), 201);
    let id = first.json::<Value>().await.unwrap()["id"].clone();
    let again = sign_up().await.unwrap();
    assert_eq!(again.status(), 201, "not 409 Username already taken");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], id);
    // An error is answered again too, without doing anything.
    let bad = || {
        app.request(Method::POST, "/api/users")
            .header("idempotency-key", "signup-2")
            .json(&json!({"username": "carol", "password": crate::helpers::PASSWORD}))
            .send()
    };
    assert_eq!(bad().await.unwrap().status(), 409);
    let replayed = bad().await.unwrap();
    assert_eq!(replayed.status(), 409);
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
}
backends!(a_retried_sign_up_gets_its_account_not_a_conflict);

async fn a_retry_on_another_instance_is_answered_from_the_first(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let a = Instance::start(&db.url, &[]).await;
    let b = Instance::start(&db.url, &[]).await;
    let res = a
        .request(Method::POST, "/api/users")
        .json(&json!({"username": "dave", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = a
        .request(Method::POST, "/api/tokens")
        .json(&json!({"username": "dave", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = |instance: &Instance| {
        instance
            .request(Method::POST, "/api/posts")
            .bearer_auth(&token)
            .header("idempotency-key", "across")
            .json(&json!({"title": "Once", "body": ""}))
            .send()
    };
    let first = post(&a).await.unwrap();
    assert_eq!(first.status(), 201);
    let again = post(&b).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let page: Value = b
        .request(Method::GET, "/api/posts")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["posts"].as_array().unwrap().len(), 1);
}
postgres_only!(a_retry_on_another_instance_is_answered_from_the_first);
