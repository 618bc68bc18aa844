//! A small Server-Sent Events client for the tests: reads a streaming response and parses its
//! messages as the SSE specification says (fields up to a blank line; comments start with `:`).

use std::time::Duration;

use reqwest::{RequestBuilder, Response};
use serde_json::Value;

/// One message: `id:`, `event:` and the `data:` parsed as JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub id: Option<i64>,
    pub event: String,
    pub data: Value,
}

pub(crate) struct Sse {
    pub response: Option<Response>,
    buf: String,
    /// Comment lines seen (`: keep-alive`), and `retry:` values.
    pub comments: Vec<String>,
    pub retry: Option<u64>,
    /// Set once the server has ended the stream.
    pub ended: bool,
}

impl Sse {
    /// Sends `req` and asserts a 200 event stream.
    pub(crate) async fn open(req: RequestBuilder) -> Self {
        let response = req.send().await.expect("the stream request is answered");
        assert_eq!(response.status(), 200, "opening a stream");
        Self::from_response(response)
    }

    /// Reads an event stream's response.
    pub(crate) fn from_response(response: Response) -> Self {
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "an event stream's content type"
        );
        Self {
            response: Some(response),
            buf: String::new(),
            comments: Vec::new(),
            retry: None,
            ended: false,
        }
    }

    /// Parses one complete message out of the buffer, if there is one. Comment-only and
    /// `retry`-only blocks are recorded and skipped.
    fn parse_one(&mut self) -> Option<Event> {
        loop {
            let end = self.buf.find("\n\n")?;
            let block: String = self.buf.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (None, None, None::<String>);
            for line in block.lines() {
                if let Some(comment) = line.strip_prefix(':') {
                    self.comments.push(comment.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("retry: ") {
                    self.retry = v.parse().ok();
                } else if let Some(v) = line.strip_prefix("id: ") {
                    id = Some(v.parse::<i64>().expect("ids are integers"));
                } else if let Some(v) = line.strip_prefix("event: ") {
                    event = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(v.to_owned());
                }
            }
            if let (Some(event), Some(data)) = (event, data) {
                let data = serde_json::from_str(&data).expect("data is JSON");
                return Some(Event { id, event, data });
            }
        }
    }

    /// The next message within `within`; `None` when none came or the stream ended.
    pub(crate) async fn next_within(&mut self, within: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(event) = self.parse_one() {
                return Some(event);
            }
            let response = self.response.as_mut()?;
            match tokio::time::timeout_at(deadline, response.chunk()).await {
                Err(_) => return None,
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(_) => {
                    self.ended = true;
                    self.response = None;
                    return self.parse_one();
                }
            }
        }
    }

    /// The next message, within 5 s.
    pub(crate) async fn next(&mut self) -> Event {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("an event within 5 s")
    }

    /// The next `n` messages.
    pub(crate) async fn take(&mut self, n: usize) -> Vec<Event> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.next().await);
        }
        out
    }

    /// Asserts that nothing more comes for a while.
    pub(crate) async fn assert_quiet(&mut self, for_: Duration) {
        if let Some(e) = self.next_within(for_).await {
            panic!("expected no more events, got {e:?}");
        }
    }
}

/// The names of events, for compact assertions.
pub(crate) fn names(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}
