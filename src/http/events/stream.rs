//! One stream's body: the events it missed, read from the log in pages, then the live ones from
//! its queue, each exactly once (a live event at or below the last position sent was already
//! sent from the log), with a comment line every 15 s so that proxies keep the connection open.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use tokio::time::{interval_at, Instant, Interval};

use super::filter::INTERNAL;
use super::frame::Frame;
use super::hub::{Subscription, PAGE};
use crate::store::DynStore;

pub(super) const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// First bytes of every stream: how long a browser waits before reconnecting (milliseconds).
const PREAMBLE: &str = "retry: 2000\n\n";

struct State {
    store: DynStore,
    sub: Subscription,
    /// The last position sent (or skipped as not for this stream).
    last: i64,
    replaying: bool,
    pending: VecDeque<Bytes>,
    keep_alive: Interval,
    done: bool,
}

/// The body of a stream that starts after position `after`; `first` goes out before anything.
pub(super) fn body(store: DynStore, sub: Subscription, after: i64, first: Option<Bytes>) -> Body {
    let mut pending = VecDeque::from([Bytes::from_static(PREAMBLE.as_bytes())]);
    pending.extend(first);
    let state = State {
        store,
        sub,
        last: after,
        replaying: true,
        pending,
        keep_alive: interval_at(Instant::now() + KEEP_ALIVE, KEEP_ALIVE),
        done: false,
    };
    Body::from_stream(futures_util::stream::unfold(state, next))
}

async fn next(mut st: State) -> Option<(Result<Bytes, Infallible>, State)> {
    loop {
        if let Some(bytes) = st.pending.pop_front() {
            return Some((Ok(bytes), st));
        }
        if st.done {
            return None;
        }
        if st.replaying {
            replay_page(&mut st).await;
            continue;
        }
        tokio::select! {
            biased;
            _ = st.sub.shutdown.changed() => st.done = true,
            message = st.sub.rx.recv() => match message {
                Some((position, bytes)) if position > st.last => {
                    st.last = position;
                    st.pending.push_back(bytes);
                }
                Some(_) => {}
                // Closed by the hub: too slow, or shutting down. The client resumes.
                None => st.done = true,
            },
            _ = st.keep_alive.tick() => {
                st.pending.push_back(Bytes::from_static(b": keep-alive\n\n"));
            }
        }
    }
}

/// One page of the log after `last`, filtered for this stream; the replay ends at a short page
/// (the live queue, registered before the replay began, has everything after it).
async fn replay_page(st: &mut State) {
    match st.store.events_after(st.last, PAGE).await {
        Ok(events) => {
            st.replaying = events.len() == PAGE as usize;
            for event in &events {
                st.last = event.position;
                let frame = Frame::render(event);
                if frame.topic != INTERNAL && st.sub.filter.matches(&frame, &st.sub.followees) {
                    st.pending.push_back(frame.bytes);
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "replaying the event log failed; closing the stream");
            st.done = true;
        }
    }
}
