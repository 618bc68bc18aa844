//! An instance moved SQLite -> (the backend) -> SQLite through `postbase export` / `postbase
//! import`: every row byte for byte, passwords and live tokens working, counts, follows and feeds
//! rebuilt by the database, and new ids after the imported ones.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backends, spawn_app, Backend, PASSWORD};
use crate::instance::Instance;
use crate::test_db::TestDb;
use crate::transfer::{export, import, seal};

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
    assert!(text.starts_with("{\"format\":\"postbase-export\",\"version\":5}\n"));
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
