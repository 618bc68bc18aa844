//! A keep-alive HTTP/1.1 connection to the server, and `POST /api/posts` on it.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

pub type Sender = SendRequest<Full<Bytes>>;

const POST_BODY: &str = r#"{"title":"Realtime benchmark post","body":"Written by bench/realtime, one post per request."}"#;

pub async fn connect(addr: SocketAddr) -> Result<Sender, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).ok();
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// `POST /api/posts` as the user of `token`: the status and the body.
pub async fn create_post(
    sender: &mut Sender,
    host: &str,
    token: &str,
) -> Result<(StatusCode, Bytes), String> {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/posts")
        .header("host", host)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(POST_BODY.as_bytes())))
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
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    Ok((status, body))
}
