//! Nothing lost, nothing repeated: subscribers whose connections are cut at random moments, and
//! whose instance is killed with SIGKILL mid-stream, resume with `Last-Event-ID` (on PostgreSQL,
//! on the other instance; on SQLite, on the instance restarted over the same file). Each one's
//! sequence of ids must equal the log's, with no gap and no duplicate.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{backends, Backend};
use crate::instance::Instance;
use crate::sse::Sse;
use crate::test_db::TestDb;

const SUBSCRIBERS: usize = 6;
const WRITES: usize = 120;

/// Where subscribers (re)connect: the live instances' addresses.
type Bases = Arc<Mutex<Vec<String>>>;

/// Reads until it has seen `done`'s position, cutting its own connection after a random number
/// of events and reconnecting (to a random live instance) with the last id it received.
async fn subscriber(bases: Bases, done: Arc<Mutex<Option<i64>>>) -> Vec<i64> {
    let client = reqwest::Client::new();
    let mut ids: Vec<i64> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a subscriber never caught up: {ids:?}"
        );
        let base = {
            let bases = bases.lock().unwrap();
            (!bases.is_empty()).then(|| bases[rand::thread_rng().gen_range(0..bases.len())].clone())
        };
        // None while the only instance is being restarted.
        let Some(base) = base else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let mut req = client.request(Method::GET, format!("{base}/api/events"));
        req = match ids.last() {
            Some(last) => req.header("Last-Event-ID", last.to_string()),
            None => req.query(&[("since", "0")]),
        };
        let Ok(res) = req.send().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        if res.status() != 200 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let mut sse = Sse::from_response(res);
        let cut_after = rand::thread_rng().gen_range(1..25);
        for _ in 0..cut_after {
            match sse.next_within(Duration::from_millis(500)).await {
                Some(e) => ids.push(e.id.expect("every event has an id")),
                None => break,
            }
        }
        let target = *done.lock().unwrap();
        if target.is_some_and(|t| ids.last() == Some(&t)) {
            return ids;
        }
    }
}

backends!(subscribers_cut_off_and_killed_under_resume_with_nothing_lost_or_repeated);
async fn subscribers_cut_off_and_killed_under_resume_with_nothing_lost_or_repeated(
    backend: Backend,
) {
    let postgres = matches!(backend, Backend::Postgres(_));
    let db = TestDb::new(&backend).await;
    let mut first = Instance::start(&db.url, &[]).await;
    let second = if postgres {
        Some(Instance::start(&db.url, &[]).await)
    } else {
        None
    };
    assert_eq!(first.signup("writer").await.status(), 201);
    let token = first.login("writer").await;
    let bases: Bases = Arc::new(Mutex::new(vec![first.base.clone()]));
    bases
        .lock()
        .unwrap()
        .extend(second.iter().map(|s| s.base.clone()));
    let done = Arc::new(Mutex::new(None));
    let subscribers: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| tokio::spawn(subscriber(bases.clone(), done.clone())))
        .collect();

    let client = reqwest::Client::new();
    let mut restarted = None;
    let mut post = None::<i64>;
    for i in 0..WRITES {
        if i == WRITES / 2 {
            // SIGKILL mid-stream: its subscribers lose their connections without a word.
            first.kill();
            bases.lock().unwrap().retain(|b| *b != first.base);
            if !postgres {
                let again = Instance::start(&db.url, &[]).await;
                bases.lock().unwrap().push(again.base.clone());
                restarted = Some(again);
            }
        }
        let base = bases.lock().unwrap().last().unwrap().clone();
        let (method, path, body) = match (i % 3, post) {
            (1, Some(p)) => (Method::PUT, format!("/api/posts/{p}/like"), None),
            (2, Some(p)) => (
                Method::POST,
                format!("/api/posts/{p}/comments"),
                Some(json!({"body": "c"})),
            ),
            _ => (
                Method::POST,
                "/api/posts".to_owned(),
                Some(json!({"title": format!("p{i}"), "body": "b"})),
            ),
        };
        let mut req = client
            .request(method.clone(), format!("{base}{path}"))
            .bearer_auth(&token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        if let Ok(res) = req.send().await {
            if path == "/api/posts" && res.status() == 201 {
                post = res.json::<serde_json::Value>().await.unwrap()["id"].as_i64();
            }
        }
        if method == Method::PUT && i % 2 == 0 {
            // Unliked again, so that the next like is a change (and an event) too.
            let _ = client
                .delete(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await;
        }
    }

    // The log as the database holds it: every public event, in order.
    let store = postbase::store::connect(&db.url).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await; // PostgreSQL: numbered by now
    let log: Vec<i64> = store
        .events_after(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| !matches!(e.kind.as_str(), "feed" | "notification" | "follow"))
        .map(|e| e.position)
        .collect();
    assert!(
        log.len() > WRITES / 2,
        "the writes were logged: {}",
        log.len()
    );
    *done.lock().unwrap() = log.last().copied();
    for (n, handle) in subscribers.into_iter().enumerate() {
        let got = handle.await.unwrap();
        assert_eq!(got, log, "subscriber {n}'s ids equal the log's");
    }
    drop((second, restarted));
}
