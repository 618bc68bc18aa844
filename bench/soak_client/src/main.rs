//! Soak load for postbase: opens `--connections` keep-alive HTTP/1.1 connections and keeps every
//! one of them busy with a paced mixed load (`--rate` requests per second in total) for
//! `--duration` seconds. Every `--window` seconds it prints the window's request count, errors,
//! p50/p99/max latency, the server's RSS (read from `/proc/<pid>/status`) and the CPU taken by the
//! server, by this generator and by anything else on the machine; at the end it says
//! whether RSS stayed flat after the warm-up, and exits non-zero on any error or on RSS growth.
//!
//! The mix, per request: 45% `GET /api/posts?limit=20`, 20% `GET /api/posts/{id}`, 10%
//! `POST /api/posts`, 7% `PATCH /api/posts/{id}`, 4% `DELETE /api/posts/{id}`, 8%
//! `GET /api/profile`, 6% `GET /api/users?limit=20`; besides, 0.3% of all requests are logins.
//! Each connection writes only to posts it created itself, so a correct server answers every
//! request with a 2xx: anything else is an error.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::net::TcpStream;

struct Args {
    addr: SocketAddr,
    pid: Option<u32>,
    connections: usize,
    duration: Duration,
    rate: f64,
    window: Duration,
    users: usize,
    json_out: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:8080".parse().unwrap(),
        pid: None,
        connections: 5000,
        duration: Duration::from_secs(600),
        rate: 2000.0,
        window: Duration::from_secs(30),
        users: 100,
        json_out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => a.addr = value().parse().expect("--addr HOST:PORT"),
            "--pid" => a.pid = Some(value().parse().expect("--pid N")),
            "--connections" => a.connections = value().parse().expect("--connections N"),
            "--duration" => {
                a.duration = Duration::from_secs(value().parse().expect("--duration SECONDS"))
            }
            "--rate" => a.rate = value().parse().expect("--rate REQUESTS_PER_SECOND"),
            "--window" => {
                a.window = Duration::from_secs(value().parse().expect("--window SECONDS"))
            }
            "--users" => a.users = value().parse().expect("--users N"),
            "--json" => a.json_out = Some(value()),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// One window's measurements.
#[derive(Default)]
struct Window {
    latencies_us: Vec<u32>,
    errors: u64,
    error_kinds: HashMap<String, u64>,
}

struct Shared {
    started: Instant,
    window: Duration,
    windows: Mutex<Vec<Window>>,
    open: AtomicUsize,
    total: AtomicU64,
}

impl Shared {
    fn index(&self) -> usize {
        (self.started.elapsed().as_secs_f64() / self.window.as_secs_f64()) as usize
    }

    fn record(&self, latency: Duration, error: Option<String>) {
        let i = self.index();
        let mut w = self.windows.lock().unwrap();
        if w.len() <= i {
            w.resize_with(i + 1, Window::default);
        }
        let w = &mut w[i];
        w.latencies_us
            .push(latency.as_micros().min(u32::MAX as u128) as u32);
        if let Some(kind) = error {
            w.errors += 1;
            *w.error_kinds.entry(kind).or_default() += 1;
        }
        self.total.fetch_add(1, Ordering::Relaxed);
    }
}

type Sender = SendRequest<Full<Bytes>>;

/// Every soak user's password.
const PASSWORD: &str = "soak-password-1";
/// Share of requests that are logins (`POST /api/tokens`): few, since each costs a password hash
/// of tens of milliseconds of a core by design, but enough that the hasher's memory use shows.
const LOGIN_SHARE: f64 = 0.003;

async fn connect(addr: SocketAddr) -> Result<Sender, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).ok();
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn call(
    sender: &mut Sender,
    host: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<(StatusCode, Value), String> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", host);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let bytes = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Bytes::from(serde_json::to_vec(&b).unwrap())
        }
        None => Bytes::new(),
    };
    let req = req.body(Full::new(bytes)).unwrap();
    sender
        .ready()
        .await
        .map_err(|e| format!("connection: {e}"))?;
    let res = sender
        .send_request(req)
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = res.status();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// Signs up and logs in one user, returning its name and token.
async fn make_user(addr: SocketAddr, host: String, name: String) -> (Arc<str>, Arc<str>) {
    let host = host.as_str();
    let mut s = connect(addr)
        .await
        .expect("the server accepts a connection");
    let password = PASSWORD;
    let (st, body) = call(
        &mut s,
        host,
        Method::POST,
        "/api/users",
        None,
        Some(json!({"username": name, "password": password})),
    )
    .await
    .expect("sign-up answered");
    assert_eq!(st, StatusCode::CREATED, "sign-up: {body}");
    let (st, body) = call(
        &mut s,
        host,
        Method::POST,
        "/api/tokens",
        None,
        Some(json!({"username": name, "password": password})),
    )
    .await
    .expect("login answered");
    assert_eq!(st, StatusCode::CREATED, "login: {body}");
    (name.into(), body["token"].as_str().unwrap().into())
}

