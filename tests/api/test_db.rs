//! `TestDb`: a database of a test's own, on SQLite or on a PostgreSQL server, and the two small
//! PostgreSQL helpers it is made with (also used by tests that make databases themselves).

use tempfile::TempDir;

use crate::helpers::{Backend, POSTGRES_URL_VAR};

/// A database of a test's own: a temporary SQLite file, or a fresh PostgreSQL database that is
/// dropped (connections and all) when this goes out of scope, even when the test panics.
pub(crate) struct TestDb {
    pub url: String,
    _dir: Option<TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub(crate) async fn new(backend: &Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres(server) => {
                let name = format!("pb_test_{:016x}", rand::random::<u64>());
                admin_sql(server, &format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap_or_else(|e| {
                        panic!("{POSTGRES_URL_VAR}={server}: cannot create a test database: {e}")
                    });
                Self {
                    url: with_database(server, &name),
                    _dir: None,
                    postgres: Some((server.clone(), name)),
                }
            }
        }
    }
}

impl TestDb {
    /// The server URL and database name, when this is a PostgreSQL database.
    pub(crate) fn postgres(&self) -> Option<(&str, &str)> {
        self.postgres
            .as_ref()
            .map(|(s, n)| (s.as_str(), n.as_str()))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread of its own.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(admin_sql(
                    &server,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("could not drop the test database: {dropped:?}");
        }
    }
}

/// Runs one statement on the server's maintenance database.
pub(crate) async fn admin_sql(server: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls).await?;
    let task = tokio::spawn(connection);
    let result = client.batch_execute(sql).await;
    drop(client);
    let _ = task.await;
    result
}

/// The server URL with its database replaced: `postgres://u@h:p/x?q` -> `postgres://u@h:p/name?q`.
pub(crate) fn with_database(server: &str, name: &str) -> String {
    let (url, query) = match server.split_once('?') {
        Some((url, query)) => (url, format!("?{query}")),
        None => (server, String::new()),
    };
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let base = match url[authority_start..].find('/') {
        Some(slash) => &url[..authority_start + slash],
        None => url,
    };
    format!("{base}/{name}{query}")
}
