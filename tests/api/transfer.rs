//! `postbase export` / `postbase import`: an instance moved SQLite -> (the backend) -> SQLite keeps
//! every row byte for byte, its users keep their passwords and live tokens, and new ids come after
//! the imported ones.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backends, spawn_app, Backend, TestDb, PASSWORD};
use crate::multi::Instance;

const BIN: &str = env!("CARGO_BIN_EXE_postbase");

async fn run(args: &[&str], stdin: &[u8]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let stdin = stdin.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&stdin).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

/// The export as text, so that a mismatch shows as lines rather than bytes.
async fn export(url: &str) -> String {
    let out = run(&["export", "--database-url", url], b"").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("exports are UTF-8")
}

async fn import(url: &str, dump: &str) -> Output {
    run(&["import", "--database-url", url], dump.as_bytes()).await
}

backends!(an_instance_moved_through_export_and_import_keeps_everything);
async fn an_instance_moved_through_export_and_import_keeps_everything(backend: Backend) {
    // An instance with some history: edits, deletes (gaps in ids), a revoked and a live token,
    // an admin, an email, and text that only survives if stored exactly.
    let source = spawn_app(Backend::Sqlite).await;
    let alice = source.user("alice").await;
    let bob = source.user("bob").await;
    source.admin("root").await;
    let revoked = source.token_for("bob").await;
    let res = source
        .authed(Method::DELETE, "/api/tokens/current", &revoked)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let mut last_post = 0;
    for i in 0..5 {
        let post = source
            .create_post(&alice.token, &format!("post {i} ✓"), "nul \u{0} and 🌍")
            .await;
        last_post = post["id"].as_i64().unwrap();
    }
    let res = source
        .authed(Method::PATCH, "/api/posts/2", &alice.token)
        .json(&json!({"title": "edited"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = source
        .authed(
            Method::DELETE,
            &format!("/api/posts/{last_post}"),
            &alice.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let source_url = source.database_url.clone();

    let dump = export(&source_url).await;
    let text = dump.clone();
    assert!(text.starts_with(r#"{"format":"postbase-export","version":1}"#));
    assert_eq!(
        text.lines().count(),
        1 + 3 + 3 + 4 + 1,
        "header, users, tokens, posts, ids"
    );
    let ids = format!("{{\"kind\":\"ids\",\"users\":3,\"posts\":{last_post}}}\n");
    assert!(text.ends_with(&ids), "{text}");
    assert!(
        !text.contains(&alice.token) && !text.contains(PASSWORD),
        "only hashes leave the database"
    );

    // Into the backend under test, and back out unchanged.
    let middle = TestDb::new(&backend).await;
    let out = import(&middle.url, &dump).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("imported 3 users, 3 tokens, 4 posts"));
    assert!(out.stdout.is_empty());
    assert_eq!(export(&middle.url).await, dump);

    // And on to a fresh SQLite file: still the same data.
    let last = TestDb::new(&Backend::Sqlite).await;
    assert!(import(&last.url, &export(&middle.url).await)
        .await
        .status
        .success());
    assert_eq!(export(&last.url).await, dump);

    // A database that already holds data is refused, and left as it was.
    let out = import(&middle.url, &dump).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("import only into an empty one"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(export(&middle.url).await, dump);

    for url in [&middle.url, &last.url] {
        let moved = Instance::start(url, &[]).await;
        // The live token still works, the revoked one still does not, the password still logs in.
        let res = moved
            .request(Method::GET, "/api/profile")
            .bearer_auth(&alice.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let profile: Value = res.json().await.unwrap();
        assert_eq!(profile["id"], alice.id);
        assert_eq!(profile["email"], "alice@example.com");
        let res = moved
            .request(Method::GET, "/api/profile")
            .bearer_auth(&revoked)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let token = moved.login("bob").await;
        // New rows get ids past the imported ones, even past the deleted post's.
        let res = moved
            .request(Method::POST, "/api/posts")
            .bearer_auth(&token)
            .json(&json!({"title": "after the move"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        assert!(id > last_post, "post id {id} after {last_post}");
        let res = moved.signup("carol").await;
        assert_eq!(res.status(), 201);
        let carol = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        assert!(carol > bob.id);
        // The ETag (version) of the edited post came along.
        let res = moved
            .request(Method::GET, "/api/posts/2")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["etag"], "\"2\"");
    }
}
