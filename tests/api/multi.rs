//! Many instances on one PostgreSQL database, as real processes: what one instance does, the other
//! sees on its very next request; concurrent writers through both lose nothing; `If-Match` holds
//! across instances; and instances starting together both come up. A database outage under an
//! instance: `outage.rs`.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{postgres_only, Backend};
use crate::instance::Instance;
use crate::test_db::TestDb;

postgres_only!(a_user_and_their_tokens_are_the_same_on_both_instances);
async fn a_user_and_their_tokens_are_the_same_on_both_instances(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let (a, b) = tokio::join!(Instance::start(&db.url, &[]), Instance::start(&db.url, &[]));
    assert_eq!(a.signup("alice").await.status(), 201);
    // Signed up on A, logs in on B; the username is taken on B too.
    let token_b = b.login("alice").await;
    assert_eq!(b.signup("ALICE").await.status(), 409);
    // A token issued on A works on B, and the other way round.
    let token_a = a.login("alice").await;
    assert_eq!(b.profile(&token_a).await, 200);
    assert_eq!(a.profile(&token_b).await, 200);
    // Revoked on B, refused on A from the very next request: no instance caches tokens.
    let res = b
        .request(Method::DELETE, "/api/tokens/current")
        .bearer_auth(&token_a)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(a.profile(&token_a).await, 401);
    assert_eq!(a.profile(&token_b).await, 200);
}

postgres_only!(concurrent_writers_through_both_instances_lose_nothing);
async fn concurrent_writers_through_both_instances_lose_nothing(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let (a, b) = tokio::join!(Instance::start(&db.url, &[]), Instance::start(&db.url, &[]));
    let (a, b) = (Arc::new(a), Arc::new(b));
    assert_eq!(a.signup("alice").await.status(), 201);
    let (token_a, token_b) = (a.login("alice").await, b.login("alice").await);
    const WRITERS: usize = 16;
    const EACH: usize = 25;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (instance, token) = if w % 2 == 0 {
            (a.clone(), token_a.clone())
        } else {
            (b.clone(), token_b.clone())
        };
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..EACH {
                let res = instance
                    .request(Method::POST, "/api/posts")
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("writer {w} post {i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
            }
            ids
        }));
    }
    // Sign-ups race too: each gets its own id.
    let mut signups = Vec::new();
    for u in 0..10 {
        let instance = if u % 2 == 0 { a.clone() } else { b.clone() };
        signups.push(tokio::spawn(async move {
            let res = instance.signup(&format!("user{u}")).await;
            assert_eq!(res.status(), 201);
            res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
        }));
    }
    let mut created = std::collections::BTreeSet::new();
    for task in tasks {
        for id in task.await.unwrap() {
            assert!(created.insert(id), "id {id} handed out twice");
        }
    }
    assert_eq!(created.len(), WRITERS * EACH);
    let mut user_ids = std::collections::BTreeSet::new();
    for task in signups {
        assert!(user_ids.insert(task.await.unwrap()));
    }
    // Every post is there, read through either instance.
    let mut listed = std::collections::BTreeSet::new();
    let mut path = "/api/posts?limit=100".to_owned();
    for page in 0.. {
        let instance = if page % 2 == 0 { &a } else { &b };
        let body: Value = instance.get(&path).await.json().await.unwrap();
        for post in body["posts"].as_array().unwrap() {
            assert!(listed.insert(post["id"].as_i64().unwrap()));
        }
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/posts?limit=100&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(listed, created);
}

postgres_only!(if_match_on_both_instances_lets_exactly_one_edit_win);
async fn if_match_on_both_instances_lets_exactly_one_edit_win(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let (a, b) = tokio::join!(Instance::start(&db.url, &[]), Instance::start(&db.url, &[]));
    assert_eq!(a.signup("alice").await.status(), 201);
    let token = a.login("alice").await;
    let res = a
        .request(Method::POST, "/api/posts")
        .bearer_auth(&token)
        .json(&json!({"title": "draft"}))
        .send()
        .await
        .unwrap();
    let path = res.headers()["location"].to_str().unwrap().to_owned();
    for round in 0..20 {
        let etag = a.get(&path).await.headers()["etag"]
            .to_str()
            .unwrap()
            .to_owned();
        let edit = |instance: &Instance, title: String| {
            instance
                .request(Method::PATCH, &path)
                .bearer_auth(&token)
                .header("if-match", &etag)
                .json(&json!({ "title": title }))
                .send()
        };
        let (ra, rb) = tokio::join!(edit(&a, format!("A{round}")), edit(&b, format!("B{round}")));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}");
        let (winner, loser) = if ra.status() == 200 {
            (ra, rb)
        } else {
            (rb, ra)
        };
        let won: Value = winner.json().await.unwrap();
        let lost: Value = loser.json().await.unwrap();
        assert_eq!(
            lost["error"],
            "Precondition failed: the resource has changed since you read it"
        );
        let now: Value = b.get(&path).await.json().await.unwrap();
        assert_eq!(
            now["title"], won["title"],
            "the winner's edit is what is stored"
        );
    }
}

postgres_only!(two_instances_starting_at_once_on_a_fresh_database_both_come_up);
async fn two_instances_starting_at_once_on_a_fresh_database_both_come_up(backend: Backend) {
    for _ in 0..3 {
        let db = TestDb::new(&backend).await;
        let (a, b) = tokio::join!(Instance::start(&db.url, &[]), Instance::start(&db.url, &[]));
        assert_eq!(a.get("/readyz").await.status(), 200);
        assert_eq!(b.get("/readyz").await.status(), 200);
        assert_eq!(a.signup("alice").await.status(), 201);
        assert_eq!(b.signup("bob").await.status(), 201);
        let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let conn = tokio::spawn(conn);
        let rows = client
            .query(
                "SELECT version FROM postbase_migrations ORDER BY version",
                &[],
            )
            .await
            .unwrap();
        let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
        let all = std::fs::read_dir("migrations/postgres").unwrap().count() as i32;
        assert_eq!(
            versions,
            (1..=all).collect::<Vec<_>>(),
            "each migration applied exactly once"
        );
        drop(client);
        let _ = conn.await;
    }
}
