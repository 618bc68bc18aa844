//! The RealWorld (Conduit) API at /realworld/api: users, profiles, the switch and the document
//! (articles, comments and tags: `realworld_articles.rs`), on both databases, one set of data with
//! /api. (RealWorld's own Postman suite runs in tests/realworld/newman.sh.)

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backends, spawn_app, spawn_app_with, Backend, TestApp};

pub(crate) const RW: &str = "/realworld/api";

pub(crate) async fn rw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.request(method, &format!("{RW}{path}"));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Token {t}"));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn register(app: &TestApp, name: &str) -> String {
    let body = json!({"user": {"username": name, "email": format!("{name}@example.com"), "password": "password123"}});
    let (status, got) = rw(app, Method::POST, "/users", None, Some(body)).await;
    assert_eq!(status, 201, "{got}");
    got["user"]["token"].as_str().unwrap().to_owned()
}

pub(crate) fn errors(body: &Value) -> Vec<String> {
    body["errors"]["body"]
        .as_array()
        .unwrap_or_else(|| panic!("a Conduit error body: {body}"))
        .iter()
        .map(|e| e.as_str().unwrap().to_owned())
        .collect()
}

backends!(users_register_log_in_by_email_and_change_their_account);
async fn users_register_log_in_by_email_and_change_their_account(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.realworld = true).await;
    let body = json!({"user": {"username": "jake", "email": "Jake@Example.com", "password": "jakejakejake"}});
    let (status, got) = rw(&app, Method::POST, "/users", None, Some(body)).await;
    assert_eq!(status, 201);
    let user = &got["user"];
    assert_eq!(
        (user["username"].as_str(), user["email"].as_str()),
        (Some("jake"), Some("Jake@Example.com"))
    );
    assert_eq!(
        (user["bio"].clone(), user["image"].clone()),
        (Value::Null, Value::Null)
    );
    assert!(user["token"].as_str().unwrap().starts_with("pb_"));
    // Taken: the same name in another case, the same email in another case.
    let clash = json!({"user": {"username": "JAKE", "email": "other@example.com", "password": "jakejakejake"}});
    let (status, got) = rw(&app, Method::POST, "/users", None, Some(clash)).await;
    assert_eq!(
        (status, errors(&got)),
        (409, vec!["Username already taken".to_owned()])
    );
    let other = json!({"user": {"username": "finn", "email": "jake@example.COM", "password": "jakejakejake"}});
    let (status, got) = rw(&app, Method::POST, "/users", None, Some(other)).await;
    assert_eq!(
        (status, errors(&got)),
        (409, vec!["Email already taken".to_owned()])
    );
    let bad = json!({"user": {"username": "x", "email": "nope", "password": "short"}});
    let (status, got) = rw(&app, Method::POST, "/users", None, Some(bad)).await;
    assert_eq!(status, 422, "validation is 422 here: {got}");
    assert!(errors(&got)[0].starts_with("Invalid "), "{got}");

    let login = json!({"user": {"email": "JAKE@example.com", "password": "jakejakejake"}});
    let (status, got) = rw(&app, Method::POST, "/users/login", None, Some(login)).await;
    assert_eq!(status, 200);
    let token = got["user"]["token"].as_str().unwrap().to_owned();
    for wrong in [
        json!({"email": "jake@example.com", "password": "wrong-password"}),
        json!({"email": "nobody@example.com", "password": "jakejakejake"}),
    ] {
        let (status, got) = rw(
            &app,
            Method::POST,
            "/users/login",
            None,
            Some(json!({"user": wrong})),
        )
        .await;
        assert_eq!(
            (status, errors(&got)),
            (401, vec!["Invalid username or password".to_owned()])
        );
    }

    let (status, got) = rw(&app, Method::GET, "/user", Some(&token), None).await;
    assert_eq!(
        (status, got["user"]["token"].as_str()),
        (200, Some(token.as_str()))
    );
    // postbase's own Bearer works too; no token is 401 in Conduit's shape.
    let res = app
        .request(Method::GET, &format!("{RW}/user"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, got) = rw(&app, Method::GET, "/user", None, None).await;
    assert_eq!(
        (status, errors(&got)),
        (401, vec!["Invalid token".to_owned()])
    );

    let change = json!({"user": {"bio": "I like to skateboard", "image": "https://i.example.com/j.png", "username": "jacob", "password": ""}});
    let (status, got) = rw(&app, Method::PUT, "/user", Some(&token), Some(change)).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["user"]["username"], "jacob");
    assert_eq!(got["user"]["bio"], "I like to skateboard");
    // The same account on the native API.
    let native = app
        .authed(Method::GET, "/api/profile", &token)
        .send()
        .await
        .unwrap();
    let native: Value = native.json().await.unwrap();
    assert_eq!(
        (native["username"].as_str(), native["bio"].as_str()),
        (Some("jacob"), Some("I like to skateboard"))
    );
    let bad = json!({"user": {"image": "javascript:alert(1)"}});
    let (status, _) = rw(&app, Method::PUT, "/user", Some(&token), Some(bad)).await;
    assert_eq!(status, 422);
}

