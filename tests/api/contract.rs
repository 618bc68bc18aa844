//! The published OpenAPI document against the routes actually served.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backends, spawn_app, Backend};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[test]
fn the_openapi_document_matches_its_snapshot() {
    // A change of contract shows in review as a change of tests/api/snapshots/*.snap.
    // Accept an intended change with `INSTA_UPDATE=always cargo test` (or `cargo insta review`).
    insta::assert_json_snapshot!("openapi", postbase::http::openapi_document());
}

backends!(the_served_document_is_openapi_3_1_with_bearer_security);
async fn the_served_document_is_openapi_3_1_with_bearer_security(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc, postbase::http::openapi_document());
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["paths"]["/api/posts"]["post"]["security"][0]["bearer"],
        serde_json::json!([])
    );
    // Public operations say so (`[]`); where a token only changes what is shown, it is optional.
    assert_eq!(doc["paths"]["/api/posts"]["get"]["security"], json!([]));
    assert_eq!(
        doc["paths"]["/api/users/{id}"]["get"]["security"],
        json!([{}, {"bearer": []}])
    );
}

backends!(every_request_body_example_is_accepted_as_it_stands);
/// "Try it out" on the docs page sends each operation's example body: in the order a person would
/// try them (sign up, log in, post, edit), every one must succeed unedited.
async fn every_request_body_example_is_accepted_as_it_stands(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = postbase::http::openapi_document();
    let mut with_body: Vec<String> = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if op.get("requestBody").is_some() {
                with_body.push(op["operationId"].as_str().unwrap().to_owned());
            }
        }
    }
    let order = [
        "createUser",
        "createToken",
        "createPost",
        "replacePost",
        "updatePost",
        "createComment",
        "updateComment",
        "updateUser",
    ];
    with_body.sort();
    let mut expected = order.map(String::from).to_vec();
    expected.sort();
    assert_eq!(
        with_body, expected,
        "an operation with a body is missing here"
    );

    let (mut token, mut user_id, mut post_id, mut comment_id) = (String::new(), 0, 0, 0);
    for operation_id in order {
        let (path, method, op) = find_operation(&doc, operation_id);
        let example = &op["requestBody"]["content"]["application/json"]["example"];
        assert!(example.is_object(), "{operation_id} has no example body");
        let id = if path.starts_with("/api/users") {
            user_id
        } else if path.starts_with("/api/comments") {
            comment_id
        } else {
            post_id
        };
        let concrete = path.replace("{id}", &id.to_string());
        let mut req = app.request(
            Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
            &concrete,
        );
        if !token.is_empty() {
            req = req.bearer_auth(&token);
        }
        let res = req.json(example).send().await.unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert!(
            status.is_success(),
            "{operation_id} {example}: {status} {body}"
        );
        match operation_id {
            "createUser" => user_id = body["id"].as_i64().unwrap(),
            "createToken" => token = body["token"].as_str().unwrap().to_owned(),
            "createPost" => post_id = body["id"].as_i64().unwrap(),
            "createComment" => comment_id = body["id"].as_i64().unwrap(),
            _ => {}
        }
    }
}

fn find_operation<'a>(doc: &'a Value, operation_id: &str) -> (&'a str, &'a str, &'a Value) {
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op["operationId"] == operation_id {
                return (path, method, op);
            }
        }
    }
    panic!("no operation {operation_id}");
}

backends!(every_documented_route_is_served_and_nothing_else_on_its_path);
/// Every documented operation is served, and on every documented path, every other method is 405
/// with an `Allow` that lists exactly the documented ones.
async fn every_documented_route_is_served_and_nothing_else_on_its_path(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = postbase::http::openapi_document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path.replace("{id}", "1");
        let documented: Vec<&str> = METHODS
            .iter()
            .copied()
            .filter(|m| item.get(*m).is_some())
            .collect();
        for method in METHODS {
            let res = app
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &concrete,
                )
                .send()
                .await
                .unwrap();
            if documented.contains(&method) {
                assert_ne!(
                    res.status(),
                    405,
                    "{method} {path} is documented but not served"
                );
                if res.status() == 404 {
                    let body: Value = res.json().await.unwrap();
                    assert_ne!(
                        body["error"], "Not found",
                        "{method} {path} fell through to the fallback"
                    );
                }
            } else {
                assert_eq!(
                    res.status(),
                    405,
                    "{method} {path} is served but not documented"
                );
                let allow = res.headers()["allow"].to_str().unwrap().to_lowercase();
                let mut allowed: Vec<&str> = allow
                    .split(',')
                    .map(str::trim)
                    .filter(|m| *m != "head")
                    .collect();
                allowed.sort_unstable();
                let mut expected = documented.clone();
                expected.sort_unstable();
                assert_eq!(allowed, expected, "Allow on {path}");
            }
        }
    }
}

backends!(undocumented_paths_are_not_served);
/// Paths a client might guess are not served: the only routes are the documented ones (and the
/// docs page, which is the document rendered).
async fn undocumented_paths_are_not_served(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/api/admin",
        "/api/users/1/posts",
        "/api/users/1/tokens",
        "/api/tokens/1",
        "/api/tokens",
        "/api/comments",
        "/api/posts/1/comments",
        "/api/v1/posts",
        "/api/profile/1",
        "/api/debug",
        "/admin",
        "/debug",
        "/.env",
        "/api/openapi.yaml",
        "/swagger.json",
        "/api/users/me",
    ] {
        let res = app.get(path).await;
        assert!(
            matches!(res.status().as_u16(), 404 | 405),
            "{path}: {}",
            res.status()
        );
        if res.status() == 405 {
            // Only documented paths may exist with other methods.
            let doc = postbase::http::openapi_document();
            assert!(
                doc["paths"].get(path).is_some(),
                "{path} is served but not documented"
            );
        }
    }
    let res = app.get("/docs/").await;
    assert_eq!(res.status(), 200);
}

backends!(the_docs_page_is_postbases_and_loads_only_its_own_scripts);
async fn the_docs_page_is_postbases_and_loads_only_its_own_scripts(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/docs").await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], "/docs/");
    for page in ["/docs/", "/docs/index.html"] {
        let res = app.get(page).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = res.text().await.unwrap();
        assert!(html.contains("<title>postbase API"), "{html}");
        assert!(!html.contains("Swagger UI</title>"));
        // Every script is a file of its own (the CSP allows no inline script), served from here.
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert_eq!(scripts.len(), 3, "{html}");
        for script in scripts {
            let src = script
                .split("src=\"./")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_else(|| panic!("an inline script: {script}"));
            let res = app.get(&format!("/docs/{src}")).await;
            assert_eq!(res.status(), 200, "{src}");
            assert!(res.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains("javascript"));
        }
    }
    let init = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("\"url\": \"/api/openapi.json\""), "{init}");
    assert_eq!(app.get("/docs/no-such-file.js").await.status(), 404);
}
