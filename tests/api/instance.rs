//! `Instance`: `postbase serve` as a real process, for the tests that need the binary rather than
//! an in-process app: several servers on one database (`multi.rs`, `idempotency.rs`), a server
//! behind a proxy (`outage.rs`), TLS to PostgreSQL (`pg_tls.rs`), a moved database (`transfer.rs`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::PASSWORD;

const BIN: &str = env!("CARGO_BIN_EXE_postbase");

/// A `postbase serve` process, killed when dropped.
pub(crate) struct Instance {
    child: Child,
    pub base: String,
    client: reqwest::Client,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    /// Starts `postbase serve` on port 0 over `database_url`; returns once it is listening.
    pub(crate) async fn start(database_url: &str, extra: &[&str]) -> Self {
        let database_url = database_url.to_owned();
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            let mut child = Command::new(BIN)
                .args([
                    "serve",
                    "--addr",
                    "127.0.0.1:0",
                    "--database-url",
                    &database_url,
                ])
                .args(&extra)
                .env("RUST_LOG", "warn,postbase::startup=info")
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("postbase starts");
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let addr = loop {
                let line = lines
                    .next()
                    .expect("postbase exited before listening")
                    .unwrap();
                if let Some(rest) = line.split("listening on ").nth(1) {
                    break rest.split_whitespace().next().unwrap().to_owned();
                }
            };
            std::thread::spawn(move || for _ in lines {});
            Self {
                child,
                base: format!("http://{addr}"),
                client: reqwest::Client::new(),
            }
        })
        .await
        .unwrap()
    }

    /// `kill -9`: no shutdown, no goodbye to its clients.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub(crate) async fn signup(&self, username: &str) -> reqwest::Response {
        self.request(Method::POST, "/api/users")
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn login(&self, username: &str) -> String {
        let res = self
            .request(Method::POST, "/api/tokens")
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "login of {username} on {}", self.base);
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub(crate) async fn profile(&self, token: &str) -> StatusCode {
        self.request(Method::GET, "/api/profile")
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    }
}
