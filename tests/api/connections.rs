//! Connection-level abuse against a real process over TCP: silent connections, half an HTTP/2
//! preface, idle keep-alive, one address hogging the connections, and label explosion in
//! `/metrics` from made-up method names.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::Backend;
use crate::server::Server;

/// Waits for the server to close `stream`; returns how long that took, or `None` past `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn silent_half_preface_and_idle_connections_are_closed() {
    let server = Server::start(
        &Backend::Sqlite,
        &["--header-timeout", "1s", "--idle-timeout", "4s"],
    )
    .await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let mut half = TcpStream::connect(server.addr).await.unwrap();
    half.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    let mut trickle = TcpStream::connect(server.addr).await.unwrap();
    trickle.write_all(b"GET /healthz HT").await.unwrap();
    for (name, stream) in [
        ("silent", &mut silent),
        ("half preface", &mut half),
        ("trickle", &mut trickle),
    ] {
        let took = closed_within(stream, Duration::from_secs(4)).await;
        assert!(
            took.is_some(),
            "the {name} connection was still open after 4 s"
        );
    }

    let mut idle = served_once(&server).await;
    let idle_since = Instant::now();
    let mut slow_second = served_once(&server).await;
    slow_second.write_all(b"GET /hea").await.unwrap();
    let took = closed_within(&mut slow_second, Duration::from_secs(3))
        .await
        .expect("a second request's slow head is held to the header timeout");
    assert!(took < Duration::from_millis(2500), "{took:?}");
    closed_within(&mut idle, Duration::from_secs(8))
        .await
        .expect("an idle keep-alive connection is closed");
    let took = idle_since.elapsed();
    assert!(
        took >= Duration::from_millis(3500),
        "closed too early: {took:?}"
    );
}

/// A keep-alive connection that has been answered one request.
async fn served_once(server: &Server) -> TcpStream {
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    stream
}

#[tokio::test]
async fn ten_thousand_silent_connections_from_one_address_do_not_shut_out_another() {
    let server = Server::start(&Backend::Sqlite, &[]).await;
    let addr = server.addr;
    let hog = tokio::spawn(async move {
        let mut held = Vec::with_capacity(10_000);
        for _ in 0..10_000 {
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
            if let Ok(stream) = socket.connect(addr).await {
                held.push(stream);
            }
        }
        let opened = held.len();
        tokio::time::sleep(Duration::from_secs(12)).await;
        drop(held);
        opened
    });
    let other = server.client_from("127.0.0.2");
    let mut slowest = Duration::ZERO;
    let until = Instant::now() + Duration::from_secs(12);
    while Instant::now() < until {
        let started = Instant::now();
        let res = tokio::time::timeout(
            Duration::from_secs(2),
            other.get(format!("{}/healthz", server.base)).send(),
        )
        .await
        .expect("answered within 2 s")
        .unwrap();
        assert_eq!(res.status(), 200);
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        hog.await.unwrap() > 1_000,
        "the hog did open its connections"
    );
    assert!(slowest < Duration::from_secs(2), "{slowest:?}");
}

#[tokio::test]
async fn made_up_methods_grow_neither_memory_nor_the_metrics() {
    let server = Server::start(&Backend::Sqlite, &[]).await;
    // Eight keep-alive connections sending distinct 4 KB method names (a head must fit in the
    // 8 KiB read buffer: 431 beyond).
    let send = |from: usize, count: usize| {
        let tasks = (0..8).map(|t| {
            let client = server.client.clone();
            let url = format!("{}/api/posts", server.base);
            async move {
                for i in (from + t..from + count).step_by(8) {
                    let name = format!("M{i:08}{}", "X".repeat(4 * 1024 - 9));
                    let res = client
                        .request(Method::from_bytes(name.as_bytes()).unwrap(), &url)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 405);
                }
            }
        });
        join_all(tasks)
    };
    send(0, 2_000).await;
    let before = server.rss_kib();
    send(2_000, 20_000).await;
    let after = server.rss_kib();
    assert!(
        after < before + 5 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
    let metrics = server
        .request(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.len() < 64 * 1024,
        "/metrics is {} bytes",
        metrics.len()
    );
    assert!(
        metrics.contains(r#"method="other",status="405""#),
        "{metrics}"
    );
    assert!(!metrics.contains("XXXX"));
}

#[tokio::test]
async fn metrics_can_be_served_on_an_address_of_their_own() {
    let server = Server::start(&Backend::Sqlite, &["--metrics-addr", "127.0.0.1:0"]).await;
    let mut private = None;
    for _ in 0..100 {
        let log = server.log();
        if let Some(rest) = log.split("metrics listening on ").nth(1) {
            private = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let private = private.expect("the metrics address is logged");
    let public = server
        .request(Method::GET, "/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    assert_eq!(public.headers()["content-type"], "application/json");
    let res = server
        .client
        .get(format!("http://{private}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(
        text.contains(
            r#"postbase_http_requests_total{route="/metrics",method="GET",status="404"} 1"#
        ),
        "{text}"
    );
}
