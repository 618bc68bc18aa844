//! OWASP API8 (2023), Security Misconfiguration, and API9, Improper Inventory Management: what the
//! server shows of itself (the other items: `owasp_access.rs`, `owasp_limits.rs`).

use reqwest::Method;

use crate::helpers::{backends, spawn_app, spawn_app_with, Backend};

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
