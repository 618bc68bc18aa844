//! `TestApp`: a real postbase on a real socket (port 0) over its own fresh SQLite file, and the
//! small client-side helpers the tests share. Set `TEST_LOG=1` to see the server's logs.

use std::sync::{Arc, OnceLock};

use postbase::config::ServeConfig;
use postbase::domain::Timestamp;
use postbase::startup::Application;
use postbase::store::{self, DynStore, NewUser};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// A second handle on the same database, for arranging what the API cannot (an admin).
    pub store: DynStore,
    _dir: Arc<TempDir>,
    _stop: oneshot::Sender<()>,
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            postbase::telemetry::init(postbase::config::LogFormat::Text);
        }
    });
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
    spawn_app_with_routes(configure, None).await
}

pub async fn spawn_app_with_routes(
    configure: impl FnOnce(&mut ServeConfig),
    extra: Option<axum::Router<postbase::http::AppState>>,
) -> TestApp {
    init_logs();
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let database_url = format!("sqlite://{}", dir.path().join("test.db").display());
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
        _dir: dir,
        _stop: stop,
    }
}

pub const PASSWORD: &str = "correct horse battery";

/// A signed-up, logged-in user.
pub struct Client {
    pub id: i64,
    pub token: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn signup(&self, username: &str) -> i64 {
        let res = self
            .post_json(
                "/api/users",
                json!({"username": username, "password": PASSWORD, "email": format!("{username}@example.com")}),
            )
            .await;
        assert_eq!(res.status(), 201, "sign-up of {username}");
        res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post_json(
            "/api/tokens",
            json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn token_for(&self, username: &str) -> String {
        let res = self.login(username, PASSWORD).await;
        assert_eq!(res.status(), 201, "login of {username}");
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Signs a new user up and logs them in.
    pub async fn user(&self, username: &str) -> Client {
        let id = self.signup(username).await;
        let token = self.token_for(username).await;
        Client { id, token }
    }

    /// An admin, made the only way there is: outside the API.
    pub async fn admin(&self, username: &str) -> Client {
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

    pub fn authed(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(token)
    }

    pub async fn create_post(&self, token: &str, title: &str, body: &str) -> Value {
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
pub async fn assert_error(res: Response, status: u16, message: &str) -> Value {
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
