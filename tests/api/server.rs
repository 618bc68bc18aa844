//! A real `postbase serve` process for the attack tests: started on port 0 over a database of the
//! test's own, its log kept for assertions, its memory readable, killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::helpers::{Backend, PASSWORD};
use crate::test_db::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_postbase");

pub(crate) struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    log: Arc<Mutex<String>>,
    /// Last, so the database outlives the process using it.
    _db: TestDb,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `postbase serve` with `args` on a fresh database of `backend`.
    pub(crate) async fn start(backend: &Backend, args: &[&str]) -> Self {
        let db = TestDb::new(backend).await;
        let url = db.url.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (child, addr, log) = tokio::task::spawn_blocking(move || {
            let mut child = Command::new(BIN)
                .args(["serve", "--addr", "127.0.0.1:0", "--database-url", &url])
                .args(&args)
                .env("RUST_LOG", "info")
                .env("POSTBASE_LOG_FORMAT", "text")
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("postbase starts");
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let log = Arc::new(Mutex::new(String::new()));
            let addr: SocketAddr = loop {
                let line = lines.next().expect("postbase exited before listening");
                let line = line.unwrap();
                log.lock().unwrap().push_str(&line);
                if let Some(rest) = line.split("listening on ").nth(1) {
                    break rest.split_whitespace().next().unwrap().parse().unwrap();
                }
            };
            let sink = log.clone();
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    let mut log = sink.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
            (child, addr, log)
        })
        .await
        .unwrap();
        Self {
            child,
            addr,
            base: format!("http://{addr}"),
            client: client_from(None),
            log,
            _db: db,
        }
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// A client whose connections come from `source` (any 127.x address is this machine).
    pub(crate) fn client_from(&self, source: &str) -> reqwest::Client {
        client_from(Some(source.parse().unwrap()))
    }

    /// The database URL this process serves.
    pub(crate) fn database_url(&self) -> &str {
        &self._db.url
    }

    /// Stops the process with SIGTERM (a clean shutdown) and waits for it; true if it exited 0.
    pub(crate) fn terminate(&mut self) -> bool {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        self.child.wait().unwrap().success()
    }

    pub(crate) fn db(&self) -> &TestDb {
        &self._db
    }

    /// A user signed up and logged in: (id, token).
    pub(crate) async fn user(&self, username: &str) -> (i64, String) {
        let id = self.sign_up(username).await;
        let res = self.login_with(&self.client, username, PASSWORD).await;
        assert_eq!(res.status(), 201);
        let token = res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        (id, token)
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The process's resident memory, in KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// Signs a user up; returns its id.
    pub(crate) async fn sign_up(&self, username: &str) -> i64 {
        let res = self
            .request(Method::POST, "/api/users")
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{:?}", res.text().await);
        res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// A login with `password` through `client`: the status and the response.
    pub(crate) async fn login_with(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(format!("{}/api/tokens", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }
}

fn client_from(source: Option<IpAddr>) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}
