//! Crash safety: a mixed write load from many concurrent clients against the real binary, a
//! SIGKILL at a random moment, and a restart on the same file, after which every write that was
//! acknowledged with a 2xx must be there exactly as acknowledged.
//!
//! A request whose response was lost when the server died may or may not have landed: it is
//! *ambiguous*, and either state is accepted for it (then the state found is taken as the truth for
//! the cycles that follow). Everything else is exact: acknowledged posts match the acknowledged
//! JSON field for field, acknowledged deletes are gone, acknowledged revoked tokens get 401, live
//! tokens still work, no post or user exists that no request could have produced, and SQLite's
//! `PRAGMA integrity_check` and `foreign_key_check` pass on the file as the kill left it.
//!
//! One database file lives for a *generation* of a few cycles, so later cycles also kill a server
//! that has itself just recovered from a kill, on a file with history.
//!
//! Usage: `cargo test --test crash [-- --cycles N] [--seed S] [--verbose] [--postgres URL]`;
//! `CRASH_CYCLES`, `CRASH_SEED` and `CRASH_POSTGRES_URL` do the same. With `--postgres`, each
//! generation runs on a fresh database on that server, and postbase (never PostgreSQL) is killed. Default: 20 cycles. `--sqlite-synchronous full` (or
//! `CRASH_SQLITE_SYNCHRONOUS`) runs the server in that mode. `--sabotage-wal` deletes the WAL
//! after each kill (losing committed writes, as a broken storage layer would) to show that the
//! checks then fail.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_postbase");
/// Concurrent clients during the load. Each owns the posts it creates, so one post never has two
/// writes in flight at once and its possible states after a kill are at most two.
const CLIENTS: usize = 24;
/// Users signed up (and a token for each client logged in) at the start of each generation.
const SEED_USERS: usize = 6;
/// Cycles that share one database file before a fresh one is started.
const CYCLES_PER_GENERATION: u64 = 5;
/// How long into the load the kill comes, in milliseconds.
const KILL_AFTER_MS: std::ops::RangeInclusive<u64> = 50..=500;
const KILL_AFTER_MS_POSTGRES: std::ops::RangeInclusive<u64> = 300..=900;

struct Options {
    cycles: u64,
    seed: u64,
    verbose: bool,
    /// Deletes the WAL after each kill, losing its committed transactions: the harness must
    /// then fail. It shows the checks can fail; never set in CI.
    sabotage: bool,
    /// Passed to the server as `--sqlite-synchronous` when given (`normal`, its default, or `full`).
    synchronous: Option<String>,
    /// `--postgres URL`: run on PostgreSQL instead (a fresh database on that server per
    /// generation); postbase is killed, never PostgreSQL.
    postgres: Option<String>,
}

fn options() -> Options {
    let mut cycles = std::env::var("CRASH_CYCLES")
        .ok()
        .map(|v| v.parse().expect("CRASH_CYCLES is a number"))
        .unwrap_or(20);
    let mut seed = std::env::var("CRASH_SEED")
        .ok()
        .map(|v| v.parse().expect("CRASH_SEED is a number"));
    let mut verbose = false;
    let mut sabotage = false;
    let mut synchronous = std::env::var("CRASH_SQLITE_SYNCHRONOUS").ok();
    let mut postgres = std::env::var("CRASH_POSTGRES_URL").ok();
    // `cargo test` may pass its own flags (`--nocapture`, a filter); those are ignored.
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cycles" => {
                cycles = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--cycles N");
            }
            "--seed" => seed = Some(args.next().and_then(|v| v.parse().ok()).expect("--seed S")),
            "--verbose" | "-v" => verbose = true,
            "--sabotage-wal" => sabotage = true,
            "--sqlite-synchronous" => {
                synchronous = Some(args.next().expect("--sqlite-synchronous normal|full"));
            }
            "--postgres" => postgres = Some(args.next().expect("--postgres URL")),
            _ => {}
        }
    }
    Options {
        cycles,
        seed: seed.unwrap_or_else(rand::random),
        verbose,
        sabotage,
        synchronous,
        postgres,
    }
}

