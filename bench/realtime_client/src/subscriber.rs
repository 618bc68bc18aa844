//! One event stream: opened, held until told to stop, every `post.created` recorded with its
//! arrival time. What it should have received is checked afterwards (verify.rs).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{header, Request, StatusCode};
use serde_json::Value;
use tokio::sync::{mpsc, watch, Semaphore};

use crate::http::{connect, Sender};
use crate::sse::{rfc3339_micros, Message, Parser};

/// Unexpected messages kept per stream as examples (the rest are only counted).
const KEEP_UNEXPECTED: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// The default topics: every post, comment and like.
    All,
    /// `topics=posts&author=N`: one author's posts (a profile page).
    Author(i64),
}

impl Filter {
    fn path(self) -> String {
        match self {
            Filter::All => "/api/events".to_owned(),
            Filter::Author(a) => format!("/api/events?topics=posts&author={a}"),
        }
    }
}

/// A received `post.created`: its event id, the post's id, and now − the post's `created_at`.
pub struct Event {
    pub id: i64,
    pub post: i64,
    pub latency_us: i64,
}

pub struct Stream {
    pub filter: Filter,
    pub opened: bool,
    /// Why it did not open, or why it ended.
    pub error: Option<String>,
    /// The server ended it before we did (e.g. closed as too slow).
    pub ended_early: bool,
    pub events: Vec<Event>,
    /// Messages that are not a `post.created` this stream asked for.
    pub unexpected: u64,
    pub unexpected_examples: Vec<String>,
}

/// Whether the stream opened, sent once per stream as (index, result).
pub type Opened = mpsc::UnboundedSender<(usize, Result<(), String>)>;

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

impl Stream {
    fn record(&mut self, m: Message<'_>, now: i64, received: &AtomicU64) {
        if m.event.is_empty() && m.data.is_empty() {
            return; // `retry:` or a keep-alive comment
        }
        let parsed = (m.event == "post.created")
            .then(|| serde_json::from_str::<Value>(m.data).ok())
            .flatten()
            .and_then(|v| {
                let created = v["created_at"].as_str().and_then(rfc3339_micros)?;
                Some((m.id?, v["id"].as_i64()?, v["author_id"].as_i64()?, created))
            });
        let wrong_author = |author| matches!(self.filter, Filter::Author(a) if a != author);
        match parsed {
            Some((id, post, author, created)) if !wrong_author(author) => {
                self.events.push(Event {
                    id,
                    post,
                    latency_us: now - created,
                });
                received.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                self.unexpected += 1;
                if self.unexpected_examples.len() < KEEP_UNEXPECTED {
                    let data: String = m.data.chars().take(120).collect();
                    self.unexpected_examples
                        .push(format!("id {:?} event {:?} data {data}", m.id, m.event));
                }
            }
        }
    }
}

/// Sends the request and waits for the answer's head: a 200 `text/event-stream` or an error.
async fn open(addr: SocketAddr, filter: Filter) -> Result<(Sender, Incoming), String> {
    let mut sender = connect(addr).await?;
    let req = Request::get(filter.path())
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap();
    sender
        .ready()
        .await
        .map_err(|e| format!("connection: {e}"))?;
    let res = sender
        .send_request(req)
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = res.status();
    let event_stream = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if status != StatusCode::OK || !event_stream {
        let body = res.into_body().collect().await.map(|b| b.to_bytes());
        let text = body.map_or(String::new(), |b| String::from_utf8_lossy(&b).into_owned());
        return Err(format!(
            "{status}: {}",
            text.chars().take(120).collect::<String>()
        ));
    }
    Ok((sender, res.into_body()))
}

/// Opens the stream (at most `gate`'s permits at once), reports on `opened` when its first
/// message (the `retry:` preamble) has arrived, then records until `stop`.
pub async fn run(
    index: usize,
    addr: SocketAddr,
    filter: Filter,
    gate: Arc<Semaphore>,
    opened: Opened,
    mut stop: watch::Receiver<bool>,
    received: Arc<AtomicU64>,
) -> Stream {
    let mut st = Stream {
        filter,
        opened: false,
        error: None,
        ended_early: false,
        events: Vec::new(),
        unexpected: 0,
        unexpected_examples: Vec::new(),
    };
    let mut permit = Some(
        gate.acquire_owned()
            .await
            .expect("the gate is never closed"),
    );
    let (_sender, mut body) = match open(addr, filter).await {
        Ok(open) => open,
        Err(e) => {
            let _ = opened.send((index, Err(e.clone())));
            st.error = Some(e);
            return st;
        }
    };
    let mut parser = Parser::default();
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            frame = body.frame() => match frame {
                Some(Ok(frame)) => {
                    let Some(data) = frame.data_ref() else { continue };
                    let now = now_micros();
                    let mut any = false;
                    parser.feed(data, |m| {
                        any = true;
                        st.record(m, now, &received);
                    });
                    if any && !st.opened {
                        st.opened = true;
                        permit.take();
                        let _ = opened.send((index, Ok(())));
                    }
                }
                Some(Err(e)) => {
                    st.error = Some(format!("body: {e}"));
                    break;
                }
                None => {
                    st.error.get_or_insert_with(|| "closed by the server".to_owned());
                    break;
                }
            }
        }
    }
    if st.error.is_some() {
        st.ended_early = st.opened;
        if !st.opened {
            let _ = opened.send((index, Err(st.error.clone().unwrap_or_default())));
        }
    }
    st
}
