//! A keep-alive HTTP/1.1 connection to the server, one JSON request on it, and signing up a user.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpStream;

pub type Sender = SendRequest<Full<Bytes>>;

/// Every soak user's password.
pub const PASSWORD: &str = "soak-password-1";

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

pub async fn call(
    sender: &mut Sender,
    host: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<(StatusCode, Value), String> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", host);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let bytes = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Bytes::from(serde_json::to_vec(&b).unwrap())
        }
        None => Bytes::new(),
    };
    let req = req.body(Full::new(bytes)).unwrap();
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
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// Signs up and logs in one user, returning its name and token.
pub async fn make_user(addr: SocketAddr, host: String, name: String) -> (Arc<str>, Arc<str>) {
    let host = host.as_str();
    let mut s = connect(addr)
        .await
        .expect("the server accepts a connection");
    let password = PASSWORD;
    let (st, body) = call(
        &mut s,
        host,
        Method::POST,
        "/api/users",
        None,
        Some(json!({"username": name, "password": password})),
    )
    .await
    .expect("sign-up answered");
    assert_eq!(st, StatusCode::CREATED, "sign-up: {body}");
    let (st, body) = call(
        &mut s,
        host,
        Method::POST,
        "/api/tokens",
        None,
        Some(json!({"username": name, "password": password})),
    )
    .await
    .expect("login answered");
    assert_eq!(st, StatusCode::CREATED, "login: {body}");
    (name.into(), body["token"].as_str().unwrap().into())
}
