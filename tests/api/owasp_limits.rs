//! OWASP API4 (2023), Unrestricted Resource Consumption: login lockout, per-address and sign-up
//! budgets, slow clients, and bounded sizes (the other items: `owasp_access.rs`, `owasp_surface.rs`).

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, backends, spawn_app, spawn_app_with, Backend, PASSWORD};

backends!(api4_repeated_failed_logins_lock_the_account_for_a_growing_while);
/// API4 Unrestricted Resource Consumption: each limit answers, with the usual JSON error.
async fn api4_repeated_failed_logins_lock_the_account_for_a_growing_while(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.login_lockout = Duration::from_millis(1500)).await;
    app.signup("alice").await;
    for _ in 0..5 {
        assert_eq!(app.login("alice", "wrong password!").await.status(), 401);
    }
    // Locked: even the right password is refused, with Retry-After.
    let res = app.login("alice", PASSWORD).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert_error(
        res,
        429,
        "Too many failed logins for this account; try again later",
    )
    .await;
    // Other accounts are unaffected.
    app.signup("bob").await;
    assert_eq!(app.login("bob", PASSWORD).await.status(), 201);
    // The lock ends; one more failure locks again, for longer.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(app.login("alice", "wrong password!").await.status(), 401);
    let res = app.login("alice", PASSWORD).await;
    assert_eq!(res.status(), 429);
    let retry2: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry2 >= 3, "the back-off grows: {retry2}");
}

backends!(api4_the_per_ip_budget_answers_429_with_retry_after);
async fn api4_the_per_ip_budget_answers_429_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.rate_limit = Some("5/min".parse().unwrap())).await;
    for _ in 0..5 {
        assert_eq!(app.get("/api/posts").await.status(), 200);
    }
    let res = app.get("/api/posts").await;
    assert!(
        res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_error(res, 429, "Too many requests; slow down").await;
    // Probes outside /api are not budgeted.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

backends!(api4_the_signup_budget_is_separate_and_tighter);
async fn api4_the_signup_budget_is_separate_and_tighter(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.signup_limit = Some("2/min".parse().unwrap())).await;
    app.signup("user_one").await;
    app.signup("user_two").await;
    let res = app
        .post_json(
            "/api/users",
            json!({"username": "user_three", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 429);
    assert_eq!(
        app.get("/api/users").await.status(),
        200,
        "other routes are not affected"
    );
}

backends!(api4_forwarded_for_counts_only_when_trusted);
async fn api4_forwarded_for_counts_only_when_trusted(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.rate_limit = Some("2/min".parse().unwrap());
        c.trust_forwarded_for = true;
    })
    .await;
    let get = |ip: &'static str| {
        app.request(Method::GET, "/api/posts")
            .header("x-forwarded-for", ip)
            .send()
    };
    assert_eq!(get("10.0.0.1").await.unwrap().status(), 200);
    assert_eq!(get("10.0.0.1").await.unwrap().status(), 200);
    assert_eq!(get("10.0.0.1").await.unwrap().status(), 429);
    assert_eq!(
        get("10.0.0.2").await.unwrap().status(),
        200,
        "another client has its own budget"
    );
}

backends!(api4_a_slow_client_cannot_hold_a_connection);
async fn api4_a_slow_client_cannot_hold_a_connection(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(backend, |c| c.header_timeout = Duration::from_millis(500)).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let started = std::time::Instant::now();
    // One byte every 200 ms: the head never completes within the timeout.
    let mut closed = false;
    for b in b"GET /api/posts HTTP/1.1\r\nHost: x\r\n".iter() {
        if stream.write_all(&[*b]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    if !closed {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut buf)).await;
        closed = matches!(read, Ok(Ok(_)) | Ok(Err(_)));
    }
    assert!(closed, "the server closed the slow connection");
    assert!(started.elapsed() < Duration::from_secs(4));
}

backends!(api4_page_size_string_lengths_and_body_size_are_bounded);
async fn api4_page_size_string_lengths_and_body_size_are_bounded(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    assert_eq!(app.get("/api/posts?limit=1000").await.status(), 400);
    let res = app
        .authed(Method::POST, "/api/posts", &alice.token)
        .json(&json!({"title": "x".repeat(10_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = app
        .request(Method::POST, "/api/users")
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let deep = format!("{{\"title\": {}1{}}}", "[".repeat(40), "]".repeat(40));
    let res = app
        .authed(Method::POST, "/api/posts", &alice.token)
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "JSON nested deeper than 32 levels").await;
}
