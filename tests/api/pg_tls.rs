//! PostgreSQL over TLS, against real servers: the shared test server (Debian's self-signed
//! certificate) for disable, prefer and require, and a throwaway cluster of each test's own, with a
//! CA and server certificate made by the test, for verify-ca and verify-full.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use crate::cluster::Cluster;
use crate::helpers::{postgres_only, Backend, SKIP_POSTGRES_VAR};
use crate::instance::Instance;
use crate::test_db::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_postbase");

/// `url` with `param` added to its query.
fn with_param(url: &str, param: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{param}")
}

/// Whether each of postbase's connections to the test database is encrypted, as the server
/// sees them.
async fn tls_of_connections(db: &TestDb) -> Vec<bool> {
    let (server, name) = db.postgres().expect("a PostgreSQL database");
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.datname = $1 AND a.application_name = 'postbase'",
            &[&name],
        )
        .await
        .unwrap();
    drop(client);
    let _ = task.await;
    rows.iter().map(|row| row.get(0)).collect()
}

/// Starts `postbase serve` with `query` added to a fresh database's URL, checks that it serves,
/// and returns whether its connections are encrypted.
async fn serve_with(backend: Backend, query: Option<&str>) -> Vec<bool> {
    let db = TestDb::new(&backend).await;
    let url = query.map_or(db.url.clone(), |q| with_param(&db.url, q));
    let instance = Instance::start(&url, &[]).await;
    assert_eq!(instance.signup("alice").await.status(), 201, "{url}");
    instance.login("alice").await;
    let tls = tls_of_connections(&db).await;
    assert!(!tls.is_empty(), "postbase holds connections to {url}");
    drop(instance);
    tls
}

postgres_only!(sslmode_require_connects_over_tls_and_serves);
async fn sslmode_require_connects_over_tls_and_serves(backend: Backend) {
    let tls = serve_with(backend, Some("sslmode=require")).await;
    assert!(
        tls.iter().all(|&on| on),
        "every connection encrypted: {tls:?}"
    );
}

postgres_only!(sslmode_prefer_and_no_sslmode_use_tls_when_the_server_offers_it);
async fn sslmode_prefer_and_no_sslmode_use_tls_when_the_server_offers_it(backend: Backend) {
    // The test server has ssl = on, so libpq's default (prefer) ends up encrypted.
    for query in [Some("sslmode=prefer"), None] {
        let tls = serve_with(backend.clone(), query).await;
        assert!(tls.iter().all(|&on| on), "{query:?}: {tls:?}");
    }
}

postgres_only!(sslmode_disable_connects_in_plain_text_and_serves);
async fn sslmode_disable_connects_in_plain_text_and_serves(backend: Backend) {
    let tls = serve_with(backend, Some("sslmode=disable")).await;
    assert!(
        tls.iter().all(|&on| !on),
        "no connection encrypted: {tls:?}"
    );
}

/// Runs `postbase serve` on `url`, expecting it to refuse to start: its stderr.
fn refused_start(url: &str) -> String {
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", url])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("postbase starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("postbase served {url} instead of refusing it");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "exit status {status}; stderr: {stderr}");
    stderr
}

postgres_only!(a_missing_sslrootcert_stops_the_start_naming_the_file);
async fn a_missing_sslrootcert_stops_the_start_naming_the_file(backend: Backend) {
    let Backend::Postgres(server) = backend else {
        unreachable!()
    };
    let url = with_param(&server, "sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem");
    let stderr = tokio::task::spawn_blocking(move || refused_start(&url))
        .await
        .unwrap();
    assert!(
        stderr.contains("sslrootcert=/nonexistent/ca.pem") && stderr.contains("No such file"),
        "{stderr}"
    );
}

/// A CA: its certificate (PEM) and what signs with it.
fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(params, key))
}

/// A server certificate for localhost and 127.0.0.1 signed by `issuer`: (certificate, key), PEM.
fn server_certificate(issuer: &Issuer<'static, KeyPair>) -> (String, String) {
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// A throwaway cluster with a certificate from a fresh CA; `None` (the test says it did not run)
/// only when the PostgreSQL half is switched off, as for the other PostgreSQL tests.
async fn cluster_with_fresh_ca() -> Option<(Cluster, std::path::PathBuf)> {
    if std::env::var(SKIP_POSTGRES_VAR).is_ok_and(|v| v == "1") {
        eprintln!("NOT RUN: the PostgreSQL half is switched off ({SKIP_POSTGRES_VAR}=1)");
        return None;
    }
    let (ca_pem, issuer) = ca("postbase test CA");
    let (cert, key) = server_certificate(&issuer);
    let cluster = tokio::task::spawn_blocking(move || Cluster::start(&cert, &key))
        .await
        .unwrap();
    let ca_file = cluster.write_file("ca.pem", &ca_pem);
    Some((cluster, ca_file))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_with_the_right_ca_and_host_name_connects_and_serves() {
    let Some((cluster, ca)) = cluster_with_fresh_ca().await else {
        return;
    };
    let query = format!("sslmode=verify-full&sslrootcert={}", ca.display());
    // By name and by address: the certificate names both.
    for (host, user) in [("localhost", "alice"), ("127.0.0.1", "bob")] {
        let url = cluster.url(host, &query);
        let instance = Instance::start(&url, &[]).await;
        assert_eq!(instance.signup(user).await.status(), 201, "{url}");
        instance.login(user).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_ca_with_another_ca_is_refused_with_a_clear_error() {
    let Some((cluster, _)) = cluster_with_fresh_ca().await else {
        return;
    };
    let (other_ca, _) = ca("some other CA");
    let other = cluster.write_file("other-ca.pem", &other_ca);
    let url = cluster
        .url(
            "localhost",
            &format!("sslmode=verify-ca&sslrootcert={}", other.display()),
        )
        .replace("postgres@", "postgres:s3cret@");
    let stderr = tokio::task::spawn_blocking(move || refused_start(&url))
        .await
        .unwrap();
    for expected in [
        "error performing TLS handshake: invalid peer certificate: UnknownIssuer",
        "sslmode=verify-ca, sslrootcert=",
        "postgres:***@localhost",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }
    assert!(
        !stderr.contains("s3cret"),
        "the password is masked: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_name_not_in_the_certificate_is_refused_by_verify_full_but_not_by_verify_ca() {
    let Some((cluster, ca)) = cluster_with_fresh_ca().await else {
        return;
    };
    // Connect to 127.0.0.1 while calling the server db.example.com, as libpq's hostaddr does.
    let query = |mode: &str| {
        format!(
            "hostaddr=127.0.0.1&sslmode={mode}&sslrootcert={}",
            ca.display()
        )
    };
    let url = cluster.url("db.example.com", &query("verify-full"));
    let stderr = tokio::task::spawn_blocking(move || refused_start(&url))
        .await
        .unwrap();
    assert!(
        stderr.contains("invalid peer certificate: certificate not valid for name")
            && stderr.contains("db.example.com"),
        "{stderr}"
    );
    let instance = Instance::start(&cluster.url("db.example.com", &query("verify-ca")), &[]).await;
    assert_eq!(instance.signup("alice").await.status(), 201);
}
