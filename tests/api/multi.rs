//! Many instances on one PostgreSQL database, as real processes: what one instance does, the other
//! sees on its very next request; concurrent writers through both lose nothing; `If-Match` holds
//! across instances; instances starting together both come up; and a database outage gives bounded
//! 503s and heals by itself.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{postgres_only, Backend, TestDb, PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_postbase");

/// A `postbase serve` process, killed when dropped.
pub struct Instance {
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
    pub async fn start(database_url: &str, extra: &[&str]) -> Self {
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

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub async fn signup(&self, username: &str) -> reqwest::Response {
        self.request(Method::POST, "/api/users")
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, username: &str) -> String {
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

    async fn profile(&self, token: &str) -> StatusCode {
        self.request(Method::GET, "/api/profile")
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    }
}

postgres_only!(a_user_and_their_tokens_are_the_same_on_both_instances);
async fn a_user_and_their_tokens_are_the_same_on_both_instances(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let (a, b) = tokio::join!(Instance::start(&db.url, &[]), Instance::start(&db.url, &[]));
    assert_eq!(a.signup("alice").await.status(), 201);
    // Signed up on A, logs in on B; the username is taken on B too.
    let token_b = b.login("alice").await;
    assert_eq!(b.signup("ALICE").await.status(), 409);
    // A token issued on A works on B, and the other way round.
    let token_a = a.login("alice").await;
    assert_eq!(b.profile(&token_a).await, 200);
    assert_eq!(a.profile(&token_b).await, 200);
    // Revoked on B, refused on A from the very next request: no instance caches tokens.
    let res = b
        .request(Method::DELETE, "/api/tokens/current")
        .bearer_auth(&token_a)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(a.profile(&token_a).await, 401);
    assert_eq!(a.profile(&token_b).await, 200);
}

postgres_only!(concurrent_writers_through_both_instances_lose_nothing);
async fn concurrent_writers_through_both_instances_lose_nothing(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let (a, b) = tokio::join!(Instance::start(&db.url, &[]), Instance::start(&db.url, &[]));
    let (a, b) = (Arc::new(a), Arc::new(b));
    assert_eq!(a.signup("alice").await.status(), 201);
    let (token_a, token_b) = (a.login("alice").await, b.login("alice").await);
    const WRITERS: usize = 16;
    const EACH: usize = 25;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (instance, token) = if w % 2 == 0 {
            (a.clone(), token_a.clone())
        } else {
            (b.clone(), token_b.clone())
        };
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..EACH {
                let res = instance
                    .request(Method::POST, "/api/posts")
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("writer {w} post {i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
            }
            ids
        }));
    }
    // Sign-ups race too: each gets its own id.
    let mut signups = Vec::new();
    for u in 0..10 {
        let instance = if u % 2 == 0 { a.clone() } else { b.clone() };
        signups.push(tokio::spawn(async move {
            let res = instance.signup(&format!("user{u}")).await;
            assert_eq!(res.status(), 201);
            res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
        }));
    }
    let mut created = std::collections::BTreeSet::new();
    for task in tasks {
        for id in task.await.unwrap() {
            assert!(created.insert(id), "id {id} handed out twice");
        }
    }
    assert_eq!(created.len(), WRITERS * EACH);
    let mut user_ids = std::collections::BTreeSet::new();
    for task in signups {
        assert!(user_ids.insert(task.await.unwrap()));
    }
    // Every post is there, read through either instance.
    let mut listed = std::collections::BTreeSet::new();
    let mut path = "/api/posts?limit=100".to_owned();
    for page in 0.. {
        let instance = if page % 2 == 0 { &a } else { &b };
        let body: Value = instance.get(&path).await.json().await.unwrap();
        for post in body["posts"].as_array().unwrap() {
            assert!(listed.insert(post["id"].as_i64().unwrap()));
        }
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/posts?limit=100&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(listed, created);
}

postgres_only!(if_match_on_both_instances_lets_exactly_one_edit_win);
async fn if_match_on_both_instances_lets_exactly_one_edit_win(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let (a, b) = tokio::join!(Instance::start(&db.url, &[]), Instance::start(&db.url, &[]));
    assert_eq!(a.signup("alice").await.status(), 201);
    let token = a.login("alice").await;
    let res = a
        .request(Method::POST, "/api/posts")
        .bearer_auth(&token)
        .json(&json!({"title": "draft"}))
        .send()
        .await
        .unwrap();
    let path = res.headers()["location"].to_str().unwrap().to_owned();
    for round in 0..20 {
        let etag = a.get(&path).await.headers()["etag"]
            .to_str()
            .unwrap()
            .to_owned();
        let edit = |instance: &Instance, title: String| {
            instance
                .request(Method::PATCH, &path)
                .bearer_auth(&token)
                .header("if-match", &etag)
                .json(&json!({ "title": title }))
                .send()
        };
        let (ra, rb) = tokio::join!(edit(&a, format!("A{round}")), edit(&b, format!("B{round}")));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}");
        let (winner, loser) = if ra.status() == 200 {
            (ra, rb)
        } else {
            (rb, ra)
        };
        let won: Value = winner.json().await.unwrap();
        let lost: Value = loser.json().await.unwrap();
        assert_eq!(
            lost["error"],
            "Precondition failed: the resource has changed since you read it"
        );
        let now: Value = b.get(&path).await.json().await.unwrap();
        assert_eq!(
            now["title"], won["title"],
            "the winner's edit is what is stored"
        );
    }
}

