//! The OWASP API Security Top 10 (2023), one group of tests per item that applies to postbase; here
//! who may do what: API1 (object level authorization), API2 (authentication), API3 (object property
//! level authorization) and API5 (function level authorization). API4 is in `owasp_limits.rs`, API8
//! and API9 in `owasp_surface.rs`. API7 (SSRF) does not apply: postbase never fetches a URL a client
//! gives it; nor does API10 (unsafe consumption of APIs): it consumes no third-party API. API6
//! (sensitive business flows): sign-up can be budgeted per address, tested by
//! `owasp_limits::api4_the_signup_budget_is_separate_and_tighter`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, spawn_app, spawn_app_with, Backend, PASSWORD};

backends!(api1_another_user_cannot_touch_objects_by_id);
/// API1 Broken Object Level Authorization: every route with an id, every writing method, by
/// another user: 403 (or 405 where the route has no such method, with `Allow`), and nothing changes.
async fn api1_another_user_cannot_touch_objects_by_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let post = app
        .create_post(&alice.token, "alice's", "private thoughts")
        .await;
    let targets = [
        format!("/api/posts/{}", post["id"]),
        format!("/api/users/{}", alice.id),
    ];
    let before: Vec<Value> = futures_util::future::join_all(targets.iter().map(|p| async {
        app.authed(Method::GET, p, &alice.token)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    }))
    .await;
    for path in &targets {
        for method in [Method::PUT, Method::PATCH, Method::DELETE] {
            let res = app
                .authed(method.clone(), path, &bob.token)
                .json(&json!({"title": "pwned", "body": "x", "email": "bob@evil.example", "password": "bobs password"}))
                .send()
                .await
                .unwrap();
            // Users have no PUT: that is 405 for everyone, owner or not.
            let expected = if path.starts_with("/api/users/") && method == Method::PUT {
                405
            } else {
                403
            };
            assert_eq!(res.status().as_u16(), expected, "{method} {path}");
        }
    }
    for (path, was) in targets.iter().zip(before) {
        let now: Value = app
            .authed(Method::GET, path, &alice.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(now, was, "{path} unchanged");
    }
    assert_eq!(
        app.login("alice", PASSWORD).await.status(),
        201,
        "alice's password unchanged"
    );
}

backends!(api2_every_kind_of_bad_token_is_refused_alike);
/// API2 Broken Authentication: expired, revoked, forged, truncated and wrong-prefix tokens, the
/// token of a deleted user; and unknown user vs wrong password are indistinguishable.
async fn api2_every_kind_of_bad_token_is_refused_alike(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.token_ttl = Duration::from_secs(1)).await;
    let alice = app.user("alice").await;
    let doomed = app.user("doomed").await;
    let revoked = app.token_for("alice").await;
    app.authed(Method::DELETE, "/api/tokens/current", &revoked)
        .send()
        .await
        .unwrap();
    app.authed(
        Method::DELETE,
        &format!("/api/users/{}", doomed.id),
        &doomed.token,
    )
    .send()
    .await
    .unwrap();
    let t = &alice.token;
    let mut forged = t.clone().into_bytes();
    forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
    let cases = [
        ("revoked", revoked.clone()),
        ("deleted user", doomed.token.clone()),
        ("forged", String::from_utf8(forged).unwrap()),
        ("truncated", t[..t.len() - 5].to_string()),
        ("wrong prefix", format!("pk_{}", &t[3..])),
        ("no prefix", t[3..].to_string()),
        ("padded", format!("{t}=")),
    ];
    for (what, token) in &cases {
        let res = app
            .authed(Method::GET, "/api/profile", token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{what}");
        assert_error(res, 401, "Invalid token").await;
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let res = app
        .authed(Method::GET, "/api/profile", t)
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "Invalid token").await;
}

backends!(api2_unknown_user_and_wrong_password_are_indistinguishable);
async fn api2_unknown_user_and_wrong_password_are_indistinguishable(backend: Backend) {
    let app = spawn_app(backend).await;
    app.signup("alice").await;
    let a = app.login("alice", "wrong password!").await;
    let b = app.login("nobody_here", "wrong password!").await;
    assert_eq!(a.status(), b.status());
    let strip = |h: &reqwest::header::HeaderMap| {
        let mut v: Vec<_> = h
            .iter()
            .filter(|(k, _)| *k != "x-request-id" && *k != "date")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(strip(a.headers()), strip(b.headers()));
    assert_eq!(a.text().await.unwrap(), b.text().await.unwrap());
}

backends!(api3_protected_properties_cannot_be_set_and_secrets_never_leak);
/// API3 Broken Object Property Level Authorization: `admin`, `author_id`, `id` and timestamps
/// cannot be set; hashes never appear in any response.
async fn api3_protected_properties_cannot_be_set_and_secrets_never_leak(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let res = app.authed(Method::POST, "/api/posts", &alice.token)
        .json(&json!({"title": "t", "author_id": bob.id, "id": 4242, "created_at": "1999-01-01T00:00:00Z",
                      "updated_at": "1999-01-01T00:00:00Z", "version": 99}))
        .send().await.unwrap();
    let post: Value = res.json().await.unwrap();
    assert_eq!(post["author_id"], alice.id);
    assert_ne!(post["id"], 4242);
    assert!(!post["created_at"].as_str().unwrap().starts_with("1999"));
    let path = format!("/api/posts/{}", post["id"]);
    let res = app
        .authed(Method::PATCH, &path, &alice.token)
        .json(&json!({"author_id": bob.id, "id": 1, "created_at": "1999-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["author_id"], alice.id);
    assert_eq!(patched["id"], post["id"]);
    assert_eq!(patched["created_at"], post["created_at"]);
    let res = app
        .authed(
            Method::PATCH,
            &format!("/api/users/{}", alice.id),
            &alice.token,
        )
        .json(&json!({"admin": true, "id": 77, "username": "root"}))
        .send()
        .await
        .unwrap();
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["username"], "alice");
    assert_eq!(me["id"], alice.id);
    // Still not an admin: bob's post is out of reach.
    let bobs = app.create_post(&bob.token, "bob's", "").await;
    let res = app
        .authed(
            Method::DELETE,
            &format!("/api/posts/{}", bobs["id"]),
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // No response anywhere carries a hash or a password.
    let mut bodies = String::new();
    for path in [
        "/api/users",
        &format!("/api/users/{}", alice.id),
        "/api/profile",
        "/api/posts",
        &path,
    ] {
        bodies += &app
            .authed(Method::GET, path, &alice.token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    bodies += &app.login("alice", PASSWORD).await.text().await.unwrap();
    for secret in ["$argon2", "password", PASSWORD, "hash"] {
        assert!(!bodies.contains(secret), "{secret} leaked in {bodies}");
    }
}

backends!(api5_admin_only_operations_refuse_ordinary_users);
/// API5 Broken Function Level Authorization: admin powers refuse non-admins.
async fn api5_admin_only_operations_refuse_ordinary_users(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = app.admin("root").await;
    let alice = app.user("alice").await;
    let admin_post = app.create_post(&root.token, "announcement", "").await;
    let res = app
        .authed(
            Method::DELETE,
            &format!("/api/users/{}", root.id),
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .authed(
            Method::PATCH,
            &format!("/api/posts/{}", admin_post["id"]),
            &alice.token,
        )
        .json(&json!({"title": "defaced"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .authed(
            Method::GET,
            &format!("/api/users/{}", root.id),
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert!(
        body.get("email").is_none(),
        "only admins see others' emails"
    );
}
