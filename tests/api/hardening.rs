//! Smaller holes an attacker's probe found, each closed and kept closed: writes answered 503 and
//! committed later, a database file deleted under a running server, a user deleted while posting,
//! password changes with a stolen token, file permissions, and body charsets.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, postgres_only, spawn_app, Backend, PASSWORD};
use crate::server::Server;
use crate::test_db::admin_sql;

fn sqlite_path(server: &Server) -> String {
    server
        .database_url()
        .strip_prefix("sqlite://")
        .unwrap()
        .to_owned()
}

async fn post(server: &Server, token: &str, title: String) -> reqwest::Response {
    server
        .request(Method::POST, "/api/posts")
        .bearer_auth(token)
        .json(&json!({"title": title, "body": "b"}))
        .send()
        .await
        .unwrap()
}

async fn post_count(server: &Server) -> usize {
    let res = server
        .request(Method::GET, "/api/posts?limit=100")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["posts"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_write_answered_503_is_never_committed_later() {
    let server = Server::start(&Backend::Sqlite, &["--request-timeout", "1s"]).await;
    let (_, token) = server.user("alice").await;
    // Someone else holds SQLite's write lock for 3 s.
    let locker = rusqlite::Connection::open(sqlite_path(&server)).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let answers = join_all((0..6).map(|i| post(&server, &token, format!("p{i}")))).await;
    let acknowledged = answers.iter().filter(|r| r.status() == 201).count();
    for res in &answers {
        assert!(
            res.status() == 201 || res.status() == 503,
            "{}",
            res.status()
        );
    }
    assert!(
        acknowledged < 6,
        "the lock should have delayed some writes past the timeout"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    locker.execute_batch("COMMIT").unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        post_count(&server).await,
        acknowledged,
        "exactly the acknowledged writes are stored"
    );
}

#[tokio::test]
async fn a_deleted_database_file_makes_writes_and_readiness_503() {
    let server = Server::start(&Backend::Sqlite, &[]).await;
    let (_, token) = server.user("alice").await;
    assert_eq!(post(&server, &token, "before".into()).await.status(), 201);
    let path = sqlite_path(&server);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let res = post(&server, &token, "after".into()).await;
    assert_error(res, 503, "Service unavailable, try again shortly").await;
    let res = server
        .request(Method::POST, "/api/users")
        .json(&json!({"username": "bob", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let ready = server.request(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(ready.status(), 503);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = server.log();
    let errors = log
        .lines()
        .filter(|l| l.contains(" ERROR ") && l.contains("was deleted while open"))
        .count();
    assert_eq!(errors, 1, "one clear error, not one per request:\n{log}");
}

async fn a_dropped_postgres_database_is_503_and_recovers_without_a_restart(backend: Backend) {
    let server = Server::start(&backend, &["--db-timeout", "2s"]).await;
    let (_, token) = server.user("alice").await;
    let (admin, name) = server.db().postgres().unwrap();
    let (admin, name) = (admin.to_owned(), name.to_owned());
    admin_sql(&admin, &format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
    for _ in 0..3 {
        let res = post(&server, &token, "while gone".into()).await;
        assert_error(res, 503, "Service unavailable, try again shortly").await;
        let res = server
            .request(Method::GET, "/api/posts")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 503);
    }
    let ready = server.request(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(ready.status(), 503);
    admin_sql(&admin, &format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let mut ready = false;
    for _ in 0..50 {
        let res = server.request(Method::GET, "/readyz").send().await.unwrap();
        if res.status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(ready, "/readyz is 200 again once the database is back");
    // Empty again, with the schema applied: a new account works, the old token does not.
    server.sign_up("bob").await;
    let res = post(&server, &token, "old token".into()).await;
    assert_eq!(res.status(), 401);
    let log = server.log();
    assert!(
        log.contains("SQLSTATE"),
        "PostgreSQL's own error in the log:\n{log}"
    );
}
postgres_only!(a_dropped_postgres_database_is_503_and_recovers_without_a_restart);

async fn a_user_deleted_while_posting_never_gets_a_5xx(backend: Backend) {
    let server = Server::start(&backend, &[]).await;
    for round in 0..15 {
        let (id, token) = server.user(&format!("racer{round}")).await;
        let delete = server
            .request(Method::DELETE, &format!("/api/users/{id}"))
            .bearer_auth(&token)
            .send();
        let posts = join_all((0..3).map(|i| post(&server, &token, format!("r{round}-{i}"))));
        let (deleted, posts) = tokio::join!(delete, posts);
        assert_eq!(deleted.unwrap().status(), 204);
        for res in posts {
            let status = res.status().as_u16();
            assert!(matches!(status, 201 | 401 | 404), "round {round}: {status}");
        }
    }
}
backends!(a_user_deleted_while_posting_never_gets_a_5xx);

async fn changing_ones_own_password_needs_the_current_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let path = format!("/api/users/{}", alice.id);
    let patch = |body: Value| {
        app.authed(Method::PATCH, &path, &alice.token)
            .json(&body)
            .send()
    };
    let res = patch(json!({"password": "stolen token, new password"}))
        .await
        .unwrap();
    let body = assert_error(res, 400, "Current password required").await;
    assert_eq!(body["fields"]["current_password"], "is required");
    let res = patch(
        json!({"password": "stolen token, new password", "current_password": "a guess at it"}),
    )
    .await
    .unwrap();
    assert_error(res, 403, "Current password is incorrect").await;
    assert_eq!(
        app.login("alice", PASSWORD).await.status(),
        201,
        "unchanged"
    );
    let res = patch(json!({"password": "a new password", "current_password": PASSWORD}))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // An admin changing someone else's password needs no password of theirs.
    let admin = app.admin("root").await;
    let res = app
        .authed(Method::PATCH, &path, &admin.token)
        .json(&json!({"password": "reset by the admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(app.login("alice", "reset by the admin").await.status(), 201);
}
backends!(changing_ones_own_password_needs_the_current_one);

async fn a_body_in_another_charset_or_a_non_json_type_is_415(backend: Backend) {
    let app = spawn_app(backend).await;
    for content_type in [
        "application/json; charset=latin1",
        "application/json; charset=utf-16",
        "text/x+json",
        "image/svg+json",
    ] {
        let res = app
            .request(Method::POST, "/api/users")
            .header("content-type", content_type)
            .body(json!({"username": "alice", "password": PASSWORD}).to_string())
            .send()
            .await
            .unwrap();
        assert_error(
            res,
            415,
            "Request body must be JSON (Content-Type: application/json)",
        )
        .await;
    }
    let res = app
        .request(Method::POST, "/api/users")
        .header("content-type", "application/json; charset=UTF-8")
        .body(json!({"username": "alice", "password": PASSWORD}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}
backends!(a_body_in_another_charset_or_a_non_json_type_is_415);

#[tokio::test]
async fn the_database_and_an_export_file_are_private_to_their_owner() {
    let server = Server::start(&Backend::Sqlite, &[]).await;
    server.user("alice").await;
    let path = sqlite_path(&server);
    for file in [path.clone(), format!("{path}-wal"), format!("{path}-shm")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}: {mode:o}");
    }
    let dump = tempfile::tempdir().unwrap().keep().join("dump.jsonl");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_postbase"))
        .args(["export", "--output", dump.to_str().unwrap()])
        .args(["--database-url", server.database_url()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = std::fs::metadata(&dump).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(std::fs::read_to_string(&dump)
        .unwrap()
        .contains("$argon2id$"));
}
