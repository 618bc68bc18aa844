use reqwest::Method;
use serde_json::Value;

use crate::helpers::{backends, spawn_app, Backend};

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
