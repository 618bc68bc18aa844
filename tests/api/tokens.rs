use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, spawn_app, spawn_app_with, Backend, PASSWORD};

backends!(login_issues_a_prefixed_token_with_expiry_and_the_user);
async fn login_issues_a_prefixed_token_with_expiry_and_the_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.signup("alice").await;
    let res = app.login("alice", PASSWORD).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("pb_") && token.len() >= 3 + 22, "{token}");
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["user"]["id"], id);
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["user"]["email"], "alice@example.com");
}

backends!(unknown_user_and_wrong_password_get_the_same_401);
async fn unknown_user_and_wrong_password_get_the_same_401(backend: Backend) {
    let app = spawn_app(backend).await;
    app.signup("alice").await;
    let wrong = app.login("alice", "not the password").await;
    let unknown = app.login("nobody", PASSWORD).await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    assert_eq!(
        wrong.headers()["www-authenticate"],
        unknown.headers()["www-authenticate"]
    );
    let a = wrong.text().await.unwrap();
    let b = unknown.text().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(
        serde_json::from_str::<Value>(&a).unwrap()["error"],
        "Invalid username or password"
    );
}

backends!(login_without_fields_is_400);
async fn login_without_fields_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_error(
        app.post_json("/api/tokens", json!({})).await,
        400,
        "Username required",
    )
    .await;
    assert_error(
        app.post_json("/api/tokens", json!({"username": "a"})).await,
        400,
        "Password required",
    )
    .await;
}

backends!(the_profile_needs_a_token_and_shows_the_callers_email);
async fn the_profile_needs_a_token_and_shows_the_callers_email(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let res = app
        .authed(Method::GET, "/api/profile", &alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"id": alice.id, "username": "alice", "email": "alice@example.com",
        "admin": false, "bio": "", "image": null, "follower_count": 0, "following_count": 0,
        "post_count": 0, "created_at": body["created_at"].clone()})
    );
}

backends!(missing_malformed_and_unknown_tokens_are_401_invalid_token);
async fn missing_malformed_and_unknown_tokens_are_401_invalid_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let forged = format!("pb_{}", "A".repeat(43));
    let cases: Vec<Option<String>> = vec![
        None,
        Some(String::new()),
        Some("Bearer".into()),
        Some("Bearer ".into()),
        Some(alice.token.clone()),
        Some(format!("Basic {}", alice.token)),
        Some(format!("Bearer {}", &alice.token[..alice.token.len() - 2])),
        Some(format!("Bearer xx_{}", &alice.token[3..])),
        Some(format!("Bearer {forged}")),
        Some(format!("Bearer {} extra", alice.token)),
    ];
    for header in cases {
        let mut req = app.request(Method::GET, "/api/profile");
        if let Some(h) = &header {
            req = req.header("authorization", h);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{header:?}");
        assert_error(res, 401, "Invalid token").await;
    }
}

backends!(a_non_utf8_authorization_header_is_401_not_500);
async fn a_non_utf8_authorization_header_is_401_not_500(backend: Backend) {
    let app = spawn_app(backend).await;
    let value = reqwest::header::HeaderValue::from_bytes(b"Bearer pb_\xff\xfe").unwrap();
    let res = app
        .request(Method::GET, "/api/profile")
        .header("authorization", value)
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "Invalid token").await;
}

backends!(logout_revokes_the_token_from_the_next_request_on);
async fn logout_revokes_the_token_from_the_next_request_on(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let other = app.token_for("alice").await;
    let res = app
        .authed(Method::DELETE, "/api/tokens/current", &alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .authed(Method::GET, "/api/profile", &alice.token)
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "Invalid token").await;
    let res = app
        .authed(Method::DELETE, "/api/tokens/current", &alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Only the presented token was revoked.
    let res = app
        .authed(Method::GET, "/api/profile", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

backends!(tokens_expire_after_the_configured_ttl);
async fn tokens_expire_after_the_configured_ttl(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.token_ttl = Duration::from_secs(1)).await;
    let alice = app.user("alice").await;
    let res = app
        .authed(Method::GET, "/api/profile", &alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let res = app
        .authed(Method::GET, "/api/profile", &alice.token)
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "Invalid token").await;
}