postgres_only!(two_instances_starting_at_once_on_a_fresh_database_both_come_up);
async fn two_instances_starting_at_once_on_a_fresh_database_both_come_up(backend: Backend) {
    for _ in 0..3 {
        let db = TestDb::new(&backend).await;
        let (a, b) = tokio::join!(Instance::start(&db.url, &[]), Instance::start(&db.url, &[]));
        assert_eq!(a.get("/readyz").await.status(), 200);
        assert_eq!(b.get("/readyz").await.status(), 200);
        assert_eq!(a.signup("alice").await.status(), 201);
        assert_eq!(b.signup("bob").await.status(), 201);
        let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let conn = tokio::spawn(conn);
        let rows = client
            .query(
                "SELECT version FROM postbase_migrations ORDER BY version",
                &[],
            )
            .await
            .unwrap();
        let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(versions, [1, 2, 3], "each migration applied exactly once");
        drop(client);
        let _ = conn.await;
    }
}

/// A TCP proxy between postbase and PostgreSQL that a test can cut and restore.
struct Proxy {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

const FORWARD: u8 = 0;
/// Accepts and closes at once: the server is gone.
const REFUSE: u8 = 1;
/// Accepts and never answers: the server hangs.
const BLACKHOLE: u8 = 2;

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(AtomicU8::new(FORWARD));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = tokio::spawn({
            let (mode, links) = (mode.clone(), links.clone());
            async move {
                loop {
                    let Ok((mut inbound, _)) = listener.accept().await else {
                        continue;
                    };
                    let link = match mode.load(Ordering::SeqCst) {
                        FORWARD => tokio::spawn(async move {
                            if let Ok(mut outbound) = TcpStream::connect(target).await {
                                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound)
                                    .await;
                            }
                        }),
                        BLACKHOLE => tokio::spawn(async move {
                            let _held = inbound;
                            std::future::pending::<()>().await
                        }),
                        _ => continue,
                    };
                    links.lock().unwrap().push(link);
                }
            }
        });
        Self {
            addr,
            mode,
            links,
            accept,
        }
    }

    /// Drops every open connection, and treats new ones as `mode` says.
    fn cut(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.mode.store(FORWARD, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut(REFUSE);
    }
}

/// The test database's URL, reached through `proxy`.
fn through(proxy: &Proxy, url: &str) -> String {
    let config: tokio_postgres::Config = url.parse().unwrap();
    let user = config.get_user().unwrap_or("postgres");
    let db = config.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{}/{db}", proxy.addr)
}

fn server_addr(url: &str) -> SocketAddr {
    let config: tokio_postgres::Config = url.parse().unwrap();
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(host) => host.clone(),
        #[cfg(unix)]
        tokio_postgres::config::Host::Unix(_) => panic!("the proxy needs a TCP server address"),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
        .unwrap()
        .next()
        .unwrap()
}

/// Asserts a 503 JSON error that came within `bound`; returns how long it took.
async fn assert_unavailable_within(instance: &Instance, path: &str, bound: Duration) -> Duration {
    let started = Instant::now();
    let res = instance.get(path).await;
    let took = started.elapsed();
    assert_eq!(res.status(), 503, "{path} while the database is down");
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "Service unavailable, try again shortly");
    assert!(took <= bound, "{path} took {took:?}, more than {bound:?}");
    took
}

async fn wait_until_ready(instance: &Instance, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if instance.get("/readyz").await.status() == 200
            && instance.get("/api/posts").await.status() == 200
        {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "not back within {within:?} of the database"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

postgres_only!(a_database_outage_gives_bounded_503s_and_service_resumes_by_itself);
async fn a_database_outage_gives_bounded_503s_and_service_resumes_by_itself(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let proxy = Proxy::start(server_addr(&db.url)).await;
    let url = through(&proxy, &db.url);
    let app = Instance::start(&url, &["--db-timeout", "2s"]).await;
    assert_eq!(app.signup("alice").await.status(), 201);
    let token = app.login("alice").await;
    // The bound is the flag plus a little for the HTTP round trip.
    let bound = Duration::from_millis(3000);

    // A server that hangs: once the pool's (now closed) connections are gone, every call waits
    // for a connection that never completes, and gives up at the deadline.
    proxy.cut(BLACKHOLE);
    let mut slowest = Duration::ZERO;
    for path in ["/api/posts", "/readyz", "/api/posts", "/api/users"] {
        slowest = slowest.max(assert_unavailable_within(&app, path, bound).await);
    }
    assert!(
        slowest >= Duration::from_millis(1900),
        "the hanging server was never waited on: {slowest:?}"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);

    // A server that is gone: refused quickly.
    proxy.cut(REFUSE);
    assert_unavailable_within(&app, "/api/posts", bound).await;
    assert_unavailable_within(&app, "/api/users/1", bound).await;
    assert_unavailable_within(&app, "/readyz", bound).await;
    let res = app
        .request(Method::GET, "/api/profile")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        503,
        "a token that cannot be checked is not a 401"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);

    // Back: the same process serves again, with its old token.
    proxy.restore();
    wait_until_ready(&app, Duration::from_secs(10)).await;
    assert_eq!(app.profile(&token).await, 200);
}

postgres_only!(an_instance_started_while_the_database_is_down_serves_once_it_is_up);
async fn an_instance_started_while_the_database_is_down_serves_once_it_is_up(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let proxy = Proxy::start(server_addr(&db.url)).await;
    proxy.cut(REFUSE);
    let url = through(&proxy, &db.url);
    let app = Instance::start(&url, &["--db-timeout", "2s"]).await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_unavailable_within(&app, "/readyz", Duration::from_secs(3)).await;
    assert_unavailable_within(&app, "/api/posts", Duration::from_secs(3)).await;
    proxy.restore();
    // The first call that reaches the database applies the migrations.
    wait_until_ready(&app, Duration::from_secs(10)).await;
    assert_eq!(app.signup("alice").await.status(), 201);
}
