//! The command line as a new user meets it: flags work wherever they are placed, errors say what
//! is wrong and what to do, and nothing is created by a command that failed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::helpers::{postgres_only, Backend};
use crate::test_db::with_database;

const BIN: &str = env!("CARGO_BIN_EXE_postbase");

fn run_in(dir: &Path, args: &[&str]) -> Output {
    run_with_input(dir, args, b"")
}

fn run_with_input(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("POSTBASE_DATABASE_URL")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Starts `postbase ARGS` in `dir`; returns the address it logged, then stops it.
fn listening_address(dir: &Path, args: &[&str]) -> String {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("POSTBASE_ADDR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut found = None;
    for line in lines.map_while(Result::ok) {
        if let Some(rest) = line.split("listening on ").nth(1) {
            found = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    found.expect("a listening line")
}

#[test]
fn flags_before_the_subcommand_mean_what_they_mean_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let intended = dir.path().join("intended.db");
    let url = format!("sqlite://{}", intended.display());
    let out = run_in(dir.path(), &["--database-url", &url, "migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(intended.exists(), "migrated the database named");
    assert!(
        !dir.path().join("postbase.db").exists(),
        "not the default one"
    );

    let out = run_in(dir.path(), &["--database-url", &url, "export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("postbase-export"));

    let addr = listening_address(
        dir.path(),
        &["--addr", "127.0.0.1:0", "serve", "--database-url", &url],
    );
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":8080"),
        "{addr}"
    );

    // A flag the subcommand does not have is refused, not ignored.
    let out = run_in(dir.path(), &["--addr", "127.0.0.1:9000", "migrate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unexpected argument '--addr'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sqlite_open_errors_say_which_mistake_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("sqlite://{}/no/such/dir/x.db", dir.path().display());
    let cases = [
        (
            missing.as_str(),
            "does not exist: create it first (mkdir -p",
        ),
        (
            &*format!("sqlite://{}", dir.path().display()),
            "is a directory: name a file in it",
        ),
        ("sqlite://", "names no file"),
    ];
    for (url, expected) in cases {
        let out = run_in(dir.path(), &["migrate", "--database-url", url]);
        assert_eq!(out.status.code(), Some(1), "{url}");
        assert!(stderr(&out).contains(expected), "{url}: {}", stderr(&out));
    }
}

#[test]
fn serve_binds_before_it_creates_a_database_and_names_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let db = dir.path().join("new.db");
    let url = format!("sqlite://{}", db.display());
    let out = run_in(
        dir.path(),
        &["serve", "--addr", &addr, "--database-url", &url],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("cannot listen on {addr}")),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists(), "no database left behind");
}

#[test]
fn addresses_in_the_common_forms_are_understood() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/a.db", dir.path().display());
    for (form, prefix) in [
        ("0", "127.0.0.1:"),
        (":0", "0.0.0.0:"),
        ("localhost:0", "127.0.0.1:"),
    ] {
        let addr = listening_address(
            dir.path(),
            &["serve", "--addr", form, "--database-url", &url],
        );
        assert!(addr.starts_with(prefix), "{form} -> {addr}");
    }
    let out = run_in(
        dir.path(),
        &["serve", "--addr", "no such thing", "--database-url", &url],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("e.g. 127.0.0.1:8080"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn cors_origins_and_token_lifetimes_are_checked_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/c.db", dir.path().display());
    for bad in ["http://host:5173/app", "host:5173"] {
        let out = run_in(
            dir.path(),
            &[
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--database-url",
                &url,
                "--cors-origins",
                bad,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(
            stderr(&out).contains("scheme://host[:port]"),
            "{bad}: {}",
            stderr(&out)
        );
    }
    let out = run_in(
        dir.path(),
        &["serve", "--database-url", &url, "--token-ttl", "0s"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("at least 1m"), "{}", stderr(&out));
}

#[test]
fn export_reads_and_never_creates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("typo.db");
    let url = format!("sqlite://{}", db.display());
    let out = run_in(dir.path(), &["export", "--database-url", &url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("there is no SQLite database"),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists());
    assert!(out.stdout.is_empty(), "no dump at all, not an empty one");
}

postgres_only!(postgres_errors_carry_postgresqls_own_words_and_no_password);
async fn postgres_errors_carry_postgresqls_own_words_and_no_password(backend: Backend) {
    let Backend::Postgres(server) = backend else {
        unreachable!("postgres_only! gives a server")
    };
    let dir = tempfile::tempdir().unwrap();
    let missing = with_database(&server, "pb_no_such_database");
    let out = run_in(dir.path(), &["migrate", "--database-url", &missing]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(r#"database "pb_no_such_database" does not exist"#) && err.contains("3D000"),
        "{err}"
    );

    // The same server, as a role that does not exist, with a password that must never be shown.
    let (scheme, rest) = server.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let stranger = format!("{scheme}://nosuchrole:hunter2secret@{host}");
    for sub in [
        &["migrate"][..],
        &["export"],
        &["user", "create", "--username", "xavier", "--password-stdin"],
    ] {
        let mut args = sub.to_vec();
        args.extend(["--database-url", &stranger]);
        let out = run_with_input(dir.path(), &args, b"a good long password\n");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{sub:?}: {err}");
        assert!(
            err.contains(r#"role "nosuchrole" does not exist"#),
            "{sub:?}: {err}"
        );
        assert!(
            !err.contains("hunter2secret"),
            "the password is masked: {err}"
        );
    }
}