/// One connection's life: connect, then one request per tick until the deadline.
async fn connection(
    shared: Arc<Shared>,
    addr: SocketAddr,
    user: (Arc<str>, Arc<str>),
    interval: Duration,
    deadline: Instant,
    seed: u64,
) {
    let host = addr.to_string();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut own: Vec<i64> = Vec::new();
    let mut sender: Option<Sender> = None;
    // Spread the connections' ticks evenly over one interval.
    tokio::time::sleep(interval.mul_f64(rng.gen())).await;
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut counted = false;
    while Instant::now() < deadline {
        ticks.tick().await;
        if sender.is_none() {
            let t = Instant::now();
            match connect(addr).await {
                Ok(s) => sender = Some(s),
                Err(e) => {
                    shared.record(t.elapsed(), Some(e));
                    continue;
                }
            }
            if !counted {
                shared.open.fetch_add(1, Ordering::Relaxed);
                counted = true;
            }
        }
        let s = sender.as_mut().unwrap();
        let roll = if rng.gen_bool(LOGIN_SHARE) {
            100
        } else {
            rng.gen_range(0..100)
        };
        let pick = |rng: &mut StdRng, own: &[i64]| own[rng.gen_range(0..own.len())];
        let (method, path, body, expect) = match roll {
            45..=64 if !own.is_empty() => (
                Method::GET,
                format!("/api/posts/{}", pick(&mut rng, &own)),
                None,
                StatusCode::OK,
            ),
            65..=74 => {
                let n: u32 = rng.gen();
                (
                    Method::POST,
                    "/api/posts".to_owned(),
                    Some(
                        json!({"title": format!("soak {n}"), "body": "x".repeat(rng.gen_range(0..512))}),
                    ),
                    StatusCode::CREATED,
                )
            }
            75..=81 if !own.is_empty() => (
                Method::PATCH,
                format!("/api/posts/{}", pick(&mut rng, &own)),
                Some(json!({"title": format!("edited {}", rng.gen::<u32>())})),
                StatusCode::OK,
            ),
            82..=85 if !own.is_empty() => {
                let i = rng.gen_range(0..own.len());
                let id = own.swap_remove(i);
                (
                    Method::DELETE,
                    format!("/api/posts/{id}"),
                    None,
                    StatusCode::NO_CONTENT,
                )
            }
            86..=93 => (Method::GET, "/api/profile".to_owned(), None, StatusCode::OK),
            100 => (
                Method::POST,
                "/api/tokens".to_owned(),
                Some(json!({"username": &*user.0, "password": PASSWORD})),
                StatusCode::CREATED,
            ),
            94..=99 => (
                Method::GET,
                "/api/users?limit=20".to_owned(),
                None,
                StatusCode::OK,
            ),
            _ => (
                Method::GET,
                "/api/posts?limit=20".to_owned(),
                None,
                StatusCode::OK,
            ),
        };
        let needs_token =
            (method != Method::GET || path == "/api/profile") && path != "/api/tokens";
        let label = format!(
            "{method} {}",
            path.split('/').take(3).collect::<Vec<_>>().join("/")
        );
        let t = Instant::now();
        let result = call(
            s,
            &host,
            method.clone(),
            &path,
            needs_token.then_some(&*user.1),
            body,
        )
        .await;
        let latency = t.elapsed();
        match result {
            Ok((status, json)) if status == expect => {
                if method == Method::POST {
                    if let Some(id) = json["id"].as_i64() {
                        own.push(id);
                    }
                }
                shared.record(latency, None);
            }
            Ok((status, _)) => shared.record(latency, Some(format!("{label} -> {status}"))),
            Err(e) => {
                shared.record(latency, Some(format!("{label}: {e}")));
                sender = None;
            }
        }
    }
    if counted {
        shared.open.fetch_sub(1, Ordering::Relaxed);
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time in clock ticks: (all processes' busy time from `/proc/stat`, this process's, the
/// server's). What is left after the server and the generator is what other programs on the
/// machine took: a window's latency means little when that is high.
fn cpu_ticks(pid: Option<u32>) -> (u64, u64, u64) {
    fn process(path: &str) -> u64 {
        // utime and stime are fields 14 and 15; the name before them may contain spaces.
        std::fs::read_to_string(path)
            .ok()
            .and_then(|s| {
                let after = s.rsplit_once(')')?.1.to_owned();
                let f: Vec<u64> = after
                    .split_whitespace()
                    .skip(11)
                    .take(2)
                    .filter_map(|v| v.parse().ok())
                    .collect();
                Some(f.iter().sum())
            })
            .unwrap_or(0)
    }
    let busy = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<u64> = s
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait.
            Some(f.iter().sum::<u64>() - f.get(3)? - f.get(4)?)
        })
        .unwrap_or(0);
    let server = pid.map_or(0, |p| process(&format!("/proc/{p}/stat")));
    (busy, process("/proc/self/stat"), server)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let a = args();
    let host = a.addr.to_string();
    let run: u32 = rand::random();

    // Users and their tokens first: password hashing is deliberately slow, and belongs to set-up.
    let setup = Instant::now();
    let mut tokens = Vec::new();
    for chunk in (0..a.users).collect::<Vec<_>>().chunks(8) {
        let handles: Vec<_> = chunk
            .iter()
            .map(|i| tokio::spawn(make_user(a.addr, host.clone(), format!("soak{run:x}u{i}"))))
            .collect();
        for h in handles {
            tokens.push(h.await.unwrap());
        }
    }
    eprintln!(
        "soak: {} users ready in {:.1}s; opening {} connections, {} req/s in total, for {}s",
        a.users,
        setup.elapsed().as_secs_f64(),
        a.connections,
        a.rate,
        a.duration.as_secs()
    );

    let shared = Arc::new(Shared {
        started: Instant::now(),
        window: a.window,
        windows: Mutex::new(Vec::new()),
        open: AtomicUsize::new(0),
        total: AtomicU64::new(0),
    });
    let deadline = shared.started + a.duration;
    let interval = Duration::from_secs_f64(a.connections as f64 / a.rate);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..a.connections {
        tasks.spawn(connection(
            shared.clone(),
            a.addr,
            tokens[i % tokens.len()].clone(),
            interval,
            deadline,
            rand::random(),
        ));
        // Open about 1,000 connections a second, so the listen backlog never overflows.
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // Report each window once it is over.
    let mut rows = Vec::new();
    let mut rss_series = Vec::new();
    let windows = (a.duration.as_secs_f64() / a.window.as_secs_f64()).ceil() as usize;
    println!(
        "window    t(s)  conns  requests    req/s  errors  p50(ms)  p99(ms)  max(ms)  rss(MiB)  \
         cpu% server/generator/others"
    );
    let mut last_ticks = cpu_ticks(a.pid);
    for i in 0..windows {
        let end = shared.started + a.window * (i as u32 + 1);
        let end = end.min(deadline);
        // Connections are counted a second before the window ends: at the very end of the run
        // they are already closing.
        tokio::time::sleep_until((end - Duration::from_secs(1)).into()).await;
        let open = shared.open.load(Ordering::Relaxed);
        tokio::time::sleep_until(end.into()).await;
        // Requests finishing just after the boundary land in the next window; give them a moment.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let w = {
            let mut ws = shared.windows.lock().unwrap();
            if ws.len() <= i {
                ws.resize_with(i + 1, Window::default);
            }
            std::mem::take(&mut ws[i])
        };
        let mut lat = w.latencies_us;
        lat.sort_unstable();
        let secs = (end - (shared.started + a.window * i as u32)).as_secs_f64();
        let rss = a.pid.and_then(rss_kib).map(|k| k as f64 / 1024.0);
        // CPU use over the window, in percent of one core (USER_HZ is 100 ticks a second).
        let ticks = cpu_ticks(a.pid);
        let pct = |d: u64| d as f64 / secs;
        let (server_cpu, client_cpu, other_cpu) = (
            pct(ticks.2.saturating_sub(last_ticks.2)),
            pct(ticks.1.saturating_sub(last_ticks.1)),
            pct((ticks.0.saturating_sub(last_ticks.0))
                .saturating_sub(ticks.1.saturating_sub(last_ticks.1))
                .saturating_sub(ticks.2.saturating_sub(last_ticks.2))),
        );
        last_ticks = ticks;
        let row = json!({
            "window": i + 1,
            "t_s": (end - shared.started).as_secs(),
            "connections": open,
            "requests": lat.len(),
            "rps": lat.len() as f64 / secs,
            "errors": w.errors,
            "error_kinds": w.error_kinds,
            "p50_ms": percentile(&lat, 0.50),
            "p99_ms": percentile(&lat, 0.99),
            "max_ms": percentile(&lat, 1.0),
            "rss_mib": rss,
            "cpu_pct": {"server": server_cpu, "generator": client_cpu, "others": other_cpu},
        });
        println!(
            "{:>6} {:>7} {:>6} {:>9} {:>8.0} {:>7} {:>8.1} {:>8.1} {:>8.1} {:>9} {:>5.0}/{:.0}/{:.0}",
            i + 1,
            row["t_s"],
            row["connections"],
            row["requests"],
            row["rps"].as_f64().unwrap(),
            w.errors,
            row["p50_ms"].as_f64().unwrap(),
            row["p99_ms"].as_f64().unwrap(),
            row["max_ms"].as_f64().unwrap(),
            rss.map_or("-".into(), |r| format!("{r:.1}")),
            server_cpu,
            client_cpu,
            other_cpu,
        );
        for (kind, n) in &w.error_kinds {
            println!("         error x{n}: {kind}");
        }
        std::io::stdout().flush().ok();
        rss_series.push(rss);
        rows.push(row);
    }
    while tasks.join_next().await.is_some() {}

    let errors: u64 = rows.iter().map(|r| r["errors"].as_u64().unwrap()).sum();
    let requests: u64 = rows.iter().map(|r| r["requests"].as_u64().unwrap()).sum();
    // Warm-up: the first fifth of the run, at least one window (caches and pools fill up then).
    let warm = (windows / 5).max(1).min(windows.saturating_sub(1));
    let after: Vec<f64> = rss_series[warm..].iter().flatten().copied().collect();
    let (flat, rss_note) = match (after.first(), after.last()) {
        (Some(&first), Some(&last)) => {
            let max = after.iter().copied().fold(f64::MIN, f64::max);
            let min = after.iter().copied().fold(f64::MAX, f64::min);
            // Flat: after warm-up, RSS moves within 10% (plus 8 MiB for allocator noise).
            let flat = max - min <= min * 0.10 + 8.0;
            (
                flat,
                format!(
                    "RSS after warm-up (from window {}): first {first:.1} MiB, last {last:.1} MiB, \
                     min {min:.1}, max {max:.1}: {}",
                    warm + 1,
                    if flat { "flat" } else { "GROWING" }
                ),
            )
        }
        _ => (true, "RSS not sampled (no --pid)".into()),
    };
    let worst_p99 = rows
        .iter()
        .map(|r| r["p99_ms"].as_f64().unwrap())
        .fold(0.0, f64::max);
    println!(
        "soak: {requests} requests over {}s on {} connections, {errors} errors; worst window p99 {worst_p99:.1} ms",
        a.duration.as_secs(),
        a.connections
    );
    println!("soak: {rss_note}");
    if let Some(path) = a.json_out {
        let doc = json!({
            "connections": a.connections,
            "rate": a.rate,
            "duration_s": a.duration.as_secs(),
            "requests": requests,
            "errors": errors,
            "rss_flat": flat,
            "windows": rows,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).expect("write --json");
    }
    if errors > 0 || !flat {
        std::process::exit(1);
    }
}
