//! What goes into the logs: never a password, a password hash or a token, across a whole session
//! of a real process; and a 500's cause (a panic's message) with the request id, so a bug report
//! can be matched to it.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::routing::get;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with_routes, Backend, PASSWORD};
use crate::server::Server;

#[tokio::test]
async fn a_whole_session_logs_no_password_no_hash_and_no_token() {
    let server = Server::start(&Backend::Sqlite, &[]).await;
    let (id, token) = server.user("alice").await;
    let wrong = "Wr0ng-but-secret-guess";
    let new_password = "N3w-and-very-secret";
    assert_eq!(
        server
            .login_with(&server.client, "alice", wrong)
            .await
            .status(),
        401
    );
    let authed = |method: Method, path: &str| server.request(method, path).bearer_auth(&token);
    assert_eq!(
        authed(Method::GET, "/api/profile")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = authed(Method::PATCH, &format!("/api/users/{id}"))
        .json(&json!({"password": new_password, "current_password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = server
        .login_with(&server.client, "alice", new_password)
        .await;
    let second: String = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .into();
    let res = server
        .request(Method::DELETE, "/api/tokens/current")
        .bearer_auth(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = server
        .request(Method::GET, "/api/profile")
        .bearer_auth(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a revoked token is refused");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = server.log();
    assert!(
        log.contains("failed login"),
        "the session was logged:\n{log}"
    );
    for secret in [
        PASSWORD,
        wrong,
        new_password,
        &token,
        &second,
        "$argon2",
        "pb_",
    ] {
        assert!(!log.contains(secret), "{secret:?} in the log:\n{log}");
    }
}

/// Collects what the app logs on this thread (the test's runtime runs the server's tasks here).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_panics_message_is_logged_with_its_request_id_and_not_sent() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let extra = axum::Router::new().route(
        "/test/panic",
        get(|| async {
            if std::hint::black_box(true) {
                panic!("the cause, for the log only");
            }
            "unreachable"
        }),
    );
    let app = spawn_app_with_routes(Backend::Sqlite, |_| {}, Some(extra)).await;
    let res = app
        .request(Method::GET, "/test/panic")
        .header("x-request-id", "find-me-7")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    assert!(!res.text().await.unwrap().contains("the cause"));
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("find-me-7") && l.contains("the cause, for the log only")),
        "the panic's message with its request id:\n{log}"
    );
}
