//! What an operator does from the shell: account tools, backups, and a clean shutdown that leaves
//! the SQLite file complete on its own.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backends, Backend, PASSWORD};
use crate::server::Server;

const BIN: &str = env!("CARGO_BIN_EXE_postbase");

fn postbase(args: &[&str], url: &str, input: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .args(["--database-url", url])
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

async fn profile(server: &Server, token: &str) -> reqwest::Response {
    server
        .request(Method::GET, "/api/profile")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn the_account_tools_work_on_a_live_instance(backend: Backend) {
    let server = Server::start(&backend, &[]).await;
    let url = server.database_url().to_owned();
    postbase(
        &[
            "user",
            "create",
            "--username",
            "root",
            "--password-stdin",
            "--admin",
        ],
        &url,
        "the root password\n",
    );
    let (alice_id, token) = server.user("alice").await;
    let me: Value = profile(&server, &token).await.json().await.unwrap();
    assert_eq!(
        me["admin"], false,
        "the user sees whether they are an admin"
    );

    let list = String::from_utf8(postbase(&["user", "list"], &url, "").stdout).unwrap();
    let root = list
        .lines()
        .find(|l| l.contains(" root "))
        .expect("root listed");
    assert!(root.contains("true"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.contains(" alice ") && l.contains("false")),
        "{list}"
    );

    postbase(&["user", "set-admin", "ALICE", "true"], &url, "");
    let me: Value = profile(&server, &token).await.json().await.unwrap();
    assert_eq!(me["admin"], true);

    postbase(
        &["user", "set-password", "alice", "--password-stdin"],
        &url,
        "a brand new password\n",
    );
    assert_eq!(
        profile(&server, &token).await.status(),
        401,
        "her sessions are logged out"
    );
    let res = server.login_with(&server.client, "alice", PASSWORD).await;
    assert_eq!(res.status(), 401, "the old password is gone");
    let res = server
        .login_with(&server.client, "alice", "a brand new password")
        .await;
    assert_eq!(res.status(), 201);
    let token: String = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .into();

    let out = postbase(&["token", "revoke", "--user", "alice"], &url, "");
    assert!(String::from_utf8_lossy(&out.stdout).contains("revoked 1 token"));
    assert_eq!(profile(&server, &token).await.status(), 401);

    postbase(&["user", "delete", "alice"], &url, "");
    let res = server
        .request(Method::GET, &format!("/api/users/{alice_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let list = String::from_utf8(postbase(&["user", "list"], &url, "").stdout).unwrap();
    assert!(!list.contains("alice"), "{list}");

    for sub in [
        &["user", "list"][..],
        &["user", "set-password"],
        &["user", "set-admin"],
        &["user", "delete"],
        &["token", "revoke"],
        &["backup"],
    ] {
        let out = Command::new(BIN).args(sub).arg("--help").output().unwrap();
        assert!(out.status.success(), "{sub:?} --help");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("--database-url") && help.contains("Usage:"),
            "{help}"
        );
    }
}
backends!(the_account_tools_work_on_a_live_instance);

#[tokio::test]
async fn a_backup_taken_under_writes_restores_every_write_acknowledged_before_it() {
    let server = Server::start(&Backend::Sqlite, &[]).await;
    let (_, token) = server.user("alice").await;
    let url = server.database_url().to_owned();
    let writing = {
        let (client, base, token) = (server.client.clone(), server.base.clone(), token.clone());
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..400 {
                let res = client
                    .post(format!("{base}/api/posts"))
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("post {i}"), "body": ""}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
                acknowledged.push((std::time::Instant::now(), id));
            }
            acknowledged
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let started = std::time::Instant::now();
    let out = tokio::task::spawn_blocking({
        let (copy, url) = (copy.clone(), url.clone());
        move || postbase(&["backup", "--to", copy.to_str().unwrap()], &url, "")
    })
    .await
    .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("to restore:"));
    let acknowledged = writing.await.unwrap();
    let before: Vec<i64> = acknowledged
        .iter()
        .filter(|(at, _)| *at < started)
        .map(|(_, id)| *id)
        .collect();
    assert!(
        !before.is_empty(),
        "some writes were acknowledged before the backup began"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Restore: the copy alone, as a new instance's database.
    let restored = rusqlite::Connection::open(&copy).unwrap();
    let check: String = restored
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    for id in &before {
        let found: i64 = restored
            .query_row("SELECT count(*) FROM posts WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(
            found, 1,
            "post {id}, acknowledged before the backup, is in it"
        );
    }
    let out = Command::new(BIN)
        .args([
            "backup",
            "--to",
            "/tmp/never.db",
            "--database-url",
            "postgres://u@127.0.0.1:1/x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}

#[tokio::test]
async fn a_clean_shutdown_leaves_the_database_file_complete_without_its_wal() {
    let mut server = Server::start(&Backend::Sqlite, &[]).await;
    server.user("alice").await;
    let path = server
        .database_url()
        .strip_prefix("sqlite://")
        .unwrap()
        .to_owned();
    assert!(server.terminate(), "exit 0 on SIGTERM");
    let wal = std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the WAL was checkpointed into the main file");
    // A plain copy of the main file alone has the data.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("plain-copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let users: i64 = rusqlite::Connection::open(&copy)
        .unwrap()
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 1);
}
