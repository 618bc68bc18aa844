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

backends!(every_kind_of_response_carries_the_hygiene_headers);
/// One response of each kind the API gives: 200, 201, 204, 304, 400, 401, 404, 405, 413, 415,
/// a preflight, the docs page and the metrics.
async fn every_kind_of_response_carries_the_hygiene_headers(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.max_body_bytes = 1024).await;
    let alice = app.user("alice").await;
    let post = app.create_post(&alice.token, "t", "b").await;
    let path = format!("/api/posts/{}", post["id"]);
    let requests = [
        app.request(Method::GET, "/api/posts"),
        app.request(Method::POST, "/api/posts")
            .bearer_auth(&alice.token)
            .json(&serde_json::json!({"title": "x"})),
        app.request(Method::GET, &path)
            .header("if-none-match", "\"1-0-0\""),
        app.request(Method::POST, "/api/users")
            .json(&serde_json::json!({})),
        app.request(Method::GET, "/api/profile"),
        app.request(Method::GET, "/nope"),
        app.request(Method::PUT, "/api/users/1"),
        app.request(Method::POST, "/api/users")
            .header("content-type", "application/json")
            .body(vec![b' '; 4096]),
        app.request(Method::POST, "/api/users")
            .header("content-type", "text/plain")
            .body("x"),
        app.request(Method::OPTIONS, "/api/posts")
            .header("origin", "https://a.example")
            .header("access-control-request-method", "POST"),
        app.request(Method::GET, "/docs/"),
        app.request(Method::GET, "/metrics"),
        app.request(Method::DELETE, "/api/tokens/current")
            .bearer_auth(&alice.token),
    ];
    let mut statuses = Vec::new();
    for request in requests {
        let res = request.send().await.unwrap();
        statuses.push(res.status().as_u16());
        assert_eq!(
            res.headers()["x-content-type-options"],
            "nosniff",
            "{}",
            res.status()
        );
        assert_eq!(res.headers()["x-frame-options"], "DENY", "{}", res.status());
        assert!(res.headers().get("server").is_none());
        assert!(res.headers().contains_key("x-request-id"));
    }
    assert_eq!(
        statuses,
        [200, 201, 304, 400, 401, 404, 405, 413, 415, 204, 200, 200, 204]
    );
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
