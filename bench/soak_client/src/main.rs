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
//!
//! Layout: `args` (flags), `http` (a connection, a request, signing up), `connection` (one
//! connection's paced load), `stats` (per-window latencies and errors), `procfs` (RSS and CPU
//! from `/proc`), `report` (the per-window table and the verdict).

mod args;
mod connection;
mod http;
mod procfs;
mod report;
mod stats;

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use args::args;
use connection::connection;
use http::make_user;
use stats::Shared;

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

    let (rows, rss_series) = report::windows(&a, &shared, deadline).await;
    while tasks.join_next().await.is_some() {}
    if !report::finish(&a, &rows, &rss_series) {
        std::process::exit(1);
    }
}
