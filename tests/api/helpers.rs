//! `TestApp`: a real postbase on a real socket (port 0) over its own fresh database, and the
//! small client-side helpers the tests share. Set `TEST_LOG=1` to see the server's logs.
//!
//! Every API test runs twice through [`backends!`]: `name::sqlite` on a temporary SQLite file, and
//! `name::postgres` in a database of its own on the server `POSTBASE_TEST_POSTGRES_URL` names or,
//! without it, on a throwaway server this process starts (`cluster.rs`). Only
//! `POSTBASE_TEST_SKIP_POSTGRES=1` switches that half off (each test then says NOT RUN); each that
//! ran writes its name to `target/tmp/postgres-evidence.txt`, which `.ci/run` checks.

use std::sync::{Arc, OnceLock};

use postbase::config::ServeConfig;
use postbase::domain::Timestamp;
use postbase::startup::Application;
use postbase::store::{self, DynStore, NewUser};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::test_db::TestDb;

/// Names the variable that points the tests at a PostgreSQL server.
pub(crate) const POSTGRES_URL_VAR: &str = "POSTBASE_TEST_POSTGRES_URL";

/// Which database a test runs on.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite,
    /// A server URL; each test makes (and drops) a database of its own on it.
    Postgres(String),
}

impl Backend {
    /// PostgreSQL: the server `POSTBASE_TEST_POSTGRES_URL` names, else this process's own
    /// throwaway server; `None` only when `POSTBASE_TEST_SKIP_POSTGRES=1` switches it off.
    pub(crate) fn postgres() -> Option<Self> {
        if let Some(url) = std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|u| !u.is_empty())
        {
            return Some(Backend::Postgres(url));
        }
        if std::env::var(SKIP_POSTGRES_VAR).is_ok_and(|v| v == "1") {
            return None;
        }
        static OWN: OnceLock<String> = OnceLock::new();
        let url = OWN.get_or_init(|| {
            std::thread::spawn(crate::cluster::Cluster::start_for_this_process)
                .join()
                .unwrap_or_else(|_| {
                    panic!(
                        "no {POSTGRES_URL_VAR} given and no PostgreSQL server could be started \
                         here (initdb and pg_ctl: install Debian's `postgresql` package); name a \
                         server with {POSTGRES_URL_VAR}, or set {SKIP_POSTGRES_VAR}=1 to run the \
                         SQLite half only"
                    )
                })
        });
        Some(Backend::Postgres(url.clone()))
    }
}

/// Switches the PostgreSQL half of the suite off, explicitly.
pub(crate) const SKIP_POSTGRES_VAR: &str = "POSTBASE_TEST_SKIP_POSTGRES";

/// Records that a PostgreSQL test ran to the end: evidence a skip cannot fake (see the module doc).
pub(crate) fn ran_on_postgres(module: &str) {
    use std::io::Write;
    let name = module.strip_prefix("api::").unwrap_or(module);
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("postgres-evidence.txt");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("the evidence file");
    file.write_all(format!("{name}::postgres\n").as_bytes())
        .expect("writing the evidence");
}

/// Makes `async fn name(backend: Backend)` into two tests, `name::sqlite` and `name::postgres`.
macro_rules! backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                match $crate::helpers::Backend::postgres() {
                    Some(backend) => {
                        super::$name(backend).await;
                        $crate::helpers::ran_on_postgres(module_path!());
                    }
                    None => eprintln!(
                        "NOT RUN: the PostgreSQL half is switched off ({}=1)",
                        $crate::helpers::SKIP_POSTGRES_VAR
                    ),
                }
            }
        }
    };
}
pub(crate) use backends;

/// Makes `async fn name(backend: Backend)` into one test, `name::postgres`, for what only a
/// database server can do (many instances on one database).
macro_rules! postgres_only {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::helpers::Backend::postgres() {
                    Some(backend) => {
                        super::$name(backend).await;
                        $crate::helpers::ran_on_postgres(module_path!());
                    }
                    None => eprintln!(
                        "NOT RUN: the PostgreSQL half is switched off ({}=1)",
                        $crate::helpers::SKIP_POSTGRES_VAR
                    ),
                }
            }
        }
    };
}
pub(crate) use postgres_only;

