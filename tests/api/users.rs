use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, spawn_app, Backend, PASSWORD};

backends!(sign_up_returns_201_with_location_and_the_public_user);
async fn sign_up_returns_201_with_location_and_the_public_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .post_json(
            "/api/users",
            json!({"username": "alice", "password": PASSWORD, "email": "alice@example.com"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = {
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let body: Value = res.json().await.unwrap();
        assert_eq!(location, format!("/api/users/{}", body["id"]));
        let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "id",
                "username",
                "bio",
                "image",
                "follower_count",
                "following_count",
                "post_count",
                "created_at"
            ],
            "the public view, no email: {body}"
        );
        assert_eq!(body["username"], "alice");
        assert!(body["id"].is_i64());
        assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
        body["id"].as_i64().unwrap()
    };
    let res = app.get(&format!("/api/users/{id}")).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["username"], "alice");
    assert!(body.get("email").is_none(), "email is private: {body}");
}

backends!(sign_up_without_a_body_or_username_is_username_required);
async fn sign_up_without_a_body_or_username_is_username_required(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .request(Method::POST, "/api/users")
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "Username required").await;
    let res = app
        .post_json("/api/users", json!({"password": PASSWORD}))
        .await;
    let body = assert_error(res, 400, "Username required").await;
    assert_eq!(body["fields"]["username"], "is required");
    let res = app
        .post_json("/api/users", json!({"username": "bob"}))
        .await;
    assert_error(res, 400, "Password required").await;
}

