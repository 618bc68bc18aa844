//! The OWASP API Security Top 10 (2023), one group of tests per item that applies to postbase.
//! API7 (SSRF) does not apply: postbase never fetches a URL a client gives it; nor does API10
//! (unsafe consumption of APIs): it consumes no third-party API. API6 (sensitive business flows):
//! sign-up can be budgeted per address, tested by `api4_the_signup_budget_is_separate_and_tighter`.

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

backends!(api8_cors_options_and_headers_are_locked_down);
/// API8 Security Misconfiguration: CORS, OPTIONS, headers, no stack traces.
async fn api8_cors_options_and_headers_are_locked_down(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.cors_origins = vec!["https://app.example".into()]
    })
    .await;
    let res = app
        .request(Method::OPTIONS, "/api/posts")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let res = app
        .request(Method::GET, "/api/posts")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    assert!(res
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(res.headers().get("server").is_none());
    let res = app.get("/docs/").await;
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    // Errors never carry internals, whatever their kind.
    let bodies = [
        app.request(Method::POST, "/api/users")
            .header("content-type", "application/json")
            .body("{\"username\": \"a\", \"password\": ")
            .send()
            .await
            .unwrap(),
        app.request(Method::POST, "/api/users")
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .await
            .unwrap(),
        app.request(Method::POST, "/api/users")
            .header("content-type", "application/json")
            .body(vec![b'['; 100])
            .send()
            .await
            .unwrap(),
        app.get("/api/posts?cursor=forged").await,
        app.get("/api/nothing/here").await,
        app.request(Method::PUT, "/api/users/1")
            .send()
            .await
            .unwrap(),
        app.request(Method::GET, "/api/profile")
            .bearer_auth("pb_forged")
            .send()
            .await
            .unwrap(),
        app.get("/api/posts/99999999").await,
    ];
    for res in bodies {
        let status = res.status();
        assert!(status.is_client_error(), "{status}");
        let text = res.text().await.unwrap();
        for internal in [
            "src/",
            ".rs:",
            "panicked",
            "rusqlite",
            "tokio_postgres",
            "SQLSTATE",
            "serde_json::",
            "thread '",
            "Error {",
        ] {
            assert!(!text.contains(internal), "{internal} in {status} {text}");
        }
    }
}

backends!(api9_only_documented_routes_answer);
/// API9 Improper Inventory Management: only documented routes answer (see also contract.rs).
async fn api9_only_documented_routes_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/api/v2/posts",
        "/api/internal",
        "/api/users/1/password",
        "/api/admin/users",
        "/.git/config",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
}