pub(crate) struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// A second handle on the same database, for arranging what the API cannot (an admin).
    pub store: DynStore,
    pub database_url: String,
    /// Dropped (with the app) or fired by [`TestApp::shut_down`]: the server shuts down.
    stop: Option<oneshot::Sender<()>>,
    /// Last, so the database outlives the server using it.
    _db: Arc<TestDb>,
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            // Tests log for as long as the process lives.
            std::mem::forget(postbase::telemetry::init(postbase::config::LogFormat::Text));
        }
    });
}

pub(crate) async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub(crate) async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut ServeConfig),
) -> TestApp {
    spawn_app_with_routes(backend, configure, None).await
}

pub(crate) async fn spawn_app_with_routes(
    backend: Backend,
    configure: impl FnOnce(&mut ServeConfig),
    extra: Option<axum::Router<postbase::http::AppState>>,
) -> TestApp {
    init_logs();
    let db = Arc::new(TestDb::new(&backend).await);
    let database_url = db.url.clone();
    let mut config = ServeConfig::from_defaults();
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.database.database_url = database_url.clone();
    config.cors_origins = Vec::new();
    configure(&mut config);
    let app = Application::build_with_routes(&config, extra)
        .await
        .expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let store = store::connect(&database_url).await.expect("second store");
    TestApp {
        base,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        store,
        database_url,
        stop: Some(stop),
        _db: db,
    }
}

pub(crate) const PASSWORD: &str = "correct horse battery";

/// A signed-up, logged-in user.
pub(crate) struct Client {
    pub id: i64,
    pub token: String,
}

impl TestApp {
    /// Begins a graceful shutdown, as SIGTERM would.
    pub(crate) fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    /// `GET path`, its body as JSON (whatever the status: callers assert what they need).
    pub(crate) async fn get_json(&self, path: &str) -> Value {
        self.get(path).await.json().await.unwrap()
    }

    pub(crate) async fn post_json(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn signup(&self, username: &str) -> i64 {
        let res = self
            .post_json(
                "/api/users",
                json!({"username": username, "password": PASSWORD, "email": format!("{username}@example.com")}),
            )
            .await;
        assert_eq!(res.status(), 201, "sign-up of {username}");
        res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    pub(crate) async fn login(&self, username: &str, password: &str) -> Response {
        self.post_json(
            "/api/tokens",
            json!({"username": username, "password": password}),
        )
        .await
    }

    pub(crate) async fn token_for(&self, username: &str) -> String {
        let res = self.login(username, PASSWORD).await;
        assert_eq!(res.status(), 201, "login of {username}");
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Signs a new user up and logs them in.
    pub(crate) async fn user(&self, username: &str) -> Client {
        let id = self.signup(username).await;
        let token = self.token_for(username).await;
        Client { id, token }
    }

    /// An admin, made the only way there is: outside the API.
    pub(crate) async fn admin(&self, username: &str) -> Client {
        let hash = postbase::auth::PasswordHasher::new()
            .hash(&postbase::domain::Password::parse(PASSWORD).unwrap())
            .await
            .unwrap();
        let user = self
            .store
            .create_user(
                NewUser {
                    username: username.into(),
                    email: None,
                    password_hash: hash,
                    admin: true,
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
        let token = self.token_for(username).await;
        Client { id: user.id, token }
    }

    pub(crate) fn authed(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(token)
    }

    pub(crate) async fn create_post(&self, token: &str, title: &str, body: &str) -> Value {
        let res = self
            .authed(Method::POST, "/api/posts", token)
            .json(&json!({"title": title, "body": body}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
    }
}

/// Asserts a JSON error response: status, content type, and the exact `error` sentence.
pub(crate) async fn assert_error(res: Response, status: u16, message: &str) -> Value {
    assert_eq!(res.status(), status, "status for expected {message:?}");
    assert_eq!(
        res.headers()["content-type"],
        "application/json",
        "errors are JSON"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], message, "body: {body}");
    body
}
