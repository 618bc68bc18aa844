//! A database outage under a running instance, through a TCP proxy between postbase and
//! PostgreSQL that a test cuts and restores: bounded 503s while the database hangs or is gone, and
//! service resumes by itself, also for an instance started while the database was down.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{postgres_only, Backend};
use crate::instance::Instance;
use crate::test_db::TestDb;

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
