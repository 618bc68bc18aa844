//! Event streams: tickets for browsers, retention's `reset`, and the hub's metrics.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::events::{send, stream};
use crate::helpers::{assert_error, backends, spawn_app, spawn_app_with, Backend};
use crate::sse::Sse;

backends!(a_ticket_opens_one_stream_once_and_never_carries_the_token);
async fn a_ticket_opens_one_stream_once_and_never_carries_the_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let res = app
        .authed(Method::POST, "/api/events/tickets", &alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let ticket = body["ticket"].as_str().unwrap().to_owned();
    assert_ne!(ticket, alice.token);
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    let url = format!("/api/events?topics=notifications&ticket={ticket}");
    let mut sse = Sse::open(app.request(Method::GET, &url)).await;
    let id = app.create_post(&alice.token, "Mine", "x").await["id"]
        .as_i64()
        .unwrap();
    send(
        &app,
        Method::PUT,
        &format!("/api/posts/{id}/like"),
        &bob.token,
        None,
    )
    .await;
    assert_eq!(
        sse.next().await.event,
        "notification",
        "the ticket's user is alice"
    );
    // Used once: gone.
    assert_error(app.get(&url).await, 401, "Invalid token").await;
    assert_error(
        app.get("/api/events?ticket=pb_made_up").await,
        401,
        "Invalid token",
    )
    .await;
    let res = app
        .request(Method::POST, "/api/events/tickets")
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "Invalid token").await;
    // An expired ticket is refused (one made directly, an hour old).
    let old = postbase::auth::Token::generate();
    let past = postbase::domain::Timestamp::now().minus(Duration::from_secs(3600));
    app.store
        .issue_ticket(old.hash().0, alice.id, past)
        .await
        .unwrap();
    let res = app
        .get(&format!("/api/events?ticket={}", old.as_str()))
        .await;
    assert_error(res, 401, "Invalid token").await;
}

backends!(a_position_the_log_no_longer_holds_gets_one_reset_event);
async fn a_position_the_log_no_longer_holds_gets_one_reset_event(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.events_retention = Duration::from_secs(1)).await;
    let alice = app.user("alice").await;
    for i in 0..3 {
        app.create_post(&alice.token, &format!("Old {i}"), "x")
            .await;
    }
    let mut trimmed = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if app.store.log_bounds().await.unwrap().trimmed_through > 0 {
            trimmed = true;
            break;
        }
    }
    assert!(trimmed, "the log was trimmed to its retention");
    let head = app.store.log_bounds().await.unwrap().head;
    let mut sse = stream(&app, "?since=1", None).await;
    let reset = sse.next().await;
    assert_eq!(reset.event, "reset");
    assert_eq!(reset.id, Some(head));
    assert_eq!(
        reset.data,
        json!({"last_event_id": head, "reason": "expired"})
    );
    app.create_post(&alice.token, "New", "x").await;
    assert_eq!(
        sse.next().await.data["title"],
        "New",
        "then the live stream"
    );
    let mut ahead = stream(&app, "?since=999999", None).await;
    let reset = ahead.next().await;
    assert_eq!(
        (reset.event.as_str(), reset.data["reason"].as_str()),
        ("reset", Some("unknown"))
    );
}

backends!(metrics_count_streams_deliveries_and_lag);
async fn metrics_count_streams_deliveries_and_lag(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let mut sse = stream(&app, "", None).await;
    app.create_post(&alice.token, "Counted", "x").await;
    sse.next().await;
    let text = app.get("/metrics").await.text().await.unwrap();
    let value = |name: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} in {text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(value("postbase_events_subscribers"), 1.0);
    assert!(value("postbase_events_delivered_total") >= 1.0);
    assert!(value("postbase_events_position") >= 1.0);
    assert!(value("postbase_events_lag_seconds") < 5.0);
    assert_eq!(value("postbase_events_slow_closed_total"), 0.0);
    drop(sse);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains("\npostbase_events_subscribers 0\n"),
        "a closed stream is gone"
    );
}

backends!(shutdown_ends_open_streams_promptly);
async fn shutdown_ends_open_streams_promptly(backend: Backend) {
    let mut app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(stream(&app, "", None).await);
    }
    app.create_post(&alice.token, "Before", "x").await;
    for sse in &mut streams {
        assert_eq!(sse.next().await.event, "post.created");
    }
    let started = std::time::Instant::now();
    app.shut_down();
    for sse in &mut streams {
        assert!(sse.next_within(Duration::from_secs(5)).await.is_none());
        assert!(sse.ended, "the server ended the stream");
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "streams ended promptly, not at a timeout: {:?}",
        started.elapsed()
    );
}
