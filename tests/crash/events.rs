//! The event log after a kill: for every post, the last event the log holds about it says what
//! the database holds (its title and body, or that it is gone). A change and its event commit in
//! one transaction, so a kill at any moment may lose both or neither, never one of the two.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::model::{Model, PostState};

/// Reads the whole log's post events through `GET /api/events?since=0`, until it goes quiet.
async fn post_events(http: &reqwest::Client, base: &str) -> Result<Vec<(String, Value)>, String> {
    let url = format!("{base}/api/events?topics=posts&since=0");
    let mut res = http
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if res.status() != 200 {
        return Err(format!("{url}: {}", res.status()));
    }
    let mut text = String::new();
    while let Ok(Ok(Some(chunk))) =
        tokio::time::timeout(Duration::from_millis(500), res.chunk()).await
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let mut events = Vec::new();
    for block in text.split("\n\n") {
        let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name));
        if let (Some(event), Some(data)) = (field("event: "), field("data: ")) {
            let data = serde_json::from_str(data).map_err(|e| format!("event data {data}: {e}"))?;
            events.push((event.to_owned(), data));
        }
    }
    Ok(events)
}

pub(crate) async fn check_log(http: &reqwest::Client, base: &str, model: &Model) -> Vec<String> {
    let events = match post_events(http, base).await {
        Ok(events) => events,
        Err(e) => return vec![format!("reading the event log: {e}")],
    };
    if events.is_empty() && !model.posts.is_empty() {
        return vec![format!(
            "the log holds no post events, but {} posts were written",
            model.posts.len()
        )];
    }
    // The last event about each post: its data, or None once deleted.
    let mut last: HashMap<i64, Option<Value>> = HashMap::new();
    for (event, data) in events {
        let id = data["id"].as_i64().unwrap_or(0);
        last.insert(id, (event != "post.deleted").then_some(data));
    }
    let mut problems = Vec::new();
    for post in model.posts.values() {
        let logged = last.get(&post.id);
        match (&post.acked, logged) {
            (PostState::Present { json, .. }, Some(Some(data)))
                if data["title"] == json["title"] && data["body"] == json["body"] => {}
            (PostState::Deleted, Some(None) | None) => {}
            (state, logged) => problems.push(format!(
                "post {}: the database holds {} but the log's last event says {logged:?}",
                post.id,
                match state {
                    PostState::Present { json, .. } => json.to_string(),
                    PostState::Deleted => "nothing".to_owned(),
                }
            )),
        }
    }
    problems
}