// ---------------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------------

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(database_url: &str, synchronous: Option<&str>) -> Self {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--addr", "127.0.0.1:0", "--log-format", "text"])
            .args(["--database-url", database_url]);
        if let Some(mode) = synchronous {
            command.args(["--sqlite-synchronous", mode]);
        }
        let mut child = command
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("postbase starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("postbase printed `listening on` before exiting")
                .expect("postbase's output is text");
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Drain the logs so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            base: format!("http://{addr}"),
        }
    }

    fn sigkill(&mut self) {
        let pid = Pid::from_raw(self.child.id() as i32);
        kill(pid, Signal::SIGKILL).expect("SIGKILL delivered");
        self.child.wait().expect("the killed server is reaped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The file as the kill left it, checked by SQLite itself. Opened read-only so that closing this
/// connection does not checkpoint the WAL: the restarted server must do its own recovery.
/// Runs one statement on the PostgreSQL server's maintenance database.
async fn admin_sql(server: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("--postgres {server}: {e}"));
    let task = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = task.await;
}

/// The server URL with its database replaced by `name`.
fn with_database(server: &str, name: &str) -> String {
    let (url, query) = server.split_once('?').map_or((server, ""), |(u, q)| (u, q));
    let start = url.find("://").map_or(0, |i| i + 3);
    let base = url[start..]
        .find('/')
        .map_or(url, |slash| &url[..start + slash]);
    if query.is_empty() {
        format!("{base}/{name}")
    } else {
        format!("{base}/{name}?{query}")
    }
}

fn check_file(db: &Path) -> Result<(), String> {
    use rusqlite::{Connection, OpenFlags};
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("opening {}: {e}", db.display()))?;
    let rows: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| format!("integrity_check: {e}"))?;
    if rows != ["ok"] {
        return Err(format!("integrity_check: {rows:?}"));
    }
    let broken = conn
        .prepare("PRAGMA foreign_key_check")
        .and_then(|mut s| Ok(s.query_map([], |_| Ok(()))?.count()))
        .map_err(|e| format!("foreign_key_check: {e}"))?;
    if broken != 0 {
        return Err(format!("foreign_key_check: {broken} dangling rows"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// What the clients were told: the model the restarted server is checked against
// ---------------------------------------------------------------------------------------------

/// The outcome of a write, as far as its client knows.
#[derive(Debug, Clone, PartialEq)]
enum PostState {
    /// The post as the last acknowledged write returned it (the full JSON and its ETag).
    Present {
        json: Value,
        etag: String,
    },
    Deleted,
}

#[derive(Debug)]
struct PostModel {
    id: i64,
    /// The client that owns it: only that client writes to it.
    owner: usize,
    acked: PostState,
    /// A write sent whose answer never came: the state it would have produced. `title`/`body` of
    /// `None` keep the acknowledged value (a PATCH of one field).
    in_flight: Option<Pending>,
}

#[derive(Debug, Clone)]
enum Pending {
    Edit {
        title: Option<String>,
        body: Option<String>,
    },
    Delete,
}

#[derive(Debug, Clone)]
struct UserModel {
    id: i64,
    username: String,
    password: String,
    email: String,
    /// The sign-up response, which `GET /api/users/{id}` must repeat.
    json: Value,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TokenState {
    Live,
    Revoked,
    /// `DELETE /api/tokens/current` was sent and never answered.
    RevokeInFlight,
}

#[derive(Debug)]
struct TokenModel {
    user_id: i64,
    /// The client that logged in and alone uses it, so that one client's logout never
    /// pulls the token from under another's requests.
    owner: usize,
    state: TokenState,
}

#[derive(Default)]
struct Model {
    users: Vec<UserModel>,
    /// Sign-ups sent and never answered, by username: they may exist.
    ambiguous_signups: HashMap<String, (String, String)>,
    /// Every username ever sent.
    usernames_sent: HashSet<String>,
    tokens: HashMap<String, TokenModel>,
    posts: BTreeMap<i64, PostModel>,
    /// Creates sent and never answered, by title (titles are unique): they may exist, with this
    /// owner and body.
    ambiguous_creates: HashMap<String, (usize, String)>,
    /// Every title and body ever sent, so that anything else found is a torn or invented write.
    titles_sent: HashSet<String>,
    bodies_sent: HashSet<String>,
}

/// Fewest writes a cycle must see acknowledged before its kill for its checks to mean anything. A
/// cycle usually sees a hundred or more; the shortest load (50 ms) on a busy machine about ten; a
/// load whose writes are all refused, none.
const MIN_ACKED_PER_CYCLE: u64 = 3;

#[derive(Default, Clone, Copy)]
struct Tally {
    acked_writes: u64,
    checked: u64,
    ambiguous: u64,
    failed_requests: u64,
    /// 5xx answers: a server that answers at all must not fail a valid write.
    server_errors: u64,
}

// ---------------------------------------------------------------------------------------------
// The load
// ---------------------------------------------------------------------------------------------

enum Outcome {
    /// A response arrived: the status and the JSON body (Null if none).
    Answered(StatusCode, Value, Option<String>),
    /// The connection could not be made: the request was never sent, so it did not land.
    NotSent,
    /// Sent, and the answer was lost: it may or may not have landed.
    Lost,
}

async fn send(
    http: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Outcome {
    let mut req = http.request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    match req.send().await {
        Ok(res) => {
            let status = res.status();
            let etag = res
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            match res.bytes().await {
                Ok(bytes) => Outcome::Answered(
                    status,
                    serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                    etag,
                ),
                Err(_) => Outcome::Lost,
            }
        }
        Err(e) if e.is_connect() => Outcome::NotSent,
        Err(_) => Outcome::Lost,
    }
}

struct Load {
    http: reqwest::Client,
    base: String,
    model: Arc<Mutex<Model>>,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    /// Non-2xx answers to writes, by status and message.
    refusals: Arc<Mutex<BTreeMap<String, u64>>>,
    /// Unique per run, generation and cycle, so that no two requests send the same username or title.
    tag: String,
}

fn random_text(rng: &mut StdRng, prefix: &str) -> String {
    // Up to a few KiB, so some rows span pages and a torn write would show.
    let len = rng.gen_range(0..4096);
    let fill: String = (0..len.min(64))
        .map(|_| rng.gen_range(b'a'..=b'z') as char)
        .collect();
    let mut s = prefix.to_owned();
    while s.len() < len {
        s.push_str(&fill);
        s.push(' ');
    }
    s
}

impl Load {
    /// A write answered with something other than 2xx: it did not land. Counted, and its kind kept
    /// for the summary (none are expected: every request the clients send is valid).
    fn refused(&self, status: StatusCode, json: &Value) {
        let mut tally = self.tally.lock().unwrap();
        tally.failed_requests += 1;
        if status.is_server_error() {
            tally.server_errors += 1;
        }
        drop(tally);
        let kind = format!("{status} {}", json["error"].as_str().unwrap_or_default());
        *self.refusals.lock().unwrap().entry(kind).or_default() += 1;
    }

    /// Signs up `username`, recording the result; returns the user when acknowledged.
    async fn sign_up(&self, username: String, rng: &mut StdRng) -> Option<UserModel> {
        let password = format!("pw-{}", rng.gen::<u64>());
        let email = format!("{username}@example.test");
        {
            let mut m = self.model.lock().unwrap();
            m.usernames_sent.insert(username.clone());
            m.ambiguous_signups
                .insert(username.clone(), (password.clone(), email.clone()));
        }
        let body = json!({"username": username, "password": password, "email": email});
        let out = send(
            &self.http,
            &self.base,
            Method::POST,
            "/api/users",
            None,
            Some(&body),
        )
        .await;
        let mut m = self.model.lock().unwrap();
        match out {
            Outcome::Answered(s, json, _) if s == StatusCode::CREATED => {
                m.ambiguous_signups.remove(&username);
                let user = UserModel {
                    id: json["id"].as_i64().expect("a user id"),
                    username,
                    password,
                    email,
                    json,
                };
                m.users.push(user.clone());
                self.tally.lock().unwrap().acked_writes += 1;
                Some(user)
            }
            Outcome::Lost => None,
            Outcome::NotSent => {
                m.ambiguous_signups.remove(&username);
                None
            }
            Outcome::Answered(status, json, _) => {
                m.ambiguous_signups.remove(&username);
                self.refused(status, &json);
                None
            }
        }
    }

    /// Logs `user` in; returns the token when acknowledged. A lost login leaves at most a token
    /// nobody knows, which nothing checks.
    async fn log_in(&self, slot: usize, user: &UserModel) -> Option<String> {
        let body = json!({"username": user.username, "password": user.password});
        match send(
            &self.http,
            &self.base,
            Method::POST,
            "/api/tokens",
            None,
            Some(&body),
        )
        .await
        {
            Outcome::Answered(s, json, _) if s == StatusCode::CREATED => {
                let token = json["token"].as_str().expect("a token").to_owned();
                self.model.lock().unwrap().tokens.insert(
                    token.clone(),
                    TokenModel {
                        user_id: user.id,
                        owner: slot,
                        state: TokenState::Live,
                    },
                );
                self.tally.lock().unwrap().acked_writes += 1;
                Some(token)
            }
            Outcome::Answered(status, json, _) => {
                self.refused(status, &json);
                None
            }
            _ => None,
        }
    }

    /// One client: picks a user, logs in, then writes until the server dies or the load stops.
    async fn client(self: Arc<Self>, slot: usize, seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut seq = 0u64;
        // The seed users come first and stay put, so a slot keeps its user (and so stays the
        // author of the posts it owns) across the cycles of a generation.
        let user = self.model.lock().unwrap().users[slot % SEED_USERS].clone();
        // Reuse a live token of this user from an earlier cycle when there is one.
        let mut token = {
            let m = self.model.lock().unwrap();
            m.tokens
                .iter()
                .find(|(_, t)| t.owner == slot && t.state == TokenState::Live)
                .map(|(k, _)| k.clone())
        };
        while !self.stop.load(Ordering::Relaxed) {
            seq += 1;
            let Some(tok) = token.clone() else {
                match self.log_in(slot, &user).await {
                    Some(t) => token = Some(t),
                    None => return,
                }
                continue;
            };
            let roll = rng.gen_range(0..100);
            let alive = match roll {
                0..=2 => {
                    let name = format!("{}{slot}x{seq}", self.tag);
                    self.sign_up(name, &mut rng).await.is_some()
                }
                3..=5 => match self.log_in(slot, &user).await {
                    Some(t) => {
                        token = Some(t);
                        true
                    }
                    None => false,
                },
                6..=9 => {
                    let alive = self.revoke(&tok).await;
                    token = None;
                    alive
                }
                _ => {
                    let own: Vec<i64> = {
                        let m = self.model.lock().unwrap();
                        m.posts
                            .values()
                            .filter(|p| {
                                p.owner == slot
                                    && p.in_flight.is_none()
                                    && matches!(p.acked, PostState::Present { .. })
                            })
                            .map(|p| p.id)
                            .collect()
                    };
                    if own.is_empty() || roll < 50 {
                        self.create_post(slot, &tok, seq, &mut rng).await
                    } else {
                        let id = own[rng.gen_range(0..own.len())];
                        match roll {
                            50..=74 => self.edit_post(id, &tok, seq, false, &mut rng).await,
                            75..=87 => self.edit_post(id, &tok, seq, true, &mut rng).await,
                            _ => self.delete_post(id, &tok).await,
                        }
                    }
                }
            };
            if !alive {
                return;
            }
        }
    }

    /// Returns false when the server is gone.
    async fn revoke(&self, token: &str) -> bool {
        self.model
            .lock()
            .unwrap()
            .tokens
            .get_mut(token)
            .expect("a known token")
            .state = TokenState::RevokeInFlight;
        let out = send(
            &self.http,
            &self.base,
            Method::DELETE,
            "/api/tokens/current",
            Some(token),
            None,
        )
        .await;
        let mut m = self.model.lock().unwrap();
        let t = m.tokens.get_mut(token).unwrap();
        match out {
            Outcome::Answered(s, ..) if s == StatusCode::NO_CONTENT => {
                t.state = TokenState::Revoked;
                self.tally.lock().unwrap().acked_writes += 1;
                true
            }
            Outcome::Answered(status, json, _) => {
                t.state = TokenState::Live;
                self.refused(status, &json);
                false
            }
            Outcome::NotSent => {
                t.state = TokenState::Live;
                false
            }
            Outcome::Lost => false,
        }
    }

    async fn create_post(&self, slot: usize, token: &str, seq: u64, rng: &mut StdRng) -> bool {
        let title = format!("{}-c{slot}-{seq} created", self.tag);
        let body = random_text(rng, &title);
        {
            let mut m = self.model.lock().unwrap();
            m.titles_sent.insert(title.clone());
            m.bodies_sent.insert(body.clone());
            m.ambiguous_creates
                .insert(title.clone(), (slot, body.clone()));
        }
        let out = send(
            &self.http,
            &self.base,
            Method::POST,
            "/api/posts",
            Some(token),
            Some(&json!({"title": title, "body": body})),
        )
        .await;
        let mut m = self.model.lock().unwrap();
        match out {
            Outcome::Answered(s, json, etag) if s == StatusCode::CREATED => {
                m.ambiguous_creates.remove(&title);
                let id = json["id"].as_i64().expect("a post id");
                m.posts.insert(
                    id,
                    PostModel {
                        id,
                        owner: slot,
                        acked: PostState::Present {
                            json,
                            etag: etag.expect("an ETag"),
                        },
                        in_flight: None,
                    },
                );
                self.tally.lock().unwrap().acked_writes += 1;
                true
            }
            Outcome::Lost => false,
            Outcome::NotSent => {
                m.ambiguous_creates.remove(&title);
                false
            }
            Outcome::Answered(status, json, _) => {
                m.ambiguous_creates.remove(&title);
                self.refused(status, &json);
                false
            }
        }
    }

    async fn edit_post(&self, id: i64, token: &str, seq: u64, put: bool, rng: &mut StdRng) -> bool {
        let new_title = format!("{}-e{id}-{seq} edited", self.tag);
        let new_body = random_text(rng, &new_title);
        // PUT replaces both; PATCH sends one or both.
        let (title, body) = match (put, rng.gen_range(0..3)) {
            (true, _) | (false, 0) => (Some(new_title), Some(new_body)),
            (false, 1) => (Some(new_title), None),
            _ => (None, Some(new_body)),
        };
        let mut payload = serde_json::Map::new();
        {
            let mut m = self.model.lock().unwrap();
            if let Some(t) = &title {
                m.titles_sent.insert(t.clone());
                payload.insert("title".into(), json!(t));
            }
            if let Some(b) = &body {
                m.bodies_sent.insert(b.clone());
                payload.insert("body".into(), json!(b));
            }
            m.posts.get_mut(&id).unwrap().in_flight = Some(Pending::Edit { title, body });
        }
        let method = if put { Method::PUT } else { Method::PATCH };
        let out = send(
            &self.http,
            &self.base,
            method,
            &format!("/api/posts/{id}"),
            Some(token),
            Some(&Value::Object(payload)),
        )
        .await;
        let mut m = self.model.lock().unwrap();
        let post = m.posts.get_mut(&id).unwrap();
        match out {
            Outcome::Answered(s, json, etag) if s == StatusCode::OK => {
                post.acked = PostState::Present {
                    json,
                    etag: etag.expect("an ETag"),
                };
                post.in_flight = None;
                self.tally.lock().unwrap().acked_writes += 1;
                true
            }
            Outcome::Lost => false,
            Outcome::NotSent => {
                post.in_flight = None;
                false
            }
            Outcome::Answered(status, json, _) => {
                post.in_flight = None;
                self.refused(status, &json);
                false
            }
        }
    }

    async fn delete_post(&self, id: i64, token: &str) -> bool {
        self.model
            .lock()
            .unwrap()
            .posts
            .get_mut(&id)
            .unwrap()
            .in_flight = Some(Pending::Delete);
        let out = send(
            &self.http,
            &self.base,
            Method::DELETE,
            &format!("/api/posts/{id}"),
            Some(token),
            None,
        )
        .await;
        let mut m = self.model.lock().unwrap();
        let post = m.posts.get_mut(&id).unwrap();
        match out {
            Outcome::Answered(s, ..) if s == StatusCode::NO_CONTENT => {
                post.acked = PostState::Deleted;
                post.in_flight = None;
                self.tally.lock().unwrap().acked_writes += 1;
                true
            }
            Outcome::Lost => false,
            Outcome::NotSent => {
                post.in_flight = None;
                false
            }
            Outcome::Answered(status, json, _) => {
                post.in_flight = None;
                self.refused(status, &json);
                false
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The check after the restart
// ---------------------------------------------------------------------------------------------

/// What `GET` found for a post.
fn found_post(status: StatusCode, json: &Value, etag: Option<&str>) -> Option<(Value, String)> {
    (status == StatusCode::OK).then(|| (json.clone(), etag.unwrap_or_default().to_owned()))
}

/// Whether `found` is a state the post may be in, and which: `Some(true)` the acknowledged one,
/// `Some(false)` the in-flight one, `None` neither.
fn post_matches(post: &PostModel, found: Option<&(Value, String)>) -> Option<bool> {
    let acked_ok = match (&post.acked, found) {
        (PostState::Deleted, None) => true,
        (PostState::Present { json, etag }, Some((fj, fe))) => json == fj && etag == fe,
        _ => false,
    };
    if acked_ok {
        return Some(true);
    }
    let pending_ok = match (&post.in_flight, &post.acked, found) {
        (Some(Pending::Delete), PostState::Present { .. }, None) => true,
        (Some(Pending::Edit { title, body }), PostState::Present { json, .. }, Some((fj, _))) => {
            let want_title = title.as_deref().or(json["title"].as_str());
            let want_body = body.as_deref().or(json["body"].as_str());
            fj["id"] == json["id"]
                && fj["author_id"] == json["author_id"]
                && fj["created_at"] == json["created_at"]
                && fj["title"].as_str() == want_title
                && fj["body"].as_str() == want_body
        }
        _ => false,
    };
    pending_ok.then_some(false)
}

async fn get(http: &reqwest::Client, base: &str, path: &str, token: Option<&str>) -> Outcome {
    send(http, base, Method::GET, path, token, None).await
}

fn answered(out: Outcome, what: &str) -> (StatusCode, Value, Option<String>) {
    match out {
        Outcome::Answered(s, j, e) => (s, j, e),
        _ => panic!("the restarted server did not answer {what}"),
    }
}

/// Every item of a paginated list.
async fn list_all(http: &reqwest::Client, base: &str, path: &str, key: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor = String::new();
    loop {
        let url = format!("{path}?limit=100&cursor={cursor}");
        let (s, json, _) = answered(get(http, base, &url, None).await, &url);
        assert_eq!(s, StatusCode::OK, "{url}: {json}");
        items.extend(json[key].as_array().expect("a list").iter().cloned());
        match json["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return items,
        }
    }
}

/// Checks the restarted server against the model, resolves each ambiguous write to what was found,
/// and returns the problems (empty: all good).
async fn verify(
    http: &reqwest::Client,
    base: &str,
    model: &mut Model,
    tally: &mut Tally,
) -> Vec<String> {
    let mut problems = Vec::new();

    // Users: every acknowledged sign-up, exactly as acknowledged; nobody that was never sent.
    for user in &model.users {
        tally.checked += 1;
        let path = format!("/api/users/{}", user.id);
        let (s, json, _) = answered(get(http, base, &path, None).await, &path);
        if s != StatusCode::OK || json != user.json {
            problems.push(format!(
                "acknowledged user {} is {s} {json}, was {}",
                user.id, user.json
            ));
        }
    }
    let known: HashSet<i64> = model.users.iter().map(|u| u.id).collect();
    for u in list_all(http, base, "/api/users", "users").await {
        let id = u["id"].as_i64().unwrap();
        if known.contains(&id) {
            continue;
        }
        let name = u["username"].as_str().unwrap_or_default().to_owned();
        match model.ambiguous_signups.remove(&name) {
            // A sign-up whose answer was lost landed: adopt it.
            Some((password, email)) => model.users.push(UserModel {
                id,
                username: name,
                password,
                email,
                json: u,
            }),
            None => problems.push(format!("user {u} was never signed up")),
        }
    }
    tally.ambiguous += model.ambiguous_signups.len() as u64;
    model.ambiguous_signups.clear();

    // Tokens: live ones work and name their user (with the email sent at sign-up); revoked ones
    // get 401; one whose revocation was lost may be either.
    let users_by_id: HashMap<i64, &UserModel> = model.users.iter().map(|u| (u.id, u)).collect();
    for (token, t) in model.tokens.iter_mut() {
        tally.checked += 1;
        let (s, json, _) = answered(
            get(http, base, "/api/profile", Some(token)).await,
            "/api/profile",
        );
        let user = users_by_id[&t.user_id];
        let live = s == StatusCode::OK
            && json["id"] == user.id
            && json["username"] == user.username.as_str()
            && json["email"] == user.email.as_str();
        let ok = match t.state {
            TokenState::Live => live,
            TokenState::Revoked => s == StatusCode::UNAUTHORIZED,
            TokenState::RevokeInFlight => {
                tally.ambiguous += 1;
                live || s == StatusCode::UNAUTHORIZED
            }
        };
        if !ok {
            problems.push(format!(
                "token of user {} ({:?}): profile answered {s} {json}",
                t.user_id, t.state
            ));
        } else if t.state == TokenState::RevokeInFlight {
            t.state = if live {
                TokenState::Live
            } else {
                TokenState::Revoked
            };
        }
    }
    // Revoked tokens need no further checks once seen refused after a restart.
    model.tokens.retain(|_, t| t.state == TokenState::Live);

    // Posts: each one a client knows of, in the acknowledged state or (if a write was lost) the
    // state that write would have made.
    for post in model.posts.values_mut() {
        tally.checked += 1;
        let path = format!("/api/posts/{}", post.id);
        let (s, json, etag) = answered(get(http, base, &path, None).await, &path);
        if s != StatusCode::OK && s != StatusCode::NOT_FOUND {
            problems.push(format!("{path}: {s} {json}"));
            continue;
        }
        let found = found_post(s, &json, etag.as_deref());
        if post.in_flight.is_some() {
            tally.ambiguous += 1;
        }
        match post_matches(post, found.as_ref()) {
            Some(_) => {
                post.acked = match found {
                    Some((json, etag)) => PostState::Present { json, etag },
                    None => PostState::Deleted,
                };
                post.in_flight = None;
            }
            None => problems.push(format!(
                "post {}: found {s} {json}; acknowledged {:?}, in flight {:?}",
                post.id,
                summary(&post.acked),
                post.in_flight
            )),
        }
    }
    model
        .posts
        .retain(|_, p| matches!(p.acked, PostState::Present { .. }));

    // Nothing else: every post listed is known, or a create whose answer was lost, and carries
    // only a title and a body that some request sent.
    for p in list_all(http, base, "/api/posts", "posts").await {
        let id = p["id"].as_i64().unwrap();
        let title = p["title"].as_str().unwrap_or_default().to_owned();
        let body = p["body"].as_str().unwrap_or_default();
        if !model.titles_sent.contains(&title) || !model.bodies_sent.contains(body) {
            problems.push(format!("post {id} has a title or body never sent: {p}"));
            continue;
        }
        if model.posts.contains_key(&id) {
            continue;
        }
        match model.ambiguous_creates.remove(&title) {
            Some((owner, sent_body)) if sent_body == body => {
                // Its create landed although the answer was lost: adopt it.
                let path = format!("/api/posts/{id}");
                let (_, json, etag) = answered(get(http, base, &path, None).await, &path);
                model.posts.insert(
                    id,
                    PostModel {
                        id,
                        owner,
                        acked: PostState::Present {
                            json,
                            etag: etag.unwrap_or_default(),
                        },
                        in_flight: None,
                    },
                );
            }
            _ => problems.push(format!("post {id} was never created by any request: {p}")),
        }
    }
    tally.ambiguous += model.ambiguous_creates.len() as u64;
    model.ambiguous_creates.clear();
    problems
}

fn summary(state: &PostState) -> String {
    match state {
        PostState::Deleted => "deleted".into(),
        PostState::Present { json, etag } => format!(
            "title {:?}, {} body bytes, etag {etag}",
            json["title"],
            json["body"].as_str().map_or(0, str::len)
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Cycles
// ---------------------------------------------------------------------------------------------

async fn seed_users(load: &Load, rng: &mut StdRng) {
    let mut tasks = tokio::task::JoinSet::new();
    let load = Arc::new(load.clone_handle());
    for i in 0..SEED_USERS {
        let load = load.clone();
        let name = format!("{}seed{i}", load.tag);
        let mut rng = StdRng::seed_from_u64(rng.gen());
        tasks.spawn(async move {
            load.sign_up(name, &mut rng)
                .await
                .expect("a seed user signs up");
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("seed task");
    }
    // A token for every client up front, so that the load is writes from its first millisecond
    // rather than a queue of password hashes.
    for slot in 0..CLIENTS {
        let load = load.clone();
        let user = load.model.lock().unwrap().users[slot % SEED_USERS].clone();
        tasks.spawn(async move {
            load.log_in(slot, &user).await.expect("a seed login");
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("seed login task");
    }
}

impl Load {
    fn clone_handle(&self) -> Self {
        Self {
            http: self.http.clone(),
            base: self.base.clone(),
            model: self.model.clone(),
            stop: self.stop.clone(),
            tally: self.tally.clone(),
            refusals: self.refusals.clone(),
            tag: self.tag.clone(),
        }
    }
}

fn main() {
    let opts = options();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    println!(
        "crash: {} cycles of load + SIGKILL + restart + check on {} (seed {}; rerun with --seed {2})",
        opts.cycles,
        if opts.postgres.is_some() { "PostgreSQL" } else { "SQLite" },
        opts.seed
    );
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS * 2)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let refusals = Arc::new(Mutex::new(BTreeMap::new()));
    let mut failures = 0u64;

    let mut cycle = 0u64;
    while cycle < opts.cycles {
        let dir = tempfile::Builder::new()
            .prefix("postbase-crash-")
            .tempdir()
            .unwrap();
        let db: PathBuf = dir.path().join("crash.db");
        let pg_name = format!("pb_crash_{:016x}", rng.gen::<u64>());
        let database_url = match &opts.postgres {
            Some(server) => {
                rt.block_on(admin_sql(server, &format!("CREATE DATABASE {pg_name}")));
                with_database(server, &pg_name)
            }
            None => format!("sqlite://{}", db.display()),
        };
        let model = Arc::new(Mutex::new(Model::default()));
        let mut server = Server::start(&database_url, opts.synchronous.as_deref());
        let tag = format!("g{}r{}", cycle / CYCLES_PER_GENERATION, rng.gen::<u16>());
        let handle = Load {
            http: http.clone(),
            base: server.base.clone(),
            model: model.clone(),
            stop: Arc::new(AtomicBool::new(false)),
            tally: tally.clone(),
            refusals: refusals.clone(),
            tag,
        };
        rt.block_on(seed_users(&handle, &mut rng));

        for _ in 0..CYCLES_PER_GENERATION.min(opts.cycles - cycle) {
            cycle += 1;
            let before = *tally.lock().unwrap();
            let load = Arc::new(Load {
                base: server.base.clone(),
                stop: Arc::new(AtomicBool::new(false)),
                // Clients count their requests from 0 each cycle: the cycle in the tag keeps
                // every username and title of the generation unique.
                tag: format!("{}k{cycle}", handle.tag),
                ..handle.clone_handle()
            });
            // PostgreSQL commits take longer (a server round trip and its fsync): a longer load
            // keeps the number of writes per cycle comparable.
            let window = if opts.postgres.is_some() {
                KILL_AFTER_MS_POSTGRES
            } else {
                KILL_AFTER_MS
            };
            let kill_after = Duration::from_millis(rng.gen_range(window));
            let seeds: Vec<u64> = (0..CLIENTS).map(|_| rng.gen()).collect();
            rt.block_on(async {
                let mut tasks = tokio::task::JoinSet::new();
                for (slot, seed) in seeds.into_iter().enumerate() {
                    tasks.spawn(load.clone().client(slot, seed));
                }
                tokio::time::sleep(kill_after).await;
                server.sigkill();
                load.stop.store(true, Ordering::Relaxed);
                while let Some(r) = tasks.join_next().await {
                    r.expect("a client task");
                }
            });

            let mut problems = Vec::new();
            if opts.postgres.is_none() {
                if opts.sabotage {
                    for suffix in ["-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
                    }
                }
                if let Err(e) = check_file(&db) {
                    problems.push(e);
                }
            }
            server = Server::start(&database_url, opts.synchronous.as_deref());
            {
                let mut m = model.lock().unwrap();
                let mut t = tally.lock().unwrap();
                problems.extend(rt.block_on(verify(&http, &server.base, &mut m, &mut t)));
            }
            let after = *tally.lock().unwrap();
            let acked = after.acked_writes - before.acked_writes;
            if acked < MIN_ACKED_PER_CYCLE {
                // A load refused (4xx) or stalled checks nothing: this cycle proved nothing.
                problems.push(format!(
                    "only {acked} writes acknowledged (at least {MIN_ACKED_PER_CYCLE} expected): \
                     the load did not run"
                ));
            }
            let line = format!(
                "cycle {cycle}/{}: killed {} ms into the load; {} writes acknowledged, {} checks, {} ambiguous",
                opts.cycles,
                kill_after.as_millis(),
                after.acked_writes - before.acked_writes,
                after.checked - before.checked,
                after.ambiguous - before.ambiguous,
            );
            if !problems.is_empty() {
                failures += 1;
                println!("{line}: FAILED");
                for p in &problems {
                    println!("  {p}");
                }
                println!("  database kept at {}", dir.path().display());
                std::mem::forget(dir);
                break;
            }
            if opts.verbose {
                println!("{line}");
            }
        }
        // Graceful end of the generation's server; the directory goes with `dir`, a PostgreSQL
        // database is dropped (kept, like the directory, when the generation failed).
        drop(server);
        if let (Some(server), 0) = (&opts.postgres, failures) {
            rt.block_on(admin_sql(
                server,
                &format!("DROP DATABASE {pg_name} WITH (FORCE)"),
            ));
        }
        if failures > 0 {
            break;
        }
    }

    let t = *tally.lock().unwrap();
    if t.server_errors > 0 {
        failures += 1;
    }
    println!(
        "crash: {cycle} cycles in {:.1} s; {} writes acknowledged, {} checks of acknowledged state, \
         {} ambiguous (in flight at the kill), {} writes refused ({} with 5xx); {}",
        started.elapsed().as_secs_f64(),
        t.acked_writes,
        t.checked,
        t.ambiguous,
        t.failed_requests,
        t.server_errors,
        if failures == 0 { "all ok" } else { "FAILED" }
    );
    for (kind, n) in refusals.lock().unwrap().iter() {
        println!("  refused x{n}: {kind}");
    }
    if failures > 0 {
        std::process::exit(1);
    }
}