backends!(profiles_show_follow_and_unfollow_by_username);
async fn profiles_show_follow_and_unfollow_by_username(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.realworld = true).await;
    let jake = register(&app, "jake").await;
    register(&app, "celeb").await;
    let (status, got) = rw(&app, Method::GET, "/profiles/CELEB", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        got["profile"],
        json!({"username": "celeb", "bio": null, "image": null, "following": false})
    );
    let (status, got) = rw(
        &app,
        Method::POST,
        "/profiles/celeb/follow",
        Some(&jake),
        None,
    )
    .await;
    assert_eq!(
        (status, got["profile"]["following"].as_bool()),
        (200, Some(true))
    );
    let (_, got) = rw(&app, Method::GET, "/profiles/celeb", Some(&jake), None).await;
    assert_eq!(got["profile"]["following"], true);
    let (status, got) = rw(
        &app,
        Method::DELETE,
        "/profiles/celeb/follow",
        Some(&jake),
        None,
    )
    .await;
    assert_eq!(
        (status, got["profile"]["following"].as_bool()),
        (200, Some(false))
    );
    let (status, got) = rw(&app, Method::GET, "/profiles/nobody", None, None).await;
    assert_eq!(
        (status, errors(&got)),
        (404, vec!["Profile not found".to_owned()])
    );
    let (status, _) = rw(
        &app,
        Method::POST,
        "/profiles/jake/follow",
        Some(&jake),
        None,
    )
    .await;
    assert_eq!(status, 422, "following oneself");
    let (status, _) = rw(&app, Method::POST, "/profiles/celeb/follow", None, None).await;
    assert_eq!(status, 401);
}

backends!(the_surface_is_off_unless_asked_for_and_documents_itself);
async fn the_surface_is_off_unless_asked_for_and_documents_itself(backend: Backend) {
    let off = spawn_app(backend.clone()).await;
    assert_eq!(off.get("/realworld/api/tags").await.status(), 404);
    let on = spawn_app_with(backend, |c| c.realworld = true).await;
    let doc = on.get_json("/realworld/api/openapi.json").await;
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/realworld/api/users",
        "/realworld/api/users/login",
        "/realworld/api/user",
        "/realworld/api/profiles/{username}/follow",
        "/realworld/api/articles/feed",
        "/realworld/api/articles/{slug}/comments/{id}",
        "/realworld/api/tags",
    ] {
        assert!(paths.contains_key(path), "{path} in the document");
    }
    assert_eq!(paths.len(), 12, "every path of the specification");
    // The native document does not list them.
    let native = on.get_json("/api/openapi.json").await;
    assert!(!native["paths"]
        .as_object()
        .unwrap()
        .keys()
        .any(|p| p.starts_with("/realworld")));
}
