//! One request as a client sees it: answered, never sent, or lost with the server.

use reqwest::{Method, StatusCode};
use serde_json::Value;

pub(crate) enum Outcome {
    /// A response arrived: the status and the JSON body (Null if none).
    Answered(StatusCode, Value, Option<String>),
    /// The connection could not be made: the request was never sent, so it did not land.
    NotSent,
    /// Sent, and the answer was lost: it may or may not have landed.
    Lost,
}

pub(crate) async fn send(
    http: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Outcome {
    let mut req = http.request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    match req.send().await {
        Ok(res) => {
            let status = res.status();
            let etag = res
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            match res.bytes().await {
                Ok(bytes) => Outcome::Answered(
                    status,
                    serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                    etag,
                ),
                Err(_) => Outcome::Lost,
            }
        }
        Err(e) if e.is_connect() => Outcome::NotSent,
        Err(_) => Outcome::Lost,
    }
}

pub(crate) async fn get(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
) -> Outcome {
    send(http, base, Method::GET, path, token, None).await
}

pub(crate) fn answered(out: Outcome, what: &str) -> (StatusCode, Value, Option<String>) {
    match out {
        Outcome::Answered(s, j, e) => (s, j, e),
        _ => panic!("the restarted server did not answer {what}"),
    }
}

/// Every item of a paginated list.
pub(crate) async fn list_all(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    key: &str,
) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor = String::new();
    loop {
        let url = format!("{path}?limit=100&cursor={cursor}");
        let (s, json, _) = answered(get(http, base, &url, None).await, &url);
        assert_eq!(s, StatusCode::OK, "{url}: {json}");
        items.extend(json[key].as_array().expect("a list").iter().cloned());
        match json["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return items,
        }
    }
}
