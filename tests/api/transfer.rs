//! `postbase export` / `postbase import`: an instance moved SQLite -> (the backend) -> SQLite keeps
//! every row byte for byte, its users keep their passwords and live tokens, and new ids come after
//! the imported ones.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{backends, spawn_app, Backend, PASSWORD};
use crate::instance::Instance;
use crate::test_db::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_postbase");

pub(crate) async fn run(args: &[&str], stdin: &[u8]) -> Output {
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
pub(crate) async fn export(url: &str) -> String {
    let out = run(&["export", "--database-url", url], b"").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("exports are UTF-8")
}

pub(crate) async fn import(url: &str, dump: &str) -> Output {
    run(&["import", "--database-url", url], dump.as_bytes()).await
}

/// The trailer a version 2 dump ending in `body` carries: the count of each kind and the SHA-256
/// of every byte before it.
pub(crate) fn seal(body: &str) -> String {
    let count = |kind: &str| {
        let tag = format!("{{\"kind\":\"{kind}\",");
        body.lines().filter(|l| l.starts_with(&tag)).count()
    };
    let sha: String = Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{{\"kind\":\"end\",\"users\":{},\"tokens\":{},\"posts\":{},\"comments\":{},\"likes\":{},\"follows\":{},\"sha256\":\"{sha}\"}}\n",
        count("user"),
        count("token"),
        count("post"),
        count("comment"),
        count("like"),
        count("follow")
    )
}

/// Is the database at `url` as a failed import must leave it: no rows, no ids handed out?
pub(crate) async fn assert_untouched(url: &str) {
    let store = postbase::store::connect(url).await.unwrap();
    assert!(store.is_empty().await.unwrap(), "rows were imported");
    assert_eq!(store.export_ids().await.unwrap(), Default::default());
}

/// Imports `dump` into `url`, expects a refusal that says `expected`, and nothing imported.
pub(crate) async fn assert_refused(url: &str, dump: &str, expected: &str) {
    let out = import(url, dump).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "imported, expected {expected:?}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in: {stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_untouched(url).await;
}

/// A source instance with a little of everything, exported.
async fn some_instance_exported() -> String {
    let source = spawn_app(Backend::Sqlite).await;
    let alice = source.user("alice").await;
    source.user("bob").await;
    for i in 0..3 {
        source
            .create_post(&alice.token, &format!("post {i}"), "")
            .await;
    }
    export(&source.database_url).await
}

backends!(a_cut_or_altered_dump_is_refused_and_leaves_the_database_empty);
async fn a_cut_or_altered_dump_is_refused_and_leaves_the_database_empty(backend: Backend) {
    let dump = some_instance_exported().await;
    let lines: Vec<&str> = dump.split_inclusive('\n').collect();
    assert_eq!(lines.len(), 1 + 2 + 2 + 3 + 1 + 1, "{dump}");
    let db = TestDb::new(&backend).await;
    let without_trailer = lines[..lines.len() - 1].concat();
    assert_refused(
        &db.url,
        &without_trailer,
        "the dump is incomplete: no trailer",
    )
    .await;
    // `head -n 4`: cut at a line boundary, as by a full disk or a copy interrupted.
    let head = lines[..4].concat();
    assert_refused(&db.url, &head, "no trailer (it ends at line 4)").await;
    // A line gone from the middle, the trailer kept.
    let gap = [&lines[..6], &lines[7..]].concat().concat();
    assert_refused(
        &db.url,
        &gap,
        "line 9: the trailer counts 2 users, 2 tokens, 3 posts",
    )
    .await;
    // The same counts, a row altered.
    let altered = dump.replace("post 1", "post 9");
    assert_refused(&db.url, &altered, "line 10: checksum mismatch").await;
    // Nothing after the trailer.
    assert_refused(
        &db.url,
        &format!("{dump}{}", lines[1]),
        "line 11: nothing may follow",
    )
    .await;
    // A version 1 dump has no trailer to tell, but one without its final ids record is cut.
    let v1 = as_version_1(&dump);
    let v1_cut = v1[..v1[..v1.len() - 1].rfind('\n').unwrap() + 1].to_owned();
    assert_refused(&db.url, &v1_cut, "the dump is incomplete: no ids record").await;
    // The whole dump, after all those refusals, goes in as it is.
    let out = import(&db.url, &dump).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(export(&db.url).await, dump);
}

/// What `dump` looked like as a version 1 export, made before dumps had a trailer.
fn as_version_1(dump: &str) -> String {
    let body = &dump[..dump[..dump.len() - 1].rfind('\n').unwrap() + 1];
    body.replacen("\"version\":4}", "\"version\":1}", 1)
}

backends!(a_version_1_dump_without_a_trailer_still_imports_with_a_warning);
async fn a_version_1_dump_without_a_trailer_still_imports_with_a_warning(backend: Backend) {
    let dump = some_instance_exported().await;
    let v1 = as_version_1(&dump);
    assert!(v1.starts_with("{\"format\":\"postbase-export\",\"version\":1}\n"));
    assert!(!v1.contains("\"kind\":\"end\""));
    let db = TestDb::new(&backend).await;
    let out = import(&db.url, &v1).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "warning: a version 1 dump has no trailer, so its completeness cannot be verified"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("imported 2 users, 2 tokens, 3 posts"),
        "{stderr}"
    );
    // The same data as the version 3 export it came from, now with its trailer again.
    assert_eq!(export(&db.url).await, dump);
    // A dump with a trailer gives no such warning.
    let again = TestDb::new(&backend).await;
    let out = import(&again.url, &dump).await;
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
}

backends!(an_instance_moved_through_export_and_import_keeps_everything);
async fn an_instance_moved_through_export_and_import_keeps_everything(backend: Backend) {
    // An instance with some history: edits, deletes (gaps in ids), a revoked and a live token,
    // an admin, an email, and text that only survives if stored exactly.
    let source = spawn_app(Backend::Sqlite).await;
    let alice = source.user("alice").await;
    let bob = source.user("bob").await;
    let root = source.admin("root").await;
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
        .json(&json!({"title": "edited", "tags": ["Rust", "web"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Comments (one deleted: a gap in their ids) and likes, on a post that stays.
    for body in ["first", "second \u{0} ✓", "third"] {
        let res = source
            .authed(Method::POST, "/api/posts/2/comments", &bob.token)
            .json(&json!({ "body": body }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let res = source
        .authed(Method::DELETE, "/api/comments/3", &bob.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    for token in [&alice.token, &bob.token] {
        let res = source
            .authed(Method::PUT, "/api/posts/2/like", token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    // A profile, and follows (one ended: a gap in their ids).
    let res = source
        .authed(
            Method::PATCH,
            &format!("/api/users/{}", alice.id),
            &alice.token,
        )
        .json(&json!({"bio": "Writes.", "image": "https://example.com/a.png"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for (method, who, whom) in [
        (Method::PUT, &bob.token, alice.id),
        (Method::PUT, &alice.token, bob.id),
        (Method::PUT, &root.token, alice.id),
        (Method::DELETE, &alice.token, bob.id),
    ] {
        let url = format!("/api/users/{whom}/follow");
        let res = source.authed(method, &url, who).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
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
    assert!(text.starts_with("{\"format\":\"postbase-export\",\"version\":4}\n"));
    assert_eq!(
        text.lines().count(),
        1 + 3 + 3 + 4 + 2 + 2 + 2 + 1 + 1,
        "header, users, tokens, posts, comments, likes, follows, ids, trailer"
    );
    assert!(text.contains("\"bio\":\"Writes.\",\"image\":\"https://example.com/a.png\""));
    assert!(text.contains("\"tags\":[\"rust\",\"web\"]"), "{text}");
    let ids = format!(
        "{{\"kind\":\"ids\",\"users\":3,\"posts\":{last_post},\"comments\":3,\"follows\":3}}\n"
    );
    let (body, trailer) = text.split_at(text[..text.len() - 1].rfind('\n').unwrap() + 1);
    assert!(body.ends_with(&ids), "{text}");
    assert_eq!(
        trailer,
        seal(body),
        "the trailer counts and hashes what precedes it"
    );
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
        // Follows, their counts and the feed were rebuilt by the database too.
        let res = moved
            .request(Method::GET, &format!("/api/users/{}", alice.id))
            .send()
            .await
            .unwrap();
        let user: Value = res.json().await.unwrap();
        assert_eq!(
            (
                user["bio"].clone(),
                user["follower_count"].clone(),
                user["post_count"].clone()
            ),
            (json!("Writes."), json!(2), json!(4))
        );
        let res = moved
            .request(Method::GET, "/api/feed?limit=100")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let feed: Value = res.json().await.unwrap();
        assert_eq!(feed["posts"].as_array().unwrap().len(), 4, "{feed}");
        // Counts are not in the dump: the database rebuilt them as the rows loaded.
        let res = moved
            .request(Method::GET, "/api/posts/2")
            .send()
            .await
            .unwrap();
        let post: Value = res.json().await.unwrap();
        assert_eq!(post["like_count"], 2, "{post}");
        assert_eq!(post["comment_count"], 2, "{post}");
        assert_eq!(post["tags"], json!(["rust", "web"]));
        let res = moved
            .request(Method::GET, "/api/tags")
            .send()
            .await
            .unwrap();
        let tags: Value = res.json().await.unwrap();
        assert_eq!(
            tags,
            json!([{"name": "rust", "count": 1}, {"name": "web", "count": 1}])
        );
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
        // The ETag (version, likes, comments) of the edited post came along.
        let res = moved
            .request(Method::GET, "/api/posts/2")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["etag"], "\"2-2-2\"");
    }
}
