//! Emails are unique across accounts, whatever their case (the RealWorld API logs in by email):
//! 409 `Email already taken` at sign-up and on a change, on both databases.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, spawn_app, Backend, PASSWORD};

backends!(an_email_belongs_to_one_account_whatever_its_case);
async fn an_email_belongs_to_one_account_whatever_its_case(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .post_json(
            "/api/users",
            json!({"username": "ada", "password": PASSWORD, "email": "Ada@Example.com"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post_json(
            "/api/users",
            json!({"username": "bob", "password": PASSWORD, "email": "ada@example.COM"}),
        )
        .await;
    assert_error(res, 409, "Email already taken").await;
    let bob = app.user("bob").await;
    let me = format!("/api/users/{}", bob.id);
    let res = app
        .authed(Method::PATCH, &me, &bob.token)
        .json(&json!({"email": "ADA@example.com"}))
        .send()
        .await
        .unwrap();
    assert_error(res, 409, "Email already taken").await;
    let profile = app
        .authed(Method::GET, &me, &bob.token)
        .send()
        .await
        .unwrap();
    let profile: Value = profile.json().await.unwrap();
    assert_eq!(
        profile["email"], "bob@example.com",
        "the refused change left nothing behind"
    );
    // One's own email in another case is still one's own; accounts without one do not clash.
    let res = app
        .authed(Method::PATCH, &me, &bob.token)
        .json(&json!({"email": "Bob@Example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for name in ["carol", "dave"] {
        let res = app
            .post_json(
                "/api/users",
                json!({"username": name, "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), 201, "no email, no clash");
    }
}
