use reqwest::Method;
use serde_json::Value;

use crate::helpers::{backends, spawn_app, spawn_app_with, Backend};

backends!(healthz_and_readyz_are_200);
async fn healthz_and_readyz_are_200(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ok");
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ready");
}

backends!(a_request_id_is_echoed_or_generated);
async fn a_request_id_is_echoed_or_generated(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .request(Method::GET, "/api/posts")
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let a = app.get("/api/posts").await.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let b = app.get("/api/posts").await.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(a.len() >= 16 && a != b);
    // A request id that could smuggle anything into logs is replaced.
    let res = app
        .request(Method::GET, "/api/posts")
        .header("x-request-id", "x".repeat(500))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"].len(), 32);
}

backends!(every_response_carries_the_hygiene_headers);
async fn every_response_carries_the_hygiene_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/api/posts", "/nope", "/healthz"] {
        let res = app.get(path).await;
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(res.headers()["x-frame-options"], "DENY");
        assert!(res.headers().get("server").is_none());
    }
}

backends!(metrics_count_requests_latency_logins_tokens_and_the_pool);
async fn metrics_count_requests_latency_logins_tokens_and_the_pool(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    assert_eq!(app.login("alice", "wrong password!").await.status(), 401);
    app.authed(Method::DELETE, "/api/tokens/current", &alice.token)
        .send()
        .await
        .unwrap();
    app.get("/api/posts/12345").await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    for line in [
        "postbase_http_requests_total{route=\"/api/users\",method=\"POST\",status=\"201\"} 1",
        "postbase_http_requests_total{route=\"/api/posts/{id}\",method=\"GET\",status=\"404\"} 1",
        "postbase_logins_total{result=\"succeeded\"} 1",
        "postbase_logins_total{result=\"failed\"} 1",
        "postbase_tokens_issued_total 1",
        "postbase_tokens_revoked_total 1",
        "postbase_http_request_duration_seconds_count{route=\"/api/tokens\"} 2",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    for family in [
        "postbase_db_pool_size",
        "postbase_db_pool_in_use",
        "postbase_db_pool_waiting",
    ] {
        assert!(text.contains(&format!("# TYPE {family} gauge")), "{family}");
    }
}

backends!(metrics_can_be_turned_off);
async fn metrics_can_be_turned_off(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.metrics = false).await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/json");
}
