//! One client connection's life, from accept to close: how many one address may hold, how long it
//! may take to send its first request, and how long it may then sit idle.
//!
//! hyper's own header-read timeout starts only at the first byte of a request head, and the
//! HTTP/1-or-2 detection before it waits for bytes with no deadline, so a connection that sends
//! nothing (or half an HTTP/2 preface) would be held forever. Here every connection is watched from
//! the moment it is accepted: until its first request arrives it has `header_timeout`, whatever it
//! sends; after that, with no request in flight, it may stay silent for `idle_timeout`, and once
//! the first byte of a further request arrives, that request's head again has `header_timeout`.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tower::Service as _;

/// How long a connection told to close gracefully (idle, or at shutdown) may take to do so.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Connections held per client address; a slot is given back when its connection closes.
#[derive(Debug)]
pub struct PerIpLimit {
    max: usize,
    held: Mutex<HashMap<IpAddr, usize>>,
}

#[derive(Debug)]
pub struct IpSlot {
    limit: Arc<PerIpLimit>,
    ip: IpAddr,
}

impl PerIpLimit {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            held: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for one more connection from `ip`, or `None` when it holds its share already.
    pub fn try_hold(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(ip).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(IpSlot {
            limit: self.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut held = self
            .limit
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

/// What the watcher needs to know about a connection's traffic.
#[derive(Debug)]
struct Activity {
    opened: Instant,
    /// Milliseconds from `opened` to the last byte read or written.
    last_ms: AtomicU64,
    requests: AtomicU64,
    in_flight: AtomicUsize,
    /// Milliseconds from `opened` to the first byte read while no request was in flight (a head
    /// on its way), plus one; 0 when there is none.
    head_started_ms: AtomicU64,
    /// Wakes the watcher when a head starts arriving, so its deadline becomes the header timeout.
    head_started: Notify,
}

impl Activity {
    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn read_some(&self) {
        self.touch();
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.head_started_ms.load(Ordering::Relaxed) == 0
        {
            self.head_started_ms
                .store(self.elapsed_ms() + 1, Ordering::Relaxed);
            self.head_started.notify_one();
        }
    }

    fn head_started(&self) -> Option<Instant> {
        match self.head_started_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(self.opened + Duration::from_millis(ms - 1)),
        }
    }

    fn touch(&self) {
        self.last_ms.store(self.elapsed_ms(), Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// A TCP stream that notes when it last moved a byte.
struct Tracked {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read_some();
        }
        poll
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, data);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// The time limits every connection is held to.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub header: Duration,
    pub idle: Duration,
}

/// Counts a request in flight for as long as it lives.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.touch();
    }
}

/// Serves one accepted connection until it closes, times out, or `stop` says to shut down.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    timeouts: Timeouts,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity {
        opened: Instant::now(),
        last_ms: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
        head_started_ms: AtomicU64::new(0),
        head_started: Notify::new(),
    });
    let counted = activity.clone();
    let service = tower::service_fn(move |mut req: hyper::Request<Incoming>| {
        counted.requests.fetch_add(1, Ordering::Relaxed);
        counted.in_flight.fetch_add(1, Ordering::AcqRel);
        counted.head_started_ms.store(0, Ordering::Relaxed);
        let guard = InFlight(counted.clone());
        req.extensions_mut().insert(ConnectInfo(peer));
        let response = router.clone().call(req.map(axum::body::Body::new));
        async move {
            let response = response.await?;
            // An event stream is a request in flight until its body ends: the idle timeout must
            // not close it between events.
            if response
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"))
            {
                return Ok::<_, std::convert::Infallible>(response.map(|body| {
                    axum::body::Body::new(http_body_util::BodyExt::map_frame(body, move |frame| {
                        let _held = &guard;
                        frame
                    }))
                }));
            }
            drop(guard);
            Ok(response)
        }
    });
    let mut builder = Builder::new(TokioExecutor::new());
    // hyper's own head timeout also runs while a keep-alive connection waits for its next
    // request; the watcher below enforces both limits exactly, so hyper's is only a backstop.
    // The read buffer is capped at 8 KiB, hyper's smallest: a request head must fit in it (431
    // beyond), and bodies stream through it. Every connection keeps its buffer for its whole
    // life, and an event stream lives long: at 10,000 streams the default (growing to 16 KiB
    // and more) was 165 MB of the server's memory.
    builder
        .http1()
        .timer(TokioTimer::new())
        .max_buf_size(8192)
        .header_read_timeout(timeouts.header.max(timeouts.idle) + CLOSE_GRACE);
    let io = Tracked {
        stream,
        activity: activity.clone(),
    };
    let conn =
        builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service));
    tokio::pin!(conn);
    let stopping = loop {
        let first = activity.requests.load(Ordering::Relaxed) == 0;
        let deadline = match activity.head_started() {
            _ if first => activity.opened + timeouts.header,
            Some(started) => started + timeouts.header,
            None => activity.last() + timeouts.idle,
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.changed() => break true,
            () = activity.head_started.notified() => {}
            () = tokio::time::sleep_until(deadline) => {
                if activity.in_flight.load(Ordering::Acquire) > 0 {
                    // Busy: look again one idle period after its last byte.
                    activity.touch();
                    continue;
                }
                if activity.requests.load(Ordering::Relaxed) == 0 {
                    // Nothing asked within the header timeout: there is nothing to finish.
                    return;
                }
                let now = Instant::now();
                let overdue = match activity.head_started() {
                    Some(started) => now >= started + timeouts.header,
                    None => now >= activity.last() + timeouts.idle,
                };
                if overdue {
                    break false;
                }
            }
        }
    };
    conn.as_mut().graceful_shutdown();
    if stopping {
        // Shutting down: requests in flight finish (each is bounded by the request timeout).
        let _ = conn.as_mut().await;
    } else {
        let _ = tokio::time::timeout(CLOSE_GRACE, conn.as_mut()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_share_and_gets_slots_back() {
        let limit = PerIpLimit::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = limit.try_hold(a).unwrap();
        let _second = limit.try_hold(a).unwrap();
        assert!(limit.try_hold(a).is_none());
        assert!(limit.try_hold(b).is_some(), "others are not affected");
        drop(first);
        assert!(
            limit.try_hold(a).is_some(),
            "a closed connection frees its slot"
        );
    }
}
