//! The most `POST /api/posts` the server answers: `--connections` keep-alive connections, each
//! sending its next post as soon as the last is answered, round-robin over the authors' tokens;
//! counted over `--duration` seconds after `--warmup`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use hyper::StatusCode;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::args::Args;
use crate::http::{connect, create_post, Sender};
use crate::procfs::Cpu;
use crate::stats::percentiles_ms;

#[derive(Default)]
struct Tally {
    latencies_us: Vec<i64>,
    errors: HashMap<String, u64>,
}

pub async fn probe(a: &Args) -> Value {
    let tokens = Arc::new(a.tokens[..a.authors].to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let from = Instant::now() + a.warmup;
    let until = from + a.duration;
    let host = a.write_addr.to_string();
    let mut tasks = JoinSet::new();
    for _ in 0..a.connections {
        let (tokens, next, host, addr) = (tokens.clone(), next.clone(), host.clone(), a.write_addr);
        tasks.spawn(async move {
            let mut tally = Tally::default();
            let mut sender: Option<Sender> = None;
            while Instant::now() < until {
                let t = Instant::now();
                let result = match sender.as_mut() {
                    Some(s) => {
                        let token = &tokens[next.fetch_add(1, Ordering::Relaxed) % tokens.len()];
                        create_post(s, &host, token).await
                    }
                    None => connect(addr).await.map(|s| {
                        sender = Some(s);
                        (StatusCode::CONTINUE, Default::default())
                    }),
                };
                let done = Instant::now();
                let counted = t >= from && done <= until;
                match result {
                    Ok((StatusCode::CONTINUE, _)) => {}
                    Ok((StatusCode::CREATED, _)) if counted => {
                        tally.latencies_us.push((done - t).as_micros() as i64)
                    }
                    Ok((StatusCode::CREATED, _)) => {}
                    Ok((status, _)) if counted => {
                        *tally.errors.entry(format!("status {status}")).or_default() += 1
                    }
                    Ok(_) => {}
                    Err(e) => {
                        sender = None;
                        if counted {
                            *tally.errors.entry(e).or_default() += 1;
                        }
                    }
                }
            }
            tally
        });
    }
    let cpu = Cpu::now(a);
    let mut all = Tally::default();
    while let Some(t) = tasks.join_next().await {
        let t = t.expect("a probe connection panicked");
        all.latencies_us.extend(t.latencies_us);
        for (k, n) in t.errors {
            *all.errors.entry(k).or_default() += n;
        }
    }
    // The CPU of warm-up and measurement alike: the same load throughout.
    let cpu = cpu.since(a);
    let secs = a.duration.as_secs_f64();
    let created = all.latencies_us.len();
    json!({
        "mode": "rate",
        "connections": a.connections,
        "duration_s": secs,
        "created": created,
        "rps": created as f64 / secs,
        "latency_ms": percentiles_ms(&mut all.latencies_us),
        "errors": all.errors.values().sum::<u64>(),
        "error_kinds": all.errors,
        "cpu_pct": cpu,
    })
}