backends!(sign_up_validates_username_password_and_email_naming_the_field);
async fn sign_up_validates_username_password_and_email_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    for (body, field) in [
        (json!({"username": "ab", "password": PASSWORD}), "username"),
        (
            json!({"username": "has space", "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "x".repeat(33), "password": PASSWORD}),
            "username",
        ),
        (json!({"username": "bob", "password": "short"}), "password"),
        (
            json!({"username": "bob", "password": "p".repeat(129)}),
            "password",
        ),
        (
            json!({"username": "bob", "password": PASSWORD, "email": "nope"}),
            "email",
        ),
        (json!({"username": 42, "password": PASSWORD}), "username"),
        (json!({"username": "bob", "password": ["x"]}), "password"),
    ] {
        let res = app.post_json("/api/users", body.clone()).await;
        assert_eq!(res.status(), 400, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(err["fields"][field].is_string(), "{body} -> {err}");
        assert!(err["error"].as_str().unwrap().contains(field), "{err}");
    }
    let res = app.get("/api/users").await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["users"], json!([]), "nothing was stored");
}

backends!(a_taken_username_is_409_whatever_its_case);
async fn a_taken_username_is_409_whatever_its_case(backend: Backend) {
    let app = spawn_app(backend).await;
    app.signup("Alice").await;
    let res = app
        .post_json(
            "/api/users",
            json!({"username": "aLICE", "password": PASSWORD}),
        )
        .await;
    assert_error(res, 409, "Username already taken").await;
}

backends!(fields_a_client_may_not_set_are_ignored);
async fn fields_a_client_may_not_set_are_ignored(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .post_json(
            "/api/users",
            json!({"username": "mallory", "password": PASSWORD, "admin": true, "id": 999,
                   "created_at": "2000-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_ne!(body["id"], 999);
    assert!(!body["created_at"].as_str().unwrap().starts_with("2000"));
    let token = app.token_for("mallory").await;
    let victim = app.user("victim").await;
    // Were mallory an admin, this would succeed.
    let res = app
        .authed(Method::DELETE, &format!("/api/users/{}", victim.id), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

backends!(an_unknown_or_non_integer_user_id_is_404_user_not_found);
async fn an_unknown_or_non_integer_user_id_is_404_user_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/api/users/12345",
        "/api/users/abc",
        "/api/users/99999999999999999999999",
        "/api/users/-1",
    ] {
        let res = app.get(path).await;
        assert_error(res, 404, "User not found").await;
    }
}

backends!(the_user_list_is_public_and_never_shows_emails);
async fn the_user_list_is_public_and_never_shows_emails(backend: Backend) {
    let app = spawn_app(backend).await;
    app.signup("alice").await;
    app.signup("bob").await;
    let res = app.get("/api/users").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let users = body["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["username"], "alice");
    assert_eq!(users[1]["username"], "bob");
    assert!(users.iter().all(|u| u.get("email").is_none()));
    assert_eq!(body["next_cursor"], Value::Null);
}

backends!(a_user_sees_their_own_email_others_do_not);
async fn a_user_sees_their_own_email_others_do_not(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let path = format!("/api/users/{}", alice.id);
    let own: Value = app
        .authed(Method::GET, &path, &alice.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["email"], "alice@example.com");
    let other: Value = app
        .authed(Method::GET, &path, &bob.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(other.get("email").is_none());
}

backends!(a_user_changes_their_email_and_password);
async fn a_user_changes_their_email_and_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let res = app
        .authed(
            Method::PATCH,
            &format!("/api/users/{}", alice.id),
            &alice.token,
        )
        .json(&json!({"email": "new@example.com", "password": "a new password", "current_password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["email"], "new@example.com");
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());
    assert_eq!(app.login("alice", PASSWORD).await.status(), 401);
    assert_eq!(app.login("alice", "a new password").await.status(), 201);
    // The session that changed the password stays logged in.
    let res = app
        .authed(Method::GET, "/api/profile", &alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

backends!(a_password_change_logs_out_the_other_sessions);
async fn a_password_change_logs_out_the_other_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let other_session = app.token_for("alice").await;
    let res = app
        .authed(
            Method::PATCH,
            &format!("/api/users/{}", alice.id),
            &alice.token,
        )
        .json(&json!({"password": "a new password", "current_password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .authed(Method::GET, "/api/profile", &other_session)
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "Invalid token").await;
}

backends!(a_user_cannot_change_or_delete_another_account);
async fn a_user_cannot_change_or_delete_another_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let path = format!("/api/users/{}", alice.id);
    let res = app
        .authed(Method::PATCH, &path, &bob.token)
        .json(&json!({"email": "bob@evil.example"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .authed(Method::DELETE, &path, &bob.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let own: Value = app
        .authed(Method::GET, &path, &alice.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["email"], "alice@example.com", "unchanged");
    let res = app.request(Method::DELETE, &path).send().await.unwrap();
    assert_error(res, 401, "Invalid token").await;
}

backends!(deleting_an_account_takes_its_tokens_and_posts_with_it);
async fn deleting_an_account_takes_its_tokens_and_posts_with_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let post = app.create_post(&alice.token, "mine", "").await;
    let res = app
        .authed(
            Method::DELETE,
            &format!("/api/users/{}", alice.id),
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(res.text().await.unwrap(), "");
    assert_error(
        app.get(&format!("/api/users/{}", alice.id)).await,
        404,
        "User not found",
    )
    .await;
    assert_error(
        app.get(&format!("/api/posts/{}", post["id"])).await,
        404,
        "Post not found",
    )
    .await;
    let res = app
        .authed(Method::GET, "/api/profile", &alice.token)
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "Invalid token").await;
    // The name is free again.
    app.signup("alice").await;
}

backends!(an_admin_may_change_and_delete_any_account);
async fn an_admin_may_change_and_delete_any_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = app.admin("root").await;
    let alice = app.user("alice").await;
    let path = format!("/api/users/{}", alice.id);
    let seen: Value = app
        .authed(Method::GET, &path, &root.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["email"], "alice@example.com", "admins see emails");
    let res = app
        .authed(Method::PATCH, &path, &root.token)
        .json(&json!({"email": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["email"], Value::Null);
    let res = app
        .authed(Method::DELETE, &path, &root.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get(&path).await.status(), 404);
}
