//! `GET /api/events`: every change once and in order, as the REST API shows it; resuming with
//! `Last-Event-ID` or `?since=`; filters; private topics; tickets; retention's `reset`; metrics.
//! Tickets, retention and metrics: `events_access.rs`; across instances and through kill -9:
//! `events_resume.rs`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, spawn_app, Backend, TestApp};
use crate::sse::{names, Sse};

pub(crate) async fn stream(app: &TestApp, query: &str, token: Option<&str>) -> Sse {
    let mut req = app.request(Method::GET, &format!("/api/events{query}"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let sse = Sse::open(req).await;
    assert_eq!(
        sse.response.as_ref().unwrap().headers()["cache-control"],
        "no-store"
    );
    sse
}

pub(crate) async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let mut req = app.authed(method, path, token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap_or(Value::Null)
}

backends!(each_change_arrives_once_in_order_as_the_rest_api_shows_it);
async fn each_change_arrives_once_in_order_as_the_rest_api_shows_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut sse = stream(&app, "", None).await;
    let post = app.create_post(&alice.token, "Hello", "World").await;
    let id = post["id"].as_i64().unwrap();
    let p = format!("/api/posts/{id}");
    send(
        &app,
        Method::PATCH,
        &p,
        &alice.token,
        Some(json!({"title": "Hello again"})),
    )
    .await;
    send(&app, Method::PUT, &format!("{p}/like"), &bob.token, None).await;
    let comment = send(
        &app,
        Method::POST,
        &format!("{p}/comments"),
        &bob.token,
        Some(json!({"body": "Nice"})),
    )
    .await;
    let c = format!("/api/comments/{}", comment["id"]);
    send(
        &app,
        Method::PATCH,
        &c,
        &bob.token,
        Some(json!({"body": "Very nice"})),
    )
    .await;
    let res = app
        .authed(Method::DELETE, &c, &bob.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    send(&app, Method::DELETE, &format!("{p}/like"), &bob.token, None).await;
    let shown = app.get_json(&p).await;
    let res = app
        .authed(Method::DELETE, &p, &alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    let events = sse.take(8).await;
    assert_eq!(
        names(&events),
        [
            "post.created",
            "post.updated",
            "post.liked",
            "comment.created",
            "comment.updated",
            "comment.deleted",
            "post.liked",
            "post.deleted"
        ]
    );
    assert_eq!(
        sse.retry,
        Some(2000),
        "the stream says how soon to reconnect"
    );
    let ids: Vec<i64> = events
        .iter()
        .map(|e| e.id.expect("every event has an id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");
    // `data` is what the REST API shows someone without a token.
    assert_eq!(events[0].data, post, "post.created is the created post");
    assert_eq!(events[1].data["title"], "Hello again");
    // A like: the post with its new count, and who liked it.
    let mut liked = events[1].data.clone();
    liked["like_count"] = json!(1);
    for (k, v) in [
        ("post_id", json!(id)),
        ("user_id", json!(bob.id)),
        ("liked", json!(true)),
    ] {
        liked[k] = v;
    }
    assert_eq!(events[2].data, liked);
    assert_eq!(events[3].data, comment);
    assert_eq!(events[4].data["body"], "Very nice");
    assert_eq!(events[5].data, json!({"id": comment["id"], "post_id": id}));
    // The unlike: the post as GET showed it then, and who unliked it.
    let mut unliked = events[6].data.clone();
    assert_eq!(
        (unliked["liked"].take(), unliked["user_id"].take()),
        (json!(false), json!(bob.id))
    );
    let fields = unliked.as_object_mut().unwrap();
    for k in ["liked", "user_id", "post_id"] {
        fields.remove(k);
    }
    assert_eq!(
        unliked, shown,
        "post.liked carries the post as the REST API shows it"
    );
    assert_eq!(events[7].data, json!({"id": id, "author_id": alice.id}));
    assert!(events
        .iter()
        .all(|e| e.data.get("liked").is_none() || e.event == "post.liked"));
    // Nothing about users, and no email anywhere.
    assert!(events
        .iter()
        .all(|e| !e.data.to_string().contains("example.com")));
    sse.assert_quiet(Duration::from_millis(300)).await;
}

backends!(resuming_gets_exactly_what_was_missed_then_the_live_stream);
async fn resuming_gets_exactly_what_was_missed_then_the_live_stream(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let mut first = stream(&app, "?topics=posts", None).await;
    for i in 0..5 {
        app.create_post(&alice.token, &format!("Post {i}"), "x")
            .await;
    }
    let seen = first.take(5).await;
    drop(first);
    let last_seen = seen[1].id.unwrap();
    // Missed: posts 2..4 and two written while away.
    for i in 5..7 {
        app.create_post(&alice.token, &format!("Post {i}"), "x")
            .await;
    }
    let titles = |events: &[crate::sse::Event]| -> Vec<String> {
        events
            .iter()
            .map(|e| e.data["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let req = app
        .request(Method::GET, "/api/events?topics=posts&since=1")
        .header("Last-Event-ID", last_seen.to_string());
    let mut resumed = Sse::open(req).await;
    let got = resumed.take(5).await;
    assert_eq!(
        titles(&got),
        ["Post 2", "Post 3", "Post 4", "Post 5", "Post 6"],
        "Last-Event-ID wins over since"
    );
    app.create_post(&alice.token, "Live", "x").await;
    assert_eq!(resumed.next().await.data["title"], "Live");
    resumed.assert_quiet(Duration::from_millis(300)).await;

    let mut by_query = stream(
        &app,
        &format!("?topics=posts&since={}", seen[3].id.unwrap()),
        None,
    )
    .await;
    assert_eq!(
        titles(&by_query.take(4).await),
        ["Post 4", "Post 5", "Post 6", "Live"]
    );
    // Without a position: only what happens from now on.
    let mut fresh = stream(&app, "?topics=posts", None).await;
    fresh.assert_quiet(Duration::from_millis(300)).await;

    let res = app
        .request(Method::GET, "/api/events")
        .header("Last-Event-ID", "abc")
        .send()
        .await
        .unwrap();
    assert_error(
        res,
        400,
        "Invalid Last-Event-ID: must be an event id (an integer, 0 or more)",
    )
    .await;
    let res = app.get("/api/events?since=-1").await;
    assert_error(
        res,
        400,
        "Invalid since: must be an event id (an integer, 0 or more)",
    )
    .await;
}

backends!(filters_narrow_the_stream_to_topics_a_post_or_an_author);
async fn filters_narrow_the_stream_to_topics_a_post_or_an_author(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let a = app.create_post(&alice.token, "A", "x").await["id"]
        .as_i64()
        .unwrap();
    let b = app.create_post(&bob.token, "B", "x").await["id"]
        .as_i64()
        .unwrap();
    let mut likes = stream(&app, "?topics=likes", None).await;
    let mut on_a = stream(&app, &format!("?post={a}"), None).await;
    let mut by_bob = stream(
        &app,
        &format!("?author={}&topics=comments,likes", bob.id),
        None,
    )
    .await;
    for post in [a, b] {
        send(
            &app,
            Method::PUT,
            &format!("/api/posts/{post}/like"),
            &alice.token,
            None,
        )
        .await;
        send(
            &app,
            Method::POST,
            &format!("/api/posts/{post}/comments"),
            &alice.token,
            Some(json!({"body": "hi"})),
        )
        .await;
    }
    let got = likes.take(2).await;
    assert_eq!(names(&got), ["post.liked", "post.liked"]);
    likes.assert_quiet(Duration::from_millis(200)).await;
    let got = on_a.take(2).await;
    assert_eq!(names(&got), ["post.liked", "comment.created"]);
    assert!(got.iter().all(|e| e.data["post_id"] == a));
    on_a.assert_quiet(Duration::from_millis(200)).await;
    let got = by_bob.take(2).await;
    assert_eq!(names(&got), ["post.liked", "comment.created"]);
    assert!(got.iter().all(|e| e.data["post_id"] == b));
    by_bob.assert_quiet(Duration::from_millis(200)).await;

    let res = app.get("/api/events?topics=posts,users").await;
    let body = assert_error(
        res,
        400,
        "Invalid topics: unknown topic \"users\" (posts, comments, likes, feed, notifications)",
    )
    .await;
    assert_eq!(
        body["fields"]["topics"],
        "unknown topic \"users\" (posts, comments, likes, feed, notifications)"
    );
    assert_error(
        app.get("/api/events?post=x").await,
        400,
        "Invalid post: must be a positive integer",
    )
    .await;
    assert_error(
        app.get("/api/events?author=0").await,
        400,
        "Invalid author: must be a positive integer",
    )
    .await;
}

backends!(feed_and_notification_events_reach_only_their_user);
async fn feed_and_notification_events_reach_only_their_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    send(
        &app,
        Method::PUT,
        &format!("/api/users/{}/follow", alice.id),
        &bob.token,
        None,
    )
    .await;
    let mut bob_feed = stream(&app, "?topics=feed", Some(&bob.token)).await;
    let mut carol_feed = stream(&app, "?topics=feed,notifications", Some(&carol.token)).await;
    let mut alice_mine = stream(&app, "?topics=notifications", Some(&alice.token)).await;
    // Follows made after the stream opened count too.
    send(
        &app,
        Method::PUT,
        &format!("/api/users/{}/follow", bob.id),
        &carol.token,
        None,
    )
    .await;
    let post = app.create_post(&alice.token, "For followers", "x").await;
    let id = post["id"].as_i64().unwrap();
    let by_bob = app.create_post(&bob.token, "Bob writes", "x").await;
    send(
        &app,
        Method::POST,
        &format!("/api/posts/{id}/comments"),
        &alice.token,
        Some(json!({"body": "my own"})),
    )
    .await;
    let comment = send(
        &app,
        Method::POST,
        &format!("/api/posts/{id}/comments"),
        &bob.token,
        Some(json!({"body": "hi"})),
    )
    .await;
    send(
        &app,
        Method::PUT,
        &format!("/api/posts/{id}/like"),
        &carol.token,
        None,
    )
    .await;
    send(
        &app,
        Method::DELETE,
        &format!("/api/posts/{id}/like"),
        &carol.token,
        None,
    )
    .await;

    let e = bob_feed.next().await;
    assert_eq!((e.event.as_str(), &e.data), ("feed", &post));
    bob_feed.assert_quiet(Duration::from_millis(300)).await;
    let e = carol_feed.next().await;
    assert_eq!((e.event.as_str(), &e.data), ("feed", &by_bob));
    carol_feed.assert_quiet(Duration::from_millis(300)).await;
    let got = alice_mine.take(2).await;
    assert_eq!(
        names(&got),
        ["notification", "notification"],
        "not for her own comment, nor an unlike"
    );
    assert_eq!(
        got[0].data,
        json!({"type": "comment", "post_id": id, "user_id": bob.id, "comment": comment})
    );
    assert_eq!(
        got[1].data,
        json!({"type": "like", "post_id": id, "user_id": carol.id, "like_count": 1})
    );
    alice_mine.assert_quiet(Duration::from_millis(300)).await;

    for topics in ["feed", "notifications", "posts,feed"] {
        let res = app.get(&format!("/api/events?topics={topics}")).await;
        assert_error(res, 401, "Invalid token").await;
    }
    let res = app
        .request(Method::GET, "/api/events")
        .bearer_auth("pb_nope")
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "Invalid token").await;
}
