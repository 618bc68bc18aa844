use axum::routing::get;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, backends, spawn_app, spawn_app_with, spawn_app_with_routes, Backend,
};

backends!(unknown_routes_are_json_404);
async fn unknown_routes_are_json_404(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/nope", "/api", "/api/post", "/api/posts/1/nope"] {
        assert_error(app.get(path).await, 404, "Not found").await;
    }
}

backends!(a_method_a_route_lacks_is_405_with_allow);
async fn a_method_a_route_lacks_is_405_with_allow(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .request(Method::DELETE, "/api/posts")
        .send()
        .await
        .unwrap();
    let allow = res.headers()["allow"].to_str().unwrap().to_owned();
    assert!(
        allow.contains("GET") && allow.contains("POST") && !allow.contains("DELETE"),
        "{allow}"
    );
    assert_error(res, 405, "Method not allowed").await;
    let res = app
        .request(Method::POST, "/api/posts/1")
        .send()
        .await
        .unwrap();
    let allow = res.headers()["allow"].to_str().unwrap().to_owned();
    assert!(
        allow.contains("PUT") && allow.contains("PATCH") && allow.contains("DELETE"),
        "{allow}"
    );
    assert_error(res, 405, "Method not allowed").await;
    let res = app
        .request(Method::PUT, "/api/profile")
        .send()
        .await
        .unwrap();
    assert!(res.headers()["allow"].to_str().unwrap().contains("GET"));
    assert_eq!(res.status(), 405);
}

backends!(malformed_json_is_400_saying_what_is_wrong);
async fn malformed_json_is_400_saying_what_is_wrong(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .request(Method::POST, "/api/users")
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    let msg = body["error"].as_str().unwrap();
    assert!(msg.starts_with("Malformed JSON: "), "{msg}");
    assert!(msg.contains("line 1"), "{msg}");
}

backends!(a_json_body_that_is_not_an_object_is_400);
async fn a_json_body_that_is_not_an_object_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    for body in ["[]", "\"alice\"", "42", "null", "true"] {
        let res = app
            .request(Method::POST, "/api/users")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(res, 400, "Request body must be a JSON object").await;
    }
}

backends!(a_body_without_json_content_type_is_415);
async fn a_body_without_json_content_type_is_415(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .request(Method::POST, "/api/users")
        .header("content-type", "text/plain")
        .body(r#"{"username":"a","password":"b"}"#)
        .send()
        .await
        .unwrap();
    assert_error(
        res,
        415,
        "Request body must be JSON (Content-Type: application/json)",
    )
    .await;
    let res = app
        .request(Method::POST, "/api/users")
        .body(r#"{"username":"abc"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let res = app
        .request(Method::POST, "/api/users")
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"username":"alice","password":"correct horse battery"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "a charset parameter is fine");
}

backends!(a_body_over_the_limit_is_413);
async fn a_body_over_the_limit_is_413(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.max_body_bytes = 1024).await;
    let big = json!({"username": "alice", "password": "x".repeat(2000)});
    let res = app.post_json("/api/users", big).await;
    assert_error(res, 413, "Request body is larger than 1024 bytes").await;
    // Without a Content-Length (chunked), the limit holds as well.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(vec![b' '; 800]), Ok(vec![b' '; 800])];
    let res = app
        .request(Method::POST, "/api/users")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

backends!(the_default_body_limit_is_one_mebibyte);
async fn the_default_body_limit_is_one_mebibyte(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .request(Method::POST, "/api/users")
        .header("content-type", "application/json")
        .body(vec![b' '; 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

backends!(deeply_nested_json_is_400_not_a_crash);
async fn deeply_nested_json_is_400_not_a_crash(backend: Backend) {
    let app = spawn_app(backend).await;
    let deep = format!(
        "{{\"username\": {}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let res = app
        .request(Method::POST, "/api/users")
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(app.get("/healthz").await.status(), 200);
}

backends!(a_panicking_handler_is_a_json_500_with_a_request_id_and_the_server_keeps_serving);
async fn a_panicking_handler_is_a_json_500_with_a_request_id_and_the_server_keeps_serving(
    backend: Backend,
) {
    let extra = axum::Router::new().route(
        "/test/panic",
        get(|| async {
            if std::hint::black_box(true) {
                panic!("secret internal detail");
            }
            "unreachable"
        }),
    );
    let app = spawn_app_with_routes(backend, |_| {}, Some(extra)).await;
    let res = app
        .request(Method::GET, "/test/panic")
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
    let text = res.text().await.unwrap();
    assert!(!text.contains("secret"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"], "Internal server error");
    assert_eq!(body["request_id"], "trace-me-42");
    assert_eq!(app.get("/healthz").await.status(), 200);
}
