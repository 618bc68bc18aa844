//! Posts at a fixed rate: `--connections` keep-alive connections, each sending one post every
//! `connections / rate` seconds (their ticks spread evenly), so the offered rate holds whatever
//! the latency; post k is by author k mod `--authors` + 1, with that author's token.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::StatusCode;
use serde_json::Value;
use tokio::task::JoinSet;
use tokio::time::{interval_at, MissedTickBehavior};

use crate::args::Args;
use crate::http::{connect, create_post, Sender};

#[derive(Default)]
pub struct Written {
    /// (post id, author id) of every post answered 201.
    pub posts: Vec<(i64, i64)>,
    pub latencies_us: Vec<i64>,
    pub errors: HashMap<String, u64>,
    pub elapsed: Duration,
}

pub async fn write(a: &Args) -> Written {
    let tokens = Arc::new(a.tokens[..a.authors].to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let interval = Duration::from_secs_f64(a.connections as f64 / a.rate);
    let start = Instant::now();
    let deadline = start + a.duration;
    let host = a.write_addr.to_string();
    let mut tasks = JoinSet::new();
    for i in 0..a.connections {
        let (tokens, next, host, addr) = (tokens.clone(), next.clone(), host.clone(), a.write_addr);
        let first = start + interval.mul_f64(i as f64 / a.connections as f64);
        tasks.spawn(async move {
            let mut out = Written::default();
            let mut sender: Option<Sender> = None;
            let mut ticks = interval_at(first.into(), interval);
            // A late tick is sent at once: the rate is kept on average.
            ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
            loop {
                ticks.tick().await;
                if Instant::now() >= deadline {
                    break;
                }
                if sender.is_none() {
                    match connect(addr).await {
                        Ok(s) => sender = Some(s),
                        Err(e) => {
                            *out.errors.entry(e).or_default() += 1;
                            continue;
                        }
                    }
                }
                let k = next.fetch_add(1, Ordering::Relaxed) % tokens.len();
                let t = Instant::now();
                match create_post(sender.as_mut().unwrap(), &host, &tokens[k]).await {
                    Ok((StatusCode::CREATED, body)) => {
                        out.latencies_us.push(t.elapsed().as_micros() as i64);
                        let v: Value = serde_json::from_slice(&body).unwrap_or_default();
                        match (v["id"].as_i64(), v["author_id"].as_i64()) {
                            (Some(id), Some(author)) if author == k as i64 + 1 => {
                                out.posts.push((id, author))
                            }
                            _ => *out.errors.entry("201 without the post".into()).or_default() += 1,
                        }
                    }
                    Ok((status, _)) => {
                        *out.errors.entry(format!("status {status}")).or_default() += 1
                    }
                    Err(e) => {
                        sender = None;
                        *out.errors.entry(e).or_default() += 1;
                    }
                }
            }
            out
        });
    }
    let mut all = Written::default();
    while let Some(w) = tasks.join_next().await {
        let w = w.expect("a writer connection panicked");
        all.posts.extend(w.posts);
        all.latencies_us.extend(w.latencies_us);
        for (k, n) in w.errors {
            *all.errors.entry(k).or_default() += n;
        }
    }
    all.elapsed = start.elapsed();
    all
}
