//! The real binary, started as a user would: flags, subcommands, signals, and durability under kill -9.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_postbase");

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `postbase serve` on port 0 and reads the bound address from the `listening on` line.
fn start(db: &std::path::Path) -> Server {
    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0", "--log-format", "text"])
        .env(
            "POSTBASE_DATABASE_URL",
            format!("sqlite://{}", db.display()),
        )
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("postbase starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next().expect("a listening line").unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining the logs so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        base: format!("http://{addr}"),
    }
}

/// Every flag of every subcommand, read from the configuration itself (so a new flag cannot be
/// missed): `--help` shows it with its env var, and README's tables or usage name both.
#[test]
fn help_and_readme_document_every_flag_and_its_env_var() {
    use clap::CommandFactory;
    let readme = include_str!("../../README.md");
    let cli = postbase::config::Cli::command();
    let mut checked = 0;
    for sub in cli.get_subcommands() {
        let nested: Vec<_> = if sub.has_subcommands() {
            sub.get_subcommands()
                .map(|s| vec![sub.get_name(), s.get_name()])
                .collect()
        } else {
            vec![vec![sub.get_name()]]
        };
        for path in nested {
            let out = Command::new(BIN)
                .args(&path)
                .arg("--help")
                .output()
                .unwrap();
            assert!(out.status.success(), "{path:?} --help");
            let help = String::from_utf8(out.stdout).unwrap();
            let mut command = cli.clone();
            let mut found = command.find_subcommand_mut(path[0]).unwrap().clone();
            if let Some(inner) = path.get(1) {
                found = found.find_subcommand(inner).unwrap().clone();
            }
            for arg in found.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                if long == "help" || long == "version" {
                    continue;
                }
                let flag = format!("--{long}");
                assert!(
                    help.contains(&flag),
                    "{path:?}: {flag} not in --help:\n{help}"
                );
                assert!(readme.contains(&flag), "{flag} not in README");
                if let Some(env) = arg.get_env() {
                    let env = env.to_str().unwrap();
                    assert!(
                        help.contains(&format!("[env: {env}")),
                        "{path:?}: {env}:\n{help}"
                    );
                    assert!(readme.contains(env), "{env} not in README");
                } else {
                    assert!(path[0] != "serve", "serve's {flag} has no env var");
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked > 40,
        "only {checked} flags found: is the walk broken?"
    );
}

#[tokio::test]
async fn migrate_then_user_create_makes_an_admin_who_can_log_in_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let url = format!("sqlite://{}", db.display());
    let status = Command::new(BIN)
        .args(["migrate", "--database-url", &url])
        .status()
        .unwrap();
    assert!(status.success());
    let mut child = Command::new(BIN)
        .args([
            "user",
            "create",
            "--username",
            "root",
            "--password-stdin",
            "--admin",
            "--database-url",
            &url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"admin password 1\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin root"));

    let server = start(&db);
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/api/tokens", server.base))
        .json(&json!({"username": "root", "password": "admin password 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The admin may delete someone else's account.
    let res = client
        .post(format!("{}/api/users", server.base))
        .json(&json!({"username": "alice", "password": "alice password"}))
        .send()
        .await
        .unwrap();
    let alice: Value = res.json().await.unwrap();
    let res = client
        .delete(format!("{}/api/users/{}", server.base, alice["id"]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn sigterm_finishes_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(&dir.path().join("t.db"));
    let res = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let pid = nix::unistd::Pid::from_raw(server.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::task::spawn_blocking(move || server.child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn a_201_survives_kill_9_straight_after() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("durable.db");
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    {
        let mut server = start(&db);
        let res = client
            .post(format!("{}/api/users", server.base))
            .json(&json!({"username": "alice", "password": "alice password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let res = client
            .post(format!("{}/api/tokens", server.base))
            .json(&json!({"username": "alice", "password": "alice password"}))
            .send()
            .await
            .unwrap();
        let token = res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        for i in 0..20 {
            let res = client
                .post(format!("{}/api/posts", server.base))
                .bearer_auth(&token)
                .json(&json!({"title": format!("post {i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
        }
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
    }
    let server = start(&db);
    for id in ids {
        let res = client
            .get(format!("{}/api/posts/{id}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "post {id} survived");
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
}
