//! The client behind `bench/realtime` (see bench/README.md, "Realtime"). Two modes:
//!
//! - `rate`: the most `POST /api/posts` the server at `--write-addr` answers, over
//!   `--connections` keep-alive connections for `--duration` seconds after `--warmup`.
//! - `stream`: opens `--streams` event streams on `--stream-addr` (the first `--all-streams` with
//!   the default topics, the others `topics=posts&author=N`, N going round the `--authors`),
//!   holds them for `--hold` seconds, writes posts to `--write-addr` at `--rate` a second for
//!   `--duration` seconds round-robin over the authors, waits up to `--drain` seconds for the
//!   last events, then checks that every stream received exactly the posts its filter asked
//!   for, each once, with increasing ids. Latency per event = arrival − the post's
//!   `created_at`. Exits 1 when the check fails (never on a timing).
//!
//! Both print one JSON document (to `--json FILE` or standard output), with the CPU taken by
//! this client, by the server (`--pid`; in `stream` mode the one holding the streams, whose RSS
//! is reported too), by the other instance (`--write-pid`) and by everything else.
//!
//! Layout: `args` (flags), `http` (a connection, a post), `sse` (the event-stream parser),
//! `subscriber` (one stream), `writer` (posts at a fixed rate), `rate` (the rate probe),
//! `verify` (the check), `stats` (percentiles, RSS sampling), `procfs` (RSS and CPU).

mod args;
mod http;
mod procfs;
mod rate;
mod sse;
mod stats;
mod subscriber;
mod verify;
mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::{mpsc, watch, Semaphore};

use args::{args, Args, Mode};
use procfs::{reset_peak, status_kib, Cpu};
use stats::{percentiles_ms, rss_summary, Sampler, DRAINING, HOLDING, WRITING};
use subscriber::{Filter, Stream};

#[tokio::main]
async fn main() {
    let a = args();
    let (ok, doc) = match a.mode {
        Mode::Rate => (true, rate::probe(&a).await),
        Mode::Stream => streams(&a).await,
    };
    let text = serde_json::to_string_pretty(&doc).unwrap();
    match &a.json_out {
        Some(path) => std::fs::write(path, text).expect("write --json"),
        None => println!("{text}"),
    }
    if !ok {
        std::process::exit(1);
    }
}

fn filter_of(a: &Args, i: usize) -> Filter {
    if i < a.all_streams {
        Filter::All
    } else {
        Filter::Author(((i - a.all_streams) % a.authors + 1) as i64)
    }
}

async fn streams(a: &Args) -> (bool, Value) {
    if let Some(pid) = a.pid {
        reset_peak(pid);
    }
    let before = a.pid.and_then(|p| status_kib(p, "VmRSS"));
    let sampler = Sampler::start(a.pid);
    let (opened_tx, mut opened_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(a.open_concurrency));
    let received = Arc::new(AtomicU64::new(0));
    let t_open = Instant::now();
    let tasks: Vec<_> = (0..a.streams)
        .map(|i| {
            tokio::spawn(subscriber::run(
                i,
                a.stream_addr,
                filter_of(a, i),
                gate.clone(),
                opened_tx.clone(),
                stop_rx.clone(),
                received.clone(),
            ))
        })
        .collect();
    drop(opened_tx);

    // Every stream reports once; one that never does within the limit counts as not opened.
    let limit = Duration::from_secs(30) + Duration::from_millis(10 * a.streams as u64);
    let mut is_open = vec![false; a.streams];
    let (mut opened, mut reported) = (0, 0);
    let mut open_errors = std::collections::HashMap::<String, u64>::new();
    while reported < a.streams {
        match tokio::time::timeout_at((t_open + limit).into(), opened_rx.recv()).await {
            Ok(Some((i, Ok(())))) => {
                (is_open[i], opened, reported) = (true, opened + 1, reported + 1)
            }
            Ok(Some((_, Err(e)))) => {
                *open_errors.entry(e).or_default() += 1;
                reported += 1;
            }
            Ok(None) | Err(_) => break,
        }
    }
    let open_secs = t_open.elapsed().as_secs_f64();
    eprintln!(
        "realtime: {opened} of {} streams open in {open_secs:.1}s{}",
        a.streams,
        if open_errors.is_empty() {
            String::new()
        } else {
            format!("; refused: {open_errors:?}")
        }
    );

    sampler.phase(HOLDING);
    tokio::time::sleep(a.hold).await;
    sampler.phase(WRITING);
    let cpu = Cpu::now(a);
    let mut written = writer::write(a).await;
    let cpu = cpu.since(a);
    sampler.phase(DRAINING);

    // What the open streams should receive, to know when the last event has arrived.
    let mut per_author = std::collections::HashMap::<i64, u64>::new();
    for &(_, author) in &written.posts {
        *per_author.entry(author).or_default() += 1;
    }
    let expected: u64 = (0..a.streams)
        .filter(|&i| is_open[i])
        .map(|i| match filter_of(a, i) {
            Filter::All => written.posts.len() as u64,
            Filter::Author(u) => per_author.get(&u).copied().unwrap_or(0),
        })
        .sum();
    let t_drain = Instant::now();
    while received.load(Ordering::Relaxed) < expected && t_drain.elapsed() < a.drain {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain_secs = t_drain.elapsed().as_secs_f64();
    let hwm = a.pid.and_then(|p| status_kib(p, "VmHWM"));
    let rss = rss_summary(&sampler.finish(), before, hwm);

    stop_tx.send_replace(true);
    let mut all: Vec<Stream> = Vec::with_capacity(a.streams);
    for t in tasks {
        all.push(t.await.expect("a stream task panicked"));
    }
    let write_errors: u64 = written.errors.values().sum();
    let (ok, check) = verify::verify(&all, &written.posts, write_errors);
    let mut lat_author = Vec::new();
    let mut lat_all = Vec::new();
    for st in &all {
        let into = if st.filter == Filter::All {
            &mut lat_all
        } else {
            &mut lat_author
        };
        into.extend(st.events.iter().map(|e| e.latency_us));
    }
    let mut lat_every: Vec<i64> = lat_author.iter().chain(&lat_all).copied().collect();
    let delivered = lat_every.len();
    let doc = json!({
        "mode": "stream",
        "streams": a.streams,
        "all_streams": a.all_streams,
        "authors": a.authors,
        "opened": opened,
        "open_errors": open_errors,
        "open_s": open_secs,
        "rate": a.rate,
        "duration_s": a.duration.as_secs_f64(),
        "posts_written": written.posts.len(),
        "write_rate": written.posts.len() as f64 / a.duration.as_secs_f64(),
        "write_errors": write_errors,
        "write_error_kinds": written.errors,
        "write_latency_ms": percentiles_ms(&mut written.latencies_us),
        "events_expected": expected,
        "events_delivered": delivered,
        "drain_s": drain_secs,
        "latency_ms": percentiles_ms(&mut lat_every),
        "latency_author_ms": percentiles_ms(&mut lat_author),
        "latency_all_ms": percentiles_ms(&mut lat_all),
        "rss": rss,
        "cpu_pct_while_writing": cpu,
        "check": check,
    });
    eprintln!(
        "realtime: {} posts written, {delivered} of {expected} events delivered, check {}",
        written.posts.len(),
        if ok { "passed" } else { "FAILED" }
    );
    (ok, doc)
}
