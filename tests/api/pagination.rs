use serde_json::Value;

use crate::helpers::{assert_error, backends, spawn_app, Backend, TestApp};

async fn titles(page: &Value) -> Vec<String> {
    page["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn page(app: &TestApp, path: &str) -> (Value, Option<String>) {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    let link = res
        .headers()
        .get("link")
        .map(|l| l.to_str().unwrap().to_owned());
    (res.json().await.unwrap(), link)
}

backends!(pages_follow_next_cursor_and_link_and_inserts_in_between_do_not_shift_them);
async fn pages_follow_next_cursor_and_link_and_inserts_in_between_do_not_shift_them(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    for i in 1..=7 {
        app.create_post(&alice.token, &format!("p{i}"), "").await;
    }
    let (first, link) = page(&app, "/api/posts?limit=3").await;
    assert_eq!(titles(&first).await, ["p7", "p6", "p5"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let link = link.expect("a Link header when there is a next page");
    assert_eq!(
        link,
        format!("</api/posts?limit=3&cursor={cursor}>; rel=\"next\"")
    );

    // New posts arrive; the next page still continues where the first ended.
    app.create_post(&alice.token, "p8", "").await;
    let (second, _) = page(&app, &format!("/api/posts?limit=3&cursor={cursor}")).await;
    assert_eq!(titles(&second).await, ["p4", "p3", "p2"]);

    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let (via_link, _) = page(&app, &next).await;
    assert_eq!(via_link, second);

    let cursor = second["next_cursor"].as_str().unwrap();
    let (last, link) = page(&app, &format!("/api/posts?limit=3&cursor={cursor}")).await;
    assert_eq!(titles(&last).await, ["p1"]);
    assert_eq!(last["next_cursor"], Value::Null);
    assert!(link.is_none(), "no Link on the last page");
}

backends!(a_page_exactly_full_at_the_end_has_no_next_cursor);
async fn a_page_exactly_full_at_the_end_has_no_next_cursor(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    for i in 0..4 {
        app.create_post(&alice.token, &format!("p{i}"), "").await;
    }
    let (p, link) = page(&app, "/api/posts?limit=2").await;
    let c = p["next_cursor"].as_str().unwrap();
    assert!(link.is_some());
    let (p, link) = page(&app, &format!("/api/posts?limit=2&cursor={c}")).await;
    assert_eq!(p["posts"].as_array().unwrap().len(), 2);
    assert_eq!(p["next_cursor"], Value::Null);
    assert!(link.is_none());
}

backends!(the_author_filter_is_kept_across_pages);
async fn the_author_filter_is_kept_across_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    for i in 0..3 {
        app.create_post(&alice.token, &format!("a{i}"), "").await;
        app.create_post(&bob.token, &format!("b{i}"), "").await;
    }
    let (first, link) = page(&app, &format!("/api/posts?author={}&limit=2", bob.id)).await;
    assert_eq!(titles(&first).await, ["b2", "b1"]);
    let next = link
        .unwrap()
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_owned();
    let (second, _) = page(&app, &next).await;
    assert_eq!(titles(&second).await, ["b0"]);
}

backends!(users_paginate_oldest_first);
async fn users_paginate_oldest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    for name in ["user1", "user2", "user3"] {
        app.signup(name).await;
    }
    let (first, link) = page(&app, "/api/users?limit=2").await;
    let names: Vec<_> = first["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(names, ["user1", "user2"]);
    assert!(link.unwrap().starts_with("</api/users?limit=2&cursor="));
    let c = first["next_cursor"].as_str().unwrap();
    let (second, _) = page(&app, &format!("/api/users?limit=2&cursor={c}")).await;
    assert_eq!(second["users"].as_array().unwrap().len(), 1);
    assert_eq!(second["users"][0]["username"], "user3");
}

backends!(limits_outside_1_to_100_are_400_and_100_is_allowed);
async fn limits_outside_1_to_100_are_400_and_100_is_allowed(backend: Backend) {
    let app = spawn_app(backend).await;
    for q in ["limit=0", "limit=101", "limit=-5", "limit=ten", "limit=1e3"] {
        let body = assert_error(
            app.get(&format!("/api/posts?{q}")).await,
            400,
            "Invalid limit: must be an integer from 1 to 100",
        )
        .await;
        assert_eq!(body["fields"]["limit"], "must be an integer from 1 to 100");
        assert_eq!(app.get(&format!("/api/users?{q}")).await.status(), 400);
    }
    assert_eq!(app.get("/api/posts?limit=100").await.status(), 200);
    assert_eq!(app.get("/api/posts?limit=1").await.status(), 200);
}

backends!(a_tampered_cursor_is_400);
async fn a_tampered_cursor_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    for i in 0..3 {
        app.create_post(&alice.token, &format!("p{i}"), "").await;
    }
    let (first, _) = page(&app, "/api/posts?limit=1").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let mut flipped = cursor.clone().into_bytes();
    flipped[4] = if flipped[4] == b'x' { b'y' } else { b'x' };
    let users_cursor = {
        app.signup("bob").await;
        let (u, _) = page(&app, "/api/users?limit=1").await;
        u["next_cursor"].as_str().unwrap().to_owned()
    };
    for bad in [
        String::from_utf8(flipped).unwrap(),
        cursor[..cursor.len() - 2].to_owned(),
        format!("{cursor}AA"),
        "garbage".into(),
        "%00".into(),
        users_cursor,
    ] {
        assert_error(
            app.get(&format!("/api/posts?cursor={bad}")).await,
            400,
            "Invalid cursor",
        )
        .await;
    }
}
